package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sdRepo = "schmuell/sd-turbo-ort-web"

func TestResolveURL(t *testing.T) {
	c := &Client{BaseURL: "https://mirror.example/", URLs: map[string]string{
		"tokenizer.json": "https://cdn.example/tok.json",
		"onnx-community/Janus-Pro-1B-ONNX/tokenizer.json": "https://cdn.example/janus-tok.json",
	}}
	tests := []struct {
		name, repo, rev, path, want string
	}{
		{"plain", sdRepo, testCommit, "unet/model.onnx", "https://mirror.example/schmuell/sd-turbo-ort-web/resolve/" + testCommit + "/unet/model.onnx"},
		{"default revision", sdRepo, "", "vae_decoder/model.onnx", "https://mirror.example/schmuell/sd-turbo-ort-web/resolve/main/vae_decoder/model.onnx"},
		{"escaped revision and path", sdRepo, "refs/pr/1", "a b/c#d.onnx", "https://mirror.example/schmuell/sd-turbo-ort-web/resolve/refs%2Fpr%2F1/a%20b/c%23d.onnx"},
		{"path override", sdRepo, "main", "tokenizer.json", "https://cdn.example/tok.json"},
		{"repo-qualified override wins", "onnx-community/Janus-Pro-1B-ONNX", "main", "tokenizer.json", "https://cdn.example/janus-tok.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.ResolveURL(tc.repo, tc.rev, tc.path); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("HF_ENDPOINT", func(t *testing.T) {
		t.Setenv("HF_ENDPOINT", "http://endpoint.example")
		if got, want := (&Client{}).ResolveURL("a/b", "main", "x"), "http://endpoint.example/a/b/resolve/main/x"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		t.Setenv("HF_ENDPOINT", "")
		if got, want := (&Client{}).ResolveURL("a/b", "main", "x"), "https://huggingface.co/a/b/resolve/main/x"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestDefaultCacheDir(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name                          string
		hubCache, legacy, hfHome, xdg string
		want                          string
	}{
		{"HF_HUB_CACHE first", "/c/hub", "/legacy", "/h", "/x", "/c/hub"},
		{"legacy HUGGINGFACE_HUB_CACHE", "", "/legacy", "/h", "/x", "/legacy"},
		{"HF_HOME/hub", "", "", "/h", "/x", filepath.Join("/h", "hub")},
		{"HF_HOME with ~", "", "", "~/hf", "/x", filepath.Join(home, "hf", "hub")},
		{"XDG_CACHE_HOME", "", "", "", "/x", filepath.Join("/x", "huggingface", "hub")},
		{"home default", "", "", "", "", filepath.Join(home, ".cache", "huggingface", "hub")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("USERPROFILE", home)
			t.Setenv("HF_HUB_CACHE", tc.hubCache)
			t.Setenv("HUGGINGFACE_HUB_CACHE", tc.legacy)
			t.Setenv("HF_HOME", tc.hfHome)
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			got, err := DefaultCacheDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestFetchLayout checks the cache layout against huggingface_hub's: blob
// names, relative snapshot symlinks, refs, and no request for a cached
// pinned file.
func TestFetchLayout(t *testing.T) {
	fh := newFakeHub(t)
	unet := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(300_000, 1), lfs: true})
	cfg := fh.add(sdRepo, "config.json", &fakeFile{content: []byte(`{"a":1}`)})
	c := fh.client(t)
	c.Token = "secret"
	repoDir := filepath.Join(c.CacheDir, "models--schmuell--sd-turbo-ort-web")

	tests := []struct {
		path     string
		f        *fakeFile
		blobName string
	}{
		{"unet/model.onnx", unet, unet.sha()},
		{"config.json", cfg, cfg.gitSHA1()},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			p, err := c.Fetch(context.Background(), sdRepo, "main", tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(repoDir, "snapshots", testCommit, filepath.FromSlash(tc.path))
			if p != want {
				t.Errorf("path %s, want %s", p, want)
			}
			if !bytes.Equal(readFile(t, p), tc.f.content) {
				t.Fatal("content differs")
			}
			fi, err := os.Lstat(p)
			if err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("snapshot entry is not a symlink: %v %v", fi.Mode(), err)
			}
			target, _ := os.Readlink(p)
			depth := strings.Count(tc.path, "/")
			wantTarget := filepath.Join(strings.Repeat("../", depth+2) + "blobs/" + tc.blobName)
			if target != wantTarget {
				t.Errorf("symlink target %s, want %s", target, wantTarget)
			}
		})
	}
	if ref := readFile(t, filepath.Join(repoDir, "refs", "main")); string(ref) != testCommit {
		t.Errorf("refs/main = %q", ref)
	}
	// HEAD goes to the hub only; the CDN sees GETs, without the token.
	if n := len(fh.requests("cdn", "HEAD")); n != 0 {
		t.Errorf("HEAD followed the absolute redirect to the CDN (%d requests)", n)
	}
	for _, l := range fh.requests("cdn", "") {
		if l.auth != "" {
			t.Errorf("token sent to the CDN: %+v", l)
		}
	}
	for _, l := range fh.requests("hub", "") {
		if l.auth != "Bearer secret" {
			t.Errorf("hub request without the token: %+v", l)
		}
	}
	for _, name := range listDir(t, repoDir) {
		if strings.Contains(name, ".incomplete") || strings.Contains(name, ".tmp-") {
			t.Errorf("leftover %s", name)
		}
	}
	// Pinned commit, cached: no request at all.
	before := len(fh.requests("", ""))
	var events []Event
	p, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fh.requests("", "")) - before; n != 0 {
		t.Errorf("%d requests for a cached pinned file", n)
	}
	if len(events) != 1 || events[0].Kind != EventDone || !events[0].Cached || events[0].Done != int64(len(unet.content)) {
		t.Errorf("events %+v", events)
	}
	if !bytes.Equal(readFile(t, p), unet.content) {
		t.Error("content differs")
	}
	// Branch name, cached: one HEAD, no GET.
	before = len(fh.requests("", ""))
	if _, err := c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", nil); err != nil {
		t.Fatal(err)
	}
	if got := fh.requests("", "")[before:]; len(got) != 1 || got[0].method != "HEAD" {
		t.Errorf("requests for a cached branch file: %+v", got)
	}
}

