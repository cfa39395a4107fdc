package testengine

import (
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
)

func TestNew(t *testing.T) {
	e := New(t, "2026-03-31 18:00:00", engine.Day, engine.Month)
	want := time.Date(2026, 3, 31, 18, 0, 0, 0, testkit.Shanghai(t))
	if got := time.Unix(0, e.Now()); !got.Equal(want) {
		t.Errorf("clock %v, want %v", got, want)
	}
}
