package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/access"
)

// password is every test user's password.
const password = "e2e-password-0123456789"

// withAccess opens the access store of a data directory, as `yiping user
// add` does, so a test can create users and tokens before the product
// starts (the product then finds users and makes no first-start admin).
func withAccess(t *testing.T, dataDir string, fn func(ctx context.Context, svc *access.Service)) {
	t.Helper()
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	fn(ctx, svc)
}

// addUser creates a user with the test password.
func addUser(t *testing.T, dataDir, name string, role access.Role, region string) {
	t.Helper()
	withAccess(t, dataDir, func(ctx context.Context, svc *access.Service) {
		if _, err := svc.AddUser(ctx, access.Actor{Name: "e2e"}, access.NewUser{Name: name, Role: role, Region: region, Password: password}); err != nil {
			t.Fatal(err)
		}
	})
}

// addPlaylistToken creates a screen token for a playlist and returns its
// secret.
func addPlaylistToken(t *testing.T, dataDir, playlist, region string) string {
	t.Helper()
	var secret string
	withAccess(t, dataDir, func(ctx context.Context, svc *access.Service) {
		var err error
		if secret, _, err = svc.AddToken(ctx, access.Actor{Name: "e2e"}, access.NewToken{Playlist: playlist, Region: region, Note: "e2e"}); err != nil {
			t.Fatal(err)
		}
	})
	return secret
}

// signIn signs a user in through the API and returns a client that
// carries the session cookie, and the session's CSRF token.
func signIn(t *testing.T, base, name string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, err := c.Post(base+"/api/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Name string `json:"name"`
		CSRF string `json:"csrf"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &info) != nil || info.Name != name || info.CSRF == "" {
		t.Fatalf("sign in as %s: %d %s", name, resp.StatusCode, b)
	}
	return c, info.CSRF
}

// cookieHeader is the Cookie header c sends to base, for a websocket dial.
func cookieHeader(c *http.Client, base string) http.Header {
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range c.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return http.Header{"Cookie": {strings.Join(parts, "; ")}}
}

// signInChromium signs a user in on the sign-in page in a real browser,
// which then lands on next.
func signInChromium(ctx context.Context, t *testing.T, base, name, next string) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+next),
		chromedp.WaitVisible("#password", chromedp.ByQuery),
		chromedp.SendKeys("#name", name, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click(`button[type="submit"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("sign in on the page: %v", err)
	}
}

func getWith(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
