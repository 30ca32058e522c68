package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// meta is what the HEAD request tells about a file.
type meta struct {
	commit   string // X-Repo-Commit, "" if absent
	etag     string // normalized X-Linked-Etag or ETag, "" if absent or unusable as a file name
	sha256   string // expected content sha256 (LFS files), "" if unknown
	size     int64  // -1 if unknown
	location string // where to GET the content
}

func (c *Client) fetch(ctx context.Context, f File, rep fileReporter) (string, error) {
	if err := checkFile(&f); err != nil {
		return "", err
	}
	fail := func(u string, err error) error {
		fe := &FileError{Repo: f.Repo, Revision: f.Revision, Path: f.Path, URL: u, Err: err}
		var se *statusError
		if errors.As(err, &se) {
			fe.Status = se.code
			fe.Err = se.describe()
		}
		return fe
	}
	root, err := c.cacheRoot()
	if err != nil {
		return "", err
	}
	repoDir := filepath.Join(root, repoFolder(f.Repo))
	done := func(p string, cached bool) (string, error) {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fail("", err)
		}
		rep.emit(EventDone, fi.Size(), cached)
		return p, nil
	}
	if isCommitHash(f.Revision) {
		if p, ok := lookupCached(repoDir, f.Revision, f.Path); ok {
			return done(p, true)
		}
	}
	if c.offline() {
		p, err := c.CachedPath(f.Repo, f.Revision, f.Path)
		if err != nil {
			return "", err
		}
		return done(p, true)
	}
	if err := ctx.Err(); err != nil {
		return "", fail("", err)
	}

	u := c.ResolveURL(f.Repo, f.Revision, f.Path)
	m, err := c.head(ctx, u)
	if err != nil {
		var se *statusError
		override := c.isOverride(f)
		switch {
		case errors.As(err, &se) && (se.code == 405 || se.code == 501 || override && se.code != 404):
			// No usable HEAD (a plain file server, a presigned URL): GET it.
			m = &meta{size: -1, location: u}
		case !errors.As(err, &se) && ctx.Err() == nil:
			// The server cannot be reached: a cached copy of this
			// revision will do, as in huggingface_hub.
			if p, ok := lookupCached(repoDir, f.Revision, f.Path); ok {
				return done(p, true)
			}
			return "", fail(u, err)
		default:
			return "", fail(u, err)
		}
	}
	commit := f.Revision
	if m.commit != "" {
		if !safeName(m.commit) {
			return "", fail(u, fmt.Errorf("server sent an invalid X-Repo-Commit %q", m.commit))
		}
		if isCommitHash(f.Revision) && m.commit != f.Revision {
			return "", fail(u, fmt.Errorf("the server answered for commit %s, not the pinned one", m.commit))
		}
		commit = m.commit
	}
	if commit != f.Revision {
		if err := writeRef(repoDir, f.Revision, commit); err != nil {
			return "", fail("", err)
		}
	}
	snap := snapshotPath(repoDir, commit, f.Path)
	rep.setTotal(m.size)
	if fileExists(snap) {
		return done(snap, true)
	}

	// The lock and the partial file are named after the blob when the server
	// named it; otherwise after the URL, and the blob gets the content's
	// sha256 at the end.
	key := m.etag
	if key == "" {
		sum := sha256.Sum256([]byte(u))
		key = "url-" + hex.EncodeToString(sum[:16])
	}
	blobs := filepath.Join(repoDir, "blobs")
	if m.etag != "" && fileExists(filepath.Join(blobs, m.etag)) {
		if err := linkSnapshot(filepath.Join(blobs, m.etag), snap); err != nil {
			return "", fail("", err)
		}
		return done(snap, true)
	}
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return "", fail("", err)
	}
	unlock, err := acquireLock(ctx, filepath.Join(root, ".locks", repoFolder(f.Repo), key+".lock"),
		func() { rep.emit(EventWait, 0, false) })
	if err != nil {
		return "", fail("", err)
	}
	defer unlock()
	// Someone else may have finished it while we waited.
	if fileExists(snap) {
		return done(snap, true)
	}
	if m.etag != "" && fileExists(filepath.Join(blobs, m.etag)) {
		if err := linkSnapshot(filepath.Join(blobs, m.etag), snap); err != nil {
			return "", fail("", err)
		}
		return done(snap, true)
	}

	tmp := filepath.Join(blobs, key+".incomplete")
	sum, err := c.download(ctx, m, tmp, m.etag != "", rep)
	if err != nil {
		if errors.Is(err, ErrIntegrity) {
			os.Remove(tmp)
		}
		return "", fail(m.location, err)
	}
	name := m.etag
	if name == "" {
		name = sum
	}
	blob := filepath.Join(blobs, name)
	if err := os.Rename(tmp, blob); err != nil {
		return "", fail("", err)
	}
	if err := linkSnapshot(blob, snap); err != nil {
		return "", fail("", err)
	}
	return done(snap, false)
}

