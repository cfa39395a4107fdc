package bulletin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/yiping-ioc/yiping/chrome"
)

// PrinterConfig sets up a Printer. Zero fields take defaults.
type PrinterConfig struct {
	// Chrome is the Chromium binary; "" means YIPING_CHROME, else
	// chromium on the PATH (scripts/install-chromium installs it).
	Chrome string
	// Timeout bounds one print, from loading the page to the PDF; default
	// 60 s.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Printer prints pages to A4 PDF in a real headless Chromium, started on
// first use and kept for the next prints (one tab per print), restarted
// if it dies. Chromium runs with a fresh profile and no background
// networking. Safe for concurrent use.
type Printer struct {
	cfg PrinterConfig

	mu      sync.Mutex
	browser context.Context // nil until started
	cancel  func()
	profile string
	closed  bool
}

// NewPrinter returns a Printer; Chromium starts on the first Print.
func NewPrinter(cfg PrinterConfig) *Printer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Printer{cfg: cfg}
}

// ErrClosed is returned by a Printer after Close.
var ErrClosed = errors.New("bulletin: printer closed")

// chromePath finds the browser.
func (p *Printer) chromePath() (string, error) {
	if p.cfg.Chrome != "" {
		return p.cfg.Chrome, nil
	}
	s, err := chrome.Find(os.Getenv)
	if err != nil {
		return "", fmt.Errorf("bulletin: %w", err)
	}
	return s, nil
}

// start returns the browser context, starting Chromium when it is not
// running.
func (p *Printer) start() (context.Context, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.browser != nil && p.browser.Err() == nil {
		return p.browser, nil
	}
	p.stopLocked()
	path, err := p.chromePath()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "yiping-bulletin-chrome-")
	if err != nil {
		return nil, fmt.Errorf("bulletin: chromium profile: %w", err)
	}
	opts := chrome.Options(path, profile, chromedp.Flag("hide-scrollbars", true), chromedp.Flag("mute-audio", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	// Run with no action starts the browser.
	if err := chromedp.Run(bctx); err != nil {
		cancelB()
		cancelA()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("bulletin: start chromium %s: %w", path, err)
	}
	p.browser, p.profile = bctx, profile
	p.cancel = func() {
		chromedp.Cancel(bctx)
		cancelB()
		cancelA()
	}
	p.cfg.Logger.Info("chromium started", "path", path)
	return bctx, nil
}

func (p *Printer) stopLocked() {
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	if p.profile != "" {
		os.RemoveAll(p.profile)
		p.profile = ""
	}
	p.browser = nil
}

// Close stops Chromium and removes its profile.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stopLocked()
	return nil
}

// Print loads url in a new tab and prints it (see PrintTab).
func (p *Printer) Print(ctx context.Context, url string) ([]byte, error) {
	bctx, err := p.start()
	if err != nil {
		return nil, err
	}
	tab, cancelTab := chromedp.NewContext(bctx)
	defer cancelTab()
	tab, cancelT := context.WithTimeout(tab, p.cfg.Timeout)
	defer cancelT()
	stop := context.AfterFunc(ctx, cancelT) // the caller's cancellation ends the tab
	defer stop()
	pdf, err := PrintTab(tab, url)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("bulletin: print %s: %w", url, ctx.Err())
	}
	return pdf, err
}

// A4 in inches, and the margins of bulletin.css's @page (16, 15, 18 mm);
// CSS wins (PreferCSSPageSize), these hold for pages without @page.
const (
	a4Width      = 8.27
	a4Height     = 11.69
	marginTop    = 16 / 25.4
	marginSide   = 15 / 25.4
	marginBottom = 18 / 25.4
)

// footerTemplate numbers the pages in the bottom margin. It is drawn by
// Chromium outside the page, with the system's fonts: digits only, so
// that it needs no CJK font.
const footerTemplate = `<div style="width:100%;font-size:8pt;text-align:center;color:#4b5563;font-family:sans-serif;">` +
	`<span class="pageNumber"></span> / <span class="totalPages"></span></div>`

// PrintTab loads url in the chromedp tab of ctx with print media
// emulated, waits until the page says it is ready (bulletin.js sets
// <html data-ready="1"> once the fonts are loaded and every chart is
// rendered; a page without it is waited for until load), and prints it
// to an A4 PDF with page numbers in the footer. A page that sets
// data-error fails the print with its reason.
func PrintTab(ctx context.Context, url string) ([]byte, error) {
	var pdf []byte
	err := chromedp.Run(ctx,
		emulation.SetEmulatedMedia().WithMedia("print"),
		chromedp.Navigate(url),
		waitReady(),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			pdf, _, err = page.PrintToPDF().
				WithPaperWidth(a4Width).WithPaperHeight(a4Height).
				WithMarginTop(marginTop).WithMarginBottom(marginBottom).
				WithMarginLeft(marginSide).WithMarginRight(marginSide).
				WithPreferCSSPageSize(true).
				WithPrintBackground(true).
				WithDisplayHeaderFooter(true).
				WithHeaderTemplate("<span></span>").
				WithFooterTemplate(footerTemplate).
				Do(ctx)
			return err
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("bulletin: print %s: %w", url, err)
	}
	return pdf, nil
}

// readyState is what waitReady polls: "ready", an error, or "" to wait.
const readyState = `(function () {
  var r = document.documentElement;
  if (r.hasAttribute("data-error")) return "error: " + r.getAttribute("data-error");
  if (r.getAttribute("data-ready") === "1") return "ready";
  if (!document.querySelector('script[src*="/bulletin/static/"]') && document.readyState === "complete") return "ready";
  return "";
})()`

// waitReady polls the page every 20 ms with Runtime.evaluate (which the
// page's Content-Security-Policy does not restrict, unlike
// chromedp.Poll's function constructor) until the context ends.
func waitReady() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var state string
			if err := chromedp.Evaluate(readyState, &state).Do(ctx); err != nil {
				return fmt.Errorf("waiting for the page: %w", err)
			}
			switch {
			case state == "ready":
				return nil
			case state != "":
				return fmt.Errorf("the page failed: %s", state)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for the page: %w", ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// pageObject matches a page object of a PDF (not the /Pages tree).
var pageObject = regexp.MustCompile(`/Type\s*/Page[^s]`)

// CountPages counts the page objects of a PDF as Chromium writes it
// (uncompressed object dictionaries). Tests check it against pdfinfo.
func CountPages(pdf []byte) int { return len(pageObject.FindAllIndex(pdf, -1)) }
