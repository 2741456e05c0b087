package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/urfave/cli/v2"
)

// statusTimeout is the exit status of flux run, flux job attach and flux
// job status for a job that reached its time limit: flux-core's (128 +
// SIGALRM), whatever signal ended the tasks.
const statusTimeout = 142

// interruptWindow is how soon a second Ctrl-C must follow the first to
// cancel the job, as in flux job attach.
const interruptWindow = 2 * time.Second

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run one job in the instance, show its output as it comes, and exit with its status",
		UsageText: "flux run [OPTIONS] CMD [ARGS...]",
		Description: `Like flux submit, but waits: the tasks' output is printed line by line as it comes (with
-l/--label-io each line starts with the task rank), and flux run exits with the job's status: the
largest exit code of its tasks, or 128+signal. A job that reaches its time limit (-t) raises a
timeout exception and flux run exits with 142, as Flux's does. The first Ctrl-C says how to cancel;
a second one within 2 s cancels the job. SIGTERM cancels it at once.`,
		Flags:  submitFlags(),
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	tmpl, err := newJobTemplate(c)
	if err != nil {
		return err
	}
	spec, err := tmpl.spec(c.Args().Slice(), nil)
	if err != nil {
		return err
	}
	if c.Bool("dry-run") {
		b, _ := json.Marshal(jobspecJSON(&spec, mergeEnvRules(os.Environ(), spec.Env)))
		fmt.Printf("%s\n", b)
		return nil
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
	start := time.Now()
	stop := cancelOnInterrupt("flux run", func() {
		client.RPC(context.Background(), broker.TopicCancel, &broker.CancelRequest{IDs: []uint64{id}}, nil)
	})
	defer stop()
	for {
		m, err := results.Recv()
		if err != nil {
			return exitf(1, "flux run: lost the instance while job %s ran: %v", jobid.String(id), err)
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
		for i := range b.Results {
			r := &b.Results[i]
			if r.ID != id {
				continue
			}
			os.Stdout.Write(r.Stdout)
			os.Stderr.Write(r.Stderr)
			return resultStatus("flux run", r, start)
		}
	}
}

// resultStatus reports how a job ended the way flux job attach does and
// returns its exit status as an error for urfave (nil for 0).
func resultStatus(cmd string, r *broker.JobResult, start time.Time) error {
	id := jobid.String(r.ID)
	at := fmt.Sprintf("%.3fs", time.Since(start).Seconds())
	switch {
	case r.Err != "":
		fmt.Fprintf(os.Stderr, "%s: %s: %s\n", cmd, id, r.Err)
	case r.TimedOut:
		fmt.Fprintf(os.Stderr, "%s: job.exception %s type=timeout severity=0 resource allocation expired\n", at, id)
		return exitStatus(statusTimeout)
	case r.Canceled:
		fmt.Fprintf(os.Stderr, "%s: job.exception %s type=cancel severity=0\n", at, id)
	case r.Signal != 0:
		fmt.Fprintf(os.Stderr, "%s: task(s) %s\n", cmd, signalName(r.Signal))
	}
	if r.Status != 0 {
		return exitStatus(r.Status)
	}
	if r.Err != "" {
		return exitStatus(1)
	}
	return nil
}

func signalName(sig int) string {
	s := syscall.Signal(sig).String()
	if s == "" {
		return fmt.Sprintf("signal %d", sig)
	}
	return s
}

// cancelOnInterrupt installs Flux's Ctrl-C rule: the first SIGINT prints how
// to cancel, a second within 2 s calls cancel; SIGTERM cancels at once. The
// returned function removes the handler.
func cancelOnInterrupt(cmd string, cancel func()) func() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var last time.Time
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				if s == syscall.SIGINT && (last.IsZero() || time.Since(last) > interruptWindow) {
					last = time.Now()
					fmt.Fprintf(os.Stderr, "%s: one more ctrl-C within %.0fs to cancel the job\n", cmd, interruptWindow.Seconds())
					continue
				}
				cancel()
			}
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}
