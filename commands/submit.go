package commands

import (
	"context"
	"fmt"
	"os"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func submitCommand() *cli.Command {
	return &cli.Command{
		Name:      "submit",
		Usage:     "submit one job to the instance and print its id",
		UsageText: "flux submit [-n N] [-N N] [-c N] [-g N] [-t LIMIT] [--cwd DIR] [--env K=V] [-o FILE] [--urgency N] [--dependency TYPE:ID] CMD [ARGS...]",
		Description: `The job runs CMD with ARGS (executed directly, no shell; use sh -c '...' for shell syntax) with
the resources asked for. The job id is printed; follow it with flux jobs, flux cancel ID, or collect
its output and exit status with flux run instead. Output not sent to a file (-o) is kept by the
instance for the last 1000 jobs.`,
		Flags:  append(jobFlags(), labelIOFlag()),
		Action: submitAction,
	}
}

// jobspecFrom builds one job from the job flags and the command words.
func jobspecFrom(c *cli.Context) (broker.Jobspec, error) {
	if c.Args().Len() == 0 {
		return broker.Jobspec{}, exitf(2, "flux %s: no command given; usage: %s", c.Command.Name, c.Command.UsageText)
	}
	d, err := jobDefaults(c)
	if err != nil {
		return broker.Jobspec{}, err
	}
	argv := c.Args().Slice()
	req := d.Req
	// -N alone asks for whole nodes, as in Flux.
	req.Exclusive = req.Nodes > 0 && req.Tasks == 0 && req.CoresPerTask == 0 && req.GPUsPerTask == 0
	req = req.Normalize()
	if err := req.Validate(); err != nil {
		return broker.Jobspec{}, exitf(2, "flux %s: %v", c.Command.Name, err)
	}
	spec := broker.Jobspec{Req: req, Argv: argv, Env: d.Env, Cwd: d.Cwd, TimeLimit: d.TimeLimit,
		Output: d.Output, LabelIO: d.LabelIO, Name: argv[0], Urgency: d.Urgency}
	for _, dep := range d.Deps {
		spec.Dependencies = append(spec.Dependencies, dep.String())
	}
	return spec, nil
}

func submitAction(c *cli.Context) error {
	spec, err := jobspecFrom(c)
	if err != nil {
		return err
	}
	client, err := connect("submit")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.SubmitReply
	req := broker.SubmitRequest{Env: os.Environ(), Jobs: []broker.Jobspec{spec}}
	if err := client.RPC(context.Background(), broker.TopicSubmit, &req, &reply); err != nil {
		return exitf(1, "flux submit: %v", err)
	}
	if len(reply.IDs) != 1 || reply.IDs[0] == 0 {
		why := "the instance refused the job"
		if len(reply.Errs) == 1 {
			why = reply.Errs[0]
		}
		return exitf(1, "flux submit: %s", why)
	}
	fmt.Println(reply.IDs[0])
	return nil
}
