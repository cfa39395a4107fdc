package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

type ctxKey struct{}

// zeros is an endless body that costs the sender no memory.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	clear(p[:n])
	z.left -= n
	return int(n), nil
}

func bridgeServer(t *testing.T, max int64) *httptest.Server {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 1 << 30})
	UseRequestContext(app)
	app.Post("/echo", func(c *fiber.Ctx) error { return c.SendString(strings.ToUpper(string(c.Body()))) })
	app.Get("/who", func(c *fiber.Ctx) error {
		v, _ := c.UserContext().Value(ctxKey{}).(string)
		return c.SendString(v)
	})
	h := Fiber(app, max)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "the-caller")))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Finding 2 of issue 10: fiber's adaptor copied any body whole before a
// handler could refuse it (a 200 MB POST grew the process by gigabytes).
func TestBridgeBoundsTheBody(t *testing.T) {
	srv := bridgeServer(t, 1<<20)
	post := func(body io.Reader, length int64) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/echo", body)
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(strings.NewReader("hello"), 5); code != 200 || body != "HELLO" {
		t.Fatalf("small body: %d %q", code, body)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// Announced: refused by its Content-Length.
	if code, _ := post(&zeros{200 << 20}, 200<<20); code != http.StatusRequestEntityTooLarge {
		t.Errorf("200 MB announced: %d, want 413", code)
	}
	// Chunked (no length): refused once 1 MiB has been read.
	if code, _ := post(&zeros{200 << 20}, -1); code != http.StatusRequestEntityTooLarge && code != 0 {
		t.Errorf("200 MB chunked: %d, want 413", code)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("refusing 400 MB of bodies allocated %d MB", grew>>20)
	}
}

func TestBridgeCarriesTheRequestContext(t *testing.T) {
	srv := bridgeServer(t, 1<<20)
	resp, err := http.Get(srv.URL + "/who")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "the-caller" {
		t.Errorf("fiber handler saw %q in its user context", b)
	}
}
