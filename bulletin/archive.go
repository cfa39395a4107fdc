package bulletin

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/region"
)

// Entry is one archived bulletin: the metadata kept in the JSON sidecar
// beside its PDF.
type Entry struct {
	// ID is bulletin_region_period ("gansu-monthly_620000_2026-09"): one
	// entry per bulletin, region and period; issuing it again replaces it.
	ID         string `json:"id"`
	Bulletin   string `json:"bulletin"`
	Type       Type   `json:"type"`
	Title      string `json:"title"`
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
	// Period is Period.Key; PeriodStart and PeriodEnd bound it, [start, end).
	Period      string    `json:"period"`
	PeriodLabel string    `json:"period_label"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	AsOf        time.Time `json:"as_of"`
	GeneratedAt time.Time `json:"generated_at"`
	Pages       int       `json:"pages"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	// Keywords are searched with the title (Query.Text).
	Keywords []string `json:"keywords"`
}

// EntryID returns the archive id of a bulletin's issue for a region and
// period.
func EntryID(bulletin, region string, p Period) string {
	return bulletin + "_" + region + "_" + p.Key()
}

// idRE is what an id may be: a bulletin name, a region code, a period key.
var idRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}_[0-9]{6,9}_W?[0-9]{4}-[0-9]{2}(-[0-9]{2})?$`)

// ErrNotFound is returned for an id the archive does not hold.
var ErrNotFound = errors.New("bulletin: not in the archive")

// Archive keeps bulletins as files in a directory: <id>.pdf and its
// metadata <id>.json. Each file is written to a temporary name, synced
// and renamed into place, the PDF first, so a crash leaves either the
// previous version or the new one, never a sidecar without its PDF. The
// index is in memory, rebuilt from the sidecars when the archive opens.
// Safe for concurrent use.
type Archive struct {
	dir    string
	logger *slog.Logger

	mu      sync.RWMutex
	entries map[string]Entry
}

// OpenArchive opens (creating it if needed) the archive in dir and reads
// its sidecars. Temporary files of writes a crash interrupted are
// removed; a sidecar that cannot be read, or whose PDF is missing, is
// logged and left out.
func OpenArchive(dir string, logger *slog.Logger) (*Archive, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("bulletin: archive: %w", err)
	}
	a := &Archive{dir: dir, logger: logger, entries: map[string]Entry{}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("bulletin: archive: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		switch {
		case de.IsDir():
		case strings.HasPrefix(name, ".tmp-"):
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				logger.Warn("archive: removing an interrupted write", "file", name, "err", err)
			}
		case strings.HasSuffix(name, ".json"):
			e, err := a.readSidecar(name)
			if err != nil {
				logger.Warn("archive: sidecar left out", "file", name, "err", err)
				continue
			}
			a.entries[e.ID] = e
		}
	}
	return a, nil
}

func (a *Archive) readSidecar(name string) (Entry, error) {
	var e Entry
	b, err := os.ReadFile(filepath.Join(a.dir, name))
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, err
	}
	if !idRE.MatchString(e.ID) || e.ID+".json" != name {
		return e, fmt.Errorf("id %q does not match the file name", e.ID)
	}
	if _, err := os.Stat(filepath.Join(a.dir, e.ID+".pdf")); err != nil {
		return e, fmt.Errorf("its PDF: %w", err)
	}
	return e, nil
}

// Dir returns the archive's directory.
func (a *Archive) Dir() string { return a.dir }

// Put stores a bulletin's PDF and metadata, replacing an entry with the
// same id. It fills Size and SHA256 from pdf.
func (a *Archive) Put(e Entry, pdf []byte) (Entry, error) {
	if !idRE.MatchString(e.ID) {
		return e, fmt.Errorf("bulletin: archive: bad id %q", e.ID)
	}
	sum := sha256.Sum256(pdf)
	e.Size, e.SHA256 = int64(len(pdf)), hex.EncodeToString(sum[:])
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return e, fmt.Errorf("bulletin: archive: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := writeAtomic(a.dir, e.ID+".pdf", pdf); err != nil {
		return e, fmt.Errorf("bulletin: archive %s: %w", e.ID, err)
	}
	if err := writeAtomic(a.dir, e.ID+".json", append(meta, '\n')); err != nil {
		return e, fmt.Errorf("bulletin: archive %s: %w", e.ID, err)
	}
	a.entries[e.ID] = e
	return e, nil
}

// writeAtomic writes data to dir/name through a synced temporary file
// renamed into place, then syncs the directory.
func writeAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-"+name+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// All returns every entry, in no order.
func (a *Archive) All() []Entry {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Entry, 0, len(a.entries))
	for _, e := range a.entries {
		out = append(out, e)
	}
	return out
}

// Get returns the entry with id.
func (a *Archive) Get(id string) (Entry, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	e, ok := a.entries[id]
	return e, ok
}

// Open opens an entry's PDF for download; the caller closes it.
func (a *Archive) Open(id string) (*os.File, Entry, error) {
	a.mu.RLock()
	e, ok := a.entries[id]
	a.mu.RUnlock()
	if !ok || !idRE.MatchString(id) {
		return nil, Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	f, err := os.Open(filepath.Join(a.dir, id+".pdf"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, Entry{}, fmt.Errorf("bulletin: archive: %w", err)
	}
	return f, e, nil
}

// Query selects archive entries. Zero fields select everything.
type Query struct {
	Type     Type
	Bulletin string
	// Region keeps the entries of the region and the regions below it.
	Region string
	// From and To keep the entries whose period overlaps [From, To).
	From, To time.Time
	// Text keeps the entries whose title or keywords contain every word
	// of it (split at white space, case-insensitive).
	Text string
	// Limit caps the answer; 0 means 100, at most 1000.
	Limit int
}

// List returns the entries matching q, newest period first, then by
// region and bulletin.
func (a *Archive) List(q Query) []Entry {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	words := strings.Fields(strings.ToLower(q.Text))
	a.mu.RLock()
	var out []Entry
	for _, e := range a.entries {
		if q.matches(e, words) {
			out = append(out, e)
		}
	}
	a.mu.RUnlock()
	slices.SortFunc(out, func(x, y Entry) int {
		return cmp.Or(y.PeriodStart.Compare(x.PeriodStart), cmp.Compare(x.Region, y.Region),
			cmp.Compare(x.Bulletin, y.Bulletin), cmp.Compare(x.ID, y.ID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (q Query) matches(e Entry, words []string) bool {
	if q.Type != "" && e.Type != q.Type {
		return false
	}
	if q.Bulletin != "" && e.Bulletin != q.Bulletin {
		return false
	}
	if q.Region != "" && e.Region != q.Region &&
		!slices.Contains(region.Code(e.Region).Ancestors(nil), region.Code(q.Region)) {
		return false
	}
	if !q.From.IsZero() && !e.PeriodEnd.After(q.From) {
		return false
	}
	if !q.To.IsZero() && !e.PeriodStart.Before(q.To) {
		return false
	}
	if len(words) > 0 {
		text := strings.ToLower(e.Title + "\n" + strings.Join(e.Keywords, "\n"))
		for _, w := range words {
			if !strings.Contains(text, w) {
				return false
			}
		}
	}
	return true
}
