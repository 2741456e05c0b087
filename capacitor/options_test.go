package capacitor

import (
	"reflect"
	"strings"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		def, line, want []string
	}{
		{nil, nil, nil},
		{[]string{"A=1"}, nil, []string{"A=1"}},
		{nil, []string{"A=1"}, []string{"A=1"}},
		{[]string{"A=1", "B=2"}, []string{"B=3", "C=4"}, []string{"A=1", "B=3", "C=4"}},
		{[]string{"A=1"}, []string{"C=1", "C=2"}, []string{"A=1", "C=2"}},
		{[]string{"A=1"}, []string{"A="}, []string{"A="}},
		{[]string{"AB=1"}, []string{"A=2"}, []string{"AB=1", "A=2"}},
	}
	for _, tt := range tests {
		defCopy := append([]string(nil), tt.def...)
		got := mergeEnv(tt.def, tt.line)
		if len(got) != 0 || len(tt.want) != 0 {
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("mergeEnv(%q, %q) = %q, want %q", tt.def, tt.line, got, tt.want)
			}
		}
		if !reflect.DeepEqual(tt.def, defCopy) && len(defCopy) > 0 {
			t.Errorf("mergeEnv changed the defaults: %q, was %q", tt.def, defCopy)
		}
	}
}

// TestOptionSpellings checks that every spelling of an option reaches the
// same field: short with the value attached or apart, long with = or apart.
func TestOptionSpellings(t *testing.T) {
	groups := [][]string{
		{"-n3", "-n 3", "--ntasks=3", "--ntasks 3"},
		{"-N3 -n3", "-N 3 -n3", "--nodes=3 -n3", "--nodes 3 -n3"},
		{"-c3", "-c 3", "--cores-per-task=3", "--cores-per-task 3"},
		{"-g3", "-g 3", "--gpus-per-task=3", "--gpus-per-task 3"},
		{"-t3", "-t 3", "--time-limit=3", "--time-limit 3", "-t 3m", "-t 180s"},
		{"--cwd=/x", "--cwd /x"},
		{"--env=A=1", "--env A=1"},
		{"--output=x", "--output x"},
		{"-opmi=off", "-o pmi=off", "--setopt=pmi=off", "--setopt pmi=off"},
		{"-l", "--label-io"},
		{"--error=e --output=x", "--error e --output x"},
		{"--job-name=j", "--job-name j"},
		{"--input=in.txt", "--input in.txt"},
		{"--env-remove='X*'", "--env-remove 'X*'", "--env='-X*'"},
	}
	for _, g := range groups {
		var first Line
		for i, opts := range g {
			l, _, err := ParseLine(1, opts+" cmd", Defaults{}, nil)
			if err != nil {
				t.Errorf("%q: %v", opts, err)
				continue
			}
			l.Text = ""
			if i == 0 {
				first = l
				if reflect.DeepEqual(l, mustParse(t, "cmd")) {
					t.Errorf("%q had no effect", opts)
				}
				continue
			}
			if !reflect.DeepEqual(l, first) {
				t.Errorf("%q gives %+v, but %q gives %+v", opts, l, g[0], first)
			}
		}
	}
}

func mustParse(t *testing.T, line string) Line {
	t.Helper()
	l, _, err := ParseLine(1, line, Defaults{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Text = ""
	return l
}

// -o pmi=... is a job shell option, not an output file.
func TestPMIOption(t *testing.T) {
	for _, tc := range []struct{ text, pmi, output, err string }{
		{"-o pmi=off -n2 ./a", "off", "", ""},
		{"-opmi=simple -n2 ./a", "on", "", ""},
		{"-o pmi=bogus ./a", "", "", "pmi takes off, simple or on"},
		{"-o pmi=simple,pmix ./a", "on", "", ""},
		{"-o pmi=pmix ./a", "", "", "a list must name simple"},
		{"--output=pmi=off ./a", "", "pmi=off", ""},
		{"-o out.txt ./a", "", "", "line 1: -o takes KEY=VALUE (a shell option); for an output file use --output FILE"},
	} {
		l, _, err := ParseLine(1, tc.text, Defaults{}, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil || l.PMI != tc.pmi || l.Output != tc.output {
			t.Errorf("%q: pmi %q output %q err %v; want %q %q", tc.text, l.PMI, l.Output, err, tc.pmi, tc.output)
		}
	}
}

// TestJobOptionsTable: the one table of per-job options is consistent, so
// that the line parser and the commands' flags built from it are: names and
// letters are unique, every option of a line has exactly one action and, if
// it takes a value, a sample for its message.
func TestJobOptionsTable(t *testing.T) {
	seen := map[string]bool{}
	kinds := map[optKind]string{}
	for _, o := range JobOptions {
		for _, s := range []string{o.Name, o.Short} {
			if s != "" && seen[s] {
				t.Errorf("%s: spelling %q used twice", o.Name, s)
			}
			seen[s] = true
		}
		if len(o.Short) > 1 || (o.Short != "" && o.Short[0] >= 128) {
			t.Errorf("%s: short spelling %q is not one ASCII letter", o.Name, o.Short)
		}
		if o.Scope == 0 || (o.Scope&OnLine == 0) != (o.kind == optNone) {
			t.Errorf("%s: scope %b with action %d: a line option needs an action and only it", o.Name, o.Scope, o.kind)
		}
		if o.Scope&(OnJobFlags|OnSubmitFlags) != 0 && o.Usage == "" {
			t.Errorf("%s: a flag without help text", o.Name)
		}
		if o.Scope&OnLine != 0 && o.Value != Switch && o.example == "" {
			t.Errorf("%s: no sample value for its messages", o.Name)
		}
		if o.kind != optNone {
			if other, dup := kinds[o.kind]; dup {
				t.Errorf("%s and %s share action %d", other, o.Name, o.kind)
			}
			kinds[o.kind] = o.Name
		}
	}
	if len(kinds) != int(optDependency) {
		t.Errorf("%d actions have an option, want %d", len(kinds), optDependency)
	}
	for _, name := range []string{"n", "ntasks", "l", "label-io", "retries"} {
		if o := LookupOption(name); o == nil || (o.Name != name && o.Short != name) {
			t.Errorf("LookupOption(%q) = %v", name, o)
		}
	}
	if o := LookupOption("x"); o != nil {
		t.Errorf("LookupOption(x) = %v", o)
	}
}
