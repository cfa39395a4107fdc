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

	"github.com/yiping-ioc/yiping/engine"
)

// Indicators is what the server reads indicator values from.
type Indicators interface {
	Results(p engine.Period, byDept bool) ([]engine.Result, error)
	Now() int64
}

// Config sets up a Server.
type Config struct {
	Addr   string // listen address, default ":8080"
	Logger *slog.Logger
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
	s := &Server{cfg: cfg, ind: ind}
	s.app = fiber.New(fiber.Config{DisableStartupMessage: true, AppName: "yiping"})
	s.routes()
	mux := http.NewServeMux()
	mux.Handle("/", adaptor.FiberApp(s.app))
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s
}

// Handler returns the server's root handler, for tests.
func (s *Server) Handler() http.Handler { return s.http.Handler }

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
