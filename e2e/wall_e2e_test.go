package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/browsertest"
)

// buildYiping builds the product binary, so a test can kill it for real.
func buildYiping(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "yiping")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/yiping-ioc/yiping")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// product is one running yiping serve process.
type product struct {
	cmd *exec.Cmd
	log string
}

func startProduct(t *testing.T, bin, addr, dataDir string, env ...string) *product {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dataDir, "--history-every", historyEvery())
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &product{cmd: cmd, log: logf.Name()}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
			}
		}
		logf.Close()
	})
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := get(t, "http://"+addr+"/readyz"); code == 200 {
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(p.log)
	t.Fatalf("yiping serve not ready within 90 s; log:\n%s", b)
	return nil
}

func pageValue(ctx context.Context, t *testing.T, sel string) (string, error) {
	var v string
	err := chromedp.Run(ctx, chromedp.Evaluate(`(() => { const e = document.querySelector('`+sel+`'); return e ? e.dataset.value : "missing"; })()`, &v))
	return v, err
}

func waitPage(ctx context.Context, t *testing.T, what, expr string, within time.Duration) time.Duration {
	t.Helper()
	return browsertest.WaitJS(ctx, t, what, expr, within, `document.body.dataset.state + " / " + document.getElementById("banner").textContent`)
}