// TestHFCacheInterop fetches from a cache laid out the way huggingface_hub
// writes it, by hand.
func TestHFCacheInterop(t *testing.T) {
	fh := newFakeHub(t)
	f := fh.add("onnx-community/Janus-Pro-1B-ONNX", "onnx/vision_encoder.onnx_data", &fakeFile{content: randomBytes(5000, 2), lfs: true})
	c := fh.client(t)
	repoDir := filepath.Join(c.CacheDir, "models--onnx-community--Janus-Pro-1B-ONNX")
	os.MkdirAll(filepath.Join(repoDir, "blobs"), 0o755)
	os.MkdirAll(filepath.Join(repoDir, "snapshots", testCommit, "onnx"), 0o755)
	os.MkdirAll(filepath.Join(repoDir, "refs"), 0o755)
	os.WriteFile(filepath.Join(repoDir, "blobs", f.sha()), f.content, 0o644)
	os.WriteFile(filepath.Join(repoDir, "refs", "main"), []byte(testCommit), 0o644)
	if err := os.Symlink("../../../blobs/"+f.sha(), filepath.Join(repoDir, "snapshots", testCommit, "onnx", "vision_encoder.onnx_data")); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	for _, rev := range []string{testCommit, "main"} {
		p, err := c.Fetch(context.Background(), "onnx-community/Janus-Pro-1B-ONNX", rev, "onnx/vision_encoder.onnx_data", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, p), f.content) {
			t.Fatal("content differs")
		}
	}
	if n := len(fh.requests("", "GET")); n != 0 {
		t.Errorf("%d GETs for a file in the HF cache", n)
	}
	// A blob present without its snapshot entry is linked, not downloaded.
	os.Remove(filepath.Join(repoDir, "snapshots", testCommit, "onnx", "vision_encoder.onnx_data"))
	if _, err := c.Fetch(context.Background(), "onnx-community/Janus-Pro-1B-ONNX", "main", "onnx/vision_encoder.onnx_data", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(fh.requests("", "GET")); n != 0 {
		t.Errorf("%d GETs for a file whose blob is cached", n)
	}
}

