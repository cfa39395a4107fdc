// Package server is Yiping's HTTP transport: one public port where a
// net/http server owns the connections (timeouts, a cap on connections per
// client address and in all, bounded headers) and hands requests to the
// product's handler. It knows nothing of pages or data: package app builds
// the handler and its routes.
//
// Why net/http in front: fiber runs on fasthttp, which cannot hijack a
// connection, and gorilla's websocket Upgrader needs http.Hijacker (SPEC.md
// section 2). So net/http owns the port, websocket routes are net/http
// handlers, and the fiber application is reached through Fiber, a bridge
// that bounds the body before reading it and carries the request's context
// and the caller's identity into fiber.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config sets up a Server. Zero fields take the defaults given.
type Config struct {
	Addr    string // listen address, default ":8080"
	Handler http.Handler
	Logger  *slog.Logger

	// ReadHeaderTimeout bounds reading a request's headers (slowloris);
	// default 10 s. ReadTimeout bounds reading a whole request, body
	// included; default 2 min (a 32 MiB intake batch on a slow link).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout bounds writing a response; default 10 min (a large
	// export to a slow client). Websockets set their own deadlines after
	// the upgrade.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends nothing;
	// default 60 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers; default 64 KiB.
	MaxHeaderBytes int

	// Conns caps connections: see ConnLimits. Zero fields take defaults
	// from the process's file descriptor limit.
	Conns ConnLimits
}

// Server serves one port until its context ends.
type Server struct {
	cfg  Config
	http *http.Server
}

// New builds a server; cfg.Handler is required.
func New(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("server: Handler is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, 10*time.Second)
	def(&cfg.ReadTimeout, 2*time.Minute)
	def(&cfg.WriteTimeout, 10*time.Minute)
	def(&cfg.IdleTimeout, 60*time.Second)
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	cfg.Conns = cfg.Conns.withDefaults()
	s := &Server{cfg: cfg}
	s.http = &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Serve accepts connections on l until ctx ends, then shuts down
// gracefully: requests in flight get up to 10 s to finish.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	l = LimitListener(l, s.cfg.Conns, s.cfg.Logger)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(l) }()
	s.cfg.Logger.Info("listening", "addr", l.Addr().String(), "max_conns", s.cfg.Conns.Total, "max_conns_per_address", s.cfg.Conns.PerAddress)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shut); err != nil {
		// Hijacked websockets are not tracked by Shutdown; the hub closes
		// them. What is left after 10 s is cut.
		s.http.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Listen opens the configured address.
func (s *Server) Listen() (net.Listener, error) {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	return l, nil
}

// ListenAndServe listens on the configured address and serves until ctx
// ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := s.Listen()
	if err != nil {
		return err
	}
	return s.Serve(ctx, l)
}
