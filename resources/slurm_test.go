package resources

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCountList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"16(x2),8", []int{16, 16, 8}},
		{"3,1", []int{3, 1}},
		{"1(x2)", []int{1, 1}},
		{"4", []int{4}},
		{"0", []int{0}},
		{" 2 , 3(x3) ", []int{2, 3, 3, 3}},
		{"8(x1)", []int{8}},
	} {
		got, err := ParseCountList(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseCountList(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", `count list "": empty`},
		{"16(x2),", `empty element`},
		{"a", `count list "a": a: the count is not a number`},
		{"-1", `-1: the count is not a number`},
		{"+1", `+1: the count is not a number`},
		{"16(x0)", `16(x0): the repeat is not a positive number`},
		{"16(2)", `16(2): want N or N(xREPEAT)`},
		{"16(x2", `16(x2: want N or N(xREPEAT)`},
		{"16(x2)8", `want N or N(xREPEAT)`},
		{"(x2)", `the count is not a number`},
		{"9999999999", `the count is not a number from 0 to 1048576`},
		{"1(x1048577)", `more than 1048576 counts`},
		{"1(x1048576),2", `2: more than 1048576 counts`},
	} {
		got, err := ParseCountList(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseCountList(%q) = %v, %v; want an error containing %s", c.in, got, err, c.want)
		}
	}
}

func FuzzParseCountList(f *testing.F) {
	for _, s := range []string{"16(x2),8", "3,1", "1(x2)", "", "16(x0)", "a", "1(x1048577)", "4(x", "(x2)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		counts, err := ParseCountList(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "count list ") {
				t.Fatalf("ParseCountList(%q): error without context: %v", s, err)
			}
			return
		}
		if len(counts) == 0 || len(counts) > MaxHosts {
			t.Fatalf("ParseCountList(%q): %d counts", s, len(counts))
		}
		// written back in the same syntax, it reads the same
		var parts []string
		for i := 0; i < len(counts); {
			j := i + 1
			for j < len(counts) && counts[j] == counts[i] {
				j++
			}
			p := strconv.Itoa(counts[i])
			if j-i > 1 {
				p += "(x" + strconv.Itoa(j-i) + ")"
			}
			parts = append(parts, p)
			i = j
		}
		back, err := ParseCountList(strings.Join(parts, ","))
		if err != nil || !slices.Equal(back, counts) {
			t.Fatalf("ParseCountList(%q) = %v; written back %q reads %v, %v", s, counts, strings.Join(parts, ","), back, err)
		}
	})
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The environments below are real: printed by jobs on the scripts/testbed
// Slurm cluster (slurm-wlm 22.05.8), 4 nodes x 4 CPUs.
var (
	// sbatch -N2 -n4 --wrap '...' (the batch script, on the first node)
	sbatchEnv = map[string]string{
		"SLURMD_NODENAME": "n1", "SLURM_CLUSTER_NAME": "testbed", "SLURM_CONF": "/etc/slurm/slurm.conf",
		"SLURM_CPUS_ON_NODE": "3", "SLURM_GTIDS": "0", "SLURM_JOBID": "1", "SLURM_JOB_CPUS_PER_NODE": "3,1",
		"SLURM_JOB_GID": "0", "SLURM_JOB_ID": "1", "SLURM_JOB_NAME": "wrap", "SLURM_JOB_NODELIST": "n[1-2]",
		"SLURM_JOB_NUM_NODES": "2", "SLURM_JOB_PARTITION": "debug", "SLURM_JOB_UID": "0", "SLURM_JOB_USER": "root",
		"SLURM_LOCALID": "0", "SLURM_NNODES": "2", "SLURM_NODEID": "0", "SLURM_NODELIST": "n[1-2]",
		"SLURM_NODE_ALIASES": "(null)", "SLURM_NPROCS": "4", "SLURM_NTASKS": "4", "SLURM_PRIO_PROCESS": "0",
		"SLURM_PROCID": "0", "SLURM_SUBMIT_DIR": "/tmp", "SLURM_SUBMIT_HOST": "vm", "SLURM_TASKS_PER_NODE": "3,1",
		"SLURM_TASK_PID": "19279", "SLURM_TOPOLOGY_ADDR": "n1", "SLURM_TOPOLOGY_ADDR_PATTERN": "node",
		"SLURM_WORKING_CLUSTER": "testbed:127.0.0.1:16817:9728:109",
	}
	// srun -N1 -n1 inside that batch job
	srunEnv = map[string]string{
		"SLURMD_NODENAME": "n1", "SLURM_CLUSTER_NAME": "testbed", "SLURM_CONF": "/etc/slurm/slurm.conf",
		"SLURM_CPUS_ON_NODE": "3", "SLURM_DISTRIBUTION": "cyclic", "SLURM_GTIDS": "0", "SLURM_JOBID": "1",
		"SLURM_JOB_CPUS_PER_NODE": "3,1", "SLURM_JOB_CPUS_PER_NODE_PACK_GROUP_0": "3,1", "SLURM_JOB_GID": "0",
		"SLURM_JOB_ID": "1", "SLURM_JOB_NAME": "wrap", "SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_NUM_NODES": "2",
		"SLURM_JOB_PARTITION": "debug", "SLURM_JOB_UID": "0", "SLURM_JOB_USER": "root",
		"SLURM_LAUNCH_NODE_IPADDR": "127.0.0.1", "SLURM_LOCALID": "0", "SLURM_NNODES": "1", "SLURM_NODEID": "0",
		"SLURM_NODELIST": "n[1-2]", "SLURM_NODE_ALIASES": "(null)", "SLURM_NPROCS": "1", "SLURM_NTASKS": "1",
		"SLURM_PRIO_PROCESS": "0", "SLURM_PROCID": "0", "SLURM_SRUN_COMM_HOST": "127.0.0.1",
		"SLURM_SRUN_COMM_PORT": "41897", "SLURM_STEPID": "0", "SLURM_STEP_ID": "0",
		"SLURM_STEP_LAUNCHER_PORT": "41897", "SLURM_STEP_NODELIST": "n1", "SLURM_STEP_NUM_NODES": "1",
		"SLURM_STEP_NUM_TASKS": "1", "SLURM_STEP_TASKS_PER_NODE": "1", "SLURM_SUBMIT_DIR": "/tmp",
		"SLURM_SUBMIT_HOST": "vm", "SLURM_TASKS_PER_NODE": "1", "SLURM_TASK_PID": "19341",
		"SLURM_TOPOLOGY_ADDR": "n1", "SLURM_TOPOLOGY_ADDR_PATTERN": "node", "SLURM_UMASK": "0022",
		"SLURM_WORKING_CLUSTER": "testbed:127.0.0.1:16817:9728:109",
	}
	// salloc -N2 (the shell on the submit host: no task, no NODEID)
	sallocEnv = map[string]string{
		"SLURM_CLUSTER_NAME": "testbed", "SLURM_CONF": "/etc/slurm/slurm.conf", "SLURM_JOBID": "3",
		"SLURM_JOB_CPUS_PER_NODE": "1(x2)", "SLURM_JOB_ID": "3", "SLURM_JOB_NAME": "interactive",
		"SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_NUM_NODES": "2", "SLURM_JOB_PARTITION": "debug",
		"SLURM_NNODES": "2", "SLURM_NODELIST": "n[1-2]", "SLURM_NODE_ALIASES": "(null)",
		"SLURM_SUBMIT_DIR": "/tmp", "SLURM_SUBMIT_HOST": "vm", "SLURM_TASKS_PER_NODE": "1(x2)",
	}
)

