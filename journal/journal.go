// Package journal is the durable record log behind the collectors: every
// batch of accepted records is appended and fsync'd before the source's
// cursor moves past it, and on start the log is replayed into the engine.
// That is what makes "kill -9 during ingestion, restart" give the same
// indicators as a run that was never interrupted: a record is either in
// the log (and replayed) or its source will deliver it again from the
// persisted cursor, and since the engine upserts by id, a record applied
// twice changes nothing.
//
// Layout of a journal directory:
//
//	records.journal   8-byte header "YPJ1\0\0\0\0", then frames
//	cursors/NAME      one file per source, replaced atomically
//
// A frame is a little-endian uint32 payload length, a uint32 CRC-32C of the
// payload, and the payload: type (1 = batch), record kind, flags (1 = the
// rows are a whole item catalog), the source name, the number of fields and
// rows, then every value as a uvarint length and its bytes. Values are the
// canonical strings of SPEC.md section 3 (after field mapping), so replay
// goes through record.Parser exactly as live intake does.
//
// A crash can leave a partly written last frame. Replay detects it by its
// length or CRC, logs it and truncates it. A bad frame followed by a valid
// one is corruption, not a torn write, and replay refuses to guess.
//
// Compact (compact.go) rewrites the log to the last version of each record
// when it has doubled since its last compaction; serve runs it at start,
// before the replay.
//
// A failed write or fsync (a full disk) refuses that batch, never the
// journal: a write that failed is cut off the file at once, and after a
// failed fsync every frame not yet known to be on disk is cut off before
// the next write (their writers were told they were not stored), so the
// journal takes records again as soon as the disk does. Healthy says
// whether it can store records now, probing the disk while it cannot.
package journal

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/yiping-ioc/yiping/record"
)

// Batch is a group of accepted records of one kind, in canonical form.
type Batch struct {
	Kind record.Kind
	// Replace says the rows are the whole item catalog: they replace it
	// rather than being upserted into it (SPEC.md section 3, items).
	Replace bool
	// Source names the source that delivered the records.
	Source string
	// Values holds the rows back to back, len(Kind.Fields()) values each,
	// aligned to Kind.Fields().
	Values []string
}

// Len returns the number of rows.
func (b *Batch) Len() int { return len(b.Values) / len(b.Kind.Fields()) }

// Row returns row i.
func (b *Batch) Row(i int) []string {
	n := len(b.Kind.Fields())
	return b.Values[i*n : (i+1)*n : (i+1)*n]
}

const (
	fileName   = "records.journal"
	cursorDir  = "cursors"
	headerSize = 8
	frameHead  = 8
	// maxFrame bounds a frame's payload: a larger length field is garbage.
	maxFrame = 256 << 20
	// minPayload is the smallest payload Append writes: type, kind,
	// flags, source length, field and row counts.
	minPayload = 6

	typeBatch   = 1
	flagReplace = 1
)

var (
	magic = []byte("YPJ1\x00\x00\x00\x00")
	crcs  = crc32.MakeTable(crc32.Castagnoli)
)

// ErrCorrupt is wrapped when the journal holds a damaged frame that is not
// a torn last write. Yiping then refuses to start rather than drop data.
var ErrCorrupt = errors.New("journal is corrupt")

// ErrUnavailable is wrapped by the errors of writes the journal could not
// store for now (a full disk, a failed fsync): the batch is not stored,
// and sending it again later is safe (records are upserted by id).
var ErrUnavailable = errors.New("journal unavailable")

// errClosed is returned after Close.
var errClosed = errors.New("journal: closed")

// file is what the journal needs of its log file: an *os.File, which
// tests wrap to inject failures the file system cannot be made to give.
type file interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

// Journal is an append-only, fsync'd record log with a cursor store. Its
// methods are safe for concurrent use.
//
// Write hands out positions that Sync waits for. They are logical: the
// file offset plus the bytes that repairs cut off before it, so a position
// handed out before a failed fsync (whose frame was cut) is never taken
// for one written after it at the same offset.
type Journal struct {
	dir  string
	path string
	log  *slog.Logger

	mu       sync.Mutex
	f        file  // nil after Close
	size     int64 // bytes of valid data in the file
	replayed bool
	buf      []byte
	synced   int64         // the file is on disk up to here
	syncing  chan struct{} // non-nil while an fsync runs; closed when it ends
	cursorMu sync.Mutex

	// Recovery from failed writes.
	shift     int64  // logical position - file offset
	lost      []span // logical positions of frames cut off by a failed fsync
	lostFloor int64  // positions at or below it may be in spans dropped from lost
	repair    bool   // bytes past size must be cut (and the cut synced) before the next write
	failed    error  // why records cannot be stored; nil when they can
	refused   int    // writes refused since failed was set, for the recovery log
	lastProbe time.Time
	probe     func() error // tells whether the disk takes writes again
}

