package rundir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestRegisterListRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	t.Setenv("FLUX_RUNDIR", dir)
	r, err := Register(Entry{URI: "local:///a", Name: "flux-capacitor"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("run directory: %v %v, want mode 0700", st.Mode(), err)
	}
	if err := r.Update(map[string]int{"done": 3}); err != nil {
		t.Fatal(err)
	}
	all, err := List()
	if err != nil || len(all) != 1 || all[0].PID != os.Getpid() || string(all[0].Progress) != `{"done":3}` {
		t.Fatalf("List = %+v, %v", all, err)
	}

	// An entry whose process is gone is skipped and removed.
	c := exec.Command("true")
	c.Run()
	dead := filepath.Join(dir, strconv.Itoa(c.Process.Pid)+".json")
	os.WriteFile(dead, []byte(`{"pid":`+strconv.Itoa(c.Process.Pid)+`,"uri":"local:///dead"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "junk.json"), []byte(`not json`), 0o600)
	if all, _ := List(); len(all) != 1 {
		t.Errorf("List with a dead entry = %+v, want only the live one", all)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead entry was not removed: %v", err)
	}
	r.Remove()
	if all, _ := List(); len(all) != 0 {
		t.Errorf("after Remove: %+v", all)
	}
}

func TestUnsafeDirRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	os.Mkdir(dir, 0o777)
	os.Chmod(dir, 0o777)
	t.Setenv("FLUX_RUNDIR", dir)
	if _, err := Register(Entry{URI: "local:///a"}); err == nil {
		t.Error("Register in a world-writable directory succeeded")
	}
	if _, err := List(); err == nil {
		t.Error("List of a world-writable directory succeeded")
	}
}

func TestTopsAndChild(t *testing.T) {
	all := []Entry{
		{PID: 1, URI: "u1", Name: "flux start"},
		{PID: 2, URI: "u1", Name: "flux-capacitor", Progress: []byte(`{}`)}, // inside flux start: one instance
		{PID: 3, URI: "c1", Name: "flux start", ParentURI: "u1", JobID: "7"},
		{PID: 4, URI: "u2", Name: "flux-hierarchy"},
		{PID: 5, URI: "c2", Name: "flux start", ParentURI: "gone", JobID: "1"}, // its parent is not here
	}
	tops := Tops(all)
	if len(tops) != 3 || tops[0].PID != 2 || tops[1].PID != 4 || tops[2].PID != 5 {
		t.Errorf("Tops = %+v, want the capacitor (not its flux start), the hierarchy, the orphan", tops)
	}
	if e, ok := Child(all, "u1", 7); !ok || e.URI != "c1" {
		t.Errorf("Child(u1, 7) = %+v %v", e, ok)
	}
	if _, ok := Child(all, "u2", 7); ok {
		t.Error("Child(u2, 7) found a job of another instance")
	}
	if e, _ := Best(all, "u1"); e.PID != 2 {
		t.Errorf("Best(u1) = %+v, want the one with progress", e)
	}
}

func TestParseJobID(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"7", 7, true}, {"jobid:7", 7, true}, {"ƒ1", 0, true}, {"f2", 1, true}, {"ƒz", 57, true}, {"ƒ21", 58, true},
		{"ƒ", 0, false}, {"f0", 0, false}, {"ƒzzzzzzzzzzzzz", 0, false}, {"x", 0, false}, {"", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseJobID(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseJobID(%q) = %d %v, want %d %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