func TestResumeAfterCut(t *testing.T) {
	fh := newFakeHub(t)
	f := fh.add(sdRepo, "text_encoder/model.onnx", &fakeFile{content: randomBytes(200_000, 3), lfs: true})
	half := len(f.content) / 2
	fh.cdnHook = func(w http.ResponseWriter, r *http.Request, f *fakeFile, call int) bool {
		if call != 1 {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(f.content)))
		w.Write(f.content[:half])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cut the connection
	}
	c := fh.client(t)
	p, err := c.Fetch(context.Background(), sdRepo, testCommit, "text_encoder/model.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), f.content) {
		t.Fatal("content differs")
	}
	gets := fh.requests("cdn", "GET")
	if len(gets) != 2 || gets[0].rng != "" || gets[1].rng != fmt.Sprintf("bytes=%d-", half) {
		t.Errorf("CDN GETs %+v, want a plain one then Range bytes=%d-", gets, half)
	}
}

// TestResumeIncomplete continues a partial file left by an earlier process,
// and starts over cleanly when the server ignores Range.
func TestResumeIncomplete(t *testing.T) {
	content := randomBytes(100_000, 4)
	tests := []struct {
		name        string
		partial     []byte
		ignoreRange bool
		wantRange   string
	}{
		{"resume", content[:30_000], false, "bytes=30000-"},
		{"server ignores Range", content[:30_000], true, "bytes=30000-"},
		{"garbage partial, server ignores Range", randomBytes(30_000, 99), true, "bytes=30000-"},
		{"partial already complete", content, false, ""},
		{"partial longer than the file", append(append([]byte{}, content...), 1, 2, 3), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fh := newFakeHub(t)
			f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: content, lfs: true})
			if tc.ignoreRange {
				fh.cdnHook = func(w http.ResponseWriter, r *http.Request, f *fakeFile, call int) bool {
					w.Header().Set("Content-Length", fmt.Sprint(len(f.content)))
					w.Write(f.content)
					return true
				}
			}
			c := fh.client(t)
			blobs := filepath.Join(c.CacheDir, "models--schmuell--sd-turbo-ort-web", "blobs")
			os.MkdirAll(blobs, 0o755)
			os.WriteFile(filepath.Join(blobs, f.sha()+".incomplete"), tc.partial, 0o644)
			var first Event
			p, err := c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", func(e Event) {
				if first.Kind == 0 && first.Repo == "" {
					first = e
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, p), content) {
				t.Fatal("content differs")
			}
			gets := fh.requests("cdn", "GET")
			switch {
			case tc.wantRange == "" && len(gets) > 0 && len(tc.partial) == len(content):
				t.Errorf("GET for a complete partial file: %+v", gets)
			case tc.wantRange != "" && (len(gets) != 1 || gets[0].rng != tc.wantRange):
				t.Errorf("CDN GETs %+v, want one with Range %s", gets, tc.wantRange)
			}
			if len(tc.partial) < len(content) && (first.Kind != EventStart || first.Done != int64(len(tc.partial))) {
				t.Errorf("first event %+v, want start at %d", first, len(tc.partial))
			}
			if _, err := os.Stat(filepath.Join(blobs, f.sha()+".incomplete")); err == nil {
				t.Error(".incomplete left behind")
			}
		})
	}
}