// span is a range (from, to] of logical positions.
type span struct{ from, to int64 }

// maxLost bounds the spans remembered (each failed fsync with frames
// pending adds one); a position below the spans dropped is reported as not
// stored, which at worst makes a source send a stored batch again.
const maxLost = 256

// Open opens (creating it if needed) the journal in dir. Call Replay before
// the first Append: it validates the log and cuts off a torn tail.
func Open(dir string, logger *slog.Logger) (*Journal, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(dir, cursorDir), 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	path := filepath.Join(dir, fileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{dir: dir, path: path, f: f, log: logger.With("component", "journal", "path", path)}
	j.probe = func() error { return probeDisk(filepath.Join(dir, ".probe")) }
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	switch {
	case info.Size() == 0:
		if err := j.writeHeader(); err != nil {
			f.Close()
			return nil, err
		}
	case info.Size() < headerSize:
		// Only a crash or a full disk while creating the file leaves a
		// short header.
		j.log.Warn("journal header incomplete; starting an empty journal", "bytes", info.Size())
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: %w", err)
		}
		if err := j.writeHeader(); err != nil {
			f.Close()
			return nil, err
		}
	default:
		head := make([]byte, headerSize)
		if _, err := f.ReadAt(head, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: read header: %w", err)
		}
		if string(head) != string(magic) {
			f.Close()
			return nil, fmt.Errorf("journal %s: not a Yiping journal (bad header): %w", path, ErrCorrupt)
		}
		j.size = headerSize
	}
	return j, nil
}

func (j *Journal) writeHeader() error {
	if _, err := j.f.WriteAt(magic, 0); err != nil {
		return unavailable("write the header", err)
	}
	if err := j.f.Sync(); err != nil {
		return unavailable("sync", err)
	}
	if err := syncDir(j.dir); err != nil {
		return err
	}
	j.size = headerSize
	return nil
}

