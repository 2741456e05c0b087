package itest

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// These tests drive the commands a Flux user types daily, against the
// built binary inside flux start, and check what flux-core's man pages say
// (and what flux-core 0.88 was seen to do).

var f58ID = regexp.MustCompile(`^(ƒ|f)[1-9A-HJ-NP-Za-km-z]+$`)

// inFlux runs a shell script inside a one-broker instance.
func inFlux(t *testing.T, dir, script string) result {
	t.Helper()
	return run(t, dir, "", "flux", "start", "sh", "-c", script)
}

func wantIn(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func TestSubmitManyAndWait(t *testing.T) {
	dir := t.TempDir()
	r := inFlux(t, dir, `
flux submit --cc=1-3 echo hi {cc} > ids
flux submit --cc=1-5 --quiet --wait sh -c 'exit {cc}'; echo "wait rc=$?"
flux submit --cc=1-2 --watch sh -c 'echo "watch {cc} $FLUX_JOB_CC"'; echo "watch rc=$?"
flux submit --bcc=7 --watch sh -c 'echo "bcc {cc} ${FLUX_JOB_CC-unset}"'
flux submit --cc=1-4 --quiet --wait --progress --jps true; echo "progress rc=$?"
flux submit --cc=x true; echo "badcc rc=$?"
flux submit --cc=1 --bcc=2 true; echo "both rc=$?"
flux submit --cc=1-2 --quiet --wait --output=cc.{{cc}}.out echo cc {cc}
flux bulksubmit --quiet --wait --output=bulk.{}.out --job-name=b{} echo bulk {} ::: x y
flux jobs -a -n -o '{name}' | grep -c '^b[xy]$'
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	ids := strings.Fields(readFile(t, filepath.Join(dir, "ids")))
	if len(ids) != 3 {
		t.Fatalf("--cc=1-3 printed %d ids: %q", len(ids), ids)
	}
	for _, id := range ids {
		if !f58ID.MatchString(id) {
			t.Errorf("id %q is not f58", id)
		}
	}
	for f, want := range map[string]string{"cc.1.out": "cc 1\n", "cc.2.out": "cc 2\n", "bulk.x.out": "bulk x\n", "bulk.y.out": "bulk y\n"} {
		if got := readFile(t, filepath.Join(dir, f)); got != want {
			t.Errorf("%s holds %q, want %q", f, got, want)
		}
	}
	wantIn(t, "stdout", r.stdout, "\n2\n", "wait rc=5", "watch 1 1\n", "watch 2 2\n", "watch rc=0", "bcc 7 unset", "progress rc=0",
		"badcc rc=2", "both rc=2")
	wantIn(t, "stderr", r.stderr, "--cc x: not an id set", "CD:4 F:0", "job/s", "give --cc or --bcc, not both")
}

func TestBulksubmit(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inputs"), "x/a.txt\ny/b.dat\n")
	r := inFlux(t, dir, `
flux bulksubmit --dry-run echo {} {.%} {./} {./%} {.//} {seq} {seq1} :::: inputs
flux bulksubmit --dry-run echo {1} {0} ::: 1 2 ::: 3 4
flux bulksubmit --dry-run echo {0} {1} ::: 1 2 :::+ 3 4 5
flux bulksubmit --wait --watch sh -c 'echo in {0}; exit {0}' ::: 0 2 1; echo "wait rc=$?"
printf 'p\nq\n' | flux bulksubmit --watch echo stdin {}
flux bulksubmit --dry-run echo {2} ::: a; echo "badindex rc=$?"
flux bulksubmit --dry-run echo {nope} ::: a; echo "badfield rc=$?"
flux bulksubmit echo ::: ; echo "empty rc=$?"
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "stdout", r.stdout,
		"bulksubmit: submit echo x/a.txt x/a a.txt a x 0 1\n", "bulksubmit: submit echo y/b.dat y/b b.dat b y 1 2\n",
		"bulksubmit: submit echo 3 1\nbulksubmit: submit echo 4 1\nbulksubmit: submit echo 3 2\nbulksubmit: submit echo 4 2\n",
		"bulksubmit: submit echo 1 3\nbulksubmit: submit echo 2 4\n",
		"in 0\n", "in 2\n", "in 1\n", "wait rc=2", "stdin p\n", "stdin q\n", "badindex rc=2", "badfield rc=2", "empty rc=2")
	wantIn(t, "stderr", r.stderr, "{2}", "indexes go from 0 to 0", "{nope}", "::: is followed by no inputs")
}

func TestSetoptAndOutputOptions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "envfile"), "# rules\nFROM_FILE=yes\n")
	r := inFlux(t, dir, `
flux run -o cpu-affinity=off sh -c 'grep Cpus_allowed_list /proc/self/status' > off.txt
flux run sh -c 'grep Cpus_allowed_list /proc/self/status' > on.txt
flux run --output=o.{{id.dec}}.txt --error=e.txt sh -c 'echo out; echo err >&2'
flux run --input=envfile cat
flux run --job-name=myname --env-file=envfile --env-remove='DROP*' --env=-ALSO sh -c 'echo "${FROM_FILE} ${DROP_ME-gone} ${ALSO-gone}"'
flux jobs -a -o '{name}' | grep -c myname
flux run -o FOO true; echo "o rc=$?"
flux run -o bogus=1 true; echo "bogus rc=$?"
flux run -o pmi=maybe true; echo "pmi rc=$?"
flux run --error=e.txt true; echo "erronly rc=$?"
flux run --flags=nope true; echo "flags rc=$?"
flux submit --dry-run -n2 -o cpu-affinity=off --job-name=hi true
id=$(flux submit --wait -o output.limit=8 sh -c 'echo 0123456789abcdef'); flux job attach $id
mkdir sub; (cd sub && flux run pwd | sed 's|.*/|cwd=|')
flux run -n2 -o exit-timeout=0.3s sh -c 'if [ $FLUX_TASK_RANK = 0 ]; then exit 0; fi; sleep 20'; echo "exit-timeout rc=$?"
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	on, off := readFile(t, filepath.Join(dir, "on.txt")), readFile(t, filepath.Join(dir, "off.txt"))
	if on == off {
		t.Errorf("-o cpu-affinity=off changed nothing: %q", on)
	}
	if got := readFile(t, filepath.Join(dir, "e.txt")); got != "err\n" {
		t.Errorf("--error file holds %q", got)
	}
	outs, _ := filepath.Glob(filepath.Join(dir, "o.*.txt"))
	if len(outs) != 1 || readFile(t, outs[0]) != "out\n" {
		t.Errorf("--output files %v", outs)
	}
	wantIn(t, "stdout", r.stdout, "# rules\nFROM_FILE=yes\n", "yes gone gone\n", "1\n", "o rc=2", "bogus rc=2", "pmi rc=2",
		"erronly rc=2", "flags rc=2", "01234567\n[flux: output truncated at 8 bytes", "exit-timeout rc=143", "cwd=sub\n", `"cpu-affinity":"off"`, `"job":{"name":"hi"}`, `"count":2`)
	wantIn(t, "stderr", r.stderr, "-o FOO: -o takes KEY=VALUE (a shell option); for an output file use --output FILE",
		`unknown shell option "bogus"`, "pmi takes off, simple or on", "exit-timeout: a task exited", "--error e.txt needs --output", `unknown flag "nope"`)
}

// A command file's line takes the same options, and -o FILE is refused with
// the message the README promises.
func TestCommandFileSetopt(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.txt"), "from input\n")
	writeFile(t, filepath.Join(dir, "cmds"), "-o out.txt echo no\n--output=o.{{line}} echo yes\n-o cpu-affinity=off -l echo lab\n--input in.txt cat\n")
	r := run(t, dir, "", "flux-capacitor", "--quiet", "--command_file", "cmds")
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (a bad line)", r.code)
	}
	wantIn(t, "stderr", r.stderr, "line 1: -o takes KEY=VALUE (a shell option); for an output file use --output FILE")
	if got := readFile(t, filepath.Join(dir, "o.2")); got != "yes\n" {
		t.Errorf("line 2's --output file holds %q", got)
	}
	wantIn(t, "stdout", r.stdout, "0: lab\n", "from input\n")
}

func TestJobSubcommands(t *testing.T) {
	dir := t.TempDir()
	r := inFlux(t, dir, `
id=$(flux submit --flags=waitable sh -c 'echo out; exit 3')
flux job status $id; echo "status rc=$?"
flux job attach $id; echo "attach rc=$?"
flux job wait $id; echo "wait rc=$?"
ok=$(flux submit --flags=waitable true); flux job wait $ok; echo "waitok rc=$?"
flux job wait $(flux submit true); echo "notwaitable rc=$?"
for i in 1 2 3; do flux submit --flags=waitable true > /dev/null; done
n=0; while flux job wait > /dev/null; do n=$((n+1)); done; echo "wait loop $n"
flux job eventlog $id > events
flux job info $id jobspec
flux job info $id R
n=$(flux submit true); [ "$(flux job last)" = "$n" ] && echo "last ok"
flux job id --to=dec $id > dec; flux job id --to=f58 $(cat dec) > back; [ "$(cat back)" = "$id" ] && echo "id round trip ok"
flux job id --to=words 47177531392
flux job id --to=dothex 47177531392
flux job id --to=dec ƒ2EsvBSf f2EsvBSf 0xafc000000 0000.000a.fc00.0000 rufus-cowboy-venice--airline-academy-academy
flux job attach fBOGUS; echo "bogus rc=$?"
flux job status 12345; echo "nosuch rc=$?"
t=$(flux submit -t 1s sleep 10); flux job status $t; echo "timeout rc=$?"
s=$(flux submit sleep 30); sleep 0.5; flux job kill -s USR1 $s; flux job status $s; echo "kill rc=$?"
k=$(flux submit sleep 30); flux job raise $k; flux job status -v $k; echo "raise rc=$?"
flux job kill -s NOPE $k; echo "badsig rc=$?"
flux submit sleep 30 > /dev/null; flux cancel --dry-run --all; flux cancel --all; flux cancel -q --all
flux job frob; echo "unknown rc=$?"
flux jobz; echo "unknownflux rc=$?"
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "stdout", r.stdout, "status rc=3", "out\nattach rc=3", "wait rc=1", "waitok rc=0", "notwaitable rc=2", "wait loop 3",
		`"command":["sh","-c","echo out; exit 3"]`, `"R_lite":[{"children":{"core":"0"},"rank":"0"}]`, "last ok",
		"id round trip ok", "rufus-cowboy-venice--airline-academy-academy\n", "0000.000a.fc00.0000\n",
		strings.Repeat("47177531392\n", 5), "bogus rc=2", "nosuch rc=1", "timeout rc=142", "kill rc=138",
		"exception: type=cancel", "raise rc=143", "badsig rc=2", "unknown rc=1", "unknownflux rc=1")
	wantIn(t, "stderr", r.stderr, `flux-job: "fBOGUS": not a job id`, "flux-job: ƒ4fr: no such job", "not waitable",
		"flux job: unknown command 'frob'", "flux-cancel: Would cancel 1 job\nflux-cancel: Canceled 1 job (0 errors)\n", "flux: unknown command 'jobz'; did you mean 'jobs' or 'job'?")
	events := readFile(t, filepath.Join(dir, "events"))
	for _, e := range []string{" submit ", " validate\n", " depend\n", " priority priority=16\n", " alloc\n", " start\n",
		" finish status=768\n", " release final=true ranks=\"all\"\n", " free\n", " clean\n"} {
		if !strings.Contains(events, e) {
			t.Errorf("eventlog lacks %q:\n%s", e, events)
		}
	}
}

