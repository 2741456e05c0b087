package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/urfave/cli/v2"
)

// queueCommand is flux queue: control the instance's one job queue.
func queueCommand() *cli.Command {
	quiet := &cli.BoolFlag{Name: "quiet", Usage: "print only errors"}
	message := &cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "the reason, shown by flux queue status and flux jobs"}
	timeout := &cli.StringFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "give up after DURATION (30s, 2m, 1h): exit 1"}
	ctl := func(name, usage, op string, reason bool) *cli.Command {
		cmd := &cli.Command{Name: name, Usage: usage, UsageText: "flux queue " + name, Flags: []cli.Flag{quiet},
			Action: func(c *cli.Context) error { return queueControlAction(c, op, reason) }}
		if reason {
			cmd.UsageText += " [-m REASON | REASON...]"
			cmd.Flags = append(cmd.Flags, message)
		}
		return cmd
	}
	wait := func(name, usage string, idle bool) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, UsageText: "flux queue " + name + " [-t DURATION]", Flags: []cli.Flag{timeout},
			Action: func(c *cli.Context) error { return queueWaitAction(c, idle) }}
	}
	return &cli.Command{
		Name:  "queue",
		Usage: "stop, start, disable, enable or wait for the job queue",
		Description: `A stopped queue starts nothing new (running jobs go on, submissions are kept); a disabled
queue refuses submissions with its reason. flux jobs says why a pending job waits, including a
stopped queue. The instance has one queue: where flux-core takes a QUEUE name after stop or
disable, the words here are the reason (flux-core's -m REASON works too).`,
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "say whether submission is enabled and scheduling started", UsageText: "flux queue status",
				Action: func(c *cli.Context) error { return queueControlAction(c, "status", false) }},
			ctl("stop", "start nothing new until flux queue start (submissions are kept)", "stop", true),
			ctl("start", "resume scheduling", "start", false),
			ctl("disable", "refuse submissions with the reason (default \"disabled by administrator\")", "disable", true),
			ctl("enable", "take submissions again", "enable", false),
			wait("drain", "wait until no job is pending or running", false),
			wait("idle", "wait until no job is running (pending ones may stay, e.g. on a stopped queue)", true),
		},
	}
}

func queueControlAction(c *cli.Context, op string, reason bool) error {
	req := broker.QueueRequest{Op: op}
	if reason {
		req.Reason = c.String("message")
		if c.Args().Len() > 0 {
			if req.Reason != "" {
				return exitf(2, "flux queue %s: give the reason once: -m REASON or as words, not both", op)
			}
			req.Reason = strings.Join(c.Args().Slice(), " ")
		}
	} else if c.Args().Len() > 0 {
		return exitf(2, "flux queue %s: %q is not a valid queue (this instance has one queue)", op, c.Args().First())
	}
	client, err := connect("queue " + op)
	if err != nil {
		return err
	}
	defer client.Close()
	var st broker.QueueStatus
	if err := client.RPC(context.Background(), broker.TopicQueue, &req, &st); err != nil {
		return exitf(1, "flux queue %s: %v", op, err)
	}
	if c.Bool("quiet") {
		return nil
	}
	switch op {
	case "status":
		fmt.Println(submissionText(st))
		fmt.Println(schedulingText(st))
	case "start", "stop":
		fmt.Println(schedulingText(st))
	default:
		fmt.Println(submissionText(st))
	}
	return nil
}

// submissionText and schedulingText are flux queue status's lines.
func submissionText(st broker.QueueStatus) string {
	if st.Enabled {
		return "Job submission is enabled"
	}
	return "Job submission is disabled: " + st.DisableReason
}

func schedulingText(st broker.QueueStatus) string {
	if st.Started {
		return "Scheduling is started"
	}
	if st.StopReason != "" {
		return "Scheduling is stopped: " + st.StopReason
	}
	return "Scheduling is stopped"
}

func queueWaitAction(c *cli.Context, idle bool) error {
	name := "drain"
	if idle {
		name = "idle"
	}
	if c.Args().Len() > 0 {
		return exitf(2, "flux queue %s: unexpected argument %q", name, c.Args().First())
	}
	ctx := context.Background()
	var limit time.Duration
	if t := c.String("timeout"); t != "" {
		d, err := parseFSD(t)
		if err != nil {
			return exitf(2, "flux queue %s: -t %v", name, err)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
		limit = d
	}
	client, err := connect("queue " + name)
	if err != nil {
		return err
	}
	defer client.Close()
	var st broker.QueueStatus
	if err := client.RPC(ctx, broker.TopicQueueWait, &broker.QueueWaitRequest{Idle: idle}, &st); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return exitf(1, "flux queue %s: timed out after %v", name, limit)
		}
		return exitf(1, "flux queue %s: %v", name, err)
	}
	return nil
}

// parseFSD reads a Flux Standard Duration (RFC 23): a bare number is
// seconds here, as flux queue -t takes it (unlike -t on jobs: minutes).
func parseFSD(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "0123456789.") == "" {
		s += "s"
	}
	d, err := capacitor.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%s: the duration must be positive", s)
	}
	return d, err
}
