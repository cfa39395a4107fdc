package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A cursor is where a source resumes: an opaque string chosen by its
// connector (an updated-since time, an offset). It is stored only after
// the records before it are in the journal, so a cursor never points past
// a record that could be lost.

// ValidName reports whether s can name a source: letters, digits, '.', '_'
// and '-', not starting with '.'. Source names become file names.
func ValidName(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (j *Journal) cursorPath(source string) (string, error) {
	if !ValidName(source) {
		return "", fmt.Errorf("journal: invalid source name %q", source)
	}
	return filepath.Join(j.dir, cursorDir, source), nil
}

// Cursor returns the persisted cursor of source, or "" when it has none.
func (j *Journal) Cursor(source string) (string, error) {
	path, err := j.cursorPath(source)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("journal: cursor of %s: %w", source, err)
	}
	return string(b), nil
}

// SetCursor persists the cursor of source atomically: a crash leaves
// either the old cursor or the new one, never a mix. Call it only after
// the records before the cursor have been appended.
func (j *Journal) SetCursor(source, cursor string) error {
	path, err := j.cursorPath(source)
	if err != nil {
		return err
	}
	// One writer at a time: the temporary name is per source, and a
	// source's runs never overlap, but push and pull could share a name.
	j.cursorMu.Lock()
	defer j.cursorMu.Unlock()
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+source+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("journal: cursor of %s: %w", source, err)
	}
	if _, err := f.WriteString(cursor); err != nil {
		f.Close()
		return fmt.Errorf("journal: cursor of %s: %w", source, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: cursor of %s: %w", source, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("journal: cursor of %s: %w", source, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("journal: cursor of %s: %w", source, err)
	}
	return syncDir(dir)
}
