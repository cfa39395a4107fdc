package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/browsertest"
)

// TestKioskInChromium opens the wall the way a kiosk does (the screen
// token in the address, once), checks the token leaves the address and the
// screen goes live under the real content security policy, then revokes
// the token from another process (as `yiping token revoke` does) and
// watches the screen say so.
func TestKioskInChromium(t *testing.T) {
	f := newFixture(t)
	ctx := browsertest.Chrome(t, browsertest.Options{})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/playlists/hall?token="+f.tokens["hall-620100"])); err != nil {
		t.Fatal(err)
	}
	const diag = `location.href + " " + document.body.dataset.state + " " + (document.getElementById("banner")||{}).textContent`
	browsertest.WaitJS(ctx, t, "the wall live", `document.body.dataset.state === "live"`, 30*time.Second, diag)
	var href string
	if err := chromedp.Run(ctx, chromedp.Location(&href)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(href, "token") || !strings.Contains(href, "/screens/") {
		t.Errorf("the kiosk's address is %q: want a screen of the playlist, without the token", href)
	}
	// The token is for 兰州市 (620100): the screen shows the city, not the
	// province the playlist names.
	var header string
	if err := chromedp.Run(ctx, chromedp.Text("header", &header, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(header, "兰州") {
		t.Errorf("the kiosk's screen header %q does not name 兰州市", header)
	}
	watch.Check(t, f.srv.URL)

	if err := f.otherProcess(t).RevokeToken(context.Background(), access.Actor{Name: "cli:test"}, f.ids["hall-620100"]); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitJS(ctx, t, "the screen to say its access was revoked",
		`document.body.dataset.state === "delayed" && document.getElementById("banner").textContent.includes("撤销")`, 20*time.Second, diag)
}