func TestIntegrity(t *testing.T) {
	content := randomBytes(50_000, 5)
	other := randomBytes(10, 6)
	tests := []struct {
		name string
		f    *fakeFile
	}{
		{"announced size too large", &fakeFile{content: content, lfs: true, linkedSize: fmt.Sprint(len(content) + 10)}},
		{"announced size too small", &fakeFile{content: content, lfs: true, linkedSize: fmt.Sprint(len(content) - 10)}},
		{"wrong sha256", &fakeFile{content: content, lfs: true, linkedEtag: (&fakeFile{content: other}).sha()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fh := newFakeHub(t)
			fh.add(sdRepo, "vae_decoder/model.onnx", tc.f)
			c := fh.client(t)
			_, err := c.Fetch(context.Background(), sdRepo, testCommit, "vae_decoder/model.onnx", nil)
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("err = %v, want ErrIntegrity", err)
			}
			if !strings.Contains(err.Error(), "vae_decoder/model.onnx") || !strings.HasPrefix(err.Error(), "hub: ") {
				t.Errorf("error does not name the file: %v", err)
			}
			repoDir := filepath.Join(c.CacheDir, "models--schmuell--sd-turbo-ort-web")
			for _, name := range listDir(t, repoDir) {
				if strings.HasPrefix(name, "blobs/") || strings.HasPrefix(name, "snapshots/"+testCommit+"/") {
					t.Errorf("bad download left %s", name)
				}
			}
			if _, err := c.CachedPath(sdRepo, testCommit, "vae_decoder/model.onnx"); !errors.Is(err, ErrNotCached) {
				t.Errorf("CachedPath after a failed download: %v", err)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name       string
		repo, rev  string
		path       string
		token      string
		wantIs     error
		wantStatus int
		wantText   []string
	}{
		{"missing file", sdRepo, "main", "unet/nope.onnx", "", ErrNotFound, 404, []string{"unet/nope.onnx", sdRepo, "main", "check the path"}},
		{"missing revision", sdRepo, "v9", "unet/model.onnx", "", ErrNotFound, 404, []string{"v9", "check the commit hash"}},
		{"missing repo", "nobody/nothing", testCommit, "unet/model.onnx", "", ErrNotFound, 401, []string{"nobody/nothing", "repo id"}},
		{"gated without token", "gated/model", "main", "model.onnx", "", ErrAccessDenied, 401, []string{"gated", "Token"}},
		{"gated with a wrong token", "gated/model", "main", "model.onnx", "bad", ErrAccessDenied, 401, []string{"gated"}},
		{"forbidden", "private/model", "main", "model.onnx", "", ErrAccessDenied, 403, []string{"private/model", "Token"}},
		{"gated with the token", "gated/model", "main", "model.onnx", "good", nil, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fh := newFakeHub(t)
			fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: []byte("x"), lfs: true})
			fh.add("gated/model", "model.onnx", &fakeFile{content: []byte("gated"), lfs: true})
			fh.gated["gated/model"] = true
			fh.hubHook = func(w http.ResponseWriter, r *http.Request, call int) bool {
				if strings.HasPrefix(r.URL.Path, "/private/") {
					http.Error(w, "forbidden", 403)
					return true
				}
				return false
			}
			c := fh.client(t)
			c.Token = tc.token
			p, err := c.Fetch(context.Background(), tc.repo, tc.rev, tc.path, nil)
			if tc.wantIs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if string(readFile(t, p)) != "gated" {
					t.Error("content differs")
				}
				return
			}
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want %v", err, tc.wantIs)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Status != tc.wantStatus {
				t.Errorf("err = %#v, want a FileError with status %d", err, tc.wantStatus)
			}
			for _, s := range tc.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if n := len(fh.requests("hub", "")); n != 1 {
				t.Errorf("%d requests, want 1 (no retry on 4xx)", n)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	t.Run("500 then success", func(t *testing.T) {
		fh := newFakeHub(t)
		f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(10_000, 7), lfs: true})
		fh.hubHook = func(w http.ResponseWriter, r *http.Request, call int) bool {
			if call <= 2 {
				http.Error(w, "oops", 500)
				return true
			}
			return false
		}
		fh.cdnHook = func(w http.ResponseWriter, r *http.Request, f *fakeFile, call int) bool {
			if call == 1 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", 503)
				return true
			}
			return false
		}
		c := fh.client(t)
		p, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, p), f.content) {
			t.Fatal("content differs")
		}
		if h, g := len(fh.requests("hub", "HEAD")), len(fh.requests("cdn", "GET")); h != 3 || g != 2 {
			t.Errorf("%d HEADs, %d CDN GETs; want 3 and 2", h, g)
		}
	})
	t.Run("500 forever is bounded", func(t *testing.T) {
		fh := newFakeHub(t)
		fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: []byte("x"), lfs: true})
		fh.hubHook = func(w http.ResponseWriter, r *http.Request, call int) bool {
			http.Error(w, "oops", 500)
			return true
		}
		c := fh.client(t)
		c.Retries = 3
		_, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
		var fe *FileError
		if err == nil || !errors.As(err, &fe) || fe.Status != 500 || errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want a FileError with status 500", err)
		}
		if n := len(fh.requests("hub", "")); n != 4 {
			t.Errorf("%d requests, want 4 (1 + 3 retries)", n)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		t.Setenv("HF_HUB_OFFLINE", "")
		c := &Client{BaseURL: base, CacheDir: t.TempDir(), Backoff: time.Millisecond, Retries: 2}
		_, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
		if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestCancel cancels a download from a slow server: Fetch returns promptly
// with context.Canceled, and the partial file is resumed by the next Fetch.
func TestCancel(t *testing.T) {
	fh := newFakeHub(t)
	f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(64_000, 8), lfs: true})
	const first = 8000
	started := make(chan struct{})
	fh.cdnHook = func(w http.ResponseWriter, r *http.Request, f *fakeFile, call int) bool {
		if call != 1 {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(f.content)))
		w.Write(f.content[:first])
		w.(http.Flusher).Flush()
		close(started)
		for i := first; i < len(f.content); i += 100 {
			select {
			case <-r.Context().Done():
				return true
			case <-time.After(50 * time.Millisecond):
			}
			w.Write(f.content[i : i+100])
			w.(http.Flusher).Flush()
		}
		return true
	}
	c := fh.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, sdRepo, testCommit, "unet/model.onnx", nil)
		errc <- err
	}()
	<-started
	time.Sleep(100 * time.Millisecond)
	cancel()
	t0 := time.Now()
	var err error
	select {
	case err = <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("Fetch did not return after cancel")
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Fetch took %v to return after cancel", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	inc := filepath.Join(c.CacheDir, "models--schmuell--sd-turbo-ort-web", "blobs", f.sha()+".incomplete")
	fi, serr := os.Stat(inc)
	if serr != nil || fi.Size() < first {
		t.Fatalf("partial file after cancel: %v, %v", fi, serr)
	}
	p, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), f.content) {
		t.Fatal("content differs")
	}
	gets := fh.requests("cdn", "GET")
	if want := fmt.Sprintf("bytes=%d-", fi.Size()); len(gets) != 2 || gets[1].rng != want {
		t.Errorf("CDN GETs %+v, want the second with Range %s", gets, want)
	}
	// A context already cancelled fails before any request.
	n := len(fh.requests("", ""))
	if _, err := c.Fetch(ctx, sdRepo, "main", "unet/model.onnx", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if len(fh.requests("", "")) != n {
		t.Error("requests made with a cancelled context")
	}
}

