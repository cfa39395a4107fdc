// Package server is Yiping's HTTP front: one public port where a net/http
// server routes websocket upgrades to gorilla/websocket and everything else
// to the fiber application (fasthttp cannot hijack connections, which
// gorilla's Upgrader needs; SPEC.md section 2).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/engine"
)

// Indicators is what the server reads live indicator values from.
type Indicators interface {
	Results(p engine.Period, byDept bool) ([]engine.Result, error)
	Now() int64
}

// Config sets up a Server. Zero fields take defaults.
type Config struct {
	Addr   string // listen address, default ":8080"
	Logger *slog.Logger
	// BodyLimit bounds request bodies (the push intake takes large
	// batches); default 32 MiB.
	BodyLimit int
	// Metrics serves /metrics (Prometheus); nil serves none.
	Metrics http.Handler
	// WebSocket serves /ws, the live feed of the wall screens (the hub);
	// nil serves none. It is mounted on net/http, not fiber: upgrading
	// needs http.Hijacker.
	WebSocket http.Handler
	// Ready reports whether the server can take traffic (/readyz): the
	// journal replayed, the store open. Nil means always ready.
	Ready func() error
}

// Server serves the API and pages on one port.
type Server struct {
	cfg  Config
	ind  Indicators
	app  *fiber.App
	http *http.Server
}

// New builds a server over its dependencies.
func New(cfg Config, ind Indicators) *Server {
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 32 << 20
	}
	s := &Server{cfg: cfg, ind: ind}
	// Immutable: fasthttp hands out strings that alias its request buffers
	// and reuses them for the next request; components keep parameters
	// beyond a request (caches, hub topics), so every value is copied.
	s.app = fiber.New(fiber.Config{DisableStartupMessage: true, AppName: "yiping", BodyLimit: cfg.BodyLimit, Immutable: true})
	s.routes()
	mux := http.NewServeMux()
	if cfg.Metrics != nil {
		mux.Handle("/metrics", cfg.Metrics)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", s.readyz)
	mux.Handle(assets.Root, assets.Handler())
	if cfg.WebSocket != nil {
		mux.Handle("/ws", cfg.WebSocket)
	}
	mux.Handle("/", adaptor.FiberApp(s.app))
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s
}

// App returns the fiber application, so that components (the push intake,
// collector health) mount their routes before the server starts.
func (s *Server) App() *fiber.App { return s.app }

// Handler returns the server's root handler, for tests.
func (s *Server) Handler() http.Handler { return s.http.Handler }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// Serve accepts connections on l until ctx ends, then shuts down
// gracefully.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(l) }()
	s.cfg.Logger.Info("listening", "addr", l.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shut); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// ListenAndServe listens on the configured address and serves until ctx
// ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, l)
}
