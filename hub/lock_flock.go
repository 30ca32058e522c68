//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

func init() {
	acquireLock = lockFlock
	lockImpls["flock"] = lockFlock
}

// lockFlock holds flock(2) on the lock file, as Python's filelock does on
// unix. The kernel drops the lock when its holder dies, so there are no
// stale locks. The file stays in place (removing it would race with a
// waiter that already opened it).
func lockFlock(ctx context.Context, path string, onWait func()) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	waited := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			var once sync.Once
			return func() {
				once.Do(func() {
					syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
					f.Close()
				})
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		if err := waitLock(ctx, path, &waited, onWait); err != nil {
			f.Close()
			return nil, err
		}
	}
}
