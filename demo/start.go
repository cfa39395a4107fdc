package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/record"
)

// Started is a running demo platform.
type Started struct {
	// Sources collect from it every 10 s, one per record kind.
	Sources []collectors.Source
	// RobotURL and RobotSecret are its DingTalk robot (Robot), the
	// receiver the demo's special reports go to.
	RobotURL, RobotSecret string
	Robot                 *Robot
}

// Start runs the demo platform on a loopback port until ctx ends and
// returns HTTP-pull sources that collect from it, so the product is alive
// on first run without any platform to connect: the demo is collected like
// a real platform, and its special reports go to its robot.
func Start(ctx context.Context, cal *calendar.Calendar, log *slog.Logger) (*Started, error) {
	if log == nil {
		log = slog.Default()
	}
	dp, err := New(Config{Seed: 1, Calendar: cal, Logger: log.With("component", "demo")})
	if err != nil {
		return nil, fmt.Errorf("demo platform: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo platform: %w", err)
	}
	secret := "SEC" + strconv.FormatInt(time.Now().UnixNano(), 36)
	robot := newRobot(secret, time.Now)
	mux := http.NewServeMux()
	mux.Handle("/robot/", robot)
	mux.Handle("/", dp.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() { <-ctx.Done(); srv.Close() }()
	go dp.Run(ctx)
	base := "http://" + ln.Addr().String()
	var sources []collectors.Source
	for k := record.Kind(0); k < record.NumKinds; k++ {
		opts := *httppull.Defaults()
		opts.Kind, opts.URL, opts.Records, opts.PageSize = k.String(), base+"/api/v1/"+k.String(), "records", MaxLimit
		name := "demo-" + k.String()
		conn, err := httppull.New(opts, collectors.Env{Name: name, Logger: log.With("source", name)})
		if err != nil {
			return nil, fmt.Errorf("demo source %s: %w", name, err)
		}
		sources = append(sources, collectors.Source{Name: name, Type: "httppull", Schedule: "@every 10s", Options: &opts, Connector: conn})
	}
	log.Info("demo platform", "url", base, "robot", base+"/robot/messages")
	return &Started{Sources: sources, RobotURL: base + "/robot/send?access_token=demo", RobotSecret: secret, Robot: robot}, nil
}
