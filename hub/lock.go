package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// lockFunc takes an exclusive lock on path, waiting (and calling onWait once)
// while another goroutine or process holds it, until ctx is done.
type lockFunc func(ctx context.Context, path string, onWait func()) (unlock func(), err error)

// acquireLock is the lock in use: flock(2) where the system has it
// (lock_flock.go), else lockExcl. Tests switch it.
var acquireLock lockFunc = lockExcl

// lockImpls lists the locks this platform has, by name, for tests.
var lockImpls = map[string]lockFunc{"excl": lockExcl}

// lockPoll is how often a waiter retries.
var lockPoll = 50 * time.Millisecond

// lockStale is how old (by modification time) an O_EXCL lock file must be
// before a waiter treats its holder as dead and removes it. The holder
// refreshes the time every lockStale/4.
var lockStale = 30 * time.Second

func waitLock(ctx context.Context, path string, waited *bool, onWait func()) error {
	if !*waited {
		*waited = true
		if onWait != nil {
			onWait()
		}
	}
	t := time.NewTimer(lockPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
	case <-t.C:
		return nil
	}
}

// lockExcl is the portable lock: the lock file is created with O_EXCL and
// removed on unlock. A holder that died leaves its file behind; waiters
// remove it once it is older than lockStale (the holder keeps touching it).
func lockExcl(ctx context.Context, path string, onWait func()) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	waited := false
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.WriteString(strconv.Itoa(os.Getpid()))
			f.Close()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				tk := time.NewTicker(lockStale / 4)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tk.C:
						now := time.Now()
						os.Chtimes(path, now, now)
					}
				}
			}()
			var once sync.Once
			return func() {
				once.Do(func() {
					close(stop)
					wg.Wait()
					os.Remove(path)
				})
			}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > lockStale {
			os.Remove(path)
			continue
		}
		if err := waitLock(ctx, path, &waited, onWait); err != nil {
			return nil, err
		}
	}
}
