package commands

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "cancel jobs: pending ones leave the queue, running ones get SIGTERM, then SIGKILL",
		UsageText: "flux cancel ID [ID...] | flux cancel --all",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "cancel every pending and running job"},
		},
		Action: cancelAction,
	}
}

func cancelAction(c *cli.Context) error {
	req := broker.CancelRequest{All: c.Bool("all")}
	for _, a := range c.Args().Slice() {
		id, err := strconv.ParseUint(a, 10, 64)
		if err != nil || id == 0 {
			return exitf(2, "flux cancel: %q is not a job id; ids are the numbers flux submit and flux jobs print", a)
		}
		req.IDs = append(req.IDs, id)
	}
	if len(req.IDs) == 0 && !req.All {
		return exitf(2, "flux cancel: no job id given; usage: %s", c.Command.UsageText)
	}
	client, err := connect("cancel")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.CancelReply
	if err := client.RPC(context.Background(), broker.TopicCancel, &req, &reply); err != nil {
		return exitf(1, "flux cancel: %v", err)
	}
	for _, e := range reply.Errs {
		fmt.Fprintf(os.Stderr, "flux cancel: %s\n", e)
	}
	if len(reply.Errs) > 0 {
		return exitStatus(1)
	}
	return nil
}
