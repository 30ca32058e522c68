package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateCDN holds CDN answers until n HEAD requests have reached the hub (or
// a timeout), so that n downloaders of one file really overlap, then sends
// the file slowly.
func gateCDN(fh *fakeHub, n int) {
	fh.cdnHook = func(w http.ResponseWriter, r *http.Request, f *fakeFile, call int) bool {
		deadline := time.Now().Add(10 * time.Second)
		for len(fh.requests("hub", "HEAD")) < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(f.content)))
		for i := 0; i < len(f.content); i += 16 << 10 {
			w.Write(f.content[i:min(i+16<<10, len(f.content))])
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
		return true
	}
}

func useLock(t *testing.T, l lockFunc) {
	old := acquireLock
	acquireLock = l
	t.Cleanup(func() { acquireLock = old })
}

// TestConcurrentGoroutines: several downloaders of one blob; one downloads,
// the others wait for the lock and find the finished file.
func TestConcurrentGoroutines(t *testing.T) {
	for name, l := range lockImpls {
		t.Run(name, func(t *testing.T) {
			useLock(t, l)
			fh := newFakeHub(t)
			f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(200_000, 20), lfs: true})
			const n = 4
			gateCDN(fh, n)
			c := fh.client(t)
			var wg sync.WaitGroup
			errs := make([]error, n)
			paths := make([]string, n)
			var mu sync.Mutex
			waits := 0
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					paths[i], errs[i] = c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", func(e Event) {
						if e.Kind == EventWait {
							mu.Lock()
							waits++
							mu.Unlock()
						}
					})
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if !bytes.Equal(readFile(t, paths[i]), f.content) {
					t.Fatalf("downloader %d: content differs", i)
				}
			}
			if g := len(fh.requests("cdn", "GET")); g != 1 {
				t.Errorf("%d CDN GETs, want 1", g)
			}
			if waits != n-1 {
				t.Errorf("%d wait events, want %d", waits, n-1)
			}
		})
	}
}

// TestLockWaitCancel: a waiter gives up when its context ends.
func TestLockWaitCancel(t *testing.T) {
	for name, l := range lockImpls {
		t.Run(name, func(t *testing.T) {
			useLock(t, l)
			fh := newFakeHub(t)
			f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: []byte("held"), lfs: true})
			c := fh.client(t)
			unlock, err := l(context.Background(), filepath.Join(c.CacheDir, ".locks", "models--schmuell--sd-turbo-ort-web", f.sha()+".lock"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			t0 := time.Now()
			_, err = c.Fetch(ctx, sdRepo, testCommit, "unet/model.onnx", nil)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			unlock()
			if _, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil); err != nil {
				t.Errorf("after unlock: %v", err)
			}
		})
	}
}

// TestStaleExclLock: the portable lock takes over a lock file whose holder
// stopped refreshing it.
func TestStaleExclLock(t *testing.T) {
	useLock(t, lockExcl)
	old := lockStale
	lockStale = 300 * time.Millisecond
	t.Cleanup(func() { lockStale = old })
	fh := newFakeHub(t)
	f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: []byte("stale"), lfs: true})
	c := fh.client(t)
	lock := filepath.Join(c.CacheDir, ".locks", "models--schmuell--sd-turbo-ort-web", f.sha()+".lock")
	os.MkdirAll(filepath.Dir(lock), 0o755)
	os.WriteFile(lock, []byte("99999"), 0o644)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(lock, past, past)
	p, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
	if err != nil || string(readFile(t, p)) != "stale" {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(lock); err == nil {
		t.Error("lock file left after unlock")
	}
}

// TestConcurrentProcess runs a second downloader in a child process (this
// test binary, TestHelperProcess) at the same time as this one.
func TestConcurrentProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	fh := newFakeHub(t)
	f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(300_000, 21), lfs: true})
	gateCDN(fh, 2)
	c := fh.client(t)
	cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HUB_TEST_HELPER=1", "HUB_TEST_BASE="+fh.hub.URL, "HUB_TEST_CACHE="+c.CacheDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", nil)
	werr := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatalf("child: %v\n%s", werr, out.String())
	}
	if !strings.Contains(out.String(), "HELPER-PATH "+p+"\n") {
		t.Errorf("child output:\n%s", out.String())
	}
	if !bytes.Equal(readFile(t, p), f.content) {
		t.Fatal("content differs")
	}
	if h, g := len(fh.requests("hub", "HEAD")), len(fh.requests("cdn", "GET")); h != 2 || g != 1 {
		t.Errorf("%d HEADs, %d CDN GETs; want 2 and 1", h, g)
	}
}

func TestHelperProcess(t *testing.T) {
	if os.Getenv("HUB_TEST_HELPER") != "1" {
		t.Skip("helper for TestConcurrentProcess")
	}
	c := &Client{BaseURL: os.Getenv("HUB_TEST_BASE"), CacheDir: os.Getenv("HUB_TEST_CACHE"), Backoff: time.Millisecond}
	p, err := c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("HELPER-PATH %s\n", p)
}
