package commands

import (
	"context"
	"fmt"
	"os"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/sched"
	"github.com/urfave/cli/v2"
)

// jobUrgencyCommand is flux job urgency: change a pending job's urgency.
func jobUrgencyCommand() *cli.Command {
	return &cli.Command{
		Name:      "urgency",
		Usage:     "change the urgency of a pending job",
		UsageText: "flux job urgency [-v] ID URGENCY",
		Description: `URGENCY is 0 to 31, or hold (0: the job does not start until its urgency is raised),
default (16) or expedite (31). Pending jobs start in order of urgency, then submission time;
a job that has started keeps its place.`,
		Flags:  []cli.Flag{&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print the old urgency"}},
		Action: jobUrgencyAction,
	}
}

func jobUrgencyAction(c *cli.Context) error {
	if c.Args().Len() != 2 {
		return exitf(2, "flux job urgency: want a job id and an urgency; usage: %s", c.Command.UsageText)
	}
	id, err := parseJobID(c.Args().Get(0))
	if err != nil {
		return exitf(2, "flux job urgency: %v", err)
	}
	u, err := sched.ParseUrgency(c.Args().Get(1))
	if err != nil {
		return exitf(2, "flux job urgency: urgency %v", err)
	}
	client, err := connect("job urgency")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.UrgencyReply
	if err := client.RPC(context.Background(), broker.TopicUrgency, &broker.UrgencyRequest{ID: id, Urgency: u}, &reply); err != nil {
		return exitf(1, "flux job urgency: %v", err)
	}
	if c.Bool("verbose") {
		switch reply.Old {
		case sched.UrgencyHold:
			fmt.Fprintln(os.Stderr, "old urgency: job held")
		case sched.UrgencyExpedite:
			fmt.Fprintln(os.Stderr, "old urgency: job expedited")
		default:
			fmt.Fprintf(os.Stderr, "old urgency: %d\n", reply.Old)
		}
	}
	return nil
}
