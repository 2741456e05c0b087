package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
)

func jobCommand() *cli.Command {
	return &cli.Command{
		Name:  "job",
		Usage: "work with jobs by id: attach, status, wait, info, eventlog, last, kill, raise, id",
		Description: `Job ids are accepted in every Flux form: f58 (ƒ2bG3oV or f2bG3oV), decimal, hex (0x...),
dothex (0000.0000.0000.0000) and words. Messages start with flux-job:, as Flux's do.`,
		Subcommands: []*cli.Command{
			{
				Name:      "attach",
				Usage:     "wait for a job to end, print its output and exit with its status",
				UsageText: "flux job attach [--show-events] ID",
				Description: `Prints the job's output as it comes (what it wrote before first), then exits with the job's
status; 142 if it reached its time limit. Jobs of flux-capacitor and of flux submit --wait keep
their output whole and it is printed when they end. The first Ctrl-C says how to cancel; a second
within 2 s cancels the job.`,
				Flags:  []cli.Flag{&cli.BoolFlag{Name: "show-events", Aliases: []string{"E"}, Usage: "print the job's events on stderr"}},
				Action: attachAction,
			},
			jobStatusCommand(),
			jobWaitCommand(),
			jobInfoCommand(),
			jobEventlogCommand(),
			jobLastCommand(),
			jobKillCommand(),
			jobRaiseCommand(),
			jobIDCommand(),
			jobUrgencyCommand(),
		},
	}
}

// parseJobIDs reads job id arguments; a malformed one is a usage error.
func parseJobIDs(cmd string, args []string) ([]uint64, error) {
	ids := make([]uint64, 0, len(args))
	for _, a := range args {
		id, err := jobid.Parse(a)
		if err != nil {
			return nil, exitf(2, "%s: %v", cmd, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// oneJobID reads the single id a subcommand takes.
func oneJobID(c *cli.Context, cmd string) (uint64, error) {
	if c.Args().Len() != 1 {
		return 0, exitf(2, "%s: give one job id (flux submit and flux jobs print them); usage: %s", cmd, c.Command.UsageText)
	}
	ids, err := parseJobIDs(cmd, c.Args().Slice())
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// waitJob waits for a job to end (job.attach) and returns its result. A
// job the instance does not know is "ID: no such job", exit 1.
func waitJob(client *overlay.Client, cmd string, id uint64) (*broker.JobResult, error) {
	var r broker.JobResult
	err := client.RPC(context.Background(), broker.TopicAttach, &broker.AttachRequest{ID: id}, &r)
	if err != nil {
		var re *overlay.RemoteError
		if errors.As(err, &re) && re.Errnum == syscall.ENOENT {
			return nil, exitf(1, "%s: %s: no such job", cmd, jobid.String(id))
		}
		return nil, exitf(1, "%s: %s: %v", cmd, jobid.String(id), err)
	}
	return &r, nil
}

func attachAction(c *cli.Context) error {
	const cmd = "flux-job"
	id, err := oneJobID(c, cmd)
	if err != nil {
		return err
	}
	client, err := connect("job attach")
	if err != nil {
		return err
	}
	defer client.Close()
	stop := cancelOnInterrupt(cmd, func() {
		client.RPC(context.Background(), broker.TopicCancel, &broker.CancelRequest{IDs: []uint64{id}}, nil)
	})
	defer stop()
	start := time.Now()
	shown := 0 // events printed so far: those of the job's start first, the rest when it ends
	showEvents := func() {
		if !c.Bool("show-events") {
			return
		}
		if info, err := findJob(client, cmd, id); err == nil {
			evs := jobEvents(info)
			for _, e := range evs[min(shown, len(evs)):] {
				fmt.Fprintf(os.Stderr, "%s\n", e.text(false))
			}
			shown = len(evs)
		}
	}
	showEvents()
	r, err := attachStream(client, cmd, id)
	if err != nil {
		return err
	}
	showEvents()
	return resultStatus(cmd, r, start)
}

// findJob returns a job's record from the job table (active jobs and the
// bounded history).
func findJob(client *overlay.Client, cmd string, id uint64) (*broker.JobInfo, error) {
	var reply broker.ListReply
	if err := client.RPC(context.Background(), broker.TopicList, &broker.ListRequest{All: true}, &reply); err != nil {
		return nil, exitf(1, "%s: %v", cmd, err)
	}
	for i := range reply.Jobs {
		if reply.Jobs[i].ID == id {
			return &reply.Jobs[i], nil
		}
	}
	return nil, exitf(1, "%s: %s: no such job", cmd, jobid.String(id))
}

// attachStream follows a job: its output as it comes (for a job whose
// output streams; a captured job's output arrives with its result), then
// its result.
func attachStream(client *overlay.Client, cmd string, id uint64) (*broker.JobResult, error) {
	st, err := client.Stream(context.Background(), broker.TopicAttach, &broker.AttachRequest{ID: id, Stream: true})
	if err != nil {
		return nil, exitf(1, "%s: %s: %v", cmd, jobid.String(id), err)
	}
	defer st.Close()
	gotLines := false // then the result's captured output repeats them
	for {
		m, err := st.Recv()
		if err != nil {
			var re *overlay.RemoteError
			if errors.As(err, &re) && re.Errnum == syscall.ENOENT {
				return nil, exitf(1, "%s: %s: no such job", cmd, jobid.String(id))
			}
			return nil, exitf(1, "%s: %s: %v", cmd, jobid.String(id), err)
		}
		var b broker.ResultBatch
		if err := m.Decode(&b); err != nil {
			return nil, exitf(1, "%s: %v", cmd, err)
		}
		for _, o := range b.Output {
			gotLines = true
			if o.Stderr {
				os.Stderr.Write(o.Data)
			} else {
				os.Stdout.Write(o.Data)
			}
		}
		if len(b.Results) > 0 {
			r := &b.Results[0]
			if !gotLines {
				os.Stdout.Write(r.Stdout)
				os.Stderr.Write(r.Stderr)
			}
			return r, nil
		}
	}
}
