package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is the Hugging Face Hub.
const DefaultBaseURL = "https://huggingface.co"

// Client downloads files into the hub cache. The zero value is ready to use;
// a Client is safe for concurrent use. Set fields before the first call.
type Client struct {
	// HTTPClient makes the requests; nil means http.DefaultClient. For the
	// metadata HEAD request a copy of it is used that does not follow
	// redirects by itself (relative ones are followed by Fetch).
	HTTPClient *http.Client

	// BaseURL is the hub endpoint; "" means $HF_ENDPOINT, else
	// DefaultBaseURL.
	BaseURL string

	// URLs overrides the download URL of single files. A key is a file's
	// path in its repo ("unet/model.onnx") or, taking precedence, its repo
	// and path ("schmuell/sd-turbo-ort-web/unet/model.onnx"). The value is a
	// full URL. The file is still cached under its repo and revision.
	URLs map[string]string

	// Token, when set, is sent as "Authorization: Bearer {Token}" to the
	// BaseURL host only (never to a CDN or an override URL on another host).
	Token string

	// CacheDir overrides the cache root; "" means DefaultCacheDir().
	CacheDir string

	// Offline uses only the cache; it is also on when $HF_HUB_OFFLINE is
	// 1, true, yes or on.
	Offline bool

	// Retries bounds how many failed attempts in a row (without new bytes)
	// a request gets before giving up; 0 means 5, negative means none.
	Retries int

	// Backoff is the first delay between retries; it doubles each time up
	// to 32 times. 0 means one second.
	Backoff time.Duration

	// Parallel is how many files FetchAll transfers at once; 0 means 1.
	Parallel int
}

// File names one file to fetch.
type File struct {
	Repo     string // "org/name"
	Revision string // a commit hash (pinned) or a branch or tag; "" means "main"
	Path     string // slash-separated path in the repo, e.g. "onnx/model.onnx"
	Size     int64  // approximate size in bytes, for progress before the server tells (0: unknown)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

func (c *Client) baseURL() string {
	b := c.BaseURL
	if b == "" {
		b = os.Getenv("HF_ENDPOINT")
	}
	if b == "" {
		b = DefaultBaseURL
	}
	return strings.TrimRight(b, "/")
}

func (c *Client) offline() bool {
	if c.Offline {
		return true
	}
	switch strings.ToUpper(strings.TrimSpace(os.Getenv("HF_HUB_OFFLINE"))) {
	case "1", "TRUE", "YES", "ON":
		return true
	}
	return false
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return 5
	}
	return c.Retries
}

func (c *Client) backoff(failures int, hint time.Duration) time.Duration {
	d := c.Backoff
	if d <= 0 {
		d = time.Second
	}
	d <<= min(failures-1, 5)
	if hint > d {
		d = min(hint, time.Minute)
	}
	return d
}

// cacheRoot returns the cache root in use.
func (c *Client) cacheRoot() (string, error) {
	if c.CacheDir != "" {
		return c.CacheDir, nil
	}
	return DefaultCacheDir()
}

// ResolveURL returns the URL a file is downloaded from: its entry in URLs,
// else {BaseURL}/{repo}/resolve/{revision}/{path} with the revision and each
// path segment escaped.
func (c *Client) ResolveURL(repo, revision, path string) string {
	if u, ok := c.URLs[repo+"/"+path]; ok {
		return u
	}
	if u, ok := c.URLs[path]; ok {
		return u
	}
	if revision == "" {
		revision = "main"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.baseURL() + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(segs, "/")
}

func (c *Client) isOverride(f File) bool {
	_, a := c.URLs[f.Repo+"/"+f.Path]
	_, b := c.URLs[f.Path]
	return a || b
}

func checkFile(f *File) error {
	if f.Revision == "" {
		f.Revision = "main"
	}
	if err := validateRepo(f.Repo); err != nil {
		return err
	}
	if err := validateRel("revision", f.Revision); err != nil {
		return err
	}
	return validateRel("file path", f.Path)
}

// Fetch returns the local path of a file, downloading it into the cache
// when needed. The path is in the snapshot folder (a symlink to the blob or
// a copy). progress may be nil.
//
// With a 40-hex commit hash as revision, a cached file is returned without
// a network request. Otherwise the server is asked for the file's current
// version; when it cannot be reached, a cached copy of the branch is used.
func (c *Client) Fetch(ctx context.Context, repo, revision, path string, progress func(Event)) (string, error) {
	f := File{Repo: repo, Revision: revision, Path: path}
	return c.fetch(ctx, f, newReporter(progress, []File{f}).file(0))
}

// FetchAll fetches files (Client.Parallel at a time) and returns their local
// paths in order. Progress events carry totals over all files; File.Size
// stands in for a file's size until the server tells it. On the first error
// the remaining transfers are cancelled and that error is returned.
func (c *Client) FetchAll(ctx context.Context, files []File, progress func(Event)) ([]string, error) {
	rep := newReporter(progress, files)
	paths := make([]string, len(files))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	par := max(c.Parallel, 1)
	sem := make(chan struct{}, par)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i, f := range files {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p, err := c.fetch(ctx, f, rep.file(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			paths[i] = p
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("hub: %w", ctx.Err())
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return paths, nil
}

// CachedPath returns the local path of a cached file without any network
// request, or an error matching ErrNotCached. A branch or tag revision is
// resolved through the cache's refs/ folder.
func (c *Client) CachedPath(repo, revision, path string) (string, error) {
	f := File{Repo: repo, Revision: revision, Path: path}
	if err := checkFile(&f); err != nil {
		return "", err
	}
	root, err := c.cacheRoot()
	if err != nil {
		return "", err
	}
	repoDir := filepath.Join(root, repoFolder(f.Repo))
	if p, ok := lookupCached(repoDir, f.Revision, f.Path); ok {
		return p, nil
	}
	return "", &FileError{Repo: f.Repo, Revision: f.Revision, Path: f.Path,
		Err: fmt.Errorf("%w (looked in %s); fetch it once online or copy the hub cache there", ErrNotCached, repoDir)}
}

// Purge deletes one repo's cache folder (models--org--name) and its lock
// folder, nothing else. Purging a repo that is not cached is not an error.
func (c *Client) Purge(repo string) error {
	root, err := c.cacheRoot()
	if err != nil {
		return err
	}
	return removeRepo(root, repo)
}

// PurgeAll purges each listed repo (the ones the caller manages). It never
// touches other repos in the cache.
func (c *Client) PurgeAll(repos []string) error {
	root, err := c.cacheRoot()
	if err != nil {
		return err
	}
	for _, r := range repos {
		if err := validateRepo(r); err != nil {
			return err
		}
	}
	var errs []error
	for _, r := range repos {
		if err := removeRepo(root, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