func TestRunTimeoutAndInterrupt(t *testing.T) {
	dir := t.TempDir()
	r := inFlux(t, dir, `
flux run -t 1s sleep 10; echo "timeout rc=$?"
flux run sleep 30 & pid=$!
sleep 1; kill -INT $pid; sleep 0.3
kill -0 $pid && echo "alive after one ctrl-C"
kill -INT $pid; wait $pid; echo "interrupted rc=$?"
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "stdout", r.stdout, "timeout rc=142", "alive after one ctrl-C", "interrupted rc=143")
	wantIn(t, "stderr", r.stderr, "type=timeout severity=0 resource allocation expired",
		"flux run: one more ctrl-C within 2s to cancel the job", "type=cancel")
}

func TestJobsListing(t *testing.T) {
	dir := t.TempDir()
	r := inFlux(t, dir, `
flux submit true > /dev/null; flux submit sh -c 'exit 1' > /dev/null
p=$(flux submit -n 2 sleep 1)
flux run true
flux jobs -a
flux jobs -a -o '{id.f58:>12}|{name:<4.4+}|{status}|{result}' --filter=completed,failed
flux jobs -a -n -o '{status_abbrev}' | sort | uniq -c
flux jobs -a --stats-only; echo "stats rc=$?"
flux jobs --json $p
flux jobs -o long | head -1
flux jobs -o '{bogus}'; echo "format rc=$?"
flux jobs --filter=nope; echo "filter rc=$?"
flux jobs nope; echo "id rc=$?"
c=$(flux submit sleep 30); flux cancel -m "no longer needed" $c; flux job status $c
flux jobs -n -o endreason $c
flux jobs -n -o '{exception.type} {exception.note}' $c
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "stdout", r.stdout, "       JOBID USER     NAME       ST NTASKS NNODES     TIME INFO\n",
		"|true|COMPLETED|COMPLETED\n", "|sh  |FAILED|FAILED\n", "CD\n", "F\n",
		"running, ", " completed, 1 failed, ", "stats rc=", `"name":"sleep"`, `"ntasks":2`,
		"STATUS NTASKS NNODES     T_SUBMIT  T_REMAINING     TIME INFO\n", "format rc=2", "filter rc=2", "id rc=2",
		"Canceled: no longer needed\n", "cancel no longer needed\n")
	wantIn(t, "stderr", r.stderr, `unknown field "bogus"`, `unknown state or result "nope"`)
}

