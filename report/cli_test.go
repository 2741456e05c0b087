package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want Args
		err  string
	}{
		{args: []string{"run.log", "-o", "r.html"}, want: Args{Log: "run.log", Out: "r.html"}},
		{args: []string{"-o", "r.svg", "run.log"}, want: Args{Log: "run.log", Out: "r.svg"}},
		{args: []string{"-or.png", "run.log"}, want: Args{Log: "run.log", Out: "r.png"}},
		{args: []string{"--output=r.png", "-", "--cores", "64", "--top=5"}, want: Args{Log: "-", Out: "r.png", Opt: Options{Cores: 64, TopK: 5}}},
		{args: []string{"--stats", "s.json", "--defaults", "-c2", "--title", "T", "-o", "x.html", "--", "-weird.log"},
			want: Args{Log: "-weird.log", Out: "x.html", Stats: "s.json", Opt: Options{Defaults: "-c2", Title: "T"}}},
		{args: []string{"--help"}, want: Args{Help: true}},
		{args: []string{"-o", "r.html"}, err: "give the job log to read"},
		{args: []string{"a.log", "b.log", "-o", "r.html"}, err: "one job log at a time, got 2"},
		{args: []string{"a.log"}, err: "give the report to write with -o"},
		{args: []string{"a.log", "-o"}, err: "-o needs a value"},
		{args: []string{"a.log", "-o", "r.html", "--cores", "0"}, err: `--cores "0": want a whole number from 1`},
		{args: []string{"a.log", "-o", "r.html", "--top", "5000"}, err: `--top "5000": want a whole number from 1 to 1000`},
		{args: []string{"a.log", "-o", "r.html", "--colour", "red"}, err: "unknown option --colour"},
		{args: []string{"a.log", "-output", "r.html"}, want: Args{Log: "a.log", Out: "r.html"}},
	}
	for _, tt := range tests {
		got, err := ParseArgs(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if tt.want.Opt.TopK == 0 {
			tt.want.Opt.TopK = DefaultTopK
		}
		if got != tt.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, got, tt.want)
		}
	}
}

func TestMainExitStatus(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "USAGE:") {
		t.Errorf("--help: %d %q", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"nope.log", "-o", t.TempDir() + "/r.html"}, &out, &errb); code != 2 ||
		!strings.HasPrefix(errb.String(), "flux report: job log: open nope.log") || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("missing log: %d %q", code, errb.String())
	}
}
