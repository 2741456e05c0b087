package resources

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseCountList parses Slurm's per-node counts, as in SLURM_JOB_CPUS_PER_NODE
// and SLURM_TASKS_PER_NODE: comma-separated counts, each optionally repeated
// with "(xN)": "16(x2),8" -> [16 16 8]. Counts are 0..MaxID, repeats at
// least 1, and the expanded list at most MaxHosts long. Errors name the bad
// element.
func ParseCountList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("count list %q: empty", s)
	}
	var out []int
	total := 0
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, fmt.Errorf("count list %q: empty element (two commas in a row, or a trailing comma?)", s)
		}
		num, rep := e, "1"
		if open := strings.IndexByte(e, '('); open >= 0 {
			r, ok := strings.CutPrefix(e[open+1:], "x")
			r, closed := strings.CutSuffix(r, ")")
			if !ok || !closed {
				return nil, fmt.Errorf("count list %q: %s: want N or N(xREPEAT)", s, e)
			}
			num, rep = e[:open], r
		}
		n, err := parseCount(num)
		if err != nil || n > MaxID {
			return nil, fmt.Errorf("count list %q: %s: the count is not a number from 0 to %d", s, e, MaxID)
		}
		k, err := parseCount(rep)
		if err != nil || k < 1 {
			return nil, fmt.Errorf("count list %q: %s: the repeat is not a positive number", s, e)
		}
		if k > MaxHosts || total+k > MaxHosts {
			return nil, fmt.Errorf("count list %q: %s: more than %d counts", s, e, MaxHosts)
		}
		total += k
		for range k {
			out = append(out, n)
		}
	}
	return out, nil
}

// parseCount accepts only ASCII digits (strconv.Atoi would take "+3"), at
// most 9 of them.
func parseCount(d string) (int, error) {
	if d == "" || len(d) > 9 || strings.Trim(d, "0123456789") != "" {
		return 0, errors.New("not a count")
	}
	return strconv.Atoi(d)
}

// SlurmJob is what a Slurm allocation says about itself in the environment
// of the processes that run in it.
type SlurmJob struct {
	JobID  string
	Nodes  []string  // SLURM_JOB_NODELIST (or SLURM_NODELIST), expanded
	CPUs   []int     // per node, SLURM_JOB_CPUS_PER_NODE, same length as Nodes
	Step   bool      // inside an srun step (SLURM_STEP_ID set); a batch script and a salloc shell are not
	NodeID int       // SLURM_NODEID: this node's index in Nodes; -1 when absent (a salloc shell)
	End    time.Time // the job's end time; zero if unknown (not in the environment: see SlurmEndTime)
}

