package commands

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/fluxtaskfarm/flux/resources"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// jobsFixture is a job table with one job in each state a listing shows.
func jobsFixture() ([]broker.JobInfo, time.Time) {
	t0 := time.Date(2026, 12, 4, 23, 2, 0, 0, time.UTC)
	id := func(ms uint64, seq uint32) uint64 { return jobid.Make(ms, 42, seq) }
	req := func(n, c int) resources.Request { return resources.Request{Tasks: n, CoresPerTask: c} }
	jobs := []broker.JobInfo{
		{ID: id(60000, 0), State: "pending", Name: "wide_simulation_x", Req: req(64, 1), Submit: t0.Add(time.Minute),
			TimeLimit: time.Hour, Why: "waits for 64 cores; 2 are free"},
		{ID: id(50000, 1), State: "running", Name: "sleep", Req: req(2, 2), Submit: t0.Add(50 * time.Second),
			Start: t0.Add(51 * time.Second), Ranks: "0,1", Cores: "0-1 0-1", Hosts: "node1,node2", TimeLimit: 10 * time.Minute},
		{ID: id(1000, 0), State: "finished", Name: "true", Req: req(1, 1), Submit: t0.Add(time.Second), Start: t0.Add(1100 * time.Millisecond),
			End: t0.Add(1147 * time.Millisecond), Ranks: "0", Hosts: "node1", Cwd: "/home/alice"},
		{ID: id(2000, 0), State: "failed", Name: "sh", Req: req(1, 1), Submit: t0.Add(2 * time.Second), Start: t0.Add(2 * time.Second),
			End: t0.Add(2136 * time.Millisecond), Ranks: "0", Hosts: "node1", Status: 3},
		{ID: id(3000, 0), State: "timeout", Name: "sleep", Req: req(1, 1), Submit: t0.Add(3 * time.Second), Start: t0.Add(3 * time.Second),
			End: t0.Add(3983 * time.Millisecond), Ranks: "1", Hosts: "node2", Status: 143, Signal: 15, TimedOut: true, TimeLimit: time.Second},
		{ID: id(4000, 0), State: "canceled", Name: "held", Req: req(4, 1), Submit: t0.Add(4 * time.Second), End: t0.Add(5 * time.Second),
			Canceled: true, Status: 143, Signal: 15},
		{ID: id(5000, 0), State: "failed", Name: "no_such_command_xyz", Req: req(1, 1), Submit: t0.Add(5 * time.Second),
			Start: t0.Add(5 * time.Second), End: t0.Add(5001 * time.Millisecond), Ranks: "0", Hosts: "node1", Status: 127,
			Note: "no_such_command_xyz: command not found"},
	}
	for i := range jobs {
		jobs[i].Urgency = 16 // Flux's default
	}
	return jobs, t0.Add(2 * time.Minute)
}