func TestSlurmFromEnv(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want SlurmJob
	}{
		{"sbatch", sbatchEnv, SlurmJob{JobID: "1", Nodes: []string{"n1", "n2"}, CPUs: []int{3, 1}, NodeID: 0}},
		{"srun step", srunEnv, SlurmJob{JobID: "1", Nodes: []string{"n1", "n2"}, CPUs: []int{3, 1}, Step: true, NodeID: 0}},
		{"salloc", sallocEnv, SlurmJob{JobID: "3", Nodes: []string{"n1", "n2"}, CPUs: []int{1, 1}, NodeID: -1}},
		{"old names", map[string]string{"SLURM_JOBID": "7", "SLURM_NODELIST": "tbhost[1-3]",
			"SLURM_JOB_CPUS_PER_NODE": "16(x2),8", "SLURM_STEPID": "2", "SLURM_NODEID": "2"},
			SlurmJob{JobID: "7", Nodes: []string{"tbhost1", "tbhost2", "tbhost3"}, CPUs: []int{16, 16, 8}, Step: true, NodeID: 2}},
	} {
		j, ok, err := SlurmFromEnv(envOf(c.env))
		if err != nil || !ok {
			t.Errorf("%s: %v, %v", c.name, ok, err)
			continue
		}
		if j.JobID != c.want.JobID || !slices.Equal(j.Nodes, c.want.Nodes) || !slices.Equal(j.CPUs, c.want.CPUs) ||
			j.Step != c.want.Step || j.NodeID != c.want.NodeID || !j.End.IsZero() {
			t.Errorf("%s: %+v, want %+v", c.name, j, c.want)
		}
	}

	if j, ok, err := SlurmFromEnv(envOf(map[string]string{"SLURM_NODELIST": "n1", "PATH": "/bin"})); ok || err != nil || j.JobID != "" {
		t.Errorf("no SLURM_JOB_ID: %+v, %v, %v", j, ok, err)
	}
}