// TestWallLiveEndToEnd runs the product as a real process with the demo
// platform, opens a wall screen in Chromium, pushes records into the intake
// and watches them arrive on screen, then kills the server with SIGKILL and
// restarts it: the screen shows "data delayed" and recovers by itself.
func TestWallLiveEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the whole product")
	}
	bin := buildYiping(t)
	addr, dataDir := freeAddr(t), t.TempDir()
	base := "http://" + addr
	const token = "wall-e2e-token-0123456789"
	env := []string{"YIPING_INGEST_TOKEN=" + token, "YIPING_STORE=", "YIPING_DEMO=1", "YIPING_CONFIG="}
	addUser(t, dataDir, "e2e-analyst", access.RoleAnalyst, "620000")
	wallToken := addPlaylistToken(t, dataDir, "hall", "620000")
	p := startProduct(t, bin, addr, dataDir, env...)
	api, _ := signIn(t, base, "e2e-analyst")

	ctx := browsertest.Chrome(t, browsertest.Options{Timeout: 5 * time.Minute})
	watch := browsertest.Watch(ctx)
	if err := chromedp.Run(ctx, network.Enable(), runtime.Enable()); err != nil {
		t.Fatal(err)
	}
	// The hotline screen of 崆峒区, a county the demo sends no calls to, so
	// only this test moves its call count: opened through the sign-in page.
	signInChromium(ctx, t, base, "e2e-analyst", "/screens/hotline?region=620802")
	waitPage(ctx, t, "screen live", `location.pathname === "/screens/hotline" && document.body.dataset.state === "live"`, 30*time.Second)
	tile := `.tile-value .val[data-indicator="call_volume"][data-region="620802"][data-period="month"]`

	// Intake → engine → feed → hub → websocket → data-value, timed from
	// the moment the push is sent.
	var lat []time.Duration
	for range 7 {
		v, err := pageValue(ctx, t, tile)
		if err != nil {
			t.Fatal(err)
		}
		before, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("call_volume tile data-value %q", v)
		}
		sent, _ := pushCall(t, base, token, "620802")
		want := strconv.Itoa(before + 1)
		waitPage(ctx, t, "pushed call on screen", `document.querySelector('`+tile+`').dataset.value === "`+want+`"`, 10*time.Second)
		lat = append(lat, time.Since(sent))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("push → data-value on screen: %v (median %v)", lat, lat[len(lat)/2])
	// The bound is 1 s; the median keeps one scheduling hiccup of
	// this shared machine from failing the build, the worst is logged.
	if med := lat[len(lat)/2]; med > time.Second {
		t.Errorf("median push-to-screen latency %v > 1 s", med)
	}
	final, _ := pageValue(ctx, t, tile)
	watch.Check(t, base)

	// The three screens with the demo's live data, at 1920×1080 here and
	// at 3840×2160 in a second browser, kept as artifacts — once the demo's
	// first collection has landed.
	eventually(t, "demo cases collected", func() string {
		if v, ok := indicatorValue(t, api, base, "case_volume", "620000"); !ok || v < 1000 {
			return fmt.Sprintf("case_volume this month = %v", v)
		}
		return ""
	})
	// The 4K browser is a kiosk: it opens the wall with the playlist's
	// screen token once, which then lives in a cookie.
	big := browsertest.Chrome(t, browsertest.Options{Width: 3840, Height: 2160})
	bigWatch := browsertest.Watch(big)
	if err := chromedp.Run(big, network.Enable(), runtime.Enable(), chromedp.Navigate(base+"/screens/overview?token="+wallToken)); err != nil {
		t.Fatal(err)
	}
	var kiosk string
	if err := chromedp.Run(big, chromedp.Location(&kiosk)); err != nil || strings.Contains(kiosk, "token=") {
		t.Errorf("after a visit with ?token= the address is %q (%v); want the token gone", kiosk, err)
	}
	for _, id := range []string{"overview", "service", "hotline"} {
		for _, c := range []struct {
			ctx  context.Context
			size string
		}{{ctx, "1920x1080"}, {big, "3840x2160"}} {
			if err := chromedp.Run(c.ctx, chromedp.Navigate(base+"/screens/"+id)); err != nil {
				t.Fatal(err)
			}
			waitPage(c.ctx, t, id+" live", `document.body.dataset.state === "live"`, 30*time.Second)
			var shot []byte
			if err := chromedp.Run(c.ctx, chromedp.Sleep(1500*time.Millisecond), chromedp.CaptureScreenshot(&shot)); err != nil {
				t.Fatal(err)
			}
			browsertest.Artifact(t, "live-"+id+"-"+c.size+".png", shot)
		}
	}
	watch.Check(t, base)
	bigWatch.Check(t, base)
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/screens/hotline?region=620802")); err != nil {
		t.Fatal(err)
	}
	waitPage(ctx, t, "screen live again", `document.body.dataset.state === "live"`, 30*time.Second)

	// SIGKILL: the connection drops; the screen says so.
	watch.Reset()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	waitPage(ctx, t, "delayed state shown", `document.body.dataset.state === "delayed" && !document.getElementById("banner").hidden && document.getElementById("link").dataset.state === "delayed"`, 15*time.Second)
	var banner string
	chromedp.Run(ctx, chromedp.Text("#banner", &banner, chromedp.ByQuery))
	if !strings.Contains(banner, "数据延迟") {
		t.Errorf("banner while the server is down: %q", banner)
	}
	var shot []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&shot)); err == nil {
		browsertest.Artifact(t, "screen-delayed-1920x1080.png", shot)
	}

	// Restart on the same port: the screen reconnects by itself and shows
	// the same count, restored from the journal.
	startProduct(t, bin, addr, dataDir, env...)
	took := waitPage(ctx, t, "recovered", `document.body.dataset.state === "live"`, 60*time.Second)
	waitPage(ctx, t, "value after restart", `document.querySelector('`+tile+`').dataset.value === "`+final+`"`, 30*time.Second)
	t.Logf("screen live again %v after the restarted server was ready", took)
	for _, pr := range watch.Problems() {
		t.Errorf("page problem: %s", pr)
	}
}

// historyEvery lets a measurement run with the product's default recording
// interval (YIPING_TEST_HISTORY_EVERY=10s); tests record every 2 s.
func historyEvery() string {
	if v := os.Getenv("YIPING_TEST_HISTORY_EVERY"); v != "" {
		return v
	}
	return "2s"
}

// pushCall pushes one answered call offered a minute ago in region into the
// intake; it returns when the push was sent and how long the intake took to
// acknowledge it (journaled).
func pushCall(t *testing.T, base, token, region string) (sent time.Time, acked time.Duration) {
	t.Helper()
	body := fmt.Sprintf("call_id,region_code,offered_at,answered,wait_seconds\nT-%d,%s,%s,1,4\n",
		time.Now().UnixNano(), region, time.Now().Add(-time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest("POST", base+"/api/ingest/calls", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	sent = time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("intake answered %d", resp.StatusCode)
	}
	return sent, time.Since(sent)
}