// SlurmFromEnv reads the allocation this process runs in from its
// environment (getenv is os.Getenv, or a map's lookup in tests). It returns
// false when SLURM_JOB_ID (or the older SLURM_JOBID) is unset: not inside a
// Slurm job. Errors name the variable and its value. End is left zero: the
// environment does not have it; fill it in with SlurmEndTime.
//
// The node list is the job's, not the step's: inside `srun -N1` of a
// two-node job, Nodes still has both nodes (SLURM_STEP_NODELIST is not read).
func SlurmFromEnv(getenv func(string) string) (SlurmJob, bool, error) {
	j := SlurmJob{NodeID: -1}
	j.JobID = strings.TrimSpace(getenv("SLURM_JOB_ID"))
	if j.JobID == "" {
		j.JobID = strings.TrimSpace(getenv("SLURM_JOBID"))
	}
	if j.JobID == "" {
		return SlurmJob{}, false, nil
	}
	fail := func(key, val string, err error) (SlurmJob, bool, error) {
		return SlurmJob{}, true, fmt.Errorf("slurm job %s: %s=%q: %w", j.JobID, key, val, err)
	}

	key := "SLURM_JOB_NODELIST"
	val := getenv(key)
	if strings.TrimSpace(val) == "" {
		key = "SLURM_NODELIST"
		val = getenv(key)
	}
	if strings.TrimSpace(val) == "" {
		return fail("SLURM_JOB_NODELIST", val, errors.New("not set (nor SLURM_NODELIST): which nodes does the job have?"))
	}
	nodes, err := ParseHostlist(val)
	if err != nil {
		return fail(key, val, err)
	}
	j.Nodes = nodes

	val = getenv("SLURM_JOB_CPUS_PER_NODE")
	if strings.TrimSpace(val) == "" {
		return fail("SLURM_JOB_CPUS_PER_NODE", val, errors.New("not set: how many CPUs does each node have?"))
	}
	cpus, err := ParseCountList(val)
	if err != nil {
		return fail("SLURM_JOB_CPUS_PER_NODE", val, err)
	}
	if len(cpus) != len(nodes) {
		return fail("SLURM_JOB_CPUS_PER_NODE", val, fmt.Errorf("%d counts for the %d nodes of %s=%q",
			len(cpus), len(nodes), key, getenv(key)))
	}
	j.CPUs = cpus

	j.Step = strings.TrimSpace(getenv("SLURM_STEP_ID")) != "" || strings.TrimSpace(getenv("SLURM_STEPID")) != ""

	if val = strings.TrimSpace(getenv("SLURM_NODEID")); val != "" {
		id, err := parseCount(val)
		if err != nil {
			return fail("SLURM_NODEID", val, errors.New("not a node index"))
		}
		if id >= len(nodes) {
			return fail("SLURM_NODEID", val, fmt.Errorf("the job has only %d nodes", len(nodes)))
		}
		j.NodeID = id
	}
	return j, true, nil
}

// Set returns the resource set a multi-node instance in this job has: one
// rank per node, in the order of Nodes, with the node's name and cores
// 0..CPUs-1. The broker on each node refines its rank with its own affinity
// mask and GPUs (Discover); GPUs are empty here.
func (j SlurmJob) Set() Set {
	s := Set{Ranks: make([]Rank, len(j.Nodes))}
	for i, host := range j.Nodes {
		r := Rank{Rank: i, Host: host}
		if i < len(j.CPUs) && j.CPUs[i] > 0 {
			r.Cores = RangeIDSet(0, j.CPUs[i]-1)
		}
		s.Ranks[i] = r
	}
	return s
}

// slurmTimeLayout is how squeue and scontrol print times (local time).
const slurmTimeLayout = "2006-01-02T15:04:05"

// SlurmEndTime asks Slurm when job jobID ends, with `squeue -h -j ID -o %e`,
// run through run (exec.Command(name, args...).Output() in the broker, a
// fake in tests). The time is read in local time, as squeue prints it. A
// job without a time limit ("NONE", "N/A", "Unknown", "UNLIMITED") returns
// the zero time and no error; a failing squeue, an unknown job or
// unreadable output return an error.
func SlurmEndTime(jobID string, run func(name string, args ...string) ([]byte, error)) (time.Time, error) {
	jobID = strings.TrimSpace(jobID)
	if jobID == "" {
		return time.Time{}, errors.New("slurm end time: no job id")
	}
	out, err := run("squeue", "-h", "-j", jobID, "-o", "%e")
	if err != nil {
		return time.Time{}, fmt.Errorf("slurm end time of job %s: squeue: %w", jobID, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	line = strings.TrimSpace(line)
	switch strings.ToUpper(line) {
	case "":
		return time.Time{}, fmt.Errorf("slurm end time of job %s: squeue printed nothing (no such job?)", jobID)
	case "NONE", "N/A", "UNKNOWN", "UNLIMITED", "INFINITE":
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(slurmTimeLayout, line, time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("slurm end time of job %s: squeue printed %q, not a time like 2026-11-26T07:30:00", jobID, line)
	}
	return t, nil
}