// request builds a request with the headers every call carries.
func (c *Client) request(ctx context.Context, method, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	// identity: sizes and hashes are those of the stored bytes, and the
	// transport must not decompress behind our back.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "txt2img-engine-hub/1 (go)")
	if c.Token != "" {
		if b, err := url.Parse(c.baseURL()); err == nil && b.Host == req.URL.Host {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
	}
	return req, nil
}

func newStatusError(resp *http.Response, u string) *statusError {
	se := &statusError{code: resp.StatusCode, url: u,
		errCode: resp.Header.Get("X-Error-Code"), errMsg: resp.Header.Get("X-Error-Message")}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		se.retryAfter = s
	}
	return se
}

// retryable reports whether an attempt that failed with err may be retried.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrIntegrity) {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.retryable()
	}
	return true // connection errors, truncated bodies
}

// retry runs attempt until it succeeds, fails for good, or has failed
// Retries times in a row without progress.
func (c *Client) retry(ctx context.Context, attempt func() (progressed bool, err error)) error {
	failures := 0
	for {
		progressed, err := attempt()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (after: %v)", ctx.Err(), err)
		}
		if !retryable(err) {
			return err
		}
		if progressed {
			failures = 0
		}
		failures++
		if failures > c.retries() {
			return fmt.Errorf("giving up after %d attempts: %w", failures, err)
		}
		var hint time.Duration
		var se *statusError
		if errors.As(err, &se) {
			hint = time.Duration(se.retryAfter) * time.Second
		}
		t := time.NewTimer(c.backoff(failures, hint))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func normEtag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// head asks for a file's metadata like huggingface_hub's
// get_hf_file_metadata: HEAD, following relative redirects (a renamed repo)
// but not absolute ones (the CDN), whose Location is where the content is.
func (c *Client) head(ctx context.Context, u string) (*meta, error) {
	hc := *c.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var m *meta
	err := c.retry(ctx, func() (bool, error) {
		cur := u
		for hops := 0; ; hops++ {
			req, err := c.request(ctx, http.MethodHead, cur)
			if err != nil {
				return false, err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return false, err
			}
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
				lu, err := req.URL.Parse(loc)
				if err != nil {
					return false, fmt.Errorf("bad redirect Location %q: %v", loc, err)
				}
				if pl, _ := url.Parse(loc); pl != nil && pl.Host == "" && hops < 10 {
					cur = lu.String()
					continue
				}
				m = parseMeta(resp, lu.String())
				return false, nil
			}
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				return false, newStatusError(resp, cur)
			}
			m = parseMeta(resp, cur)
			return false, nil
		}
	})
	return m, err
}

func parseMeta(resp *http.Response, location string) *meta {
	h := resp.Header
	m := &meta{commit: h.Get("X-Repo-Commit"), size: -1, location: location}
	if le := normEtag(h.Get("X-Linked-Etag")); le != "" {
		m.etag = le
		if isHex(le, 64) {
			m.sha256 = strings.ToLower(le)
		}
	} else {
		m.etag = normEtag(h.Get("ETag"))
	}
	if !safeName(m.etag) {
		m.etag = ""
	}
	sz := h.Get("X-Linked-Size")
	if sz == "" && resp.StatusCode/100 == 2 {
		sz = h.Get("Content-Length")
	}
	if n, err := strconv.ParseInt(sz, 10, 64); err == nil && n >= 0 {
		m.size = n
	}
	return m
}

