package commands

import (
	"context"
	"errors"
	"syscall"

	"fmt"
	"github.com/fluxtaskfarm/flux/overlay"
	"os"

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
		Usage:     "wait for a job submitted with --flags=waitable; each result is consumed once",
		UsageText: "flux job wait [-v] [--all] [ID]",
		Description: `With an id: waits for it; exits 0 if it succeeded, 1 (with a message) if it failed, 2 if it is
not waitable or was waited for already. Without: waits for the next waitable job to end and prints
its id; exits 2 when there are no more. --all waits for every one of them, printing their ids;
exits 1 if any failed. As flux-job(1) says.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "wait for every waitable job"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print a line for every job, not only failed ones"},
		},
		Action: jobWaitAction,
	}
}

func jobWaitAction(c *cli.Context) error {
	const cmd = "flux-job"
	var id uint64
	if c.Args().Len() > 0 {
		var err error
		if id, err = oneJobID(c, cmd); err != nil {
			return err
		}
	}
	client, err := connect("job wait")
	if err != nil {
		return err
	}
	defer client.Close()
	failed, waited := false, 0
	for {
		var r broker.JobResult
		err := client.RPC(context.Background(), broker.TopicWait, &broker.WaitRequest{ID: id}, &r)
		if err != nil {
			var re *overlay.RemoteError
			if errors.As(err, &re) && re.Errnum == syscall.ECHILD {
				if c.Bool("all") && waited > 0 {
					break
				}
				return exitf(2, "%s: there are no more waitable jobs", cmd)
			}
			if errors.As(err, &re) {
				return exitf(2, "%s: %s", cmd, re.Text)
			}
			return exitf(1, "%s: %v", cmd, err)
		}
		waited++
		ok := r.Status == 0 && r.Err == "" && !r.Canceled && !r.TimedOut
		switch {
		case !ok:
			failed = true
			fmt.Fprintf(os.Stderr, "%s: %s\n", jobid.String(r.ID), statusWords(&r))
		case c.Bool("verbose"):
			fmt.Fprintf(os.Stderr, "%s: %s\n", jobid.String(r.ID), statusWords(&r))
		}
		if id == 0 {
			fmt.Println(jobid.String(r.ID))
		}
		if id != 0 || !c.Bool("all") {
			break
		}
	}
	if failed {
		return exitStatus(1)
	}
	return nil
}