// TestOffline uses only the cache, through refs for a branch name, and
// names the missing file.
func TestOffline(t *testing.T) {
	fh := newFakeHub(t)
	f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(1000, 9), lfs: true})
	c := fh.client(t)
	if _, err := c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", nil); err != nil {
		t.Fatal(err)
	}
	n := len(fh.requests("", ""))
	for _, mode := range []string{"field", "HF_HUB_OFFLINE"} {
		t.Run(mode, func(t *testing.T) {
			oc := *c
			if mode == "field" {
				oc.Offline = true
			} else {
				t.Setenv("HF_HUB_OFFLINE", "1")
			}
			for _, rev := range []string{"main", testCommit} {
				p, err := oc.Fetch(context.Background(), sdRepo, rev, "unet/model.onnx", nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(readFile(t, p), f.content) {
					t.Fatal("content differs")
				}
			}
			_, err := oc.Fetch(context.Background(), sdRepo, "main", "vae_decoder/model.onnx", nil)
			if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "vae_decoder/model.onnx") {
				t.Errorf("err = %v, want ErrNotCached naming the file", err)
			}
			if _, err := oc.Fetch(context.Background(), sdRepo, "v2", "unet/model.onnx", nil); !errors.Is(err, ErrNotCached) {
				t.Errorf("unknown branch offline: %v", err)
			}
		})
	}
	if m := len(fh.requests("", "")); m != n {
		t.Errorf("%d requests in offline mode", m-n)
	}
	// Online with an unreachable server, a cached branch file is used.
	fh.hub.Close()
	p, err := c.Fetch(context.Background(), sdRepo, "main", "unet/model.onnx", nil)
	if err != nil || !bytes.Equal(readFile(t, p), f.content) {
		t.Errorf("unreachable server, cached file: %v", err)
	}
}

func TestSymlinkFallback(t *testing.T) {
	fh := newFakeHub(t)
	f := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(1000, 10), lfs: true})
	c := fh.client(t)
	old := symlink
	symlink = func(string, string) error { return errors.New("symlinks not permitted") }
	t.Cleanup(func() { symlink = old })
	p, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("snapshot entry %v, %v; want a regular file", fi, err)
	}
	if !bytes.Equal(readFile(t, p), f.content) {
		t.Fatal("content differs")
	}
}

