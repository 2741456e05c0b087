package commands

import (
	"context"
	"fmt"
	"os"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "cancel jobs: pending ones leave the queue, running ones get SIGTERM, then SIGKILL",
		UsageText: "flux cancel [-n] [-q] [-m NOTE] ID [ID...] | flux cancel --all [-S STATES]",
		Description: `As flux-cancel(1). Job ids in any Flux form (f58, decimal, hex, dothex, words). With --all
(or -S), prints "flux-cancel: Canceled N jobs (M errors)"; --dry-run only counts them. The note
of -m is kept as the job's exception note (flux jobs -o '{exception.note}', -o endreason).`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "cancel every pending and running job"},
			&cli.StringFlag{Name: "states", Aliases: []string{"S"}, Usage: "with or instead of --all: pending, running or active (the default)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say how many jobs would be canceled; cancel none"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "say nothing when no job matches"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "exception note"},
		},
		Action: cancelAction,
	}
}

func cancelAction(c *cli.Context) error {
	const cmd = "flux-cancel"
	ids, err := parseJobIDs(cmd, c.Args().Slice())
	if err != nil {
		return err
	}
	all := c.Bool("all") || c.IsSet("states")
	var states jobFilter
	if c.IsSet("states") {
		if states, err = parseJobFilter(c.String("states")); err != nil || states.needsHistory() {
			return exitf(2, "%s: --states %s: give pending, running or active", cmd, c.String("states"))
		}
	}
	if len(ids) == 0 && !all {
		return exitf(2, "%s: no job id given; usage: %s", cmd, c.Command.UsageText)
	}
	if len(ids) > 0 && all {
		return exitf(2, "%s: give job ids or --all/--states, not both", cmd)
	}
	client, err := connect("cancel")
	if err != nil {
		return err
	}
	defer client.Close()
	if all {
		var list broker.ListReply
		if err := client.RPC(context.Background(), broker.TopicList, &broker.ListRequest{}, &list); err != nil {
			return exitf(1, "%s: %v", cmd, err)
		}
		for i := range list.Jobs {
			r := jobRow{j: &list.Jobs[i]}
			if states == nil || states.match(r) {
				ids = append(ids, list.Jobs[i].ID)
			}
		}
		if len(ids) == 0 {
			if !c.Bool("quiet") {
				fmt.Fprintf(os.Stderr, "%s: Matched 0 jobs\n", cmd)
			}
			return nil
		}
	}
	if c.Bool("dry-run") {
		fmt.Fprintf(os.Stderr, "%s: Would cancel %d %s\n", cmd, len(ids), plural(len(ids), "job"))
		return nil
	}
	var reply broker.CancelReply
	if err := client.RPC(context.Background(), broker.TopicCancel, &broker.CancelRequest{IDs: ids, Note: c.String("message")}, &reply); err != nil {
		return exitf(1, "%s: %v", cmd, err)
	}
	for _, e := range reply.Errs {
		fmt.Fprintf(os.Stderr, "%s: %s\n", cmd, e)
	}
	if all {
		fmt.Fprintf(os.Stderr, "%s: Canceled %d %s (%d errors)\n", cmd, reply.Canceled, plural(reply.Canceled, "job"), len(reply.Errs))
	}
	if len(reply.Errs) > 0 {
		return exitStatus(1)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