// download fills tmp with the content at m.location and verifies it. It
// continues an existing tmp when resumable (the blob name is known, so the
// partial bytes are of the same content). It returns the content's sha256.
// An error matching ErrIntegrity means tmp is bad; other errors leave a
// resumable tmp.
func (c *Client) download(ctx context.Context, m *meta, tmp string, resumable bool, rep fileReporter) (string, error) {
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	var n int64
	if resumable {
		if n, err = io.Copy(h, f); err != nil {
			return "", err
		}
	}
	size := m.size
	if !resumable || size >= 0 && n > size {
		if err := restart(f, h, &n); err != nil {
			return "", err
		}
	}
	rep.emit(EventStart, n, false)
	buf := make([]byte, 1<<20)
	err = c.retry(ctx, func() (bool, error) {
		start := n
		err := c.getOnce(ctx, m.location, f, h, &n, &size, buf, rep)
		return n > start, err
	})
	if err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if size >= 0 && n != size {
		return "", fmt.Errorf("%w: got %d bytes, want %d", ErrIntegrity, n, size)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if m.sha256 != "" && sum != m.sha256 {
		return "", fmt.Errorf("%w: sha256 is %s, the server announced %s", ErrIntegrity, sum, m.sha256)
	}
	return sum, f.Close()
}

func restart(f *os.File, h hash.Hash, n *int64) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h.Reset()
	*n = 0
	return nil
}

// getOnce makes one GET, from byte *n on, appending to f. *size is the
// expected size (-1 if unknown; learned from the response then).
func (c *Client) getOnce(ctx context.Context, u string, f *os.File, h hash.Hash, n, size *int64, buf []byte, rep fileReporter) error {
	if *size >= 0 && *n == *size {
		return nil // nothing left; verify what we have
	}
	req, err := c.request(ctx, http.MethodGet, u)
	if err != nil {
		return err
	}
	start0 := *n
	if *n > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", *n))
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var declared int64 = -1 // the full size according to this response
	switch resp.StatusCode {
	case http.StatusOK:
		if *n > 0 { // the server ignored Range: start over
			if err := restart(f, h, n); err != nil {
				return err
			}
			rep.emit(EventStart, 0, false)
		}
		declared = resp.ContentLength
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != *n {
			// Not the bytes we asked for: start over with a plain GET.
			if err := restart(f, h, n); err != nil {
				return err
			}
			return fmt.Errorf("server answered Range bytes=%d- with Content-Range %q", *n, resp.Header.Get("Content-Range"))
		}
		declared = total
	case http.StatusRequestedRangeNotSatisfiable:
		// Our partial file is not a prefix of the content: start over.
		if err := restart(f, h, n); err != nil {
			return err
		}
		return fmt.Errorf("HTTP 416 for Range bytes=%d- from %s; starting over", start0, u)
	default:
		return newStatusError(resp, u)
	}
	if declared >= 0 {
		if *size < 0 {
			*size = declared
			rep.setTotal(declared)
		} else if declared != *size {
			return fmt.Errorf("%w: the server sends %d bytes, it announced %d (X-Linked-Size/Content-Length)", ErrIntegrity, declared, *size)
		}
	}
	for {
		k, rerr := resp.Body.Read(buf)
		if k > 0 {
			if *size >= 0 && *n+int64(k) > *size {
				return fmt.Errorf("%w: the server sends more than the %d bytes it announced", ErrIntegrity, *size)
			}
			if _, err := f.Write(buf[:k]); err != nil {
				return err
			}
			h.Write(buf[:k])
			*n += int64(k)
			rep.emit(EventProgress, *n, false)
		}
		if rerr == io.EOF {
			if *size >= 0 && *n < *size {
				return fmt.Errorf("connection closed at byte %d of %d: %w", *n, *size, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// parseContentRange parses "bytes start-end/total"; total is -1 for "*".
func parseContentRange(s string) (start, total int64, ok bool) {
	s, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}
