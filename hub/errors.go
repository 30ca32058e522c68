package hub

import (
	"errors"
	"fmt"
)

// Sentinel errors. A *FileError wraps one of them (or a context, I/O or
// network error); test with errors.Is.
var (
	// ErrNotFound: the server answered 404, or 401 with a RepoNotFound code
	// (the Hub answers so for missing and for private repos alike).
	ErrNotFound = errors.New("not found")
	// ErrAccessDenied: the server answered 401 or 403 (private or gated repo,
	// missing or wrong token).
	ErrAccessDenied = errors.New("access denied")
	// ErrNotCached: offline, and the file is not in the local cache.
	ErrNotCached = errors.New("not in the local cache")
	// ErrIntegrity: the downloaded bytes do not match the size or the sha256
	// the server announced. The partial file has been deleted.
	ErrIntegrity = errors.New("integrity check failed")
)

// FileError reports a failure to fetch one file.
type FileError struct {
	Repo     string
	Revision string
	Path     string
	URL      string // the URL involved, if any
	Status   int    // the HTTP status code, 0 if the failure was not an HTTP answer
	Err      error
}

func (e *FileError) Error() string {
	return fmt.Sprintf("hub: %s (repo %s, revision %s): %v", e.Path, e.Repo, e.Revision, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// statusError is an HTTP answer we did not expect.
type statusError struct {
	code       int
	url        string
	errCode    string // the Hub's X-Error-Code header
	errMsg     string // the Hub's X-Error-Message header
	retryAfter int    // seconds from Retry-After, 0 if absent
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("HTTP %d from %s", e.code, e.url)
	if e.errMsg != "" {
		s += " (" + e.errMsg + ")"
	}
	return s
}

func (e *statusError) retryable() bool {
	return e.code == 429 || e.code >= 500
}

// describe turns a status error into the error a caller sees, with what to
// check.
func (e *statusError) describe() error {
	switch {
	case e.code == 404 || (e.code == 401 && e.errCode == "RepoNotFound"):
		var hint string
		switch e.errCode {
		case "RepoNotFound":
			hint = "the repo does not exist or is private: check the repo id (org/name), and set Client.Token if it is private"
		case "RevisionNotFound":
			hint = "the revision does not exist in the repo: check the commit hash, branch or tag"
		case "EntryNotFound":
			hint = "the repo has no such file at this revision: check the path (case-sensitive) and the revision"
		default:
			hint = "check the repo id, the revision and the file path (case-sensitive)"
		}
		return fmt.Errorf("%w: %v; %s", ErrNotFound, e, hint)
	case e.code == 401 || e.code == 403:
		hint := "the repo may be private or gated: set Client.Token to a Hugging Face access token that may read it"
		if e.errCode == "GatedRepo" {
			hint = "the repo is gated: accept its terms on its Hub page and set Client.Token to a token of that account"
		}
		return fmt.Errorf("%w: %v; %s", ErrAccessDenied, e, hint)
	}
	return e
}
