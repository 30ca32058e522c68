package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func tinySD(t *testing.T) string {
	d := filepath.Join("..", "shared", "testdata", "pipelines", "sd_turbo_tiny")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("tiny SD-Turbo folder not found at %s", d)
	}
	return d
}

func loadTiny(t *testing.T) *Model {
	t.Helper()
	m, err := Load(context.Background(), "sd-turbo", Options{ModelDir: tinySD(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestModelsRegistry(t *testing.T) {
	ms := Models()
	ids := map[string]bool{}
	for _, m := range ms {
		ids[m.ID] = true
		if m.DisplayName == "" || m.Task != "text-to-image" || len(m.Backends) == 0 || m.ApproxBytes <= 0 || len(m.Files) == 0 || m.Repo == "" {
			t.Errorf("incomplete registry entry %+v", m)
		}
	}
	if !ids["sd-turbo"] {
		t.Fatal("sd-turbo missing from the registry")
	}
	ms[0].Files[0].Path = "changed"
	if Models()[0].Files[0].Path == "changed" {
		t.Fatal("Models returns the registry's own slices")
	}
}

func TestGenerateMatchesReference(t *testing.T) {
	m := loadTiny(t)
	var phases []Phase
	res, err := m.Generate(context.Background(), Request{Prompt: "a photo of a cat", Seed: Seed(42), Progress: func(p Progress) { phases = append(phases, p.Phase) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Seed != 42 || res.Duration <= 0 || res.Backend != "cpu" {
		t.Fatalf("result %+v", res)
	}
	want, err := os.ReadFile(filepath.Join(tinySD(t), "reference", "case_cat", "image_rgb.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(want)/3; i++ {
		for c := 0; c < 3; c++ {
			if d := int(res.Image.Pix[4*i+c]) - int(want[3*i+c]); d > 1 || d < -1 {
				t.Fatalf("pixel %d channel %d: %d, want %d", i, c, res.Image.Pix[4*i+c], want[3*i+c])
			}
		}
	}
	wantPhases := []Phase{PhaseTokenizing, PhaseEncoding, PhaseDenoising, PhaseDecoding, PhaseComplete}
	if fmt.Sprint(phases) != fmt.Sprint(wantPhases) {
		t.Fatalf("phases %v, want %v", phases, wantPhases)
	}
	a, _ := res.PNG()
	res2, err := m.Generate(context.Background(), Request{Prompt: "a photo of a cat", Seed: Seed(42)})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := res2.PNG(); !bytes.Equal(a, b) {
		t.Fatal("same seed gave different PNG bytes")
	}
}

func TestRandomSeedIsReported(t *testing.T) {
	m := loadTiny(t)
	res, err := m.Generate(context.Background(), Request{Prompt: "a dog"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Generate(context.Background(), Request{Prompt: "a dog", Seed: Seed(res.Seed)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Image.Pix, again.Image.Pix) {
		t.Fatal("the reported seed does not reproduce the image")
	}
}

func TestUnsupportedOptions(t *testing.T) {
	m := loadTiny(t)
	for _, req := range []Request{{Prompt: ""}, {Prompt: "   "}, {Prompt: "cat", Width: 512, Height: 512}, {Prompt: "cat", Width: 64, Height: 48}} {
		_, err := m.Generate(context.Background(), req)
		if !errors.Is(err, ErrUnsupportedOption) {
			t.Errorf("%+v: err = %v, want ErrUnsupportedOption", req, err)
		}
	}
	if _, err := Load(context.Background(), "no-such-model", Options{}); !errors.Is(err, ErrUnsupportedOption) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := Load(context.Background(), "sd-turbo", Options{ModelDir: tinySD(t), Backends: []string{"tpu"}}); !errors.Is(err, ErrBackendUnavailable) {
		t.Errorf("unknown backend: %v", err)
	}
}

func TestCancelAndReuse(t *testing.T) {
	m := loadTiny(t)
	ctx, cancel := context.WithCancel(context.Background())
	var last Progress
	_, err := m.Generate(ctx, Request{Prompt: "a cat", Seed: Seed(1), Progress: func(p Progress) {
		last = p
		if p.Phase == PhaseDenoising {
			cancel() // mid-run: the UNet stops within one node
		}
	}})
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrCancelled and context.Canceled", err)
	}
	if !last.Aborted {
		t.Fatalf("last event %+v is not marked aborted", last)
	}
	if _, err := m.Generate(context.Background(), Request{Prompt: "a cat", Seed: Seed(1)}); err != nil {
		t.Fatalf("model unusable after cancel: %v", err)
	}
}

func TestBusy(t *testing.T) {
	m := loadTiny(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := m.Generate(context.Background(), Request{Prompt: "a cat", Seed: Seed(1), Progress: func(Progress) {
			once.Do(func() { close(entered); <-release })
		}})
		done <- err
	}()
	<-entered
	_, err := m.Generate(context.Background(), Request{Prompt: "a cat"})
	close(release)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("concurrent Generate: %v, want ErrBusy", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// TestCloseReleasesMemory loads, generates and closes three times: resident
// memory after Close returns near the level before Load, and the second and
// third Load/Generate in the same process work.
func TestCloseReleasesMemory(t *testing.T) {
	dir := tinySD(t)
	settle()
	before := rssBytes(t)
	var peak int64
	for i := 0; i < 3; i++ {
		m, err := Load(context.Background(), "sd-turbo", Options{ModelDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Generate(context.Background(), Request{Prompt: "a cat", Seed: Seed(3)}); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, rssBytes(t))
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Generate(context.Background(), Request{Prompt: "a cat"}); !errors.Is(err, ErrModelNotLoaded) {
			t.Fatalf("Generate after Close: %v", err)
		}
	}
	settle()
	after := rssBytes(t)
	t.Logf("RSS before %d MiB, peak %d MiB, after Close %d MiB", before>>20, peak>>20, after>>20)
	if grown := after - before; grown > (peak-before)/2+16<<20 {
		t.Fatalf("RSS after Close is %d MiB above the start (peak was %d MiB above)", grown>>20, (peak-before)>>20)
	}
}

// fakeHub serves a local folder as Hugging Face resolve URLs with LFS headers.
func fakeHub(t *testing.T, root string, requests *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// /{org}/{name}/resolve/{rev}/{path...}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
		if len(parts) < 5 || parts[2] != "resolve" {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(parts[4])))
		if err != nil {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
		http.ServeContent(w, r, parts[4], time.Time{}, bytes.NewReader(b))
	}))
}

func TestLoadDownloadsIntoHFCache(t *testing.T) {
	var n atomic.Int64
	srv := fakeHub(t, tinySD(t), &n)
	defer srv.Close()
	cache := t.TempDir()
	var events []Progress
	opts := Options{BaseURL: srv.URL, CacheDir: cache, Progress: func(p Progress) { events = append(events, p) }}
	m, err := Load(context.Background(), "sd-turbo", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(context.Background(), Request{Prompt: "a photo of a cat", Seed: Seed(42)}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := os.Stat(filepath.Join(cache, "models--schmuell--sd-turbo-ort-web", "snapshots")); err != nil {
		t.Fatalf("no HF-layout snapshot: %v", err)
	}
	lastDl := Progress{}
	for _, e := range events {
		if e.Phase == PhaseLoading && e.BytesTotal > 0 {
			lastDl = e
		}
	}
	if lastDl.BytesDone != lastDl.BytesTotal || !lastDl.Exact || lastDl.File == "" {
		t.Fatalf("last download event %+v", lastDl)
	}
	// Offline reuse: no request reaches the server.
	srv.Close()
	m2, err := Load(context.Background(), "sd-turbo", Options{CacheDir: cache, Offline: true})
	if err != nil {
		t.Fatalf("offline load from cache: %v", err)
	}
	m2.Close()
	if err := Purge("sd-turbo", Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), "sd-turbo", Options{CacheDir: cache, Offline: true}); err == nil {
		t.Fatal("offline load after Purge succeeded")
	}
}

func TestLoadCancelledDownload(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Load(ctx, "sd-turbo", Options{BaseURL: slow.URL, CacheDir: t.TempDir()})
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
}
