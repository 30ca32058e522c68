package hub

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultCacheDir returns the Hugging Face hub cache root the way
// huggingface_hub computes it: $HF_HUB_CACHE, else the legacy
// $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. A leading
// "~" is expanded.
func DefaultCacheDir() (string, error) {
	for _, v := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := os.Getenv(v); d != "" {
			return expandHome(d)
		}
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		d, err := expandHome(d)
		return filepath.Join(d, "hub"), err
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("hub: no cache directory: set HF_HUB_CACHE or HF_HOME: %w", err)
		}
		base = filepath.Join(home, ".cache")
	}
	base, err := expandHome(base)
	return filepath.Join(base, "huggingface", "hub"), err
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: expanding %q: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// repoFolder is the cache folder name of a model repo: "models--org--name".
func repoFolder(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

// validateRepo accepts "name" or "org/name" with the characters and rules
// of huggingface_hub's validate_repo_id, so that a repo id can never name a
// folder outside the cache.
func validateRepo(repo string) error {
	parts := strings.Split(repo, "/")
	if repo == "" || len(parts) > 2 {
		return fmt.Errorf("hub: invalid repo id %q: want \"org/name\"", repo)
	}
	for _, p := range parts {
		if p == "" || len(p) > 96 || strings.Contains(p, "--") || strings.Contains(p, "..") ||
			strings.HasPrefix(p, "-") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, "-") || strings.HasSuffix(p, ".") {
			return fmt.Errorf("hub: invalid repo id %q", repo)
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return fmt.Errorf("hub: invalid repo id %q: character %q", repo, r)
			}
		}
	}
	return nil
}

// validateRel checks a slash-separated relative name (a file path or a
// revision such as "refs/pr/1") so that it stays inside the folder it is
// joined to.
func validateRel(what, s string) error {
	if s == "" {
		return fmt.Errorf("hub: empty %s", what)
	}
	if strings.ContainsAny(s, "\\\x00") || strings.HasPrefix(s, "/") {
		return fmt.Errorf("hub: invalid %s %q", what, s)
	}
	for _, p := range strings.Split(s, "/") {
		if p == "" || p == "." || p == ".." {
			return fmt.Errorf("hub: invalid %s %q", what, s)
		}
	}
	if filepath.VolumeName(s) != "" || strings.Contains(s, ":") && filepath.Separator == '\\' {
		return fmt.Errorf("hub: invalid %s %q", what, s)
	}
	return nil
}

// isCommitHash reports whether rev is a full commit hash (40 hex digits),
// which names immutable content.
func isCommitHash(rev string) bool {
	if len(rev) != 40 {
		return false
	}
	for _, r := range rev {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// safeName reports whether s can be used as one file name in the cache (a
// blob name or a commit folder).
func safeName(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// snapshotPath is where a file of a commit appears.
func snapshotPath(repoDir, commit, path string) string {
	return filepath.Join(repoDir, "snapshots", filepath.FromSlash(commit), filepath.FromSlash(path))
}

// readRef returns the commit a branch or tag name was last resolved to, or "".
func readRef(repoDir, rev string) string {
	b, err := os.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(rev)))
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(b))
	if !safeName(c) {
		return ""
	}
	return c
}

// writeRef records that rev resolved to commit (without a newline, as
// huggingface_hub writes it).
func writeRef(repoDir, rev, commit string) error {
	p := filepath.Join(repoDir, "refs", filepath.FromSlash(rev))
	if readRef(repoDir, rev) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp-" + randSuffix()
	if err := os.WriteFile(tmp, []byte(commit), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// lookupCached returns the snapshot path of a cached file, resolving a branch
// name through refs/. ok is false when the file is not there (a dangling
// symlink counts as absent).
func lookupCached(repoDir, rev, path string) (string, bool) {
	commits := []string{}
	if c := readRef(repoDir, rev); c != "" {
		commits = append(commits, c)
	}
	// A commit hash, or a revision stored under its own name because the
	// server sent no X-Repo-Commit.
	commits = append(commits, rev)
	for _, c := range commits {
		p := snapshotPath(repoDir, c, path)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// symlink is os.Symlink; tests replace it to exercise the copy fallback.
var symlink = os.Symlink

// linkSnapshot makes snap point at blob: a relative symlink as
// huggingface_hub makes it, or a copy of the blob where symlinks fail
// (Windows without developer mode, some file systems). It replaces any
// existing entry atomically.
func linkSnapshot(blob, snap string) error {
	if err := os.MkdirAll(filepath.Dir(snap), 0o755); err != nil {
		return err
	}
	tmp := snap + ".tmp-" + randSuffix()
	target := blob
	if rel, err := filepath.Rel(filepath.Dir(snap), blob); err == nil {
		target = rel
	}
	if err := symlink(target, tmp); err != nil {
		if err := copyFile(blob, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, snap); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func randSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// removeRepo deletes one repo's cache folder and its lock folder.
func removeRepo(root, repo string) error {
	if err := validateRepo(repo); err != nil {
		return err
	}
	var errs []error
	for _, d := range []string{filepath.Join(root, repoFolder(repo)), filepath.Join(root, ".locks", repoFolder(repo))} {
		if err := os.RemoveAll(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("hub: purge %s: %w", repo, errors.Join(errs...))
	}
	return nil
}
