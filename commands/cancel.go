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
		UsageText: "flux cancel ID [ID...] | flux cancel --all",
		Description: `Job ids in any Flux form (f58, decimal, hex, dothex, words). With --all, prints
"flux-cancel: Canceled N jobs (M errors)" as Flux's does.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "cancel every pending and running job"},
		},
		Action: cancelAction,
	}
}

func cancelAction(c *cli.Context) error {
	const cmd = "flux-cancel"
	req := broker.CancelRequest{All: c.Bool("all")}
	ids, err := parseJobIDs(cmd, c.Args().Slice())
	if err != nil {
		return err
	}
	req.IDs = ids
	if len(req.IDs) == 0 && !req.All {
		return exitf(2, "%s: no job id given; usage: %s", cmd, c.Command.UsageText)
	}
	if len(req.IDs) > 0 && req.All {
		return exitf(2, "%s: give job ids or --all, not both", cmd)
	}
	client, err := connect("cancel")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.CancelReply
	if err := client.RPC(context.Background(), broker.TopicCancel, &req, &reply); err != nil {
		return exitf(1, "%s: %v", cmd, err)
	}
	for _, e := range reply.Errs {
		fmt.Fprintf(os.Stderr, "%s: %s\n", cmd, e)
	}
	if req.All {
		fmt.Fprintf(os.Stderr, "%s: Canceled %d jobs (%d errors)\n", cmd, reply.Canceled, len(reply.Errs))
	}
	if len(reply.Errs) > 0 {
		return exitStatus(1)
	}
	return nil
}
