package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Entry describes one running instance, or a run attached to one.
type Entry struct {
	PID       int             `json:"pid"`
	URI       string          `json:"uri"`
	Name      string          `json:"name"`                 // flux-capacitor, flux-hierarchy, flux start
	Args      string          `json:"args,omitempty"`       // the command line, shortened, for choosing
	Started   time.Time       `json:"started"`              // when the process started
	ParentURI string          `json:"parent_uri,omitempty"` // the instance this one is a job of
	JobID     string          `json:"jobid,omitempty"`      // its job id there (FLUX_JOB_ID)
	Progress  json.RawMessage `json:"progress,omitempty"`   // a capacitor's capacitor.Progress
}

// Dir is the per-user directory: $XDG_RUNTIME_DIR/flux, else
// $TMPDIR/flux-UID. FLUX_RUNDIR overrides it (tests).
func Dir() string {
	if d := os.Getenv("FLUX_RUNDIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "flux")
	}
	return filepath.Join(os.TempDir(), "flux-"+strconv.Itoa(os.Getuid()))
}

// ensure creates the directory 0700, and refuses one that another user owns
// or others may write to (in /tmp anyone could have made it first).
func ensure(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return check(dir)
}

func check(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || !ok || int(sys.Uid) != os.Getuid() || st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is not a private directory of this user (it must be owned by uid %d, mode 0700); remove it", dir, os.Getuid())
	}
	return nil
}

// Registration is this process's entry; Update rewrites it, Remove deletes it.
type Registration struct {
	path string
	e    Entry
}

// Register writes e (its PID and Started filled in) into the directory.
func Register(e Entry) (*Registration, error) {
	dir := Dir()
	if err := ensure(dir); err != nil {
		return nil, err
	}
	e.PID = os.Getpid()
	if e.Started.IsZero() {
		e.Started = time.Now()
	}
	r := &Registration{path: filepath.Join(dir, strconv.Itoa(e.PID)+".json"), e: e}
	return r, r.write()
}

// Update replaces the progress in the entry.
func (r *Registration) Update(progress any) error {
	if r == nil {
		return nil
	}
	b, err := json.Marshal(progress)
	if err != nil {
		return err
	}
	r.e.Progress = b
	return r.write()
}

func (r *Registration) write() error {
	b, err := json.Marshal(&r.e)
	if err != nil {
		return err
	}
	// Readers see the old file or the new one, never half of one.
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.path)
}

// Remove deletes the entry.
func (r *Registration) Remove() {
	if r != nil {
		os.Remove(r.path)
	}
}

// List reads the entries of live processes, oldest first; entries of
// processes that are gone are removed.
func List() ([]Entry, error) {
	dir := Dir()
	names, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := check(dir); err != nil {
		return nil, err
	}
	var out []Entry
	for _, n := range names {
		if pid, ok := strings.CutSuffix(n.Name(), ".json.tmp"); ok {
			// Left by a process that died between writing and renaming.
			if p, err := strconv.Atoi(pid); err == nil && !alive(p) {
				os.Remove(filepath.Join(dir, n.Name()))
			}
			continue
		}
		if !strings.HasSuffix(n.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, n.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var e Entry
		if json.Unmarshal(b, &e) != nil || e.PID <= 0 {
			continue
		}
		if !alive(e.PID) {
			os.Remove(path)
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Tops are the instances a user would mean: those that are not a child
// instance of another one here, one entry per URI (a capacitor's, which
// has progress, rather than the flux start around it).
func Tops(all []Entry) []Entry {
	parents := map[string]bool{}
	for _, e := range all {
		parents[e.URI] = true
	}
	byURI := map[string]int{}
	var out []Entry
	for _, e := range all {
		if e.ParentURI != "" && parents[e.ParentURI] {
			continue
		}
		if i, ok := byURI[e.URI]; ok {
			if out[i].Progress == nil && e.Progress != nil || out[i].Name == "flux start" && e.Name != "flux start" {
				out[i] = e
			}
			continue
		}
		byURI[e.URI] = len(out)
		out = append(out, e)
	}
	return out
}

// Best is the entry for uri with the most to show (a capacitor's progress).
func Best(all []Entry, uri string) (Entry, bool) {
	var best Entry
	found := false
	for _, e := range all {
		if e.URI != uri {
			continue
		}
		if !found || best.Progress == nil && e.Progress != nil {
			best, found = e, true
		}
	}
	return best, found
}

// Child finds the child instance that runs as job id of the instance at
// parentURI.
func Child(all []Entry, parentURI string, id uint64) (Entry, bool) {
	for _, e := range all {
		if e.ParentURI != parentURI {
			continue
		}
		if n, ok := ParseJobID(e.JobID); ok && n == id {
			return e, true
		}
	}
	return Entry{}, false
}

// Describe is one line naming an entry, for choosing among several.
func (e Entry) Describe() string {
	s := fmt.Sprintf("pid %d  %s  started %s  %s", e.PID, e.Name, e.Started.Format("15:04:05"), e.URI)
	if e.Args != "" {
		s += "  (" + e.Args + ")"
	}
	return s
}
