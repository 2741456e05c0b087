package commands

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func jobCommand() *cli.Command {
	return &cli.Command{
		Name:  "job",
		Usage: "work with one job",
		Subcommands: []*cli.Command{{
			Name:      "attach",
			Usage:     "wait for a job to end, print its output and exit with its status",
			UsageText: "flux job attach ID",
			Action:    attachAction,
		}, jobUrgencyCommand()},
	}
}

func attachAction(c *cli.Context) error {
	id, err := strconv.ParseUint(c.Args().First(), 10, 64)
	if c.Args().Len() != 1 || err != nil || id == 0 {
		return exitf(2, "flux job attach: give one job id (flux submit and flux jobs print them)")
	}
	client, err := connect("job attach")
	if err != nil {
		return err
	}
	defer client.Close()
	var r broker.JobResult
	if err := client.RPC(context.Background(), broker.TopicAttach, &broker.AttachRequest{ID: id}, &r); err != nil {
		return exitf(1, "flux job attach: %v", err)
	}
	os.Stdout.Write(r.Stdout)
	os.Stderr.Write(r.Stderr)
	if r.Err != "" {
		fmt.Fprintf(os.Stderr, "flux job attach: job %d: %s\n", id, r.Err)
	}
	if r.Status != 0 {
		return exitStatus(r.Status)
	}
	return nil
}
