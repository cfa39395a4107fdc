package console

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/store"
)

// snapCache keeps the answers of recent history reads (one AsOf chunk
// each) for instants safely in the past. Such an answer only changes when
// points are written late into the past (an InfluxDB spool replaying after
// an outage), so an entry lives at most ttl: an analyst moving between
// views, or exporting the view on the screen, reads the three snapshots of
// a 1,403-township ranking once instead of seeking 4,209 series again
// (each seek into a year of history is a block read and decompression).
// Reads at or near the present (live comparisons of a current view, as_of
// = today) are never cached.
type snapCache struct {
	mu      sync.Mutex
	max     int // points
	size    int
	ttl     time.Duration
	entries map[cacheKey]*list.Element
	lru     *list.List // front = most recent
}

type cacheKey struct {
	indicator, period string
	at                int64
	regions, depts    string
}

type cacheEntry struct {
	key  cacheKey
	pts  []store.Point
	born time.Time
}

func newSnapCache(maxPoints int, ttl time.Duration) *snapCache {
	return &snapCache{max: maxPoints, ttl: ttl, entries: map[cacheKey]*list.Element{}, lru: list.New()}
}

func keyOf(r read, period string) cacheKey {
	return cacheKey{indicator: r.def.ID, period: period, at: r.at.UnixNano(),
		regions: strings.Join(r.regions, ","), depts: strings.Join(r.depts, "\x00")}
}

func (c *snapCache) get(k cacheKey, now time.Time) ([]store.Point, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if now.Sub(e.born) > c.ttl {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.pts, true
}

func (c *snapCache) put(k cacheKey, pts []store.Point, now time.Time) {
	if c == nil || len(pts) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.remove(el)
	}
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, pts: pts, born: now})
	c.size += len(pts)
	for c.size > c.max {
		c.remove(c.lru.Back())
	}
}

func (c *snapCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.size -= len(e.pts)
}
