//go:build linux

package app

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/internal/wstest"
)

// The websocket connect cost with a screen token at N screens (issue 10),
// against the bare hub without authentication in the same run. Run by
// scripts/bench-access; skipped unless ACCESS_SWARM is set:
//
//	ACCESS_SWARM=10000 go test -count=1 -run 'TestAccessSwarm$' -v -timeout 60m ./app/
//
// Processes, as in hub's TestPushSwarm (hub/swarm_test.go): this one
// prepares a data directory with the screen tokens and orchestrates; one
// server child serves /ws on loopback, either
//
//   - app: the real App (New + Run, demo off, the tokens' SQLite store):
//     the server's connection caps, the guard (the yiping_screen cookie of
//     a kiosk, looked up by its hash, first use recorded and written
//     behind, all together, at most once a minute), the hub with its
//     per-topic scope check, and everything Run starts (the pulse's clock
//     to every screen every 5 s, the batch check of every connected
//     principal every 2 s);
//   - hub: the peer, the hub as the swarm benchmark serves it: hub.New
//     with the App's settings (1,024 topics, history 1) but no Principal
//     nor Authorize, on a plain net/http server, nothing else running;
//
// and the N clients are spread over ACCESS_SWARM_CLIENT_PROCS children
// (each process has its own file limit; the server holds one file per
// connection, so N + ~20 must stay under `ulimit -Hn`, 20,000 here). Each
// client dials from a loopback source address 127.10.x.y (ACCESS_SWARM_PER_ADDR
// clients per address, default 100, like a wall of many machines: the
// App caps connections per client address at a quarter of its total),
// sends the kiosk's cookie, subscribes to four topics of its region (the
// clock, an indicator, a ranking, the ticker) and waits for the hub's
// "subscribed" reply. Connect time per socket = dial start → reply (TCP,
// the HTTP upgrade with its authentication, the subscribe round trip),
// with ACCESS_SWARM_CONC dials in flight per client process.
//
// The client loop is a small copy rather than the swarm's: that one lives
// in package hub's test files (not importable from package app), reads
// with an epoll loop built for delivery latency and has no per-socket
// connect time, source addresses or credentials; here each connection has
// one reader goroutine (gorilla answers the hub's pings), which costs the
// client processes memory, not the server.
//
// Environment: ACCESS_SWARM (connections), ACCESS_SWARM_TOKENS (distinct
// screen tokens, default one per connection; client i uses token i mod
// TOKENS), ACCESS_SWARM_CONC (8), ACCESS_SWARM_CLIENT_PROCS (one per
// 5,000), ACCESS_SWARM_PER_ADDR (100), ACCESS_SWARM_IDLE (seconds the
// connected swarm is watched idle for the server's CPU, 10),
// ACCESS_SWARM_SERVERS ("hub,app"), ACCESS_SWARM_CLIENT_BATCH (1: clients
// under chrt --batch, as bench-push), ACCESS_SWARM_DATA (a directory to
// keep the data directory and its tokens in between runs; default a
// temporary one), ACCESS_SWARM_CPUPROFILE (a file prefix: the server
// children write <prefix>.<server>.connect.pprof while the swarm connects
// and <prefix>.<server>.idle.pprof while it sits idle).

const swarmSubscribe = `{"op":"subscribe","topics":["sys:clock","ind:answer_rate:620100:month","rank:answer_rate:620100:month","ticker:620100"]}`

func swarmEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// swarmMem is a server child's state.
type swarmMem struct {
	Heap, Stack, RSS int64
	CPU              time.Duration
	Goroutines       int
	Clients          int64
}

func swarmProcRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func swarmCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAccessSwarmServer is the server child process.
func TestAccessSwarmServer(t *testing.T) {
	kind := os.Getenv("ACCESS_SWARM_SERVER")
	if kind == "" {
		t.Skip("the access swarm's server process; run by TestAccessSwarm")
	}
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) == nil && r.Cur < r.Max {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var clients func() int64
	var done func()
	switch kind {
	case "app":
		a, err := New(ctx, Options{Addr: "127.0.0.1:0", DataDir: os.Getenv("ACCESS_SWARM_DATA"), HistoryEvery: time.Hour,
			Getenv: func(string) string { return "" }, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error, 1)
		go func() { ran <- a.Run(ctx, l) }()
		clients = func() int64 { return a.hub.Stats().Clients }
		done = func() {
			cancel()
			if err := <-ran; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	case "hub":
		h := hub.New(hub.Config{MaxTopics: 1024, HistoryLen: 1, Logger: log})
		mux := http.NewServeMux()
		mux.HandleFunc("/ws", h.ServeWS)
		srv := &http.Server{Handler: mux}
		go srv.Serve(l)
		clients = func() int64 { return h.Stats().Clients }
		done = func() { srv.Close(); h.Close() }
	default:
		t.Fatalf("ACCESS_SWARM_SERVER=%q: want app or hub", kind)
	}
	ctrl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cmux := http.NewServeMux()
	cmux.HandleFunc("/mem", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(swarmMem{Heap: int64(ms.HeapInuse), Stack: int64(ms.StackInuse), RSS: swarmProcRSS(),
			CPU: swarmCPU(), Goroutines: runtime.NumGoroutine(), Clients: clients()})
	})
	// /prof/start?name=PHASE and /prof/stop: a CPU profile of a phase,
	// written to <ACCESS_SWARM_CPUPROFILE>.<server>.<phase>.pprof.
	var prof *os.File
	cmux.HandleFunc("/prof/start", func(w http.ResponseWriter, r *http.Request) {
		p := os.Getenv("ACCESS_SWARM_CPUPROFILE")
		if p == "" || prof != nil {
			return
		}
		f, err := os.Create(p + "." + kind + "." + r.URL.Query().Get("name") + ".pprof")
		if err == nil && pprof.StartCPUProfile(f) == nil {
			prof = f
		}
	})
	cmux.HandleFunc("/prof/stop", func(w http.ResponseWriter, _ *http.Request) {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
			prof = nil
		}
	})
	csrv := &http.Server{Handler: cmux}
	go csrv.Serve(ctrl)
	fmt.Printf("ADDR %s %s\n", l.Addr(), ctrl.Addr())
	io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	csrv.Close()
	done()
}

// TestAccessSwarmClients is a client child process: ACCESS_SWARM_CLIENTS
// connections, numbered from ACCESS_SWARM_FIRST. It prints "READY <failed>
// <first dial unix ns> <last reply unix ns>" when every connection is
// subscribed (or failed), and on EOF of stdin writes the connect times
// (int64 ns) to ACCESS_SWARM_OUT and prints DONE.
func TestAccessSwarmClients(t *testing.T) {
	k := swarmEnv("ACCESS_SWARM_CLIENTS", 0)
	if k == 0 {
		t.Skip("the access swarm's client process; run by TestAccessSwarm")
	}
	first, _ := strconv.Atoi(os.Getenv("ACCESS_SWARM_FIRST"))
	addr, out := os.Getenv("ACCESS_SWARM_ADDR"), os.Getenv("ACCESS_SWARM_OUT")
	conc, perAddr := swarmEnv("ACCESS_SWARM_CONC", 8), swarmEnv("ACCESS_SWARM_PER_ADDR", 100)
	raw, err := os.ReadFile(os.Getenv("ACCESS_SWARM_TOKENS_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Fields(string(raw))
	if len(tokens) == 0 {
		t.Fatal("no tokens")
	}

	durs := make([]int64, k)
	var start, end atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Pointer[string]
	var connsMu sync.Mutex
	var conns []*websocket.Conn
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				g := first + i
				a := g / perAddr
				ip := net.IPv4(127, 10, byte(a/250), byte(a%250+1))
				d := websocket.Dialer{
					NetDialContext:   (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}).DialContext,
					HandshakeTimeout: time.Minute, ReadBufferSize: 512, WriteBufferSize: 512,
				}
				hdr := http.Header{"Cookie": {screenCookie + "=" + tokens[g%len(tokens)]}}
				t0 := time.Now()
				start.CompareAndSwap(0, t0.UnixNano())
				conn, err := wstest.DialSubscribed(&d, "ws://"+addr+"/ws", hdr, []byte(swarmSubscribe))
				if err != nil {
					if failed.Add(1) == 1 {
						s := fmt.Sprintf("client %d from %s: %v", g, ip, err)
						firstErr.Store(&s)
					}
					continue
				}
				now := time.Now()
				durs[i] = int64(now.Sub(t0))
				for {
					e := end.Load()
					if now.UnixNano() <= e || end.CompareAndSwap(e, now.UnixNano()) {
						break
					}
				}
				connsMu.Lock()
				conns = append(conns, conn)
				connsMu.Unlock()
				go func() { // answers pings, drops the clock ticks
					for {
						if _, _, err := conn.ReadMessage(); err != nil {
							return
						}
					}
				}()
			}
		}()
	}
	for i := range k {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(os.Stderr, *e)
	}
	fmt.Printf("READY %d %d %d\n", failed.Load(), start.Load(), end.Load())
	io.Copy(io.Discard, os.Stdin)
	b := make([]byte, 0, 8*k)
	for _, d := range durs {
		b = binary.LittleEndian.AppendUint64(b, uint64(d))
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Println("DONE")
	connsMu.Lock()
	for _, c := range conns {
		c.Close()
	}
	connsMu.Unlock()
}

