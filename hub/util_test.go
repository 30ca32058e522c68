package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testCommit = "0123456789abcdef0123456789abcdef01234567"

// fakeFile is one file of a fake repo.
type fakeFile struct {
	content []byte
	lfs     bool // served as the Hub serves LFS files: a redirect to the CDN with X-Linked-* headers
	noSize  bool // no size anywhere: HEAD without X-Linked-Size, CDN answer chunked

	// Header overrides for fault injection ("" keeps the real value).
	linkedSize string
	linkedEtag string
}

func (f *fakeFile) sha() string {
	s := sha256.Sum256(f.content)
	return hex.EncodeToString(s[:])
}

func (f *fakeFile) gitSHA1() string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(f.content))
	h.Write(f.content)
	return hex.EncodeToString(h.Sum(nil))
}

// reqLog is one request a fake server saw.
type reqLog struct {
	server, method, path, rng, auth string
}

// fakeHub imitates huggingface.co (resolve endpoint with its headers and
// error codes) and its LFS CDN (a second host, with Range support).
type fakeHub struct {
	hub, cdn *httptest.Server
	mu       sync.Mutex
	repos    map[string]map[string]*fakeFile
	gated    map[string]bool   // repos that need "Bearer good"
	renamed  map[string]string // old repo id -> new repo id
	log      []reqLog
	byCDN    map[string]*fakeFile

	// Hooks for fault injection; call counts from 1. Return true when the
	// hook wrote the answer.
	hubHook func(w http.ResponseWriter, r *http.Request, call int) bool
	cdnHook func(w http.ResponseWriter, r *http.Request, f *fakeFile, call int) bool
	hubCall int
	cdnCall int
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	fh := &fakeHub{repos: map[string]map[string]*fakeFile{}, gated: map[string]bool{},
		renamed: map[string]string{}, byCDN: map[string]*fakeFile{}}
	fh.hub = httptest.NewServer(http.HandlerFunc(fh.serveHub))
	fh.cdn = httptest.NewServer(http.HandlerFunc(fh.serveCDN))
	t.Cleanup(fh.hub.Close)
	t.Cleanup(fh.cdn.Close)
	return fh
}

func (fh *fakeHub) add(repo, path string, f *fakeFile) *fakeFile {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	if fh.repos[repo] == nil {
		fh.repos[repo] = map[string]*fakeFile{}
	}
	fh.repos[repo][path] = f
	fh.byCDN[f.sha()] = f
	return f
}

func (fh *fakeHub) record(server string, r *http.Request) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	fh.log = append(fh.log, reqLog{server, r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("Authorization")})
}

// requests returns the log, filtered by server and method ("" for any).
func (fh *fakeHub) requests(server, method string) []reqLog {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	var out []reqLog
	for _, l := range fh.log {
		if (server == "" || l.server == server) && (method == "" || l.method == method) {
			out = append(out, l)
		}
	}
	return out
}

func hubError(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("X-Error-Code", errCode)
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, code)
}

func (fh *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	fh.record("hub", r)
	fh.mu.Lock()
	fh.hubCall++
	call, hook := fh.hubCall, fh.hubHook
	fh.mu.Unlock()
	if hook != nil && hook(w, r, call) {
		return
	}
	// /{org}/{name}/resolve/{rev}/{path...}; the revision is one escaped segment.
	segs := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", 5)
	if len(segs) < 5 || segs[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	repo := segs[0] + "/" + segs[1]
	rev, _ := url.PathUnescape(segs[3])
	path, _ := url.PathUnescape(segs[4])
	fh.mu.Lock()
	newName, renamed := fh.renamed[repo]
	files, ok := fh.repos[repo]
	f := files[path]
	gated := fh.gated[repo]
	fh.mu.Unlock()
	if renamed {
		http.Redirect(w, r, "/"+newName+"/resolve/"+segs[3]+"/"+segs[4], http.StatusTemporaryRedirect)
		return
	}
	if !ok {
		hubError(w, 401, "RepoNotFound", "Repository not found")
		return
	}
	if gated && r.Header.Get("Authorization") != "Bearer good" {
		hubError(w, 401, "GatedRepo", "Access to model "+repo+" is restricted.")
		return
	}
	if rev != "main" && rev != testCommit {
		hubError(w, 404, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	if f == nil {
		hubError(w, 404, "EntryNotFound", "Entry not found")
		return
	}
	h := w.Header()
	h.Set("X-Repo-Commit", testCommit)
	if f.lfs {
		etag := f.sha()
		if f.linkedEtag != "" {
			etag = f.linkedEtag
		}
		h.Set("X-Linked-Etag", `"`+etag+`"`)
		h.Set("ETag", `"`+etag+`"`)
		if !f.noSize {
			size := strconv.Itoa(len(f.content))
			if f.linkedSize != "" {
				size = f.linkedSize
			}
			h.Set("X-Linked-Size", size)
		}
		h.Set("Location", fh.cdn.URL+"/blob/"+f.sha()+"?X-Amz-Signature=abc")
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("ETag", `"`+f.gitSHA1()+`"`)
	h.Set("Content-Length", strconv.Itoa(len(f.content)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(f.content)
}

func (fh *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	fh.record("cdn", r)
	fh.mu.Lock()
	fh.cdnCall++
	call, hook := fh.cdnCall, fh.cdnHook
	f := fh.byCDN[strings.TrimPrefix(r.URL.Path, "/blob/")]
	fh.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if hook != nil && hook(w, r, f, call) {
		return
	}
	if f.noSize {
		w.(http.Flusher).Flush() // chunked, no Content-Length
		w.Write(f.content)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.content))
}

// client returns a Client on the fake hub with a fresh cache.
func (fh *fakeHub) client(t *testing.T) *Client {
	t.Helper()
	t.Setenv("HF_HUB_OFFLINE", "")
	return &Client{BaseURL: fh.hub.URL, CacheDir: t.TempDir(), Backoff: time.Millisecond}
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listDir returns the names under dir, recursively, slash-separated.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}
