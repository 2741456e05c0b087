package capacitor

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

func testGetenv(k string) string {
	if k == "HOME" {
		return "/home/u"
	}
	return ""
}

// lineWant is the part of a Line a table row checks; zero fields are checked too.
type lineWant struct {
	req     resources.Request
	limit   time.Duration
	cwd     string
	env     []string
	output  string
	labelIO bool
	argv    []string
	shell   bool
	command string
}

func tasksReq(tasks int) resources.Request { return resources.Request{Tasks: tasks, CoresPerTask: 1} }

func wantDirect(cmd string, argv ...string) lineWant {
	return lineWant{req: tasksReq(1), argv: argv, command: cmd}
}

func wantShell(cmd string) lineWant {
	return lineWant{req: tasksReq(1), argv: []string{"/bin/sh", "-c", cmd}, shell: true, command: cmd}
}

func TestParseLineOptions(t *testing.T) {
	with := func(w lineWant, f func(*lineWant)) lineWant { f(&w); return w }
	tests := []struct {
		line string
		want lineWant
	}{
		{"-n1 true", wantDirect("true", "true")},
		{"-n4 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = tasksReq(4) })},
		{"-n 4 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = tasksReq(4) })},
		{"--ntasks=4 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = tasksReq(4) })},
		{"--ntasks 4 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = tasksReq(4) })},
		{"'-n' \"4\" true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = tasksReq(4) })},
		{"-N2 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = resources.Request{Nodes: 2, Tasks: 2, CoresPerTask: 1, Exclusive: true} })}, // -N alone: whole nodes
		{"--nodes=2 -n 8 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = resources.Request{Nodes: 2, Tasks: 8, CoresPerTask: 1} })},
		{"--nodes 2 -n2 true", with(wantDirect("true", "true"), func(w *lineWant) { w.req = resources.Request{Nodes: 2, Tasks: 2, CoresPerTask: 1} })},
		{"-c4 make", with(wantDirect("make", "make"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 4} })},
		{"-c 4 make", with(wantDirect("make", "make"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 4} })},
		{"--cores-per-task=4 -n2 make", with(wantDirect("make", "make"), func(w *lineWant) { w.req = resources.Request{Tasks: 2, CoresPerTask: 4} })},
		{"--cores-per-task 3 make", with(wantDirect("make", "make"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 3} })},
		{"-g1 train", with(wantDirect("train", "train"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 1} })},
		{"-g 2 train", with(wantDirect("train", "train"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 2} })},
		{"--gpus-per-task=2 train", with(wantDirect("train", "train"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 2} })},
		{"--gpus-per-task 1 train", with(wantDirect("train", "train"), func(w *lineWant) { w.req = resources.Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 1} })},
		{"-t 30s sim", with(wantDirect("sim", "sim"), func(w *lineWant) { w.limit = 30 * time.Second })},
		{"-t2m sim", with(wantDirect("sim", "sim"), func(w *lineWant) { w.limit = 2 * time.Minute })},
		{"--time-limit=1.5h sim", with(wantDirect("sim", "sim"), func(w *lineWant) { w.limit = 90 * time.Minute })},
		{"--time-limit 90 sim", with(wantDirect("sim", "sim"), func(w *lineWant) { w.limit = 90 * time.Minute })},
		{"--cwd /scratch/a ls", with(wantDirect("ls", "ls"), func(w *lineWant) { w.cwd = "/scratch/a" })},
		{"--cwd='/my dir' ls", with(wantDirect("ls", "ls"), func(w *lineWant) { w.cwd = "/my dir" })},
		{"--env A=1 env", with(wantDirect("env", "env"), func(w *lineWant) { w.env = []string{"D=0", "A=1"} })},
		{"--env=A=1 --env D=9 env", with(wantDirect("env", "env"), func(w *lineWant) { w.env = []string{"D=9", "A=1"} })},
		{"--env HOME env", with(wantDirect("env", "env"), func(w *lineWant) { w.env = []string{"D=0", "HOME=/home/u"} })},
		{"--env A=1 --env A=2 env", with(wantDirect("env", "env"), func(w *lineWant) { w.env = []string{"D=0", "A=2"} })},
		{"--env 'A=x y' env", with(wantDirect("env", "env"), func(w *lineWant) { w.env = []string{"D=0", "A=x y"} })},
		{"-l hostname", with(wantDirect("hostname", "hostname"), func(w *lineWant) { w.labelIO = true })},
		{"--output=o.log hostname", with(wantDirect("hostname", "hostname"), func(w *lineWant) { w.output = "o.log" })},
		{"--output o.log hostname", with(wantDirect("hostname", "hostname"), func(w *lineWant) { w.output = "o.log" })},
		{"--label-io hostname", with(wantDirect("hostname", "hostname"), func(w *lineWant) { w.labelIO = true })},
		{"-n1 -- -weird name", wantDirect("-weird name", "-weird", "name")},
		{"-- -n1", wantDirect("-n1", "-n1")},
		{"-n1 tar -cf a.tgz a", wantDirect("tar -cf a.tgz a", "tar", "-cf", "a.tgz", "a")},
		{"  -n1\ttrue  \r\n", wantDirect("true", "true")},
		{"-n1 - x", wantDirect("- x", "-", "x")},
		{"-n 2 -c 2 -g 1 -t 1h --cwd /w --env A=1 --output log --label-io -- run it", lineWant{
			req: resources.Request{Tasks: 2, CoresPerTask: 2, GPUsPerTask: 1}, limit: time.Hour, cwd: "/w",
			env: []string{"D=0", "A=1"}, output: "log", labelIO: true, argv: []string{"run", "it"}, command: "run it"}},
	}
	def := Defaults{Env: []string{"D=0"}}
	for _, tt := range tests {
		l, skip, err := ParseLine(7, tt.line, def, testGetenv)
		if err != nil || skip {
			t.Errorf("%q: skip=%v err=%v", tt.line, skip, err)
			continue
		}
		checkLine(t, tt.line, l, tt.want, []string{"D=0"})
	}
}

