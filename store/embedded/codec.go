package embedded

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"

	"github.com/yiping-ioc/yiping/store"
)

// Key space. Every key starts with a one-byte table prefix.
const (
	tabMeta   = 'm' // m<name> → meta value
	tabSeries = 's' // s<series key string> → series id, uint32 big-endian
	tabPoint  = 'p' // p<id uint32 BE><time uint64 BE> → point value
	tabDirty  = 'd' // d<id uint32 BE> → "" : series has points written below the retention watermark
	tabDay    = 'r' // r<id uint32 BE><day start uint64 BE> → uvarint(time - day start), point value: the last point of a past day
)

const (
	metaFormat    = "format"
	metaRetention = "retention"
	formatVersion = "yiping-embedded/1"
)

// pointKeyLen is the length of a point key.
const pointKeyLen = 1 + 4 + 8

func metaKey(name string) []byte { return append([]byte{tabMeta}, name...) }

// seriesKeyString is the series' identity inside the store. Validated
// indicators, regions and periods never contain NUL; a department may (it
// is any string a record carried), which is why it sits between the
// region and the period: the parser splits off the first two fields and
// the last one, and whatever is left is the department.
func seriesKeyString(k store.SeriesKey) string {
	return k.Indicator + "\x00" + k.Region + "\x00" + k.Dept + "\x00" + k.Period
}

func parseSeriesKeyString(s string) (store.SeriesKey, error) {
	ind, rest, ok1 := strings.Cut(s, "\x00")
	region, rest, ok2 := strings.Cut(rest, "\x00")
	i := strings.LastIndexByte(rest, 0)
	if !ok1 || !ok2 || i < 0 {
		return store.SeriesKey{}, errors.New("malformed series key")
	}
	return store.SeriesKey{Indicator: ind, Region: region, Dept: rest[:i], Period: rest[i+1:]}, nil
}

func seriesDictKey(k store.SeriesKey) []byte {
	return append([]byte{tabSeries}, seriesKeyString(k)...)
}

// encodeTime maps nanoseconds since 1970 to an unsigned big-endian-sortable
// number (the sign bit is flipped so negative values would sort first).
func encodeTime(ns int64) uint64 { return uint64(ns) ^ (1 << 63) }
func decodeTime(u uint64) int64  { return int64(u ^ (1 << 63)) }

func appendPointKey(dst []byte, id uint32, ns int64) []byte {
	dst = append(dst, tabPoint)
	dst = binary.BigEndian.AppendUint32(dst, id)
	return binary.BigEndian.AppendUint64(dst, encodeTime(ns))
}

// seriesPrefix returns p<id>, the prefix of every point key of series id.
func seriesPrefix(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{tabPoint}, id)
}

func decodePointKey(k []byte) (id uint32, ns int64, ok bool) {
	if len(k) != pointKeyLen || (k[0] != tabPoint && k[0] != tabDay) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(k[1:5]), decodeTime(binary.BigEndian.Uint64(k[5:])), true
}

func dirtyKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{tabDirty}, id)
}

// value is what a point key maps to.
type value struct {
	num    float64
	den    int64
	hasDen bool
}

const (
	flagDen   = 1 << 0 // a uvarint denominator follows the numerator
	flagFloat = 1 << 1 // the numerator is 8 bytes of IEEE 754, little-endian; else a zigzag varint
	flagMask  = flagDen | flagFloat
)

// integral reports whether f is stored exactly as a varint.
func integral(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f))
}

// appendValue encodes v: one flag byte, the numerator, the denominator.
// Counts and rates (integers) take 2 to 6 bytes.
func appendValue(dst []byte, v value) []byte {
	var flags byte
	if v.hasDen {
		flags |= flagDen
	}
	if !integral(v.num) {
		flags |= flagFloat
	}
	dst = append(dst, flags)
	if flags&flagFloat != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.num))
	} else {
		dst = binary.AppendVarint(dst, int64(v.num))
	}
	if v.hasDen {
		dst = binary.AppendUvarint(dst, uint64(v.den))
	}
	return dst
}

var errBadValue = errors.New("malformed point value")

func decodeValue(b []byte) (value, error) {
	var v value
	if len(b) < 2 || b[0]&^flagMask != 0 {
		return v, errBadValue
	}
	flags := b[0]
	b = b[1:]
	if flags&flagFloat != 0 {
		if len(b) < 8 {
			return v, errBadValue
		}
		v.num = math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
	} else {
		n, k := binary.Varint(b)
		if k <= 0 {
			return v, errBadValue
		}
		v.num = float64(n)
		b = b[k:]
	}
	if flags&flagDen != 0 {
		d, k := binary.Uvarint(b)
		if k <= 0 || d > math.MaxInt64 {
			return v, errBadValue
		}
		v.den, v.hasDen = int64(d), true
		b = b[k:]
	}
	if len(b) != 0 {
		return v, errBadValue
	}
	return v, nil
}

func valueOf(p *store.Point) value {
	return value{num: p.Numerator, den: p.Denominator, hasDen: p.HasDenominator}
}

// appendDayKey appends r<id><day start>, the key of the day index. Point
// keys and day keys have the same layout under different tables.
func appendDayKey(dst []byte, id uint32, dayNS int64) []byte {
	dst = appendPointKey(dst, id, dayNS)
	dst[len(dst)-pointKeyLen] = tabDay
	return dst
}

func appendDayValue(dst []byte, dayNS, ns int64, v value) []byte {
	dst = binary.AppendUvarint(dst, uint64(ns-dayNS))
	return appendValue(dst, v)
}

func decodeDayValue(dayNS int64, b []byte) (int64, value, error) {
	d, k := binary.Uvarint(b)
	if k <= 0 || d >= 1<<62 {
		return 0, value{}, errBadValue
	}
	v, err := decodeValue(b[k:])
	return dayNS + int64(d), v, err
}