func TestPurge(t *testing.T) {
	fh := newFakeHub(t)
	repos := []string{sdRepo, "onnx-community/Janus-Pro-1B-ONNX", "other/model"}
	for _, r := range repos {
		fh.add(r, "a.onnx", &fakeFile{content: []byte(r), lfs: true})
	}
	c := fh.client(t)
	for _, r := range repos {
		if _, err := c.Fetch(context.Background(), r, "main", "a.onnx", nil); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(c.CacheDir, "version.txt"), []byte("1"), 0o644)
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(c.CacheDir, name))
		return err == nil
	}
	if err := c.Purge(sdRepo); err != nil {
		t.Fatal(err)
	}
	if exists("models--schmuell--sd-turbo-ort-web") || exists(".locks/models--schmuell--sd-turbo-ort-web") {
		t.Error("Purge left the repo")
	}
	if !exists("models--onnx-community--Janus-Pro-1B-ONNX") || !exists("models--other--model") || !exists("version.txt") {
		t.Error("Purge removed something else")
	}
	if err := c.Purge(sdRepo); err != nil {
		t.Errorf("purging an absent repo: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/../../b", "a/b/c", "..", "a--b/c", "/abs"} {
		if err := c.Purge(bad); err == nil {
			t.Errorf("Purge(%q) accepted", bad)
		}
	}
	if err := c.PurgeAll([]string{"onnx-community/Janus-Pro-1B-ONNX", "../escape"}); err == nil {
		t.Error("PurgeAll accepted a bad repo id")
	}
	if !exists("models--onnx-community--Janus-Pro-1B-ONNX") {
		t.Error("PurgeAll removed something before validating the list")
	}
	if err := c.PurgeAll([]string{"onnx-community/Janus-Pro-1B-ONNX", sdRepo}); err != nil {
		t.Fatal(err)
	}
	if exists("models--onnx-community--Janus-Pro-1B-ONNX") || !exists("models--other--model") || !exists("version.txt") {
		t.Errorf("after PurgeAll: %v", listDir(t, c.CacheDir))
	}
}

func TestInvalidNames(t *testing.T) {
	fh := newFakeHub(t)
	c := fh.client(t)
	tests := []struct{ name, repo, rev, path string }{
		{"empty repo", "", "main", "a"},
		{"repo escapes", "../x", "main", "a"},
		{"three parts", "a/b/c", "main", "a"},
		{"path escapes", sdRepo, "main", "../../etc/passwd"},
		{"absolute path", sdRepo, "main", "/etc/passwd"},
		{"empty path", sdRepo, "main", ""},
		{"backslash", sdRepo, "main", `a\b`},
		{"revision escapes", sdRepo, "../../x", "a"},
		{"empty segment", sdRepo, "main", "a//b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Fetch(context.Background(), tc.repo, tc.rev, tc.path, nil); err == nil || !strings.HasPrefix(err.Error(), "hub: ") {
				t.Errorf("err = %v", err)
			}
		})
	}
	if n := len(fh.requests("", "")); n != 0 {
		t.Errorf("%d requests for invalid names", n)
	}
}

// TestRenamedRepo follows the Hub's relative redirect on HEAD.
func TestRenamedRepo(t *testing.T) {
	fh := newFakeHub(t)
	f := fh.add("new-org/model", "model.onnx", &fakeFile{content: randomBytes(3000, 11), lfs: true})
	fh.renamed["old-org/model"] = "new-org/model"
	c := fh.client(t)
	p, err := c.Fetch(context.Background(), "old-org/model", "main", "model.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), f.content) {
		t.Fatal("content differs")
	}
	if !strings.Contains(p, "models--old-org--model") {
		t.Errorf("cached under %s, want the requested repo's folder", p)
	}
}

// TestOverrideURL fetches a file from a plain server (no HEAD, no ETag):
// the blob is named by the content's sha256 and the token stays home.
func TestOverrideURL(t *testing.T) {
	content := randomBytes(7000, 12)
	var auth []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", 405)
			return
		}
		w.Write(content)
	}))
	defer plain.Close()
	fh := newFakeHub(t)
	c := fh.client(t)
	c.Token = "secret"
	c.URLs = map[string]string{"tokenizer.json": plain.URL + "/files/tok.json"}
	p, err := c.Fetch(context.Background(), "onnx-community/Janus-Pro-1B-ONNX", testCommit, "tokenizer.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), content) {
		t.Fatal("content differs")
	}
	blob := (&fakeFile{content: content}).sha()
	if _, err := os.Stat(filepath.Join(c.CacheDir, "models--onnx-community--Janus-Pro-1B-ONNX", "blobs", blob)); err != nil {
		t.Errorf("blob not named by sha256: %v", err)
	}
	if want := filepath.Join(c.CacheDir, "models--onnx-community--Janus-Pro-1B-ONNX", "snapshots", testCommit, "tokenizer.json"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	for _, a := range auth {
		if a != "" {
			t.Error("token sent to an override host")
		}
	}
	if n := len(fh.requests("", "")); n != 0 {
		t.Errorf("%d requests to the hub for an overridden file", n)
	}
}