func checkLine(t *testing.T, line string, l Line, w lineWant, defEnv []string) {
	t.Helper()
	if w.env == nil {
		w.env = defEnv
	}
	got := lineWant{l.Req, l.TimeLimit, l.Cwd, l.Env, l.Output, l.LabelIO, l.Argv, l.Shell, l.Command}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%q:\n got %+v\nwant %+v", line, got, w)
	}
	if l.Seq != 7 || l.Text != strings.Trim(line, " \t\r\n") {
		t.Errorf("%q: Seq %d Text %q", line, l.Seq, l.Text)
	}
}

func TestParseLineShellOrDirect(t *testing.T) {
	tests := []struct {
		line string
		want lineWant
	}{
		{"echo a | wc -l", wantShell("echo a | wc -l")},
		{"echo $HOME", wantShell("echo $HOME")},
		{"echo ${HOME}", wantShell("echo ${HOME}")},
		{"ls *.txt", wantShell("ls *.txt")},
		{"ls a?", wantShell("ls a?")},
		{"ls [ab]", wantShell("ls [ab]")},
		{"ls ~/x", wantShell("ls ~/x")},
		{"echo {a,b}", wantShell("echo {a,b}")},
		{"echo a\\ b", wantShell("echo a\\ b")},
		{"echo `date`", wantShell("echo `date`")},
		{"echo $(date)", wantShell("echo $(date)")},
		{"echo \"$HOME\"", wantShell("echo \"$HOME\"")},
		{"echo $'a\\tb'", wantShell("echo $'a\\tb'")},
		{"FOO=1 env", wantShell("FOO=1 env")},
		{"-n1 FOO=1 env", wantShell("FOO=1 env")},
		{"cd /tmp && ls", wantShell("cd /tmp && ls")},
		{"cd /tmp", wantShell("cd /tmp")},
		{"exit 3", wantShell("exit 3")},
		{"true; false", wantShell("true; false")},
		{"sleep 10 &", wantShell("sleep 10 &")},
		{"! true", wantShell("! true")},
		{"echo hi > out", wantShell("echo hi > out")},
		{"-n1 >out echo hi", wantShell(">out echo hi")},
		{"(cd /tmp; ls)", wantShell("(cd /tmp; ls)")},
		{"-n1 for f in a b; do echo $f; done", wantShell("for f in a b; do echo $f; done")},
		{"-n1 if true; then echo y; fi", wantShell("if true; then echo y; fi")},
		{"time sleep 1", wantShell("time sleep 1")},
		{"export A=1", wantShell("export A=1")},
		{"diff <(sort a) <(sort b)", wantShell("diff <(sort a) <(sort b)")},
		{"echo \"a b\"", wantDirect("echo \"a b\"", "echo", "a b")},
		{"echo 'x'", wantDirect("echo 'x'", "echo", "x")},
		{"echo 'a $b' \"c'd\" e\"f\"g", wantDirect("echo 'a $b' \"c'd\" e\"f\"g", "echo", "a $b", "c'd", "efg")},
		{"echo ''", wantDirect("echo ''", "echo", "")},
		{"sleep 1 # comment", wantDirect("sleep 1 # comment", "sleep", "1")},
		{"a=b", wantShell("a=b")},
		{"x a=b", wantDirect("x a=b", "x", "a=b")},
		{"/usr/bin/env -i a=b", wantDirect("/usr/bin/env -i a=b", "/usr/bin/env", "-i", "a=b")},
		{"echo é", wantDirect("echo é", "echo", "é")},
		{"-n1 'my prog' --flag", wantDirect("'my prog' --flag", "my prog", "--flag")},
	}
	for _, tt := range tests {
		l, skip, err := ParseLine(7, tt.line, Defaults{}, testGetenv)
		if err != nil || skip {
			t.Errorf("%q: skip=%v err=%v", tt.line, skip, err)
			continue
		}
		checkLine(t, tt.line, l, tt.want, nil)
	}
}