// A drained rank gets no new jobs, its running ones finish; undrain puts it
// back. Then the instance describes itself as Flux's commands do.
func TestResourceDrainAndInstanceInfo(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "", "flux", "start", "--test-size=2", "sh", "-c", `
flux resource drain 1 fan failure
flux resource drain
flux resource status
a=$(flux submit -N1 sleep 1); b=$(flux submit -N1 sleep 1)
sleep 0.5
flux jobs -n -o '{status_abbrev} {ranks}'
flux resource list
flux resource undrain 1
flux job status $a $b; echo "both rc=$?"
flux resource undrain 1; echo "again rc=$?"
flux resource drain 7; echo "range rc=$?"
flux resource drain 'x['; echo "bad rc=$?"
flux resource drain nohost; echo "nohost rc=$?"
flux uptime
flux overlay status
flux getattr size
flux getattr nope; echo "getattr rc=$?"
flux lsattr -v | grep -c .
flux dmesg | grep -c 'drained rank 1: fan failure'
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "stdout", r.stdout, "TIME         STATE    REASON                         NODELIST\n", "drained  fan failure",
		"     drained ✔      1 ", "S\nR 0\n", "      down      1 ", "both rc=0", "again rc=1", "range rc=1", "bad rc=2", "nohost rc=1",
		" run ", ",  owner ", ",  depth 0,  size 2", "0 ", ": full\n└─ 1 ", "\n2\n", "getattr rc=1", "\n1\n")
	wantIn(t, "stderr", r.stderr, "rank 1: not drained", "rank 7: the instance has ranks 0-1", "nope: No such file",
		"nohost: no such host in the instance")
}

// flux job attach streams a running job's output as it comes, and shows a
// finished job's output whole.
func TestAttachLive(t *testing.T) {
	dir := t.TempDir()
	r := inFlux(t, dir, `
id=$(flux submit sh -c 'echo first; sleep 2; echo second')
flux job attach $id > live &
sleep 1
echo "while running: $(cat live | tr '\n' ' ')"
wait
echo "after: $(cat live | tr '\n' ' ')"
flux job attach $id | tr '\n' ' '; echo
flux job attach --show-events $id 2> events > /dev/null; grep -c ' clean' events
`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "stdout", r.stdout, "while running: first \n", "after: first second \n", "\nfirst second \n1\n")
}

// bulksubmit --define evaluates Python code of each input, as Flux's does.
func TestBulksubmitDefine(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		testbed.Require(t, "python3", "flux bulksubmit --define evaluates Python expressions")
	}
	dir := t.TempDir()
	r := run(t, dir, "", "flux", "bulksubmit", "--dry-run", "--define=p2=2**int(x)", "-n1", "echo", "{.p2}", "{0.p2}", ":::", "0", "3")
	if r.code != 0 || r.stdout != "bulksubmit: submit echo 1 1\nbulksubmit: submit echo 8 8\n" {
		t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, dir, "", "flux", "bulksubmit", "--dry-run", "--define=bad=1/int(x)", "echo", "{.bad}", ":::", "0")
	if r.code != 2 || !strings.Contains(r.stderr, "--define bad=1/int(x): ZeroDivisionError") {
		t.Errorf("a failing define: exit %d stderr %q", r.code, r.stderr)
	}
}
