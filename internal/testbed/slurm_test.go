package testbed

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

func slurmCmd(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestSlurmSrun(t *testing.T) {
	c := Slurm(t)
	if len(c.Nodes) < 2 {
		t.Fatalf("nodes %q: want at least 2", c.Nodes)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := slurmCmd(t, ctx, "srun", "-N2", "hostname")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 {
		t.Errorf("srun -N2 hostname: %d lines: %q", len(lines), out)
	}
	// the second call is the same cluster, at once
	if again := Slurm(t); !slices.Equal(again.Nodes, c.Nodes) {
		t.Errorf("second Slurm: %q, first %q", again.Nodes, c.Nodes)
	}
}

// Hostlists and the job environment as real Slurm writes them.
func TestSlurmHostlistsAndEnv(t *testing.T) {
	c := Slurm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// FormatHostlist agrees with `scontrol show hostlist`, ParseHostlist
	// with `scontrol show hostnames`
	for _, hl := range []string{strings.Join(c.Nodes, ","), "n[1-3,7]", "rack[1-2]n[01-03]", "n[3,1-2],m5", "n[08-10]"} {
		hosts := strings.Fields(slurmCmd(t, ctx, "scontrol", "show", "hostnames", hl))
		got, err := resources.ParseHostlist(hl)
		if err != nil || !slices.Equal(got, hosts) {
			t.Errorf("ParseHostlist(%q) = %q, %v; scontrol: %q", hl, got, err, hosts)
		}
		want := strings.TrimSpace(slurmCmd(t, ctx, "scontrol", "show", "hostlist", strings.Join(hosts, ",")))
		if f := resources.FormatHostlist(hosts); f != want {
			t.Errorf("FormatHostlist(%q) = %q; scontrol: %q", hosts, f, want)
		}
	}

	// every task of a real srun step reads its allocation from its environment
	out := slurmCmd(t, ctx, "srun", "-N2", "-n3", "-l", "env")
	envs := map[string]map[string]string{}
	for line := range strings.Lines(out) {
		task, kv, ok := strings.Cut(line, ": ")
		k, v, ok2 := strings.Cut(strings.TrimRight(kv, "\n"), "=")
		if !ok || !ok2 {
			continue
		}
		if envs[task] == nil {
			envs[task] = map[string]string{}
		}
		envs[task][k] = v
	}
	if len(envs) != 3 {
		t.Fatalf("srun -n3 -l env: %d tasks", len(envs))
	}
	nodeIDs := map[int]bool{}
	for task, env := range envs {
		j, ok, err := resources.SlurmFromEnv(func(k string) string { return env[k] })
		if !ok || err != nil {
			t.Fatalf("task %s: %v, %v", task, ok, err)
		}
		if len(j.Nodes) != 2 || !j.Step || j.NodeID < 0 || j.Set().Cores() < 3 {
			t.Errorf("task %s: %+v (SLURM_JOB_NODELIST=%q SLURM_JOB_CPUS_PER_NODE=%q)", task, j,
				env["SLURM_JOB_NODELIST"], env["SLURM_JOB_CPUS_PER_NODE"])
		}
		nodeIDs[j.NodeID] = true
	}
	if len(nodeIDs) != 2 {
		t.Errorf("tasks on node ids %v, want 0 and 1", nodeIDs)
	}
}

// SlurmEndTime against the real squeue: a job with a 5-minute limit, and
// one without a limit (the partition has none either).
func TestSlurmEndTimeReal(t *testing.T) {
	Slurm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// both submitted before waiting: Slurm starts them in one pass (a job
	// submitted later waits for the next scheduling cycle, seconds away)
	limited := strings.TrimSpace(slurmCmd(t, ctx, "sbatch", "--parsable", "-N1", "-n1", "-t", "5", "-o", "/dev/null", "--wrap", "sleep 120"))
	defer exec.Command("scancel", limited).Run()
	unlimited := strings.TrimSpace(slurmCmd(t, ctx, "sbatch", "--parsable", "-N1", "-n1", "-o", "/dev/null", "--wrap", "sleep 120"))
	defer exec.Command("scancel", unlimited).Run()
	for strings.TrimSpace(slurmCmd(t, ctx, "squeue", "-h", "-j", limited+","+unlimited, "-o", "%t")) != "R\nR" {
		if ctx.Err() != nil {
			t.Fatalf("jobs %s and %s never ran", limited, unlimited)
		}
		time.Sleep(50 * time.Millisecond)
	}
	run := func(name string, args ...string) ([]byte, error) {
		return exec.CommandContext(ctx, name, args...).Output()
	}
	end, err := resources.SlurmEndTime(limited, run)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(end); d < 4*time.Minute || d > 5*time.Minute+5*time.Second {
		t.Errorf("job %s ends at %v, %v from now; want about 5 minutes", limited, end, d)
	}
	if end, err := resources.SlurmEndTime(unlimited, run); err != nil || !end.IsZero() {
		t.Errorf("job %s without a limit: %v, %v; want the zero time", unlimited, end, err)
	}
}