// Dir returns the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// Size returns the bytes of valid data in the log.
func (j *Journal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

// ReplayStats says what a replay found.
type ReplayStats struct {
	Frames    int
	Records   [record.NumKinds]int
	Bytes     int64 // valid bytes, header included
	Truncated int64 // bytes of a torn tail that were cut off
}

// Replay calls fn with every batch in the log, in append order, then makes
// the journal ready for Append. A torn last frame is logged and truncated.
// The values handed to fn are fresh strings that it may keep. An error from
// fn stops the replay and is returned; fn may be nil to only validate.
func (j *Journal) Replay(ctx context.Context, fn func(Batch) error) (ReplayStats, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var st ReplayStats
	info, err := j.f.Stat()
	if err != nil {
		return st, fmt.Errorf("journal: %w", err)
	}
	end := info.Size()
	br := bufio.NewReaderSize(io.NewSectionReader(j.f, headerSize, end-headerSize), 1<<20)
	off := int64(headerSize)
	head := make([]byte, frameHead)
	var payload []byte
	for off < end {
		if st.Frames%256 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		bad := ""
		var n int64
		if end-off < frameHead {
			bad = "incomplete frame header"
		} else if _, err := io.ReadFull(br, head); err != nil {
			return st, fmt.Errorf("journal: read at %d: %w", off, err)
		} else {
			n = int64(binary.LittleEndian.Uint32(head))
			switch {
			case n < minPayload:
				// Zero fill left by a crash reads as a zero-length frame
				// whose CRC (of nothing) is zero: a valid-looking frame
				// that was never written.
				bad = fmt.Sprintf("frame length %d is too short", n)
			case n > maxFrame:
				bad = fmt.Sprintf("frame length %d is implausible", n)
			case off+frameHead+n > end:
				bad = fmt.Sprintf("frame of %d bytes runs past the end of the file", n)
			default:
				if cap(payload) < int(n) {
					payload = make([]byte, n)
				}
				payload = payload[:n]
				if _, err := io.ReadFull(br, payload); err != nil {
					return st, fmt.Errorf("journal: read at %d: %w", off, err)
				}
				if crc32.Checksum(payload, crcs) != binary.LittleEndian.Uint32(head[4:]) {
					bad = "checksum mismatch"
				}
			}
		}
		if bad != "" {
			if err := j.cutTail(off, end, bad); err != nil {
				return st, err
			}
			st.Truncated = end - off
			end = off
			break
		}
		b, err := decode(payload)
		if err != nil {
			return st, fmt.Errorf("journal %s: frame at offset %d: %v: %w", j.path, off, err, ErrCorrupt)
		}
		if fn != nil {
			if err := fn(b); err != nil {
				return st, err
			}
		}
		st.Frames++
		st.Records[b.Kind] += b.Len()
		off += frameHead + n
	}
	// What a killed process wrote without an fsync is readable now but
	// may still sit in the page cache only: make it durable before
	// counting it as such.
	if err := j.f.Sync(); err != nil {
		return st, fmt.Errorf("journal: sync: %w", err)
	}
	j.size, j.synced = end, end
	st.Bytes = end
	j.replayed = true
	return st, nil
}

// cutTail decides whether the bad frame at off is a torn last write, and
// if so truncates the log there. A torn write is the last thing in the
// file: if a valid frame can be found anywhere after the bad one, the
// damage is in the middle of the log (a flipped bit in a length, say), and
// cutting there would drop good records, so it is refused.
func (j *Journal) cutTail(off, end int64, reason string) error {
	at, verified, err := j.laterFrame(off+1, end)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if at >= 0 {
		return fmt.Errorf("journal %s: frame at offset %d: %s, and a valid frame follows at offset %d: %w; "+
			"move the file aside, or truncate it to %d bytes to drop everything from there on",
			j.path, off, reason, at, ErrCorrupt, off)
	}
	log := j.log.Warn
	if !verified {
		log = j.log.Error // too large to search for later frames
	}
	log("journal: torn last write cut off (a crash during an append)",
		"offset", off, "bytes", end-off, "reason", reason, "searched_for_later_frames", verified)
	if err := j.f.Truncate(off); err != nil {
		return fmt.Errorf("journal: truncate torn tail: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal: sync: %w", err)
	}
	return nil
}

// maxSearch bounds the tail searched for a valid frame after a bad one.
const maxSearch = 64 << 20

// laterFrame returns the offset of the first valid frame starting in
// [from, end), or -1. verified is false when the tail was too large to
// search.
func (j *Journal) laterFrame(from, end int64) (at int64, verified bool, err error) {
	if end-from > maxSearch {
		return -1, false, nil
	}
	if end-from < frameHead+minPayload {
		return -1, true, nil
	}
	tail := make([]byte, end-from)
	if _, err := j.f.ReadAt(tail, from); err != nil {
		return -1, false, err
	}
	for i := 0; i+frameHead+minPayload <= len(tail); i++ {
		n := int(binary.LittleEndian.Uint32(tail[i:]))
		if n < minPayload || i+frameHead+n > len(tail) {
			continue
		}
		p := tail[i+frameHead : i+frameHead+n]
		if crc32.Checksum(p, crcs) == binary.LittleEndian.Uint32(tail[i+4:]) && p[0] == typeBatch {
			return from + int64(i), true, nil
		}
	}
	return -1, true, nil
}

// ErrNotReplayed is returned by Write before Replay has run.
var ErrNotReplayed = errors.New("journal: replay the journal before appending")

// Append writes b to the log and fsyncs it. When it returns nil the batch
// survives a crash.
func (j *Journal) Append(ctx context.Context, b Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pos, err := j.Write(b)
	if err != nil {
		return err
	}
	return j.Sync(ctx, pos)
}

// Write appends b to the log without waiting for the disk, and returns the
// position just past it: the batch is durable once Sync(ctx, pos) returns
// nil. Splitting the two lets concurrent writers share one fsync (group
// commit). A failed write (a full disk) is cut off the file and returned,
// wrapping ErrUnavailable; the next write tries again.
func (j *Journal) Write(b Batch) (int64, error) {
	if b.Kind >= record.NumKinds || len(b.Values)%len(b.Kind.Fields()) != 0 {
		return 0, fmt.Errorf("journal: malformed batch (kind %d, %d values)", b.Kind, len(b.Values))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.f == nil:
		return 0, errClosed
	case !j.replayed:
		return 0, ErrNotReplayed
	}
	if err := j.repairLocked(); err != nil {
		return 0, j.refuse(err)
	}
	j.buf = encode(j.buf[:0], &b)
	if len(j.buf)-frameHead > maxFrame {
		return 0, fmt.Errorf("journal: batch of %d bytes exceeds the %d-byte frame limit", len(j.buf)-frameHead, maxFrame)
	}
	if _, err := j.f.WriteAt(j.buf, j.size); err != nil {
		// Part of the frame may be in the file: cut it now, or before the
		// next write if that fails too.
		j.repair = true
		if rerr := j.repairLocked(); rerr != nil {
			j.log.Debug("journal: cannot cut a failed write yet", "err", rerr)
		}
		return 0, j.refuse(unavailable("write", err))
	}
	j.size += int64(len(j.buf))
	if cap(j.buf) > 4<<20 {
		j.buf = nil // do not pin a huge catalog snapshot's buffer
	}
	return j.size + j.shift, nil
}

// Sync returns once the log is on disk up to position pos (from Write).
// Callers arriving while an fsync is in progress wait for it and, if it
// did not cover them, share the next one. ctx bounds only the waiting: an
// fsync once started runs to its end. When an fsync fails, every frame it
// did not cover is cut off the log (the page cache may have dropped it
// while the file looks whole): their Sync calls return an error wrapping
// ErrUnavailable, and the journal takes new batches once the disk does.
func (j *Journal) Sync(ctx context.Context, pos int64) error {
	for {
		j.mu.Lock()
		if err := j.lostLocked(pos); err != nil {
			j.mu.Unlock()
			return err
		}
		if pos <= j.synced+j.shift {
			j.mu.Unlock()
			return nil
		}
		if j.f == nil {
			j.mu.Unlock()
			return errClosed
		}
		if ch := j.syncing; ch != nil {
			j.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ch := make(chan struct{})
		j.syncing = ch
		target, f := j.size, j.f
		j.mu.Unlock()
		err := f.Sync()
		j.mu.Lock()
		if err != nil {
			j.dropUnsynced(unavailable("sync", err))
		} else if target > j.synced {
			j.synced = target
			j.recovered()
		}
		j.syncing = nil
		close(ch)
		j.mu.Unlock()
	}
}

// lostLocked returns the error of a position whose frame was cut off.
func (j *Journal) lostLocked(pos int64) error {
	if j.lostFloor > 0 && pos <= j.lostFloor {
		return fmt.Errorf("%w: position %d is too old to tell whether it was stored", ErrUnavailable, pos)
	}
	for _, sp := range j.lost {
		if pos > sp.from && pos <= sp.to {
			cause := j.failed
			if cause == nil {
				cause = errors.New("an fsync failed")
			}
			return fmt.Errorf("%w: the batch was not stored: %w", ErrUnavailable, cause)
		}
	}
	return nil
}

// dropUnsynced handles a failed fsync: every frame past the last good one
// is cut off (logically now, from the file before the next write), and
// the positions of those frames are remembered as lost.
func (j *Journal) dropUnsynced(err error) {
	if j.size > j.synced {
		j.lost = append(j.lost, span{from: j.synced + j.shift, to: j.size + j.shift})
		if len(j.lost) > maxLost {
			j.lostFloor = j.lost[0].to
			j.lost = j.lost[1:]
		}
		j.shift += j.size - j.synced
		j.size = j.synced
	}
	j.repair = true
	j.refuse(err)
}

// refuse records err as the reason records cannot be stored, logging the
// first refusal of a failure (the callers hear of every one).
func (j *Journal) refuse(err error) error {
	if j.failed == nil {
		j.log.Error("journal: cannot store records; refusing batches until the disk takes writes again", "err", err)
	}
	j.failed = err
	j.refused++
	return err
}

// recovered clears the failure after a write reached the disk.
func (j *Journal) recovered() {
	if j.failed != nil && !j.repair {
		j.log.Info("journal: storing records again", "refused_batches", j.refused, "after", j.failed)
		j.failed, j.refused = nil, 0
	}
}

// repairLocked cuts off the bytes past size and syncs the cut, so that a
// frame written next cannot be followed by the remains of a longer one.
func (j *Journal) repairLocked() error {
	if !j.repair {
		return nil
	}
	if err := j.f.Truncate(j.size); err != nil {
		return unavailable("cut a failed write", err)
	}
	if err := j.f.Sync(); err != nil {
		return unavailable("sync a cut", err)
	}
	if j.synced > j.size {
		j.synced = j.size
	}
	j.repair = false
	return nil
}

// probeEvery bounds how often Healthy probes a failed disk, and probeSize
// is what it writes: enough to tell a disk that takes a batch from one
// with a few blocks left.
const (
	probeEvery = time.Second
	probeSize  = 64 << 10
)

// Healthy reports whether the journal can store records now: nil, or why
// not (wrapping ErrUnavailable) after a write or an fsync failed. While
// it cannot, Healthy probes the disk (at most once a second) by writing
// and syncing a small file beside the log and, once that works, repairs
// the log and reports healthy again: a readiness check that polls it sees
// the disk come back even while no source sends anything.
func (j *Journal) Healthy() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.f == nil:
		return errClosed
	case !j.replayed:
		return ErrNotReplayed
	case j.failed == nil:
		return nil
	case time.Since(j.lastProbe) < probeEvery:
		return j.failed
	}
	j.lastProbe = time.Now()
	if err := j.probe(); err != nil {
		return j.failed
	}
	if err := j.repairLocked(); err != nil {
		return j.failed
	}
	j.recovered()
	return nil
}

