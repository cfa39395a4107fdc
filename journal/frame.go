package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// MarshalBatch appends b to dst as one frame, exactly as the journal file
// stores it (length, CRC-32C, payload). A shared log (cluster/records)
// carries batches in this form, so a frame is checked and read the same
// way wherever it travels.
func MarshalBatch(dst []byte, b *Batch) []byte { return encode(dst, b) }

// UnmarshalBatch reads one frame written by MarshalBatch, checking its
// length and CRC. The batch's values are copied out of frame.
func UnmarshalBatch(frame []byte) (Batch, error) {
	if len(frame) < frameHead+minPayload {
		return Batch{}, errors.New("journal: short frame")
	}
	n := binary.LittleEndian.Uint32(frame[0:])
	payload := frame[frameHead:]
	if uint64(n) != uint64(len(payload)) {
		return Batch{}, fmt.Errorf("journal: frame says %d bytes, holds %d", n, len(payload))
	}
	if crc32.Checksum(payload, crcs) != binary.LittleEndian.Uint32(frame[4:]) {
		return Batch{}, errors.New("journal: frame checksum mismatch")
	}
	b, err := decode(payload)
	if err != nil {
		return Batch{}, fmt.Errorf("journal: frame: %w", err)
	}
	return b, nil
}
