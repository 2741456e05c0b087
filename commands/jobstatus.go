package commands

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/urfave/cli/v2"
)

func jobStatusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "wait for jobs to end and exit with the largest exit status",
		UsageText: "flux job status [-v] [-e CODE] ID [ID...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print each job's status"},
			&cli.IntFlag{Name: "exception-exit-code", Aliases: []string{"e"}, Value: -1, Usage: "exit status for a job that ended by an exception (canceled, timeout)"},
		},
		Action: jobStatusAction,
	}
}

func jobStatusAction(c *cli.Context) error {
	const cmd = "flux-job"
	if c.Args().Len() == 0 {
		return exitf(2, "%s: give at least one job id; usage: %s", cmd, c.Command.UsageText)
	}
	ids, err := parseJobIDs(cmd, c.Args().Slice())
	if err != nil {
		return err
	}
	client, err := connect("job status")
	if err != nil {
		return err
	}
	defer client.Close()
	worst := 0
	for _, id := range ids {
		r, err := waitJob(client, cmd, id)
		if err != nil {
			return err
		}
		code := r.Status
		switch {
		case r.TimedOut:
			code = statusTimeout
		case r.Err != "" && code == 0:
			code = 1
		}
		if e := c.Int("exception-exit-code"); e >= 0 && (r.TimedOut || r.Canceled || r.Err != "") {
			code = e
		}
		if c.Bool("verbose") {
			fmt.Printf("%s: %s\n", jobid.String(id), statusWords(r))
		}
		worst = max(worst, code)
	}
	if worst != 0 {
		return exitStatus(worst)
	}
	return nil
}

// statusWords says how a job ended, as flux job status -v does.
func statusWords(r *broker.JobResult) string {
	switch {
	case r.TimedOut:
		return "exception: type=timeout"
	case r.Canceled:
		return "exception: type=cancel"
	case r.Err != "":
		return "exception: type=exec " + r.Err
	case r.Signal != 0:
		return "killed by " + signalName(r.Signal)
	}
	return fmt.Sprintf("exited with exit code %d", r.ExitCode)
}

func jobWaitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "wait for a job submitted with --flags=waitable",
		UsageText: "flux job wait [-v] [--all] [ID]",
		Description: `With an id: waits for it; exits 0 if it succeeded, 1 (with a message) if it failed, 2 if it is
not a waitable job. Without: waits for the oldest waitable job still running or pending and prints
its id; exits 2 when there is none. --all waits for every one of them; exits 1 if any failed.
Unlike Flux, a waitable job that already ended is not remembered as unconsumed: wait for it by id.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "wait for every waitable job"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print a line for every job, not only failed ones"},
		},
		Action: jobWaitAction,
	}
}

func jobWaitAction(c *cli.Context) error {
	const cmd = "flux-job"
	client, err := connect("job wait")
	if err != nil {
		return err
	}
	defer client.Close()
	var targets []uint64
	printIDs := true
	if c.Args().Len() > 0 {
		id, err := oneJobID(c, cmd)
		if err != nil {
			return err
		}
		info, err := findJob(client, cmd, id)
		if err != nil {
			return exitf(2, "%v", err)
		}
		if !strings.Contains(info.Flags, "waitable") {
			return exitf(2, "%s: %s: not waitable (submit it with --flags=waitable)", cmd, jobid.String(id))
		}
		targets, printIDs = []uint64{id}, false
	} else {
		var reply broker.ListReply
		if err := client.RPC(context.Background(), broker.TopicList, &broker.ListRequest{}, &reply); err != nil {
			return exitf(1, "%s: %v", cmd, err)
		}
		for _, j := range reply.Jobs {
			if strings.Contains(j.Flags, "waitable") {
				targets = append(targets, j.ID)
			}
		}
		if len(targets) == 0 {
			return exitf(2, "%s: there are no more waitable jobs", cmd)
		}
		if !c.Bool("all") {
			targets = targets[:1]
		}
	}
	failed := false
	for _, id := range targets {
		r, err := waitJob(client, cmd, id)
		if err != nil {
			return err
		}
		ok := r.Status == 0 && r.Err == "" && !r.Canceled && !r.TimedOut
		switch {
		case !ok:
			failed = true
			fmt.Fprintf(os.Stderr, "%s: %s\n", jobid.String(id), statusWords(r))
		case c.Bool("verbose"):
			fmt.Fprintf(os.Stderr, "%s: %s\n", jobid.String(id), statusWords(r))
		}
		if printIDs {
			fmt.Println(jobid.String(id))
		}
	}
	if failed {
		return exitStatus(1)
	}
	return nil
}