// probeDisk writes, syncs and removes a file of probeSize bytes.
func probeDisk(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// unavailable wraps a failed write of op into ErrUnavailable, saying
// plainly when the disk is full.
func unavailable(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %s: the disk is full; records are refused until space is freed: %w", ErrUnavailable, op, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// Close closes the log file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func encode(dst []byte, b *Batch) []byte {
	dst = append(dst, make([]byte, frameHead)...)
	var flags byte
	if b.Replace {
		flags |= flagReplace
	}
	dst = append(dst, typeBatch, byte(b.Kind), flags)
	dst = binary.AppendUvarint(dst, uint64(len(b.Source)))
	dst = append(dst, b.Source...)
	nf := len(b.Kind.Fields())
	dst = binary.AppendUvarint(dst, uint64(nf))
	dst = binary.AppendUvarint(dst, uint64(len(b.Values)/nf))
	for _, v := range b.Values {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	payload := dst[frameHead:]
	binary.LittleEndian.PutUint32(dst[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[4:], crc32.Checksum(payload, crcs))
	return dst
}

func decode(p []byte) (Batch, error) {
	var b Batch
	if len(p) < 3 {
		return b, errors.New("short payload")
	}
	if p[0] != typeBatch {
		return b, fmt.Errorf("unknown frame type %d", p[0])
	}
	if p[1] >= record.NumKinds {
		return b, fmt.Errorf("unknown record kind %d", p[1])
	}
	b.Kind, b.Replace = record.Kind(p[1]), p[2]&flagReplace != 0
	// One string for the whole payload, values sliced from it: one
	// allocation per frame instead of one per value.
	all := string(p[3:])
	p = p[3:]
	str := func() (string, error) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return "", errors.New("bad string")
		}
		at := len(all) - len(p) + k
		s := all[at : at+int(n)]
		p = p[k+int(n):]
		return s, nil
	}
	num := func() (int, error) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > maxFrame {
			return 0, errors.New("bad count")
		}
		p = p[k:]
		return int(n), nil
	}
	var err error
	if b.Source, err = str(); err != nil {
		return b, err
	}
	nf, err := num()
	if err != nil {
		return b, err
	}
	if nf != len(b.Kind.Fields()) {
		// Written by a version with another field list; the fields
		// would be misaligned.
		return b, fmt.Errorf("%s frame has %d fields, this version reads %d", b.Kind, nf, len(b.Kind.Fields()))
	}
	nr, err := num()
	if err != nil {
		return b, err
	}
	if nr*nf > len(p) { // every value takes at least one byte
		return b, errors.New("row count exceeds the payload")
	}
	b.Values = make([]string, nr*nf)
	for i := range b.Values {
		if b.Values[i], err = str(); err != nil {
			return b, err
		}
	}
	if len(p) != 0 {
		return b, fmt.Errorf("%d stray bytes after the rows", len(p))
	}
	return b, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: sync %s: %w", dir, err)
	}
	return nil
}
