// Package natstest starts a real nats-server with JetStream for tests,
// embedded in the test process on a loopback port.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options of Start.
type Options struct {
	Dir  string // JetStream's store (t.TempDir() if ""); reuse it to restart a server
	Port int    // 0: a free one
	// Lazy leaves fsync to the server's default interval (2 min) instead
	// of syncing every write before acknowledging it, as a one-server
	// deployment must run: for tests that time the lease, not durability.
	Lazy bool
}

// Start starts a server on loopback. It stops with t.
func Start(t testing.TB, o Options) *server.Server {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Port == 0 {
		o.Port = -1 // RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: o.Port,
		JetStream: true, StoreDir: o.Dir, SyncAlways: !o.Lazy,
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// Connect connects to s (reconnecting for ever) and returns JetStream.
func Connect(t testing.TB, s *server.Server, name string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}
