package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run one job in the instance, show its output as it comes, and exit with its status",
		UsageText: "flux run [-n N] [-N N] [-c N] [-g N] [-t LIMIT] [--cwd DIR] [--env K=V] [-o FILE] [--label-io] [--urgency N] [--dependency TYPE:ID] CMD [ARGS...]",
		Description: `Like flux submit, but waits: the tasks' output is printed line by line as it comes (with
--label-io each line starts with the task rank), and flux run exits with the job's status: the
largest exit code of its tasks, or 128+signal. Ctrl-C cancels the job.`,
		Flags:  append(jobFlags(), labelIOFlag()),
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	spec, err := jobspecFrom(c)
	if err != nil {
		return err
	}
	spec.Stream = true
	client, err := connect("run")
	if err != nil {
		return err
	}
	defer client.Close()
	results, watcher, err := broker.WatchResults(client)
	if err != nil {
		return exitf(1, "flux run: %v", err)
	}
	defer results.Close()
	var reply broker.SubmitReply
	req := broker.SubmitRequest{Env: os.Environ(), Jobs: []broker.Jobspec{spec}, Watcher: watcher}
	if err := client.RPC(context.Background(), broker.TopicSubmit, &req, &reply); err != nil {
		return exitf(1, "flux run: %v", err)
	}
	if len(reply.IDs) != 1 || reply.IDs[0] == 0 {
		why := "the instance refused the job"
		if len(reply.Errs) == 1 {
			why = reply.Errs[0]
		}
		return exitf(1, "flux run: %s", why)
	}
	id := reply.IDs[0]

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			client.RPC(context.Background(), broker.TopicCancel, &broker.CancelRequest{IDs: []uint64{id}}, nil)
		}
	}()
	for {
		m, err := results.Recv()
		if err != nil {
			return exitf(1, "flux run: lost the instance while job %d ran: %v", id, err)
		}
		var b broker.ResultBatch
		if err := m.Decode(&b); err != nil {
			return exitf(1, "flux run: %v", err)
		}
		for _, o := range b.Output {
			if o.Stderr {
				os.Stderr.Write(o.Data)
			} else {
				os.Stdout.Write(o.Data)
			}
		}
		for _, r := range b.Results {
			if r.ID != id {
				continue
			}
			os.Stdout.Write(r.Stdout)
			os.Stderr.Write(r.Stderr)
			switch {
			case r.Err != "":
				fmt.Fprintf(os.Stderr, "flux run: %s\n", r.Err)
			case r.TimedOut:
				fmt.Fprintf(os.Stderr, "flux run: job %d reached its time limit and was killed by signal %d\n", id, r.Signal)
			case r.Canceled:
				fmt.Fprintf(os.Stderr, "flux run: job %d canceled\n", id)
			case r.Signal != 0:
				fmt.Fprintf(os.Stderr, "flux run: job %d: a task was killed by signal %d\n", id, r.Signal)
			}
			if r.Status != 0 {
				return exitStatus(r.Status)
			}
			return nil
		}
	}
}
