package wall

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/browsertest"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/hub"
)

// TestCutOffNodeInChromium: a cluster node cut off from its cluster closes
// its screens with 4503 and refuses new websockets; the screen says why
// ("所连节点与集群失联") while it retries, and is live again once a node
// takes it.
func TestCutOffNodeInChromium(t *testing.T) {
	set, err := dashboards.Default()
	if err != nil {
		t.Fatal(err)
	}
	app := appOf(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return nil }})
	h := hub.New(hub.Config{MaxTopics: 1024})
	var cut atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if cut.Load() {
			http.Error(w, "cut off from the cluster", http.StatusServiceUnavailable)
			return
		}
		h.ServeWS(w, r)
	})
	mux.Handle(assets.Root, assets.Handler())
	mux.Handle("/", adaptor.FiberApp(app))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); h.Close() })

	ctx := browsertest.Chrome(t, browsertest.Options{})
	if err := chromedp.Run(ctx, network.Enable(), chromedp.Navigate(srv.URL+"/screens/overview")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "connected", `document.body.dataset.state === "live"`, 15*time.Second)
	cut.Store(true)
	if n := h.DisconnectAll(); n != 1 {
		t.Fatalf("closed %d clients, want the one screen", n)
	}
	waitJS(ctx, t, "the screen to say its node was cut off",
		`document.body.dataset.state === "delayed" && document.getElementById("banner").textContent.includes("所连节点与集群失联")`, 10*time.Second)
	// Still saying so after failed retries (a refused upgrade is not a
	// plain disconnection).
	time.Sleep(1500 * time.Millisecond)
	waitJS(ctx, t, "still cut off", `document.getElementById("banner").textContent.includes("所连节点与集群失联")`, time.Second)
	cut.Store(false)
	waitJS(ctx, t, "live again", `document.body.dataset.state === "live" && document.getElementById("banner").hidden`, 15*time.Second)
}
