package influx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// The spool is an append-only file of records, each one batch of line
// protocol that InfluxDB could not take:
//
//	[length uint32][crc32c uint32][seq uint64][points uint32][line protocol]
//
// length counts the bytes after the crc; the crc covers them. Records are
// fsync'd as they are appended. A separate file, spool.ack, holds the
// sequence number of the last record InfluxDB acknowledged (written to a
// temporary file, fsync'd, renamed). Replay starts after it. When every
// record is acknowledged the log is truncated to zero.
//
// On open, a torn or corrupt tail (a crash in the middle of an append) is
// cut off; every record before it is kept.
const (
	spoolLog     = "spool.log"
	spoolAck     = "spool.ack"
	recHeaderLen = 4 + 4 + 8 + 4
	maxRecordLen = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type spoolRecord struct {
	seq    uint64
	points int
	body   []byte // line protocol
	next   int64  // offset after the record
}

type spool struct {
	dir  string
	f    *os.File
	log  *slog.Logger
	size int64 // bytes in the log

	acked   uint64 // last acknowledged sequence number (persisted)
	nextSeq uint64
	readOff int64 // offset of the first unacknowledged record

	records int // unacknowledged records
	points  int // points in them
}

func openSpool(dir string, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	sp := &spool{dir: dir, log: log}
	ack, err := os.ReadFile(filepath.Join(dir, spoolAck))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("spool: %w", err)
	case len(ack) != 12 || crc32.Checksum(ack[:8], castagnoli) != binary.BigEndian.Uint32(ack[8:]):
		return nil, fmt.Errorf("spool: %s is corrupt", filepath.Join(dir, spoolAck))
	default:
		sp.acked = binary.BigEndian.Uint64(ack)
	}
	f, err := os.OpenFile(filepath.Join(dir, spoolLog), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	sp.f = f
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	// Scan: find the first unacknowledged record and the end of the valid log.
	var off int64
	var last uint64
	sp.readOff = -1
	for off < fi.Size() {
		rec, err := sp.readAt(off)
		if err != nil {
			sp.log.Warn("influx spool: cutting off a torn or corrupt tail", "file", f.Name(), "offset", off, "dropped_bytes", fi.Size()-off, "err", err)
			if err := f.Truncate(off); err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("spool: truncate: %w", err)
			}
			if err := f.Sync(); err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("spool: %w", err)
			}
			break
		}
		if rec.seq > sp.acked {
			if sp.readOff < 0 {
				sp.readOff = off
			}
			sp.records++
			sp.points += rec.points
		}
		last = max(last, rec.seq)
		off = rec.next
	}
	sp.size = off
	if sp.readOff < 0 {
		sp.readOff = sp.size
	}
	sp.nextSeq = max(last, sp.acked) + 1
	if sp.records == 0 && sp.size > 0 {
		if err := sp.reset(); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return sp, nil
}

func (sp *spool) readAt(off int64) (spoolRecord, error) {
	var hdr [recHeaderLen]byte
	if _, err := sp.f.ReadAt(hdr[:], off); err != nil {
		return spoolRecord{}, fmt.Errorf("short header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[0:])
	if n < 12 || n > maxRecordLen {
		return spoolRecord{}, fmt.Errorf("bad record length %d", n)
	}
	buf := make([]byte, n)
	copy(buf, hdr[8:])
	if _, err := sp.f.ReadAt(buf[12:], off+recHeaderLen); err != nil {
		if errors.Is(err, io.EOF) {
			return spoolRecord{}, fmt.Errorf("short record: %w", err)
		}
		return spoolRecord{}, err
	}
	if crc32.Checksum(buf, castagnoli) != binary.BigEndian.Uint32(hdr[4:]) {
		return spoolRecord{}, errors.New("checksum mismatch")
	}
	return spoolRecord{
		seq:    binary.BigEndian.Uint64(buf[0:]),
		points: int(binary.BigEndian.Uint32(buf[8:])),
		body:   buf[12:],
		next:   off + 8 + int64(n),
	}, nil
}

// append writes one record and fsyncs it.
func (sp *spool) append(body []byte, points int) (uint64, error) {
	seq := sp.nextSeq
	buf := make([]byte, recHeaderLen+len(body))
	binary.BigEndian.PutUint32(buf[0:], uint32(12+len(body)))
	binary.BigEndian.PutUint64(buf[8:], seq)
	binary.BigEndian.PutUint32(buf[16:], uint32(points))
	copy(buf[recHeaderLen:], body)
	binary.BigEndian.PutUint32(buf[4:], crc32.Checksum(buf[8:], castagnoli))
	if _, err := sp.f.WriteAt(buf, sp.size); err != nil {
		sp.cut()
		return 0, fmt.Errorf("spool: append: %w", err)
	}
	if err := sp.f.Sync(); err != nil {
		sp.cut()
		return 0, fmt.Errorf("spool: fsync: %w", err)
	}
	sp.size += int64(len(buf))
	sp.nextSeq++
	sp.records++
	sp.points += points
	return seq, nil
}

// cut drops what a failed append left past the log (a full disk), so the
// space comes back and the next append does not leave its remains behind
// it. It is best effort: a torn tail is cut off at the next open anyway.
func (sp *spool) cut() {
	if err := sp.f.Truncate(sp.size); err != nil {
		sp.log.Debug("influx spool: cannot cut a failed append", "err", err)
	}
}

// probeDir tells whether dir takes writes: it writes, syncs and removes a
// small file.
func probeDir(dir string) error {
	path := filepath.Join(dir, ".probe")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// peek returns the first unacknowledged record.
func (sp *spool) peek() (spoolRecord, bool, error) {
	if sp.records == 0 {
		return spoolRecord{}, false, nil
	}
	rec, err := sp.readAt(sp.readOff)
	if err != nil {
		return spoolRecord{}, false, fmt.Errorf("spool: read at %d: %w", sp.readOff, err)
	}
	return rec, true, nil
}

// ack records that rec reached InfluxDB. The acknowledgement is durable
// before the record is forgotten, so a crash can only make a record be sent
// again (which overwrites the same points), never skip it.
func (sp *spool) ack(rec spoolRecord) error {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:], rec.seq)
	binary.BigEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	tmp := filepath.Join(sp.dir, spoolAck+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("spool: ack: %w", err)
	}
	if _, err := f.Write(b[:]); err != nil {
		_ = f.Close()
		return fmt.Errorf("spool: ack: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("spool: ack: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool: ack: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(sp.dir, spoolAck)); err != nil {
		return fmt.Errorf("spool: ack: %w", err)
	}
	if err := syncDir(sp.dir); err != nil {
		return fmt.Errorf("spool: ack: %w", err)
	}
	sp.acked = rec.seq
	sp.readOff = rec.next
	sp.records--
	sp.points -= rec.points
	if sp.records == 0 {
		return sp.reset()
	}
	return nil
}

// reset empties the log once every record is acknowledged.
func (sp *spool) reset() error {
	if err := sp.f.Truncate(0); err != nil {
		return fmt.Errorf("spool: truncate: %w", err)
	}
	if err := sp.f.Sync(); err != nil {
		return fmt.Errorf("spool: fsync: %w", err)
	}
	sp.size, sp.readOff = 0, 0
	return nil
}

func (sp *spool) close() error { return sp.f.Close() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