func TestParseLineSkip(t *testing.T) {
	for _, line := range []string{"", "   ", "\n", "\t\r\n", "# comment", "   # indented -n1 x", "#"} {
		l, skip, err := ParseLine(3, line, Defaults{}, nil)
		if !skip || err != nil || l.Seq != 3 {
			t.Errorf("%q: skip=%v err=%v seq=%d, want a skipped line 3", line, skip, err, l.Seq)
		}
	}
	if _, skip, _ := ParseLine(1, "true # not skipped", Defaults{}, nil); skip {
		t.Error("a command with a trailing comment was skipped")
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct{ line, msg string }{
		{"-x a", "unknown option -x; options are -n -N -c -g -t --cwd --env --env-remove -o KEY=VALUE --output --error --input -l --job-name --urgency --dependency --retries; put -- before a command that starts with -"},
		{"--frobnicate a", "unknown option --frobnicate;"},
		{"-lx a", "-l takes no value"},
		{"-o out.txt a", "-o takes KEY=VALUE (a shell option); for an output file use --output FILE"},
		{"-oout.txt a", "-o takes KEY=VALUE (a shell option); for an output file use --output FILE"},
		{"-o bogus=1 a", "-o bogus=1: unknown shell option \"bogus\"; known: cpu-affinity, exit-timeout, gpu-affinity, output.limit, pmi"},
		{"-o cpu-affinity=maybe a", "-o cpu-affinity=maybe: cpu-affinity takes off, on, per-task, not \"maybe\""},
		{"-o exit-timeout=x a", "-o exit-timeout=x: exit-timeout takes a duration"},
		{"-o output.limit=1Q a", "-o output.limit=1Q: output.limit takes a size"},
		{"--error e.txt a", "--error e.txt needs --output FILE too"},
		{"--job-name= a", "--job-name needs a name"},
		{"--env-remove= a", "--env-remove needs a pattern"},
		{"--env=- a", "--env -: needs a pattern"},
		{"-n", "-n needs a value, as in -n 4"},
		{"--ntasks", "--ntasks needs a value"},
		{"-t", "-t needs a value, as in -t 30m"},
		{"--env", "--env needs a value"},
		{"-n x a", "-n x: the task count must be a whole number such as 4"},
		{"-n 0 a", "-n 0: the task count must be at least 1"},
		{"-n -1 a", "-n -1: the task count must be at least 1"},
		{"-n0 a", "-n 0: the task count must be at least 1"},
		{"--ntasks=0 a", "--ntasks 0: the task count must be at least 1"},
		{"-N 0 a", "-N 0: the node count must be at least 1"},
		{"-c 0 a", "-c 0: the cores per task must be at least 1"},
		{"-c 1.5 a", "-c 1.5: the cores per task must be a whole number"},
		{"-g 0 a", "-g 0: the GPUs per task must be at least 1"},
		{"-n 99999999999999999999999 a", "-n 99999999999999999999999: the task count must be at most 16777216"},
		{"-n 16777217 a", "-n 16777217: the task count must be at most 16777216"},
		{"-N 4 -n 2 a", "-N 4 with -n 2: every node needs at least one task"},
		{"-t 5x a", "-t 5x: not a duration; use 30s, 2m, 1h or a number of minutes"},
		{"-t 0 a", "-t 0: the time limit must be positive"},
		{"-t -5 a", "-t -5: the time limit must be positive"},
		{"--time-limit=inf a", "--time-limit inf: not a duration"},
		{"echo 'abc", "unclosed quote"},
		{"echo \"abc", "unclosed quote"},
		{"-n1 echo a\"b", "unclosed quote"},
		{"-n \"4", "unclosed quote"},
		{"-n1", "no command after the options"},
		{"-n1 -c2", "no command after the options"},
		{"-n1 --", "no command after the options"},
		{"-n1 # only a comment", "no command after the options"},
		{"-n1 -- # only a comment", "no command after the options"},
		{"--env =1 a", "--env needs a variable name, as in --env NAME=VALUE or --env NAME"},
		{"--env= a", "--env needs a variable name"},
		{"--cwd= a", "--cwd needs a directory"},
		{"--output '' a", "--output needs a file name"},
		{"-o '' a", "-o takes KEY=VALUE"},
		{"--label-io=yes a", "--label-io takes no value"},
		{"-n $N a", "-n $N: options and their values must be plain words"},
		{"--cwd ~/x a", "--cwd ~/x: options and their values must be plain words"},
		{"--cwd=$HOME a", "--cwd=$HOME: options and their values must be plain words"},
		{"-n1 (", "shell syntax error at column 5:"},
		{"-n1 echo a |", "shell syntax error"},
		{"if true then", "shell syntax error at column 1:"},
		{"echo a\x00b", "the line holds a NUL byte"},
	}
	for _, tt := range tests {
		l, skip, err := ParseLine(4, tt.line, Defaults{}, testGetenv)
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%q: err = %v, want a *LineError", tt.line, err)
			continue
		}
		if skip || le.Seq != 4 || l.Seq != 4 || l.Text != tt.line || !strings.HasPrefix(le.Error(), "line 4: ") {
			t.Errorf("%q: skip=%v seq=%d line=%+v err=%q", tt.line, skip, le.Seq, l, le.Error())
		}
		if !strings.HasPrefix(le.Msg, tt.msg) {
			t.Errorf("%q:\n got %q\nwant prefix %q", tt.line, le.Msg, tt.msg)
		}
	}
}

