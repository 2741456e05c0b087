package launcher

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.Mkdir(a, 0o755)
	os.Mkdir(b, 0o755)
	os.WriteFile(filepath.Join(a, "tool"), []byte("x"), 0o644) // not executable: skipped
	os.WriteFile(filepath.Join(b, "tool"), []byte("x"), 0o755)
	os.WriteFile(filepath.Join(a, "only"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(b, "adir"), 0o755)
	os.WriteFile(filepath.Join(b, "rel"), []byte("x"), 0o755)
	path := a + ":" + b

	cases := []struct {
		name, path, cwd, file string
		status                int
	}{
		{"tool", path, "", filepath.Join(b, "tool"), 0},
		{"only", path, "", "", 126},
		{"adir", path, "", "", 127},
		{"missing", path, "", "", 127},
		{"rel", "b", dir, "b/rel", 0}, // relative PATH entries resolve against the task's cwd
	}
	for _, c := range cases {
		file, status := lookPath(c.name, c.path, c.cwd)
		if file != c.file || status != c.status {
			t.Errorf("lookPath(%q, %q) = %q, %d; want %q, %d", c.name, c.path, file, status, c.file, c.status)
		}
	}

	// Hits are cached: the file is found again after it is removed...
	os.Remove(filepath.Join(b, "tool"))
	if file, _ := lookPath("tool", path, ""); file != filepath.Join(b, "tool") {
		t.Errorf("cached lookup = %q", file)
	}
	// ...until the caller reports it stale.
	forgetPath(path, "tool")
	if _, status := lookPath("tool", path, ""); status != 126 {
		t.Errorf("after forgetPath: status %d, want 126", status)
	}
	// Misses are not cached.
	os.WriteFile(filepath.Join(b, "missing"), []byte("x"), 0o755)
	if file, _ := lookPath("missing", path, ""); file != filepath.Join(b, "missing") {
		t.Errorf("new file not found: %q", file)
	}
	// Relative-directory hits are not cached.
	if _, ok := pathCache.m[pathKey{"b", "rel"}]; ok {
		t.Error("relative PATH hit was cached")
	}
}

func TestPathCacheBounded(t *testing.T) {
	for i := range 3 * pathCacheSize {
		cachePath(pathKey{"/p", string(rune('a'+i%26)) + string(rune(i))}, "/x")
	}
	pathCache.mu.Lock()
	n := len(pathCache.m)
	pathCache.mu.Unlock()
	if n > pathCacheSize {
		t.Errorf("cache holds %d entries, limit %d", n, pathCacheSize)
	}
}

func TestStaleCacheEntry(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "flaky")
	os.WriteFile(tool, []byte("#!/bin/sh\nexit 3\n"), 0o755)
	l := New(Options{})
	env := []string{"PATH=" + dir}
	if r := run(t, l, &Spec{JobID: 1, Argv: []string{"flaky"}, Env: env, Tasks: tasks(1)}); r.Status != 3 {
		t.Fatalf("status %d err %q", r.Status, r.Err)
	}
	os.Remove(tool)
	if r := run(t, l, &Spec{JobID: 2, Argv: []string{"flaky"}, Env: env, Tasks: tasks(1)}); r.Status != 127 || r.Err != "flaky: command not found" {
		t.Errorf("removed command: status %d err %q", r.Status, r.Err)
	}
	os.WriteFile(tool, []byte("#!/bin/sh\nexit 4\n"), 0o755)
	if r := run(t, l, &Spec{JobID: 3, Argv: []string{"flaky"}, Env: env, Tasks: tasks(1)}); r.Status != 4 {
		t.Errorf("reinstalled command: status %d err %q", r.Status, r.Err)
	}
}
