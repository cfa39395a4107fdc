//go:build unix

package access

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// giveToDirOwner makes a file root just created belong to the owner of its
// directory: an administrator running "yiping user add" as root before the
// server's first start must not leave a database the server's own account
// cannot open. (SQLite does the same for the -wal and -shm files.)
func giveToDirOwner(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	if err := os.Chown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("give %s to the data directory's owner: %w", path, err)
	}
	return nil
}