func TestParseLineDefaults(t *testing.T) {
	def := Defaults{
		Req:       resources.Request{Tasks: 2, CoresPerTask: 3, GPUsPerTask: 1},
		TimeLimit: time.Minute, Cwd: "/d", Env: []string{"A=1", "B=2"}, Output: "d.out", LabelIO: true,
	}
	l, _, err := ParseLine(1, "x", def, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := lineWant{req: def.Req, limit: time.Minute, cwd: "/d", env: def.Env, output: "d.out", labelIO: true, argv: []string{"x"}, command: "x"}
	got := lineWant{l.Req, l.TimeLimit, l.Cwd, l.Env, l.Output, l.LabelIO, l.Argv, l.Shell, l.Command}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("defaults only:\n got %+v\nwant %+v", got, w)
	}
	// The shared Env must not let a caller's append reach the defaults.
	_ = append(l.Env, "C=3")
	if cap(l.Env) != len(l.Env) {
		t.Errorf("Env shares spare capacity with the defaults: len %d cap %d", len(l.Env), cap(l.Env))
	}

	l, _, err = ParseLine(1, "-n 4 -c 1 -g 2 -t 10s --cwd /l --env B=9 --output l.out y", def, nil)
	if err != nil {
		t.Fatal(err)
	}
	w = lineWant{req: resources.Request{Tasks: 4, CoresPerTask: 1, GPUsPerTask: 2}, limit: 10 * time.Second, cwd: "/l",
		env: []string{"A=1", "B=9"}, output: "l.out", labelIO: true, argv: []string{"y"}, command: "y"}
	got = lineWant{l.Req, l.TimeLimit, l.Cwd, l.Env, l.Output, l.LabelIO, l.Argv, l.Shell, l.Command}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("line over defaults:\n got %+v\nwant %+v", got, w)
	}
	if def.Env[1] != "B=2" {
		t.Errorf("a line's --env changed the defaults: %q", def.Env)
	}

	// -N against the default -n.
	if _, _, err := ParseLine(1, "-N 3 z", def, nil); err == nil || !strings.Contains(err.Error(), "-N 3 with -n 2") {
		t.Errorf("-N 3 over default -n 2: err = %v", err)
	}
}

