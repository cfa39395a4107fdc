package httppull_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// platform plays a province's API for calls: records with update times,
// served page by page by updated-since, sorted by (update time, id). It
// can go down (503), refuse connections (listener closed) and change
// records between pages, as a live platform does.
type platform struct {
	t     testing.TB
	token string

	mu       sync.Mutex
	recs     map[string]*call
	clock    time.Time // update time given to the next change
	status   int       // non-zero: answer every request with it
	failNext int       // answer the next n requests with 503
	pagesOK  int       // when > 0: after this many pages, every request fails
	requests []url.Values
	between  func(p *platform) // called after each page served, lock held

	addr string
	srv  *http.Server
}

type call struct {
	id      string
	version int
	updated time.Time
}

func newPlatform(t testing.TB, token string) *platform {
	p := &platform{t: t, token: token, recs: map[string]*call{}, clock: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	p.up()
	t.Cleanup(p.down)
	return p
}

// upsert changes (or adds) records; the changes share one update time
// when same is true.
func (p *platform) upsert(same bool, ids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.upsertLocked(same, ids...)
}

func (p *platform) upsertLocked(same bool, ids ...string) {
	for _, id := range ids {
		if !same {
			p.clock = p.clock.Add(time.Second)
		}
		c := p.recs[id]
		if c == nil {
			c = &call{id: id}
			p.recs[id] = c
		}
		c.version++
		c.updated = p.clock
	}
	if same {
		p.clock = p.clock.Add(time.Second)
	}
}

// versions returns every record's current version.
func (p *platform) versions() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for id, c := range p.recs {
		out[id] = c.version
	}
	return out
}

func (p *platform) setStatus(code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = code
}

func (p *platform) log() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// up starts serving (on the same address as before, after down).
func (p *platform) up() {
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
}

// down closes the listener: clients get "connection refused".
func (p *platform) down() {
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

func (p *platform) url() string { return "http://" + p.addr + "/api/calls" }

func (p *platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := r.URL.Query()
	p.requests = append(p.requests, q)
	if r.Header.Get("Authorization") != "Bearer "+p.token || r.Header.Get("X-App-Key") != "app-key" {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	switch {
	case p.status != 0:
		http.Error(w, "maintenance", p.status)
		return
	case p.failNext > 0:
		p.failNext--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case p.pagesOK < 0:
		http.Error(w, "gone", http.StatusBadGateway)
		return
	}
	var since time.Time
	if s := q.Get("updated_since"); s != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	page, err1 := strconv.Atoi(q.Get("page"))
	size, err2 := strconv.Atoi(q.Get("page_size"))
	if err := errors.Join(err1, err2); err != nil || page < 1 || size < 1 {
		http.Error(w, "bad paging", http.StatusBadRequest)
		return
	}
	var sel []*call
	for _, c := range p.recs {
		if !c.updated.Before(since) {
			sel = append(sel, c)
		}
	}
	slices.SortFunc(sel, func(a, b *call) int { return cmp.Or(a.updated.Compare(b.updated), cmp.Compare(a.id, b.id)) })
	from := min((page-1)*size, len(sel))
	to := min(from+size, len(sel))
	data := make([]map[string]any, 0, to-from)
	for _, c := range sel[from:to] {
		data = append(data, map[string]any{
			"call_id": c.id, "region_code": "620802", "offered_at": "2026-03-02 09:15:00",
			"answered": true, "wait_seconds": c.version, // the version, to check which one landed
			"updated_at": c.updated.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339),
		})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"code": 0, "data": data, "total": len(sel)})
	if p.pagesOK > 0 {
		if p.pagesOK--; p.pagesOK == 0 {
			p.pagesOK = -1
		}
	}
	if p.between != nil {
		p.between(p)
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}
