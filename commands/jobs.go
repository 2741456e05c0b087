package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func jobsCommand() *cli.Command {
	return &cli.Command{
		Name:      "jobs",
		Usage:     "list the instance's jobs: pending and running, and with -a the recent finished ones",
		UsageText: "flux jobs [-a] [--json] [--stats|--stats-only]",
		Description: `Columns: JOBID, ST (PD pending, R running, CD completed, F failed, CA canceled, TO timeout),
NTASKS, NCORES, TIME (runtime so far, or in total), INFO (for a pending job: why it waits; else
the cores it has; "retry N" for a line run again by --retries), NAME. --json prints one JSON array
for scripts.

--stats prints flux-core's summary line first ("N running, N completed, N failed, N pending,
N inactive purged"), followed here by "; N retried" when lines were run again by --retries.

Without FLUX_URI, flux jobs looks at the one flux-capacitor, flux-hierarchy or flux start of yours
running on this node (see flux uri).`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also list finished jobs (the last 1000)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "stats", Usage: "print the job counts of the instance before the jobs"},
			&cli.BoolFlag{Name: "stats-only", Usage: "print only the job counts; exit 0 if there are active jobs, 1 if none"},
		},
		Action: jobsAction,
	}
}

func jobsAction(c *cli.Context) error {
	client, _, err := connectOrFind("jobs")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.ListReply
	req := broker.ListRequest{All: c.Bool("all"), Stats: c.Bool("stats"), StatsOnly: c.Bool("stats-only")}
	if err := client.RPC(context.Background(), broker.TopicList, &req, &reply); err != nil {
		return exitf(1, "flux jobs: %v", err)
	}
	if req.StatsOnly {
		if reply.Stats == nil {
			return exitf(1, "flux jobs: the instance sent no job counts")
		}
		fmt.Println(statsLine(reply.Stats))
		if reply.Stats.Pending+reply.Stats.Running == 0 {
			return exitStatus(1)
		}
		return nil
	}
	if req.Stats && reply.Stats != nil && !c.Bool("json") {
		fmt.Println(statsLine(reply.Stats))
	}
	if c.Bool("json") {
		if reply.Jobs == nil {
			reply.Jobs = []broker.JobInfo{}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reply.Jobs)
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "JOBID\tST\tNTASKS\tNCORES\tTIME\tINFO\tNAME")
	now := time.Now()
	for _, j := range reply.Jobs {
		var t time.Duration
		switch {
		case !j.End.IsZero() && !j.Start.IsZero():
			t = j.End.Sub(j.Start)
		case !j.Start.IsZero():
			t = now.Sub(j.Start)
		}
		info := j.Why
		if info == "" && j.Cores != "" {
			info = "cores " + j.Cores
		}
		if j.State != "pending" && j.State != "running" {
			info = "status " + strconv.Itoa(j.Status)
		}
		if j.Retry > 0 {
			info += ", retry " + strconv.Itoa(j.Retry)
		}
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%s\t%s\t%s\n", j.ID, stateCode(j.State), j.Req.Tasks,
			j.Req.Tasks*j.Req.CoresPerTask, fmtDuration(t), info, j.Name)
	}
	return w.Flush()
}

func stateCode(s string) string {
	switch s {
	case "pending":
		return "PD"
	case "running":
		return "R"
	case "finished":
		return "CD"
	case "failed":
		return "F"
	case "canceled":
		return "CA"
	case "timeout":
		return "TO"
	}
	return s
}

// statsLine is flux jobs --stats' summary, flux-core's words and order,
// with the retries after a semicolon when there were any.
func statsLine(s *broker.JobStats) string {
	line := fmt.Sprintf("%d running, %d completed, %d failed, %d pending, %d inactive purged",
		s.Running, s.Completed, s.Failed, s.Pending, s.Purged)
	if s.Retried > 0 {
		line += fmt.Sprintf("; %d retried", s.Retried)
	}
	return line
}
