package lease

import (
	"errors"
	"sync"
	"testing"
)

func TestFence(t *testing.T) {
	var f Fence
	if err := f.Admit(0); !errors.Is(err, ErrStale) {
		t.Errorf("token 0 admitted: %v", err)
	}
	for _, tok := range []uint64{5, 5, 9} {
		if err := f.Admit(tok); err != nil {
			t.Errorf("Admit(%d): %v", tok, err)
		}
	}
	if err := f.Admit(5); !errors.Is(err, ErrStale) {
		t.Errorf("stale token 5 admitted after 9: %v", err)
	}
	if f.High() != 9 {
		t.Errorf("High = %d", f.High())
	}
	wrote := false
	if err := f.Guard(7, func() error { wrote = true; return nil }); !errors.Is(err, ErrStale) || wrote {
		t.Errorf("Guard(7): err %v, wrote %v", err, wrote)
	}
	boom := errors.New("boom")
	if err := f.Guard(11, func() error { return boom }); err != boom || f.High() != 11 {
		t.Errorf("Guard(11) = %v, High %d", err, f.High())
	}
	if err := NewFence(20).Admit(19); !errors.Is(err, ErrStale) {
		t.Errorf("floor not enforced: %v", err)
	}
}

// TestFenceConcurrent: with Guard, once a token is admitted no write with a
// lower token happens afterwards.
func TestFenceConcurrent(t *testing.T) {
	var f Fence
	var mu sync.Mutex
	var log []uint64
	var wg sync.WaitGroup
	for tok := uint64(1); tok <= 50; tok++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				_ = f.Guard(tok, func() error {
					mu.Lock()
					log = append(log, tok)
					mu.Unlock()
					return nil
				})
			}
		}()
	}
	wg.Wait()
	for i := 1; i < len(log); i++ {
		if log[i] < log[i-1] {
			t.Fatalf("write with token %d after %d", log[i], log[i-1])
		}
	}
}
