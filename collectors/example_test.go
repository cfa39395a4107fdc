package collectors_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yiping-ioc/yiping/calendar"
	yc "github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/all"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

// Example_wiring shows how the serve command puts the pieces together:
// replay the journal into the engine before anything else, then build the
// runner over both, mount the push intake, the health API and the metrics,
// and start the schedules.
func Example_wiring() {
	ctx := context.Background()
	log := slog.Default()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	dataDir := os.TempDir()
	configPath := "" // --collectors flag, env YIPING_COLLECTORS; "" = none

	eng, _ := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: time.Now().UnixNano()})

	// 1. The journal first: every record accepted before a crash is back.
	jnl, err := journal.Open(filepath.Join(dataDir, "journal"), log)
	if err != nil {
		log.Error("journal", "err", err)
		return
	}
	defer jnl.Close()
	st, err := jnl.ReplayInto(ctx, eng, record.NewParser(loc))
	if err != nil { // journal.ErrCorrupt: refuse to start rather than drop data
		log.Error("journal replay", "err", err)
		return
	}
	log.Info("journal replayed", "frames", st.Frames, "truncated_bytes", st.Truncated)

	// 2. Sources: the config file, plus push intake from the environment.
	var cfg yc.Config
	if configPath != "" {
		if cfg, err = yc.LoadConfig(configPath, all.Types()); err != nil {
			log.Error("collectors config", "err", err)
			return
		}
	}
	if src, ok, err := push.EnvSource(os.Getenv); err != nil {
		log.Error("push intake", "err", err)
		return
	} else if ok {
		cfg.Sources = append(cfg.Sources, src)
	}
	cfg.Location = loc

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	runner, err := yc.NewRunner(cfg, eng, jnl, log, reg)
	if err != nil {
		log.Error("collectors", "err", err)
		return
	}

	// 3. Routes, on the server's fiber app (its BodyLimit must allow the
	// push sources' max_body_bytes, 32 MiB by default).
	app := fiber.New(fiber.Config{BodyLimit: push.DefaultMaxBodyBytes})
	if err := push.Routes(app, runner); err != nil {
		log.Info("push intake off", "reason", err) // no push source configured
	}
	app.Get("/api/collectors", runner.HealthHandler())
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	// 4. Schedules run until shutdown.
	if err := runner.Start(ctx); err != nil {
		log.Error("collectors", "err", err)
		return
	}
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer runner.Stop(stop)
}
