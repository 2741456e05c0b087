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
		UsageText: "flux jobs [-a] [--json]",
		Description: `Columns: JOBID, ST (PD pending, R running, CD completed, F failed, CA canceled, TO timeout),
NTASKS, NCORES, TIME (runtime so far, or in total), INFO (for a pending job: why it waits; else
the cores it has), NAME. --json prints one JSON array for scripts.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "also list finished jobs (the last 1000)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: jobsAction,
	}
}

func jobsAction(c *cli.Context) error {
	client, err := connect("jobs")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.ListReply
	if err := client.RPC(context.Background(), broker.TopicList, &broker.ListRequest{All: c.Bool("all")}, &reply); err != nil {
		return exitf(1, "flux jobs: %v", err)
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
