package hub

import (
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventStart: a file's transfer begins. Done is above zero when a
	// partial download is resumed.
	EventStart EventKind = iota
	// EventProgress: bytes arrived. Sent at most every progressEvery bytes or
	// progressInterval per file.
	EventProgress
	// EventWait: another goroutine or process is downloading the same blob;
	// this one waits for it.
	EventWait
	// EventDone: the file is in place (downloaded, or found in the cache;
	// then Cached is set). Done == Total and Approx is false.
	EventDone
)

func (k EventKind) String() string {
	switch k {
	case EventStart:
		return "start"
	case EventProgress:
		return "progress"
	case EventWait:
		return "wait"
	case EventDone:
		return "done"
	}
	return "unknown"
}

// Event reports download progress. The callback gets events one at a time,
// never concurrently, and should return quickly.
type Event struct {
	Kind   EventKind
	Repo   string
	Path   string // the current file's path in its repo
	Index  int    // the file's index in the FetchAll list (0 for Fetch)
	Cached bool   // EventDone only: the file was already in the cache

	// Done and Total are the current file's bytes. Total comes from the
	// server (Approx false) or, before the server said or when it never
	// does, from File.Size (Approx true; 0 when unknown). Done may go back
	// to 0 when a server ignores a Range request and the file restarts.
	Done, Total int64
	Approx      bool

	// AllDone and AllTotal add up all files of the FetchAll call (for Fetch
	// they equal Done and Total). AllApprox is set while any file's size is
	// approximate.
	AllDone, AllTotal int64
	AllApprox         bool
}

const (
	progressEvery    = 4 << 20
	progressInterval = 200 * time.Millisecond
)

type fileState struct {
	done, total  int64
	approx       bool
	lastDone     int64
	lastEmitTime time.Time
}

// reporter keeps per-file counts and serializes the callback.
type reporter struct {
	mu    sync.Mutex
	fn    func(Event)
	files []File
	st    []fileState
}

func newReporter(fn func(Event), files []File) *reporter {
	r := &reporter{fn: fn, files: files, st: make([]fileState, len(files))}
	for i, f := range files {
		r.st[i] = fileState{total: f.Size, approx: true}
	}
	return r
}

// fileReporter is one file's handle on a reporter.
type fileReporter struct {
	r *reporter
	i int
}

func (r *reporter) file(i int) fileReporter { return fileReporter{r, i} }

// setTotal records the server's size (n >= 0) for the file.
func (f fileReporter) setTotal(n int64) {
	if f.r == nil || n < 0 {
		return
	}
	f.r.mu.Lock()
	f.r.st[f.i].total, f.r.st[f.i].approx = n, false
	f.r.mu.Unlock()
}

func (f fileReporter) emit(kind EventKind, done int64, cached bool) {
	if f.r == nil {
		return
	}
	r := f.r
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.st[f.i]
	s.done = done
	if kind == EventDone {
		s.total, s.approx = done, false
	}
	if kind == EventProgress {
		now := time.Now()
		if done-s.lastDone < progressEvery && now.Sub(s.lastEmitTime) < progressInterval {
			return
		}
	}
	s.lastDone, s.lastEmitTime = done, time.Now()
	if r.fn == nil {
		return
	}
	ev := Event{Kind: kind, Repo: r.files[f.i].Repo, Path: r.files[f.i].Path, Index: f.i, Cached: cached,
		Done: s.done, Total: s.total, Approx: s.approx}
	for _, o := range r.st {
		ev.AllDone += o.done
		t := o.total
		if o.done > t {
			t = o.done
		}
		ev.AllTotal += t
		ev.AllApprox = ev.AllApprox || o.approx
	}
	r.fn(ev)
}
