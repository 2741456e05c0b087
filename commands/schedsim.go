package commands

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/fluxtaskfarm/flux/sched"
	"github.com/fluxtaskfarm/flux/sched/sim"
	"github.com/urfave/cli/v2"
)

func schedSimCommand() *cli.Command {
	return &cli.Command{
		Name:      "sched-sim",
		Usage:     "replay an SWF workload trace through a scheduler policy with a simulated clock",
		UsageText: "flux sched-sim [--policy easy] [--estimates oracle|fixed|learned] [--cores N] [--nodes K] [--json] trace.swf",
		Description: `Replays a Standard Workload Format trace (Parallel Workloads Archive) through the same
scheduler core the broker uses, and prints makespan, mean and max wait (and the max wait of jobs
wider than half the machine, the ones a policy can starve), mean bounded slowdown (10 s bound) and
utilisation. The requested time (field 9) is the estimate; the run time (field 4) is the truth,
cut at the estimate as -t is enforced; --estimates says what a job without one is planned with.
The default policy is the instance's, sched.easy; sched.fcfs is strict first-come first-served. The machine has --cores cores, or the trace's "; MaxProcs:"
header; --nodes splits them over K ranks. Jobs larger than the machine are skipped and counted.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "policy", Value: "easy", Usage: "easy, fcfs, conservative, hybrid or firstfit (the sched. prefix is optional)"},
			&cli.IntFlag{Name: "cores", Usage: "machine size in cores (default: the trace's MaxProcs)"},
			&cli.IntFlag{Name: "nodes", Value: 1, Usage: "split the cores over this many ranks"},
			&cli.IntFlag{Name: "reservation-depth", Usage: "reservations per pass for hybrid (default 64)"},
			&cli.IntFlag{Name: "queue-depth", Usage: "jobs a pass may pass over (0: the policy's default)"},
			&cli.StringFlag{Name: "estimates", Value: "oracle", Usage: "what a job that asked for no time (field 9 = -1) is planned with: " +
				"oracle (its true run time), fixed (the default estimate, as a line without -t), or learned (what jobs of the same " +
				"application, field 14, took lately: learn-estimates=on)"},
			&cli.StringFlag{Name: "default-estimate", Usage: "the fixed default estimate (default 1h)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		},
		Action: schedSimAction,
	}
}

func schedSimAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return exitf(2, "flux sched-sim: want one trace file (SWF), got %d arguments", c.NArg())
	}
	opt, err := sched.ParseOptions("plugin=" + c.String("policy"))
	if err != nil {
		return exitf(2, "flux sched-sim: --policy: %v", err)
	}
	if v := c.String("default-estimate"); v != "" {
		o, err := sched.ParseOptions("default-estimate=" + v)
		if err != nil {
			return exitf(2, "flux sched-sim: --default-estimate: %v", err)
		}
		opt.DefaultEstimate = o.DefaultEstimate
	}
	est, ok := map[string]sim.Estimates{"oracle": sim.Oracle, "fixed": sim.Fixed, "learned": sim.Learned}[c.String("estimates")]
	if !ok {
		return exitf(2, "flux sched-sim: --estimates %q: want oracle, fixed or learned", c.String("estimates"))
	}
	opt.ReservationDepth = c.Int("reservation-depth")
	opt.QueueDepth = c.Int("queue-depth")
	path := c.Args().First()
	f, err := os.Open(path)
	if err != nil {
		return exitf(1, "flux sched-sim: %v", err)
	}
	defer f.Close()
	tr, err := sim.ReadSWF(f)
	if err != nil {
		return exitf(1, "flux sched-sim: %s: %v", path, err)
	}
	st, err := sim.ReplayEstimates(tr, opt, c.Int("cores"), c.Int("nodes"), est)
	if err != nil {
		return exitf(1, "flux sched-sim: %s: %v", path, err)
	}
	if c.Bool("json") {
		return json.NewEncoder(os.Stdout).Encode(st)
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "policy\t%s\n", st.Policy)
	nodes := "nodes"
	if st.Nodes == 1 {
		nodes = "node"
	}
	fmt.Fprintf(w, "machine\t%d cores on %d %s\n", st.Cores, st.Nodes, nodes)
	fmt.Fprintf(w, "jobs\t%d\n", st.Jobs)
	if st.TooLarge > 0 {
		fmt.Fprintf(w, "skipped\t%d (more cores than the machine)\n", st.TooLarge)
	}
	if st.Invalid > 0 {
		fmt.Fprintf(w, "skipped\t%d (no run time or processor count)\n", st.Invalid)
	}
	fmt.Fprintf(w, "makespan\t%.0f s\n", st.Makespan)
	fmt.Fprintf(w, "mean wait\t%.1f s\n", st.MeanWait)
	fmt.Fprintf(w, "max wait\t%.1f s (jobs wider than half the machine: %.1f s)\n", st.MaxWait, st.MaxWaitWide)
	fmt.Fprintf(w, "mean bounded slowdown\t%.3f\n", st.MeanBoundedSlowdown)
	fmt.Fprintf(w, "utilization\t%.1f%%\n", 100*st.Utilization)
	return nil
}