// TestFetchAllProgress checks aggregate progress with caller-given
// approximate sizes, including a file whose size the server never tells.
func TestFetchAllProgress(t *testing.T) {
	fh := newFakeHub(t)
	a := fh.add(sdRepo, "text_encoder/model.onnx", &fakeFile{content: randomBytes(5<<20, 13), lfs: true})
	b := fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: randomBytes(3000, 14), lfs: true, noSize: true})
	cc := fh.add(sdRepo, "config.json", &fakeFile{content: []byte("{}")})
	files := []File{
		{Repo: sdRepo, Path: "text_encoder/model.onnx", Size: 4 << 20},
		{Repo: sdRepo, Path: "unet/model.onnx", Size: 5000},
		{Repo: sdRepo, Path: "config.json"},
	}
	for _, par := range []int{1, 3} {
		t.Run(fmt.Sprint("parallel=", par), func(t *testing.T) {
			c := fh.client(t)
			c.Parallel = par
			var events []Event
			paths, err := c.FetchAll(context.Background(), files, func(e Event) { events = append(events, e) })
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]byte{a.content, b.content, cc.content} {
				if !bytes.Equal(readFile(t, paths[i]), want) {
					t.Errorf("file %d differs", i)
				}
			}
			total := int64(len(a.content) + len(b.content) + len(cc.content))
			last := events[len(events)-1]
			if last.AllDone != total || last.AllTotal != total || last.AllApprox {
				t.Errorf("last event %+v, want all %d exact", last, total)
			}
			sawProgressA, sawApproxB, doneN := false, false, 0
			for _, e := range events {
				if e.Index == 0 && e.Kind == EventProgress && e.Total == int64(len(a.content)) && !e.Approx {
					sawProgressA = true
				}
				if e.Index == 1 && e.Kind != EventDone && e.Approx && e.Total == 5000 {
					sawApproxB = true
				}
				if e.Kind == EventDone {
					doneN++
					if e.Approx || e.Done != e.Total {
						t.Errorf("done event %+v", e)
					}
				}
				if e.AllDone > e.AllTotal && !e.AllApprox {
					t.Errorf("event %+v: exact total below done", e)
				}
			}
			if !sawProgressA || !sawApproxB || doneN != 3 {
				t.Errorf("progress for a: %v, approximate size for b: %v, done events: %d", sawProgressA, sawApproxB, doneN)
			}
		})
	}
	t.Run("first error stops", func(t *testing.T) {
		c := fh.client(t)
		_, err := c.FetchAll(context.Background(), append([]File{{Repo: sdRepo, Path: "nope"}}, files...), nil)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestSDTurboFixture serves a real ONNX file from the shared test data.
func TestSDTurboFixture(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "testdata", "pipelines", "sd_turbo_tiny", "unet", "model.onnx")
	content, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		t.Skip("shared test data absent:", src)
	}
	if err != nil {
		t.Fatal(err)
	}
	fh := newFakeHub(t)
	fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: content, lfs: true})
	c := fh.client(t)
	p, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), content) {
		t.Fatal("content differs")
	}
}

// TestPinnedCommitMismatch refuses an answer for another commit than the
// pinned one.
func TestPinnedCommitMismatch(t *testing.T) {
	fh := newFakeHub(t)
	fh.add(sdRepo, "unet/model.onnx", &fakeFile{content: []byte("x"), lfs: true})
	other := strings.Repeat("f", 40)
	fh.hubHook = func(w http.ResponseWriter, r *http.Request, call int) bool {
		w.Header().Set("X-Repo-Commit", other)
		w.Header().Set("X-Linked-Etag", `"abc"`)
		w.Header().Set("Location", fh.cdn.URL+"/blob/none")
		w.WriteHeader(http.StatusFound)
		return true
	}
	c := fh.client(t)
	_, err := c.Fetch(context.Background(), sdRepo, testCommit, "unet/model.onnx", nil)
	if err == nil || !strings.Contains(err.Error(), other) {
		t.Fatalf("err = %v", err)
	}
	if n := len(fh.requests("", "GET")); n != 0 {
		t.Errorf("%d GETs", n)
	}
}
