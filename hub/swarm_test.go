package hub

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The push benchmark: a swarm of websocket clients over loopback against a
// hub in a child process (so that its memory is measured alone and each
// process has its own file limit). Run by scripts/bench-push; skipped unless
// HUB_SWARM is set.
//
//	HUB_SWARM=2000 HUB_ROUNDS=20 go test -run 'TestPushSwarm$' -v ./hub/
//
// The child serves /ws, /publish (publish {"r":round,"t":unix ns} to one
// topic and flush at once: the latency measured is the fan-out, coalescing
// adds 0..Coalesce on top) and /mem (heap after GC, RSS, goroutines).

const swarmTopic = "ind:on_time_rate:620800:month"

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestPushSwarmServer is the child process.
func TestPushSwarmServer(t *testing.T) {
	if os.Getenv("HUB_SWARM_SERVER") == "" {
		t.Skip("the push benchmark's server process; run by TestPushSwarm")
	}
	h := New(Config{Coalesce: -1, QueueLen: envInt("HUB_QUEUE", 0)})
	defer h.Close()
	publish(t, h, swarmTopic, `{"r":-1,"t":0}`)
	h.Flush()
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.ServeWS)
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		round, _ := strconv.Atoi(r.URL.Query().Get("r"))
		h.Publish(swarmTopic, json.RawMessage(fmt.Sprintf(`{"r":%d,"t":%d}`, round, time.Now().UnixNano())))
		h.Flush()
	})
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(map[string]any{
			"heap": ms.HeapInuse, "stack": ms.StackInuse, "sys": ms.Sys,
			"rss": rssBytes(), "goroutines": runtime.NumGoroutine(), "stats": h.Stats(),
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	srv.Close()
}

func rssBytes() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

type memReport struct {
	Heap, Stack, Sys, RSS int64
	Goroutines            int
	Stats                 Stats
}

func TestPushSwarm(t *testing.T) {
	n := envInt("HUB_SWARM", 0)
	if n == 0 {
		t.Skip("set HUB_SWARM=<connections> (scripts/bench-push) to run the push benchmark")
	}
	rounds := envInt("HUB_ROUNDS", 20)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestPushSwarmServer$", "-test.v=false")
	cmd.Env = append(os.Environ(), "HUB_SWARM_SERVER=1")
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("server process did not start")
	}
	go io.Copy(io.Discard, stdout)
	base := "http://" + addr
	mem := func() memReport {
		resp, err := http.Get(base + "/mem")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m memReport
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := mem()

	// Connect the swarm: each client subscribes, then records, per round,
	// the latency from publish to its receipt.
	lat := make([]int64, rounds*n)
	var got [1 << 10]atomic.Int64 // per round receipts (rounds ≤ 1024)
	if rounds > len(got) {
		t.Fatalf("HUB_ROUNDS ≤ %d", len(got))
	}
	var ready, failed atomic.Int64
	conns := make([]*websocket.Conn, n)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	d := websocket.Dialer{HandshakeTimeout: time.Minute, ReadBufferSize: 1024, WriteBufferSize: 1024}
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			conn, _, err := d.Dial("ws://"+addr+"/ws", nil)
			<-sem
			if err != nil {
				if failed.Add(1) == 1 {
					t.Logf("dial: %v", err)
				}
				return
			}
			conns[i] = conn
			conn.WriteJSON(map[string]any{"op": "subscribe", "topics": []string{swarmTopic}})
			type msg struct {
				Op   string
				Data struct{ R, T int64 }
			}
			for {
				var m msg
				if err := conn.ReadJSON(&m); err != nil {
					return
				}
				if m.Op == "subscribed" {
					ready.Add(1)
					continue
				}
				if r := m.Data.R; r >= 0 && r < int64(rounds) {
					lat[int(r)*n+i] = time.Now().UnixNano() - m.Data.T
					got[r].Add(1)
				}
			}
		}()
	}
	for ready.Load()+failed.Load() < int64(n) {
		time.Sleep(10 * time.Millisecond)
	}
	connectTime := time.Since(start)
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d connections failed (ulimit -n is %s?)", f, n, ulimit())
	}
	idle := mem()

	var last []time.Duration // per round: publish to the last client
	for r := range rounds {
		t0 := time.Now()
		resp, err := http.Get(base + "/publish?r=" + strconv.Itoa(r))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		deadline := time.Now().Add(time.Minute)
		for got[r].Load() < int64(n) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d of %d clients got the update", r, got[r].Load(), n)
			}
			time.Sleep(200 * time.Microsecond)
		}
		last = append(last, time.Since(t0))
		time.Sleep(100 * time.Millisecond)
	}
	after := mem()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()

	slices.Sort(lat)
	pct := func(p float64) time.Duration { return time.Duration(lat[int(p*float64(len(lat)-1))]) }
	slices.Sort(last)
	perConn := func(a, b int64) int64 { return (b - a) / int64(n) }
	t.Logf("connections %d (connected in %v), rounds %d, GOMAXPROCS %d", n, connectTime.Round(time.Millisecond), rounds, runtime.GOMAXPROCS(0))
	t.Logf("delivery latency publish→client over %d receipts: p50 %v  p99 %v  max %v",
		len(lat), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	t.Logf("publish→last client per round: median %v  max %v", last[len(last)/2].Round(time.Microsecond), last[len(last)-1].Round(time.Microsecond))
	t.Logf("server memory per idle connection: heap %d B, stack %d B, heap+stack %d B, RSS %d B; goroutines %d → %d",
		perConn(before.Heap, idle.Heap), perConn(before.Stack, idle.Stack),
		perConn(before.Heap+before.Stack, idle.Heap+idle.Stack), perConn(before.RSS, idle.RSS),
		before.Goroutines, idle.Goroutines)
	t.Logf("server RSS: before %d MiB, idle %d MiB, after rounds %d MiB; stats %+v",
		before.RSS>>20, idle.RSS>>20, after.RSS>>20, after.Stats)
	if after.Stats.Dropped != 0 {
		t.Errorf("%d clients dropped", after.Stats.Dropped)
	}
}

func ulimit() string {
	out, err := exec.Command("sh", "-c", "ulimit -n").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