// startSwarmChild runs one of this file's tests as a child process,
// under SCHED_BATCH with batch.
func startSwarmChild(t *testing.T, test string, batch bool, env ...string) *wstest.Child {
	t.Helper()
	var wrap []string
	if batch {
		wrap = []string{"chrt", "--batch", "0"}
	}
	return wstest.StartChild(t, test, wrap, env...)
}

// swarmTokens returns the secrets of ntok screen tokens (playlist hall,
// region 620100) in the access store of dataDir, creating what is missing
// (the tokens file keeps them for another run on the same directory).
func swarmTokens(t *testing.T, dataDir string, ntok int) string {
	file := filepath.Join(dataDir, "bench-tokens.txt")
	raw, _ := os.ReadFile(file)
	have := strings.Fields(string(raw))
	if len(have) >= ntok {
		return file
	}
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := access.New(access.Config{Store: st, Logger: quietBenchLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if len(have) == 0 {
		// A user, so the App's first start creates no administrator.
		if _, err := svc.AddUser(ctx, access.Actor{Name: "bench"}, access.NewUser{Name: "bench01", Role: access.RoleAdmin, Region: "620000", Password: benchPassword}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t0 := time.Now()
	for i := len(have); i < ntok; i++ {
		secret, _, err := svc.AddToken(ctx, access.Actor{Name: "bench"}, access.NewToken{Playlist: "hall", Region: "620100", Note: "bench " + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, secret)
	}
	t.Logf("created %d screen tokens in %v", ntok-len(have), time.Since(t0).Round(time.Millisecond))
	return file
}

// swarmResult is one server's figures.
type swarmResult struct {
	server                       string
	conns                        int64
	p50, p99, max                time.Duration
	total                        time.Duration
	heapStackPerConn, rssPerConn int64
	goroutinesPerConn            float64
	serverCPUPerConn             time.Duration
	idleCPU                      float64 // share of one core while N screens sit connected
	failed                       int
	load0, load1                 string
}

func swarmLoad() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func TestAccessSwarm(t *testing.T) {
	n := swarmEnv("ACCESS_SWARM", 0)
	if n == 0 {
		t.Skip("set ACCESS_SWARM=<connections> (scripts/bench-access) to run the websocket connect benchmark")
	}
	ntok := swarmEnv("ACCESS_SWARM_TOKENS", n)
	procs := swarmEnv("ACCESS_SWARM_CLIENT_PROCS", (n+4999)/5000)
	conc := swarmEnv("ACCESS_SWARM_CONC", 8)
	perAddr := swarmEnv("ACCESS_SWARM_PER_ADDR", 100)
	idle := time.Duration(swarmEnv("ACCESS_SWARM_IDLE", 10)) * time.Second
	batch := os.Getenv("ACCESS_SWARM_CLIENT_BATCH") != "0"
	servers := strings.Split(swarmOr(os.Getenv("ACCESS_SWARM_SERVERS"), "hub,app"), ",")
	dataDir := os.Getenv("ACCESS_SWARM_DATA")
	if dataDir == "" {
		dataDir = t.TempDir()
	} else if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	tokensFile := swarmTokens(t, dataDir, ntok)
	if ntok < n {
		// The clients use the first ntok lines.
		raw, _ := os.ReadFile(tokensFile)
		tokensFile = filepath.Join(t.TempDir(), "tokens.txt")
		os.WriteFile(tokensFile, []byte(strings.Join(strings.Fields(string(raw))[:ntok], "\n")), 0o600)
	}
	var res []swarmResult
	for _, s := range servers {
		r := runAccessSwarm(t, s, n, procs, conc, perAddr, idle, batch, dataDir, tokensFile)
		res = append(res, r)
		t.Logf("%s: %d screens (%d distinct tokens, %d client processes, %d dials in flight each, %d per source address): connect p50 %v p99 %v max %v, all in %v; server CPU %v per connection; heap+stacks %.1f KB, RSS %.1f KB, %.2f goroutines per connection; idle with %d screens: %.1f%% of a core; failed %d; load %s → %s",
			r.server, r.conns, ntok, procs, conc, perAddr, swarmMs(r.p50), swarmMs(r.p99), swarmMs(r.max), r.total.Round(time.Millisecond),
			r.serverCPUPerConn.Round(time.Microsecond), float64(r.heapStackPerConn)/1000, float64(r.rssPerConn)/1000, r.goroutinesPerConn,
			r.conns, 100*r.idleCPU, r.failed, r.load0, r.load1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| server | screens | tokens | connect p50 | p99 | max | all connected in | server CPU / connect | heap + stacks / conn | RSS / conn | goroutines / conn | idle CPU (1 core) | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %d | %d | %v | %v | %v | %v | %v | %.1f KB | %.1f KB | %.2f | %.1f%% | %s → %s |\n", r.server, r.conns, ntok,
			swarmMs(r.p50), swarmMs(r.p99), swarmMs(r.max), r.total.Round(time.Millisecond), r.serverCPUPerConn.Round(time.Microsecond),
			float64(r.heapStackPerConn)/1000, float64(r.rssPerConn)/1000, r.goroutinesPerConn, 100*r.idleCPU, r.load0, r.load1)
	}
	if len(res) == 2 {
		a, p := res[1], res[0]
		fmt.Fprintf(&b, "\n%s / %s: connect p50 ×%.2f, p99 ×%.2f, all connected ×%.2f, server CPU per connect ×%.2f, heap+stacks per conn ×%.2f\n",
			a.server, p.server, float64(a.p50)/float64(p.p50), float64(a.p99)/float64(p.p99), float64(a.total)/float64(p.total),
			float64(a.serverCPUPerConn)/float64(p.serverCPUPerConn), float64(a.heapStackPerConn)/float64(p.heapStackPerConn))
	}
	t.Log(b.String())
	for _, r := range res {
		if r.failed > 0 || r.conns != int64(n) {
			t.Errorf("%s: %d failed, %d connected of %d", r.server, r.failed, r.conns, n)
		}
	}
}

func swarmOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func swarmMs(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func runAccessSwarm(t *testing.T, server string, n, procs, conc, perAddr int, idle time.Duration, batch bool, dataDir, tokensFile string) swarmResult {
	r := swarmResult{server: server, load0: swarmLoad()}
	srv := startSwarmChild(t, "TestAccessSwarmServer", false, "ACCESS_SWARM_SERVER="+server, "ACCESS_SWARM_DATA="+dataDir)
	defer srv.Stop()
	f := strings.Fields(srv.Expect(t, "ADDR ", 2*time.Minute))
	addr, ctrl := f[0], f[1]
	mem := func() swarmMem {
		resp, err := http.Get("http://" + ctrl + "/mem")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m swarmMem
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	prof := func(what string) {
		if resp, err := http.Get("http://" + ctrl + "/prof/" + what); err == nil {
			resp.Body.Close()
		}
	}
	time.Sleep(3 * time.Second) // the App's start settles (first pulse, first revalidation)
	before := mem()
	prof("start?name=connect")

	dir := t.TempDir()
	clients := make([]*wstest.Child, procs)
	shares := make([]int, procs)
	firstIdx := 0
	for i := range clients {
		shares[i] = n / procs
		if i < n%procs {
			shares[i]++
		}
		clients[i] = startSwarmChild(t, "TestAccessSwarmClients", batch,
			"ACCESS_SWARM_CLIENTS="+strconv.Itoa(shares[i]), "ACCESS_SWARM_FIRST="+strconv.Itoa(firstIdx),
			"ACCESS_SWARM_ADDR="+addr, "ACCESS_SWARM_TOKENS_FILE="+tokensFile,
			"ACCESS_SWARM_CONC="+strconv.Itoa(conc), "ACCESS_SWARM_PER_ADDR="+strconv.Itoa(perAddr),
			"ACCESS_SWARM_OUT="+filepath.Join(dir, strconv.Itoa(i)))
		firstIdx += shares[i]
	}
	var start, end int64
	for _, c := range clients {
		var failed int
		var s, e int64
		fmt.Sscan(c.Expect(t, "READY ", 30*time.Minute), &failed, &s, &e)
		r.failed += failed
		if start == 0 || (s != 0 && s < start) {
			start = s
		}
		end = max(end, e)
	}
	r.total = time.Duration(end - start)
	prof("stop")
	connected := mem()
	prof("start?name=idle")
	time.Sleep(idle)
	prof("stop")
	idleEnd := mem()

	var d []time.Duration
	for i, c := range clients {
		c.Stdin.Close()
		c.Expect(t, "DONE", time.Minute)
		c.Stop()
		b, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j+8 <= len(b); j += 8 {
			if v := int64(binary.LittleEndian.Uint64(b[j:])); v > 0 {
				d = append(d, time.Duration(v))
			}
		}
	}
	if len(d) == 0 {
		t.Fatalf("%s: no connection succeeded", server)
	}
	slices.Sort(d)
	r.p50, r.p99, r.max = benchPct(d, 0.50), benchPct(d, 0.99), d[len(d)-1]
	r.conns = connected.Clients
	cn := int64(max(connected.Clients, 1))
	r.heapStackPerConn = (connected.Heap + connected.Stack - before.Heap - before.Stack) / cn
	r.rssPerConn = (connected.RSS - before.RSS) / cn
	r.goroutinesPerConn = float64(connected.Goroutines-before.Goroutines) / float64(cn)
	r.serverCPUPerConn = (connected.CPU - before.CPU) / time.Duration(cn)
	r.idleCPU = float64(idleEnd.CPU-connected.CPU) / float64(idle)
	r.load1 = swarmLoad()
	return r
}
