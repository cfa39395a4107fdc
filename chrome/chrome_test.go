package chrome

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "my-chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == Env {
				return v
			}
			return ""
		}
	}
	if got, err := Find(env(exe)); err != nil || got != exe {
		t.Errorf("Find with %s=%s: %q, %v", Env, exe, got, err)
	}
	missing := filepath.Join(dir, "none")
	if _, err := Find(env(missing)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find with a missing %s: %v, want ErrNotFound", Env, err)
	}
	// Without the variable it looks in the usual places: either it finds
	// an executable or says it found none.
	if got, err := Find(env("")); err != nil && !errors.Is(err, ErrNotFound) || err == nil && got == "" {
		t.Errorf("Find without %s: %q, %v", Env, got, err)
	}
	if n := len(Options(exe, dir)); n != 9 {
		t.Errorf("%d options, want 9", n)
	}
}
