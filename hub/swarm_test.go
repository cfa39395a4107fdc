//go:build linux

package hub

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/yiping-ioc/yiping/internal/wstest"
)

// The push benchmark: a swarm of websocket clients over loopback against a
// server in a child process, for the hub and for a named peer measured in
// the same run. Run by scripts/bench-push; skipped unless HUB_SWARM is set.
//
//	HUB_SWARM=20000 go test -run 'TestPushSwarm$' -v ./hub/
//
// Processes: this one orchestrates; one server child (the hub, or the peer)
// serves /ws, /publish (publish {"r":round,"t":unix ns} to one topic and
// flush at once: the latency measured is the fan-out, coalescing adds
// 0..Coalesce on top) and /mem (heap after GC, RSS, goroutines); the clients
// are spread over HUB_CLIENT_PROCS children (each process has its own file
// limit, and one process cannot hold 20,000 sockets here). All of them share
// the machine's cores: the clients' CPU is taken from the server. With
// HUB_CLIENT_BATCH=1 the clients run under SCHED_BATCH (chrt --batch): they
// get their fair share of CPU but a client woken by a message does not
// preempt the server in the middle of a fan-out, which is closer to screens
// on other machines.
//
// Environment: HUB_SWARM (connections), HUB_ROUNDS (20), HUB_CLIENT_PROCS
// (default one per 5,000 clients), HUB_CLIENT_BATCH, HUB_CLIENT_NICE (run
// the clients under nice -n), HUB_PEERS ("naive,hub": which servers, in
// order), HUB_QUEUE (the hub's QueueLen), HUB_CPUPROFILE (a file prefix: the
// server children write <prefix>.<server>.pprof over the rounds).

const swarmTopic = "ind:on_time_rate:620800:month"

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// swarmPublisher is what the benchmark server needs of a fan-out.
type swarmPublisher interface {
	ServeWS(w http.ResponseWriter, r *http.Request)
	publishNow(data json.RawMessage)
	clients() int
	dropped() uint64
	Close()
}

// hubServer is the hub under test: publish and flush at once.
type hubServer struct{ *Hub }

func (s hubServer) publishNow(data json.RawMessage) {
	s.Publish(swarmTopic, data)
	s.Flush()
}
func (s hubServer) clients() int    { return int(s.Stats().Clients) }
func (s hubServer) dropped() uint64 { return s.Stats().Dropped }

