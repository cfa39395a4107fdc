package bulletin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/yiping-ioc/yiping/scoring"
)

// ServiceConfig sets up a Service.
type ServiceConfig struct {
	Builder *Builder
	Printer *Printer
	Archive *Archive
	// Targets gives the tiers the composite chart colours; default
	// scoring.Default(). Use the Builder's.
	Targets *scoring.Config
	// Issuer is the title block's issuer line; "" means DefaultIssuer.
	Issuer string
	// Done, when set, is called with every bulletin archived: the app
	// delivers its link (webhooks, e-mail).
	Done   func(ctx context.Context, e Entry)
	Logger *slog.Logger
}

// Service makes bulletins: content from the history store, a page served
// on a private loopback listener, printed by Chromium, archived.
type Service struct {
	cfg   ServiceConfig
	pages *Pages
	srv   *http.Server
	base  string
}

// NewService starts the page server on 127.0.0.1 (an ephemeral port);
// Close stops it and the printer.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Builder == nil || cfg.Printer == nil || cfg.Archive == nil {
		return nil, errors.New("bulletin: ServiceConfig needs Builder, Printer and Archive")
	}
	if cfg.Targets == nil {
		cfg.Targets = cfg.Builder.cfg.Targets
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := NewPages(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bulletin: page server: %w", err)
	}
	s := &Service{cfg: cfg, pages: pages, base: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: pages, ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the page server and the printer.
func (s *Service) Close() error {
	err := s.srv.Close()
	return errors.Join(err, s.cfg.Printer.Close())
}

// Archive returns the service's archive.
func (s *Service) Archive() *Archive { return s.cfg.Archive }

// Produce builds, prints and archives the bulletin of b for one region
// and period.
func (s *Service) Produce(ctx context.Context, b *Bulletin, regionCode string, p Period) (Entry, error) {
	start := time.Now()
	d, err := s.cfg.Builder.Build(ctx, b, regionCode, p)
	if err != nil {
		return Entry{}, err
	}
	html, err := s.pages.Render(d, s.cfg.Targets.Tiers())
	if err != nil {
		return Entry{}, err
	}
	path, remove := s.pages.Add(html)
	defer remove()
	pdf, err := s.cfg.Printer.Print(ctx, s.base+path)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{
		ID: EntryID(b.Name, regionCode, d.Period), Bulletin: b.Name, Type: b.Type, Title: d.Title,
		Region: d.Region.Code, RegionName: d.Region.Name,
		Period: d.Period.Key(), PeriodLabel: d.Period.Label(), PeriodStart: d.Period.Start, PeriodEnd: d.Period.End,
		AsOf: d.AsOf, GeneratedAt: d.GeneratedAt, Pages: CountPages(pdf), Keywords: d.Keywords,
	}
	if e, err = s.cfg.Archive.Put(e, pdf); err != nil {
		return Entry{}, err
	}
	s.cfg.Logger.Info("bulletin archived", "id", e.ID, "pages", e.Pages, "bytes", e.Size, "took", time.Since(start))
	if s.cfg.Done != nil {
		s.cfg.Done(ctx, e)
	}
	return e, nil
}

// Issue produces a run of b for every region of b, going on past a
// region that fails; the error joins the failures. It is the Scheduler's
// Issue.
func (s *Service) Issue(ctx context.Context, b *Bulletin, r Run) error {
	var errs []error
	for _, code := range b.Regions {
		if _, err := s.Produce(ctx, b, code, r.Period); err != nil {
			errs = append(errs, fmt.Errorf("region %s: %w", code, err))
		}
	}
	return errors.Join(errs...)
}

// Issued reports whether every region of run r is in the archive: the
// Scheduler's Issued, so that a restart catches up a missed run.
func (s *Service) Issued(b *Bulletin, r Run) bool {
	for _, code := range b.Regions {
		if _, ok := s.cfg.Archive.Get(EntryID(b.Name, code, r.Period)); !ok {
			return false
		}
	}
	return true
}