func TestJobsGolden(t *testing.T) {
	jobid.Prefix = jobid.PrefixUTF8
	time.Local = time.UTC
	cases := []struct {
		name   string
		opts   jobsOptions
		format string
	}{
		{"default", jobsOptions{}, "default"},
		{"all", jobsOptions{all: true}, "default"},
		{"long", jobsOptions{all: true}, "long"},
		{"deps", jobsOptions{all: true}, "deps"},
		{"endreason", jobsOptions{filter: jobFilter{"INACTIVE": true}}, "endreason"},
		{"fields", jobsOptions{all: true, noHeader: false},
			"{id.f58:>12} {state_single} {status_abbrev} {status} {result} {ntasks} {ncores} {nnodes} {runtime} {exception.note}"},
		{"forms", jobsOptions{filter: jobFilter{"RUN": true}}, "{id} {id.dec} {id.hex} {id.dothex} {id.words}"},
		{"widths", jobsOptions{all: true, noHeader: true},
			"|{name:<6.6+}|{name:>8.3}|{name:^9}|{ntasks:*<4}|{t_submit!d:%H:%M:%S::>10}|{runtime!F:>7h}|{runtime!H}|{t_remaining!F:h}|"},
		{"filter-failed", jobsOptions{filter: jobFilter{"FAILED": true, "TIMEOUT": true}}, "default"},
		{"stats", jobsOptions{all: true, stats: true}, "default"},
		{"count", jobsOptions{all: true, count: 2}, "{id.f58} {name}"},
		{"json", jobsOptions{all: true, json: true}, "default"},
		{"since", jobsOptions{all: true, since: time.Date(2026, 12, 4, 23, 2, 4, 0, time.UTC)}, "{id.f58} {name} {status}"},
		{"name", jobsOptions{all: true, name: "sleep"}, "{id.f58} {name} {status}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jobs, now := jobsFixture()
			f := c.format
			if named, ok := jobFormats[f]; ok {
				f = named
			}
			jf, err := parseJobFormat(f, func(n string) bool { _, ok := jobFields[n]; return ok })
			if err != nil {
				t.Fatal(err)
			}
			o := c.opts
			o.format = jf
			var out, errOut bytes.Buffer
			code, err := writeJobs(&out, &errOut, jobs, &o, now, userInfo{name: "alice", uid: 1000})
			if err != nil || code != 0 {
				t.Fatalf("code %d err %v", code, err)
			}
			got := out.String() + errOut.String()
			golden(t, filepath.Join("testdata", "jobs", c.name+".golden"), got)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestJobsByID(t *testing.T) {
	jobid.Prefix = jobid.PrefixUTF8
	jobs, now := jobsFixture()
	jf, _ := parseJobFormat("{id.f58} {status}", func(string) bool { return true })
	o := &jobsOptions{format: jf, ids: []uint64{jobs[2].ID, 12345}}
	var out, errOut bytes.Buffer
	code, _ := writeJobs(&out, &errOut, jobs, o, now, userInfo{name: "u"})
	if code != 1 || !strings.Contains(out.String(), jobid.String(jobs[2].ID)+" COMPLETED") ||
		!strings.Contains(errOut.String(), "flux jobs: ƒ4fr: no such job") {
		t.Errorf("code %d out %q err %q", code, out.String(), errOut.String())
	}
	// --stats-only: exit 1 without active jobs.
	o = &jobsOptions{format: jf, statsOnly: true}
	out.Reset()
	if code, _ := writeJobs(&out, &errOut, jobs[2:], o, now, userInfo{}); code != 1 ||
		out.String() != "0 running, 1 completed, 4 failed, 0 pending, 0 inactive purged\n" {
		t.Errorf("stats-only: code %d %q", code, out.String())
	}
}

func TestJobFormatErrors(t *testing.T) {
	known := func(n string) bool { _, ok := jobFields[n]; return ok }
	for f, want := range map[string]string{
		"{bogus}":         `unknown field "bogus"`,
		"{id":             "not closed",
		"id}":             "a single }",
		"plain":           "no {field}",
		"{}":              "empty field name",
		"{id!X}":          "unknown conversion !X",
		"{id:>5q}":        "unknown format spec character 'q'",
		"{id:.}":          "a . needs a precision",
		"{id:99999}":      "above 1000",
		"{name!F:>}{id}}": "a single }",
	} {
		if _, err := parseJobFormat(f, known); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", f, err, want)
		}
	}
	for _, f := range []string{"bogus", "running,nope", ""} {
		if _, err := parseJobFilter(f); err == nil {
			t.Errorf("filter %q accepted", f)
		}
	}
}

func TestFSD(t *testing.T) {
	// Pairs from flux-core 0.88's flux.util.fsd.
	for secs, want := range map[float64]string{0: "0s", 0.0004: "0s", 0.047: "0.047s", 0.983: "0.983s", 1.066: "1.066s",
		9.99: "9.990s", 12.3: "12.3s", 59.9: "59.9s", 61: "1.017m", 90: "1.5m", 3599: "59.98m", 3600: "1h", 7200: "2h",
		216000: "2.5d"} {
		if got := fsd(secs); got != want {
			t.Errorf("fsd(%v) = %q, want %q", secs, got, want)
		}
	}
}

func FuzzJobFormat(f *testing.F) {
	for _, s := range jobFormats {
		f.Add(s)
	}
	f.Add("{id:*^20.3+h} {{x}} {t_run!d:%F %T %%::<30}")
	known := func(n string) bool { _, ok := jobFields[n]; return ok }
	jobs, now := jobsFixture()
	f.Fuzz(func(t *testing.T, s string) {
		jf, err := parseJobFormat(s, known)
		if err != nil {
			return
		}
		o := &jobsOptions{all: true, format: jf}
		var out bytes.Buffer
		if _, err := writeJobs(&out, &out, jobs, o, now, userInfo{name: "u"}); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "\n"); n < len(jobs)+1 {
			t.Fatalf("%q: %d lines for %d jobs and a header", s, n, len(jobs))
		}
	})
}