func TestIsSafeLine(t *testing.T) {
	for s, want := range map[string]bool{
		"-n1 tar -cf a.tgz a":        true,
		"a_b-c.d/e,f:g=h+i@j%k^l\tm": true,
		"echo 'x'":                   false,
		"ls *":                       false,
		"a#b":                        false,
		"~":                          false,
		"é":                          false,
		"a;b":                        false,
		"a|b":                        false,
		"$x":                         false,
		"{a,b}":                      false,
		"a\\b":                       false,
		"!x":                         false,
		"a\nb":                       false,
	} {
		if got := isSafeLine(s); got != want {
			t.Errorf("isSafeLine(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFastPathAgrees checks the hand splitting against the shell parser on
// lines that take every mix of the two paths, including the words that make
// the fast path defer.
func TestFastPathAgrees(t *testing.T) {
	for _, line := range []string{
		"-n1 true", "-n 2 -c 3 x y z", "-N2 -n4 a", "--ntasks=4 x", "-t 1.5h x", "-t 5x x", "-n 0 x", "-n", "-n1",
		"-n1 --", "-- -n1", "-x y", "FOO=1 env", "-n1 a=b c", "x a=b", "if", "-n1 time x", "for x", "export A=1",
		"cd /tmp", "exit 3", "--env A=1 --env B env", "--label-io x", "--label-io=1 x", "-N 4 -n 2 x", "=x y",
		"-n1 a\t\tb", "a+=1 b", "a.b=1 c", "-g 0 x", "x -- -n1", "-- -- x", "-", "-- -", "%1", "@x", "^a",
		"-n 9999999999999999999999 x", "-t 0 x", "--cwd=/a/b x", "in x", "function f", "let a=1", "select x",
		"coproc x", "declare -x a=b", "local a", "readonly a", "typeset a", "nameref a",
		"-n1 echo \"a b\"", "-n \"4\" x", "-n1 x #c", "-- #c", "-n1 #c", "-n '' x", "-n1 'x' y", "-n1 x 'y'",
		"-n1 a=b 'c'", "-n1 if true; then x; fi", "-n $N x", "-n1 >o x", "--env 'A=1 2' x", "-n1 ~/x", "-n1 a|b",
		"-n1 -- 'x'", "-t 1h -- \"-x\"", "-n",
	} {
		checkPathsAgree(t, line)
	}
}

func checkPathsAgree(t *testing.T, line string) {
	t.Helper()
	def := Defaults{Env: []string{"D=0"}}
	l1, s1, e1 := parseLine(1, line, &def, testGetenv, true)
	l2, s2, e2 := parseLine(1, line, &def, testGetenv, false)
	if !reflect.DeepEqual(l1, l2) || s1 != s2 || errString(e1) != errString(e2) {
		t.Errorf("%q: fast and shell paths differ:\nfast  %+v %v %v\nshell %+v %v %v", line, l1, s1, e1, l2, s2, e2)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"-n1 tar -cf a.tgz a", "-n32 make -j 32", "-N4 my_mpi_app", "echo \"a b\"", "echo a | wc -l", "ls *.txt",
		"FOO=1 env", "cd /tmp && ls", "sleep 1 # comment", "-t 1.5h --cwd /x --env A=1 --output f --label-io -- x", "-o pmi=off --input in -l --job-name j --error e x",
		"-n $N x", "echo 'x", "-n1 for f in *; do echo $f; done", "# c", "", "-n 2 -N 3 x", "--env HOME x",
		"-n1 >out echo hi", "echo $'a'", "a\\ b", "-n1 (", "x <<EOF", "-c\t2 y",
		"--urgency=hold x", "--urgency 31 --dependency=afterok:line:1 x", "--dependency afterany:7 x", "--dependency=after:line:9 x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		l, skip, err := ParseLine(1, line, Defaults{}, testGetenv)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Msg == "" {
				t.Fatalf("%q: err %v is not a *LineError with a message", line, err)
			}
			return
		}
		if skip {
			return
		}
		if len(l.Argv) == 0 {
			t.Fatalf("%q: accepted with an empty argv", line)
		}
		for _, a := range l.Argv {
			if strings.IndexByte(a, 0) >= 0 {
				t.Fatalf("%q: argv %q holds a NUL", line, l.Argv)
			}
		}
		if l.Shell && (len(l.Argv) != 3 || l.Argv[0] != "/bin/sh" || l.Argv[2] != l.Command) {
			t.Fatalf("%q: shell argv %q does not run the command %q", line, l.Argv, l.Command)
		}
		if !strings.HasSuffix(l.Text, l.Command) {
			t.Fatalf("%q: command %q is not the end of the line", line, l.Command)
		}
		if l.Req.Tasks < 1 || l.Req.CoresPerTask < 1 || l.Req.Nodes > l.Req.Tasks {
			t.Fatalf("%q: accepted a bad request %+v", line, l.Req)
		}
		checkPathsAgree(t, line)
	})
}

// FuzzFastPath feeds mostly safe bytes, where the hand splitting does the
// most, to check it against the shell parser.
func FuzzFastPath(f *testing.F) {
	for _, s := range []string{"-n1 true", "-n 2 x=1 y", "--env A=1 -- -t", "-N2 -n1 if then", "exit 3 -c"} {
		f.Add(s)
	}
	const alphabet = "-n1NcgtoxXaif=+.:/_@%^, \t'#"
	f.Fuzz(func(t *testing.T, raw string) {
		b := []byte(raw)
		for i := range b {
			if !safeByte[b[i]] {
				b[i] = alphabet[int(b[i])%len(alphabet)]
			}
		}
		checkPathsAgree(t, string(b))
	})
}

func BenchmarkParseLine(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"fast", "-n1 true"},
		{"quoted", `-n1 echo "hello world" 'x y'`},
		{"shell", "-n1 tar -cf a.tgz a && rm -r a"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			def := Defaults{}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseLine(1, bc.line, def, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// -o takes a template with braces; they are ours, not the shell's.
func TestOutputTemplateOption(t *testing.T) {
	for _, text := range []string{"--output out.{{line}}.txt echo hi", "--output=x.{{id}}.{{task.id}} echo hi", "--output 'q.{{id}}' echo hi"} {
		l, _, err := ParseLine(1, text, Defaults{}, nil)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !strings.Contains(l.Output, "{{") || strings.Join(l.Argv, " ") != "echo hi" {
			t.Errorf("%q: output %q argv %q", text, l.Output, l.Argv)
		}
	}
}
