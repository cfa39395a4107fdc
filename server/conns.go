package server

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ConnLimits caps open connections so that no client can take every file
// descriptor: without caps, ten thousand idle keep-alive connections from
// one address left /healthz unanswered and the collectors unable to open
// theirs.
type ConnLimits struct {
	// Total caps the connections from other hosts; default the process's
	// file descriptor limit less a fifth (at least 256) for the store,
	// the journal and the collectors' own connections.
	Total int
	// PerAddress caps the connections of one client address; default a
	// quarter of Total. Screens behind one reverse proxy share its
	// address: raise it there.
	PerAddress int
	// LoopbackReserve is how many connections from the Reserved
	// addresses (health checks, a local proxy) are taken beyond Total, so
	// that the host can still ask whether the server is alive when it is
	// full; default 64.
	LoopbackReserve int
	// Reserved are the addresses that may use the reserve; default
	// loopback (127.0.0.0/8 and ::1).
	Reserved []netip.Prefix
}

func (c ConnLimits) withDefaults() ConnLimits {
	if c.Total <= 0 {
		n := fdLimit()
		c.Total = max(64, n-max(256, n/5))
	}
	if c.PerAddress <= 0 {
		c.PerAddress = max(1, c.Total/4)
	}
	if c.LoopbackReserve <= 0 {
		c.LoopbackReserve = 64
	}
	if c.Reserved == nil {
		c.Reserved = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	return c
}

// fdLimit is the soft limit on open files, 1024 when unknown.
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur == 0 || r.Cur > 1<<24 {
		return 1024
	}
	return int(r.Cur)
}

// LimitListener returns l with the caps of c: a connection beyond a cap is
// closed as soon as it is accepted (so the kernel's queue does not fill
// with clients nobody serves), and the refusals are logged at most once a
// minute.
func LimitListener(l net.Listener, c ConnLimits, log *slog.Logger) net.Listener {
	c = c.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	return &limitListener{Listener: l, cfg: c, log: log, per: map[string]int{}}
}

type limitListener struct {
	net.Listener
	cfg ConnLimits
	log *slog.Logger

	mu  sync.Mutex
	all int            // connections open
	per map[string]int // by address

	refused  atomic.Int64
	lastWarn atomic.Int64 // unix seconds
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, loop := l.hostOf(c.RemoteAddr())
		if l.admit(addr, loop) {
			return &limitedConn{Conn: c, l: l, addr: addr, loop: loop}, nil
		}
		c.Close()
		l.refused.Add(1)
		if now := time.Now().Unix(); now-l.lastWarn.Load() >= 60 {
			l.lastWarn.Store(now)
			l.log.Warn("connections refused: over the cap", "refused_total", l.refused.Load(), "addr", addr,
				"max_conns", l.cfg.Total, "max_conns_per_address", l.cfg.PerAddress)
		}
	}
}

// hostOf is the client address of a connection and whether it may use
// the reserve.
func (l *limitListener) hostOf(a net.Addr) (string, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String(), false
	}
	ip := ap.Addr().Unmap()
	for _, p := range l.cfg.Reserved {
		if p.Contains(ip) {
			return ip.String(), true
		}
	}
	return ip.String(), false
}

func (l *limitListener) admit(addr string, loop bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	limit := l.cfg.Total
	if loop {
		limit += l.cfg.LoopbackReserve
	}
	if l.all >= limit || l.per[addr] >= l.cfg.PerAddress {
		return false
	}
	l.all++
	l.per[addr]++
	return true
}

func (l *limitListener) release(addr string, _ bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all--
	if l.per[addr]--; l.per[addr] <= 0 {
		delete(l.per, addr)
	}
}

// limitedConn gives its slot back once when closed, also when a websocket
// handler hijacked it.
type limitedConn struct {
	net.Conn
	l    *limitListener
	addr string
	loop bool
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr, c.loop) })
	return err
}

// SyscallConn exposes the socket, so the hub can write to it with
// non-blocking system calls as it does to an unwrapped TCP connection.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("server: connection has no file descriptor")
}

// Unwrap returns the accepted connection.
func (c *limitedConn) Unwrap() net.Conn { return c.Conn }