func TestSlurmFromEnvErrors(t *testing.T) {
	with := func(kv ...string) map[string]string {
		m := map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_CPUS_PER_NODE": "4(x2)"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{with("SLURM_JOB_NODELIST", "-"), `slurm job 9: SLURM_JOB_NODELIST="": not set (nor SLURM_NODELIST)`},
		{with("SLURM_JOB_NODELIST", "n[2-1]"), `slurm job 9: SLURM_JOB_NODELIST="n[2-1]": hostlist "n[2-1]": n[2-1]: range runs backwards`},
		{with("SLURM_JOB_NODELIST", "-", "SLURM_NODELIST", "n[1-"), `SLURM_NODELIST="n[1-": hostlist`},
		{with("SLURM_JOB_CPUS_PER_NODE", "-"), `SLURM_JOB_CPUS_PER_NODE="": not set`},
		{with("SLURM_JOB_CPUS_PER_NODE", "4(x3)"), `SLURM_JOB_CPUS_PER_NODE="4(x3)": 3 counts for the 2 nodes of SLURM_JOB_NODELIST="n[1-2]"`},
		{with("SLURM_JOB_CPUS_PER_NODE", "4x2"), `SLURM_JOB_CPUS_PER_NODE="4x2": count list "4x2": 4x2: the count is not a number`},
		{with("SLURM_NODEID", "x"), `SLURM_NODEID="x": not a node index`},
		{with("SLURM_NODEID", "2"), `SLURM_NODEID="2": the job has only 2 nodes`},
	} {
		_, ok, err := SlurmFromEnv(envOf(c.env))
		if !ok || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, %v; want an error containing %s", c.env, ok, err, c.want)
		}
	}
}

func TestSlurmJobSet(t *testing.T) {
	j, _, err := SlurmFromEnv(envOf(map[string]string{"SLURM_JOB_ID": "5", "SLURM_JOB_NODELIST": "n[1-2,7]",
		"SLURM_JOB_CPUS_PER_NODE": "16(x2),8"}))
	if err != nil {
		t.Fatal(err)
	}
	s := j.Set()
	if s.Nodes() != 3 || s.Cores() != 40 || s.GPUs() != 0 || s.MaxCoresPerNode() != 16 {
		t.Fatalf("set %+v", s)
	}
	for i, want := range []struct {
		host, cores string
	}{{"n1", "0-15"}, {"n2", "0-15"}, {"n7", "0-7"}} {
		r := s.Ranks[i]
		if r.Rank != i || r.Host != want.host || r.Cores.String() != want.cores || !r.GPUs.Empty() {
			t.Errorf("rank %d: %+v, want %s cores %s", i, r, want.host, want.cores)
		}
	}
	if err := s.Feasible(Request{Nodes: 3, Tasks: 3, CoresPerTask: 8}); err != nil {
		t.Errorf("3 nodes x 8 cores: %v", err)
	}
	if (SlurmJob{}).Set().Nodes() != 0 {
		t.Error("empty job, non-empty set")
	}
}

func TestSlurmEndTime(t *testing.T) {
	var gotArgs []string
	fake := func(out string, err error) func(string, ...string) ([]byte, error) {
		return func(name string, args ...string) ([]byte, error) {
			gotArgs = append([]string{name}, args...)
			return []byte(out), err
		}
	}
	end, err := SlurmEndTime("42", fake("2026-11-26T07:30:00\n", nil))
	want := time.Date(2026, 11, 26, 7, 30, 0, 0, time.Local)
	if err != nil || !end.Equal(want) || end.Location() != time.Local {
		t.Errorf("end %v, %v; want %v", end, err, want)
	}
	if strings.Join(gotArgs, " ") != "squeue -h -j 42 -o %e" {
		t.Errorf("ran %q", gotArgs)
	}
	// a job without a time limit (squeue prints NONE for it on 22.05; scontrol says Unknown)
	for _, out := range []string{"NONE\n", "N/A", "Unknown\n", "UNLIMITED"} {
		if end, err := SlurmEndTime("42", fake(out, nil)); err != nil || !end.IsZero() {
			t.Errorf("%q: %v, %v", out, end, err)
		}
	}
	for _, c := range []struct {
		id, out string
		err     error
		want    string
	}{
		{"", "", nil, "no job id"},
		{"42", "", errors.New("exit status 1"), "slurm end time of job 42: squeue: exit status 1"},
		{"42", "\n", nil, "squeue printed nothing"},
		{"42", "tomorrow", nil, `squeue printed "tomorrow", not a time`},
	} {
		if _, err := SlurmEndTime(c.id, fake(c.out, c.err)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %q %v: %v; want %s", c.id, c.out, c.err, err, c.want)
		}
	}
}