// TestPushSwarmServer is a server child process.
func TestPushSwarmServer(t *testing.T) {
	kind := os.Getenv("HUB_SWARM_SERVER")
	if kind == "" {
		t.Skip("the push benchmark's server process; run by TestPushSwarm")
	}
	var srvImpl swarmPublisher
	switch kind {
	case "hub":
		srvImpl = hubServer{New(Config{Coalesce: -1, QueueLen: envInt("HUB_QUEUE", 0)})}
	case "naive":
		srvImpl = newNaiveHub()
	default:
		t.Fatalf("HUB_SWARM_SERVER=%q: want hub or naive", kind)
	}
	defer srvImpl.Close()
	srvImpl.publishNow(json.RawMessage(`{"r":-1,"t":0}`))

	var profiling bool
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", srvImpl.ServeWS)
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		round, _ := strconv.Atoi(r.URL.Query().Get("r"))
		if p := os.Getenv("HUB_CPUPROFILE"); p != "" && !profiling {
			f, err := os.Create(p + "." + kind + ".pprof")
			if err == nil && pprof.StartCPUProfile(f) == nil {
				profiling = true
			}
		}
		srvImpl.publishNow(json.RawMessage(fmt.Sprintf(`{"r":%d,"t":%d}`, round, time.Now().UnixNano())))
	})
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		if profiling {
			pprof.StopCPUProfile()
			profiling = false
		}
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(memReport{
			Heap: int64(ms.HeapInuse), Stack: int64(ms.StackInuse), Sys: int64(ms.Sys),
			RSS: rssBytes(), CPU: cpuTime(), Goroutines: runtime.NumGoroutine(),
			Clients: srvImpl.clients(), Dropped: srvImpl.dropped(),
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
	CPU                   time.Duration // user + system of the process so far
	Goroutines, Clients   int
	Dropped               uint64
}

// cpuTime is the user + system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPushSwarmClients is a client child process: HUB_SWARM_CLIENTS
// connections to HUB_SWARM_ADDR, each subscribed to swarmTopic. It prints
// READY when all are subscribed, GOT <r> when all have round r, and on EOF
// of stdin writes the latencies (int64 ns, round-major) to HUB_SWARM_OUT.
//
// The clients are light on purpose, since they share the cores with the
// server: gorilla dials and subscribes, then the socket is taken over by an
// epoll loop that reads whatever is ready with one read(2) and picks "r"
// and "t" out of each text frame, no JSON decoding, no goroutine per
// connection.
func TestPushSwarmClients(t *testing.T) {
	k := envInt("HUB_SWARM_CLIENTS", 0)
	if k == 0 {
		t.Skip("the push benchmark's client process; run by TestPushSwarm")
	}
	addr, out := os.Getenv("HUB_SWARM_ADDR"), os.Getenv("HUB_SWARM_OUT")
	rounds := envInt("HUB_ROUNDS", 20)
	sw := &swarm{rounds: rounds, k: k, lat: make([]int64, rounds*k), got: make([]int, rounds),
		done: make(chan int, rounds), conns: map[int32]*swarmConn{}}
	var err error
	if sw.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	go sw.loop()

	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 32)
	d := websocket.Dialer{HandshakeTimeout: time.Minute, ReadBufferSize: 512, WriteBufferSize: 512}
	sub := []byte(`{"op":"subscribe","topics":["` + swarmTopic + `"]}`)
	for i := range k {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := sw.dial(&d, addr, i, sub); err != nil {
				if failed.Add(1) == 1 {
					fmt.Fprintf(os.Stderr, "dial: %v\n", err)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d connections failed", f, k)
	}
	for sw.readyCount() < k {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("READY")
	cpu0 := cpuTime()
	go func() {
		for r := range sw.done {
			fmt.Printf("GOT %d\n", r)
		}
	}()
	io.Copy(io.Discard, os.Stdin)
	fmt.Printf("CPU %d\n", cpuTime()-cpu0)
	sw.stop.Store(true)
	b := make([]byte, 0, 8*len(sw.lat))
	sw.mu.Lock()
	for _, v := range sw.lat {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	sw.mu.Unlock()
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// swarm is the client side's epoll loop.
type swarm struct {
	epfd      int
	rounds, k int
	stop      atomic.Bool

	mu    sync.Mutex
	conns map[int32]*swarmConn // by fd
	ready int
	lat   []int64 // [round*k + client]
	got   []int   // receipts per round
	done  chan int
}

type swarmConn struct {
	i       int
	fd      int
	pending []byte // an incomplete frame
}

// dial connects and subscribes with gorilla, then moves the socket (a
// duplicate of its descriptor; the original leaves Go's poller) to the
// epoll loop. The server sends nothing before the subscription, so gorilla
// has buffered nothing.
func (sw *swarm) dial(d *websocket.Dialer, addr string, i int, sub []byte) error {
	conn, _, err := d.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		return err
	}
	rc, err := conn.NetConn().(*net.TCPConn).SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	rc.Control(func(f uintptr) { fd, err = syscall.Dup(int(f)) })
	if err != nil {
		return err
	}
	conn.Close()
	sw.mu.Lock()
	sw.conns[int32(fd)] = &swarmConn{i: i, fd: fd}
	sw.mu.Unlock()
	if err := syscall.EpollCtl(sw.epfd, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
		return err
	}
	// A masked client frame (mask key 0 leaves the payload as it is).
	frame := append([]byte{0x81, 0x80 | byte(len(sub)), 0, 0, 0, 0}, sub...)
	_, err = syscall.Write(fd, frame)
	return err
}

func (sw *swarm) readyCount() int {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.ready
}

func (sw *swarm) loop() {
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 64<<10)
	for !sw.stop.Load() {
		n, err := syscall.EpollWait(sw.epfd, events, 100)
		if err != nil {
			continue // EINTR
		}
		now := time.Now().UnixNano()
		sw.mu.Lock()
		for _, ev := range events[:n] {
			c := sw.conns[ev.Fd]
			if c == nil {
				continue
			}
			m, err := syscall.Read(c.fd, buf)
			if m <= 0 {
				if err != syscall.EAGAIN {
					syscall.EpollCtl(sw.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
					delete(sw.conns, ev.Fd)
					syscall.Close(c.fd)
				}
				continue
			}
			data := buf[:m]
			if len(c.pending) > 0 {
				data = append(c.pending, data...)
			}
			rest := sw.frames(c, data, now)
			c.pending = append(c.pending[:0], rest...)
		}
		sw.mu.Unlock()
	}
	sw.mu.Lock()
	for fd, c := range sw.conns {
		syscall.Close(c.fd)
		delete(sw.conns, fd)
	}
	sw.mu.Unlock()
}

// frames handles the complete frames in d and returns the incomplete rest
// (caller holds sw.mu).
func (sw *swarm) frames(c *swarmConn, d []byte, now int64) []byte {
	for len(d) >= 2 {
		op, n, h := d[0]&0x0f, int(d[1]&0x7f), 2
		switch n {
		case 126:
			if len(d) < 4 {
				return d
			}
			n, h = int(binary.BigEndian.Uint16(d[2:])), 4
		case 127:
			if len(d) < 10 {
				return d
			}
			n, h = int(binary.BigEndian.Uint64(d[2:])), 10
		}
		if len(d) < h+n {
			return d
		}
		p := d[h : h+n]
		d = d[h+n:]
		switch op {
		case websocket.TextMessage:
			if bytes.Contains(p, []byte(`"op":"subscribed"`)) {
				sw.ready++
				continue
			}
			r, ok1 := jsonInt(p, `"r":`)
			ts, ok2 := jsonInt(p, `"t":`)
			if ok1 && ok2 && r >= 0 && r < int64(sw.rounds) {
				sw.lat[int(r)*sw.k+c.i] = now - ts
				if sw.got[r]++; sw.got[r] == sw.k {
					sw.done <- int(r)
				}
			}
		case websocket.PingMessage: // answer with a masked pong
			syscall.Write(c.fd, append([]byte{0x8a, 0x80 | byte(len(p)), 0, 0, 0, 0}, p...))
		}
	}
	return d
}

// jsonInt reads the integer after key in msg.
func jsonInt(msg []byte, key string) (int64, bool) {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(key):]
	j := 0
	if j < len(rest) && rest[j] == '-' {
		j++
	}
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return v, err == nil
}

// swarmResult is one server's figures.
type swarmResult struct {
	server                   string
	conns                    int
	connect                  time.Duration
	p50, p99, max            time.Duration
	lastMedian, lastMax      time.Duration
	heapStackPerConn, rssPer int64
	goroutinesPerConn        float64
	dropped                  uint64
	serverCPU, clientCPU     time.Duration // per delivery, over the rounds
}

func TestPushSwarm(t *testing.T) {
	n := envInt("HUB_SWARM", 0)
	if n == 0 {
		t.Skip("set HUB_SWARM=<connections> (scripts/bench-push) to run the push benchmark")
	}
	rounds := envInt("HUB_ROUNDS", 20)
	procs := envInt("HUB_CLIENT_PROCS", (n+4999)/5000)
	peers := strings.Split(cmpOr(os.Getenv("HUB_PEERS"), "naive,hub"), ",")
	var res []swarmResult
	for _, p := range peers {
		r := runSwarm(t, p, n, procs, rounds)
		res = append(res, r)
		t.Logf("%s: %d connections (connected in %v), %d rounds, %d client processes (SCHED_BATCH %q, nice %q): p50 %v  p99 %v  max %v; publish→last client median %v max %v; per idle connection: heap+stack %d B, RSS %d B, %.2f goroutines; CPU per delivery: server %v, clients %v; dropped %d",
			r.server, r.conns, r.connect.Round(time.Millisecond), rounds, procs,
			os.Getenv("HUB_CLIENT_BATCH"), os.Getenv("HUB_CLIENT_NICE"), ms(r.p50), ms(r.p99), ms(r.max), ms(r.lastMedian), ms(r.lastMax),
			r.heapStackPerConn, r.rssPer, r.goroutinesPerConn, r.serverCPU, r.clientCPU, r.dropped)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| server | connections | p50 | p99 | max | p99 / %s p99 | server CPU per delivery | clients' CPU per delivery | heap + stacks per idle conn | RSS per conn | goroutines per idle conn |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", peers[0])
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %d | %v | %v | %v | %.2f | %.1f µs | %.1f µs | %.1f KB | %.1f KB | %.2f |\n", r.server, r.conns,
			ms(r.p50), ms(r.p99), ms(r.max), float64(r.p99)/float64(res[0].p99),
			float64(r.serverCPU)/1e3, float64(r.clientCPU)/1e3,
			float64(r.heapStackPerConn)/1000, float64(r.rssPer)/1000, r.goroutinesPerConn)
	}
	t.Log(b.String())
	for _, r := range res {
		if r.server == "hub" && r.dropped != 0 {
			t.Errorf("hub dropped %d clients", r.dropped)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ms(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// startChild runs one of this file's tests as a child process; the
// clients may run niced or under SCHED_BATCH (HUB_CLIENT_NICE,
// HUB_CLIENT_BATCH).
func startChild(t *testing.T, test string, env ...string) *wstest.Child {
	t.Helper()
	var wrap []string
	if test == "TestPushSwarmClients" {
		if b := os.Getenv("HUB_CLIENT_BATCH"); b != "" && b != "0" {
			wrap = append(wrap, "chrt", "--batch", "0")
		}
		if nice := os.Getenv("HUB_CLIENT_NICE"); nice != "" {
			wrap = append(wrap, "nice", "-n", nice)
		}
	}
	return wstest.StartChild(t, test, wrap, env...)
}

func runSwarm(t *testing.T, server string, n, procs, rounds int) swarmResult {
	srv := startChild(t, "TestPushSwarmServer", "HUB_SWARM_SERVER="+server)
	defer srv.Stop()
	addr := strings.TrimSpace(srv.Expect(t, "ADDR ", time.Minute))
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

	dir := t.TempDir()
	start := time.Now()
	clients := make([]*wstest.Child, procs)
	shares := make([]int, procs)
	for i := range clients {
		shares[i] = n / procs
		if i < n%procs {
			shares[i]++
		}
		clients[i] = startChild(t, "TestPushSwarmClients",
			"HUB_SWARM_CLIENTS="+strconv.Itoa(shares[i]), "HUB_SWARM_ADDR="+addr,
			"HUB_SWARM_OUT="+filepath.Join(dir, strconv.Itoa(i)), "HUB_ROUNDS="+strconv.Itoa(rounds))
	}
	for _, c := range clients {
		c.Expect(t, "READY", 5*time.Minute)
	}
	connect := time.Since(start)
	idle := mem()

	var last []time.Duration
	for r := range rounds {
		t0 := time.Now()
		resp, err := http.Get(base + "/publish?r=" + strconv.Itoa(r))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range clients {
			if got := c.Expect(t, "GOT ", time.Minute); got != strconv.Itoa(r) {
				t.Fatalf("round %d: client process reports round %s", r, got)
			}
		}
		last = append(last, time.Since(t0))
		time.Sleep(100 * time.Millisecond)
	}
	after := mem()

	var lat []int64
	var clientCPU time.Duration
	for i, c := range clients {
		c.Stdin.Close()
		d, _ := strconv.ParseInt(c.Expect(t, "CPU ", time.Minute), 10, 64)
		clientCPU += time.Duration(d)
		c.Stop()
		b, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 8*rounds*shares[i] {
			t.Fatalf("client process %d: %d bytes of latencies, want %d", i, len(b), 8*rounds*shares[i])
		}
		for j := 0; j < len(b); j += 8 {
			lat = append(lat, int64(binary.LittleEndian.Uint64(b[j:])))
		}
	}
	slices.Sort(lat)
	slices.Sort(last)
	pct := func(p float64) time.Duration { return time.Duration(lat[int(p*float64(len(lat)-1))]) }
	return swarmResult{
		server: server, conns: idle.Clients, connect: connect,
		p50: pct(0.50), p99: pct(0.99), max: pct(1),
		lastMedian: last[len(last)/2], lastMax: last[len(last)-1],
		heapStackPerConn:  (idle.Heap + idle.Stack - before.Heap - before.Stack) / int64(n),
		rssPer:            (idle.RSS - before.RSS) / int64(n),
		goroutinesPerConn: float64(idle.Goroutines-before.Goroutines) / float64(n),
		dropped:           after.Dropped,
		serverCPU:         (after.CPU - idle.CPU) / time.Duration(rounds*n),
		clientCPU:         clientCPU / time.Duration(rounds*n),
	}
}

// naiveHub is the peer: the fan-out of gorilla's chat example, the way a
// typical websocket hub is written. One hub goroutine owns the clients and
// handles register, unregister and broadcast over channels; every client
// has a reader goroutine, a writer goroutine with its ping ticker and a
// 256-message send channel; a broadcast marshals the message for each
// client (json.Marshal per connection) and the writer sends it with
// WriteMessage, one write per message. It speaks the hub's protocol as far
// as the benchmark needs (subscribe → snapshot + "subscribed", messages).
type naiveHub struct {
	upgrader   websocket.Upgrader
	register   chan *naiveClient
	unregister chan *naiveClient
	broadcast  chan json.RawMessage
	stop       chan struct{}
	nclients   atomic.Int64
	ndropped   atomic.Uint64
	seq        uint64
	latest     json.RawMessage
}

type naiveClient struct {
	h    *naiveHub
	conn *websocket.Conn
	send chan []byte
}

func newNaiveHub() *naiveHub {
	h := &naiveHub{
		upgrader:   websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024},
		register:   make(chan *naiveClient),
		unregister: make(chan *naiveClient),
		broadcast:  make(chan json.RawMessage),
		stop:       make(chan struct{}),
	}
	go h.run()
	return h
}

func (h *naiveHub) run() {
	clients := map[*naiveClient]bool{}
	for {
		select {
		case c := <-h.register:
			clients[c] = true
			b, _ := json.Marshal(Message{Topic: swarmTopic, Seq: h.seq, Snapshot: true, Data: h.latest})
			c.send <- b
			b, _ = json.Marshal(reply{Op: "subscribed", Topics: []Topic{swarmTopic}})
			c.send <- b
		case c := <-h.unregister:
			if clients[c] {
				delete(clients, c)
				close(c.send)
			}
		case d := <-h.broadcast:
			h.seq++
			h.latest = d
			for c := range clients {
				b, _ := json.Marshal(Message{Topic: swarmTopic, Seq: h.seq, Data: d})
				select {
				case c.send <- b:
				default:
					h.ndropped.Add(1)
					delete(clients, c)
					close(c.send)
				}
			}
		case <-h.stop:
			return
		}
	}
}

func (h *naiveHub) publishNow(d json.RawMessage) { h.broadcast <- d }
func (h *naiveHub) clients() int                 { return int(h.nclients.Load()) }
func (h *naiveHub) dropped() uint64              { return h.ndropped.Load() }
func (h *naiveHub) Close()                       { close(h.stop) }

func (h *naiveHub) ServeWS(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &naiveClient{h: h, conn: conn, send: make(chan []byte, 256)}
	h.nclients.Add(1)
	go c.writePump()
	go c.readPump()
}

func (c *naiveClient) readPump() {
	defer func() {
		c.h.unregister <- c
		c.conn.Close()
		c.h.nclients.Add(-1)
	}()
	c.conn.SetReadLimit(16 << 10)
	c.conn.SetReadDeadline(time.Now().Add(50 * time.Second))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(50 * time.Second)) })
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var req request
		if json.Unmarshal(b, &req) == nil && req.Op == "subscribe" {
			c.h.register <- c
		}
	}
}

func (c *naiveClient) writePump() {
	tk := time.NewTicker(25 * time.Second)
	defer func() {
		tk.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case b, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, nil)
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		case <-tk.C:
			c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}
