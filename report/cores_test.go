package report

import "testing"

func TestLineCores(t *testing.T) {
	tests := []struct {
		defaults, cmd string
		want          int
	}{
		{"", "sleep 1", 1},
		{"", "-n4 -c2 ./app", 8},
		{"", "-n 4 ./app", 4},
		{"", "--ntasks=3 --cores-per-task 2 ./app", 6},
		{"", "-N2 ./app", 2},
		{"", "-t 10m -c4 ./app", 4},
		{"", "-n2 'quoted app'", 2},
		{"", "-n2", 1},                // no command: the parser refuses it, default
		{"", "--frobnicate ./app", 1}, // unknown option: default
		{"", "-- -n4", 1},
		{"-c2", "sleep 1", 2},
		{"-c2", "-n3 ./app", 6},
		{"-n2 -c2", "-c1 ./app", 2},
		{"-c2", "-N2 ./app", 4},
	}
	for _, tt := range tests {
		lc, err := newLineCores(tt.defaults)
		if err != nil {
			t.Fatal(err)
		}
		// Twice: the second answer comes from the cache.
		for i := 0; i < 2; i++ {
			if got := lc.cores([]byte(tt.cmd)); got != tt.want {
				t.Errorf("defaults %q, line %q: %d cores (try %d), want %d", tt.defaults, tt.cmd, got, i+1, tt.want)
			}
		}
	}
}

// TestLineCoresCacheKey: lines that differ in their options never share a
// cache entry, whatever order they come in.
func TestLineCoresCacheKey(t *testing.T) {
	lines := []string{"-n4 a", "-n 4 a", "-n 8 a", "-n8 a", "-n 4 -c2 a", "-n 4 -c 2 a", "-c2 -n4 a",
		"--urgency 5 -n4 a", "--urgency 5 a", "-t 1 a", "-t 1 -n3 a", "-o x -n2 a", "-n  4 a", "-n\t4 a"}
	fresh := func(s string) int {
		lc, _ := newLineCores("")
		return lc.cores([]byte(s))
	}
	lc, _ := newLineCores("")
	for round := 0; round < 2; round++ {
		for _, s := range lines {
			if got, want := lc.cores([]byte(s)), fresh(s); got != want {
				t.Errorf("%q: %d cores through the cache, %d without", s, got, want)
			}
		}
	}
}

func TestLineCoresBadDefaults(t *testing.T) {
	for _, d := range []string{"-n", "-c x", "./app"} {
		if _, err := newLineCores(d); err == nil {
			t.Errorf("--defaults %q accepted", d)
		}
	}
}

// FuzzLineCores: the cache never changes an answer. A line is asked after
// a first line that shares its start, and must get what a fresh parse of
// it gives.
func FuzzLineCores(f *testing.F) {
	f.Add("-n4 a", "-n 4 -c2 a")
	f.Add("-n 4 a", "-n 48 a")
	f.Add("--urgency 5 -n4 a", "--urgency 5 a")
	f.Add("-t 1 -c3 x", "-t 1 -c 3 x")
	f.Add("-o x=1 -N2 a", "-o 'x -n4' a")
	f.Fuzz(func(t *testing.T, first, second string) {
		lc, _ := newLineCores("")
		lc.cores([]byte(first))
		got := lc.cores([]byte(second))
		fresh, _ := newLineCores("")
		fresh.cache = make(map[string]int)
		want := fresh.cores([]byte(second))
		if got != want {
			t.Fatalf("after %q, %q has %d cores; alone %d", first, second, got, want)
		}
	})
}
