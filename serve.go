package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/server"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("YIPING_ADDR", ":8080"), "listen address (env YIPING_ADDR)")
	dataDir := fs.String("data-dir", envOr("YIPING_DATA_DIR", "./data"), "where Yiping keeps its state (env YIPING_DATA_DIR)")
	tz := fs.String("tz", envOr("YIPING_TZ", "Asia/Shanghai"), "business time zone (env YIPING_TZ)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: yiping serve [--addr :8080] [--data-dir ./data]\n\nRuns the command center on one port.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "yiping serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintf(stderr, "yiping serve: --tz: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		log.Error("data directory", "path", *dataDir, "err", err)
		return exitFailure
	}
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: time.Now().UnixNano()})
	if err != nil {
		log.Error("engine", "err", err)
		return exitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go tick(ctx, eng)
	srv := server.New(server.Config{Addr: *addr, Logger: log}, eng)
	if err := srv.ListenAndServe(ctx); err != nil {
		log.Error("server", "err", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// tick keeps the engine's clock on the wall clock, so deadlines passing
// move cases into overdue while nothing else happens.
func tick(ctx context.Context, eng *engine.Engine) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			eng.Advance(now.UnixNano())
		}
	}
}
