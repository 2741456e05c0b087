package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func moduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "module",
		Usage: "load, list and remove broker modules",
		Description: `A module is a program (any language) the broker starts with FLUX_URI set; it connects to the
broker, sends service.add with the service names it provides, and from then on receives the
requests for those services (from this broker and the ones below it in the tree) and answers
them. sched.easy, sched.fcfs, sched.conservative, sched.hybrid and sched.firstfit are built-in modules that switch
the scheduler of a running instance (rank 0), keeping queued jobs; options follow the name, e.g.
flux module load sched.hybrid reservation-depth=8.`,
		Subcommands: []*cli.Command{
			{
				Name:      "load",
				Usage:     "start a module program, or switch the scheduler",
				UsageText: "flux module load PATH|sched.POLICY [ARGS...]",
				Action:    moduleLoadAction,
			},
			{
				Name:      "list",
				Usage:     "list the modules of the broker FLUX_URI names",
				UsageText: "flux module list [--json]",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action:    moduleListAction,
			},
			{
				Name:      "remove",
				Usage:     "stop a module program",
				UsageText: "flux module remove NAME",
				Action:    moduleRemoveAction,
			},
		},
	}
}

func moduleLoadAction(c *cli.Context) error {
	if c.Args().Len() == 0 {
		return exitf(2, "flux module load: give a program path or a scheduler name (sched.easy)")
	}
	req := broker.ModuleLoad{Path: c.Args().First(), Args: c.Args().Tail()}
	if !strings.HasPrefix(req.Path, "sched.") || strings.Contains(req.Path, "/") {
		abs, err := filepath.Abs(req.Path)
		if err != nil {
			return exitf(2, "flux module load: %v", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return exitf(2, "flux module load: %s: no such program", req.Path)
		}
		req.Path = abs
	}
	client, err := connect("module load")
	if err != nil {
		return err
	}
	defer client.Close()
	var info broker.ModuleInfo
	if err := client.RPC(context.Background(), broker.TopicModLoad, &req, &info); err != nil {
		return exitf(1, "flux module load: %v", err)
	}
	return nil
}

func moduleListAction(c *cli.Context) error {
	client, err := connect("module list")
	if err != nil {
		return err
	}
	defer client.Close()
	var list broker.ModuleList
	if err := client.RPC(context.Background(), broker.TopicModList, nil, &list); err != nil {
		return exitf(1, "flux module list: %v", err)
	}
	if c.Bool("json") {
		if list.Modules == nil {
			list.Modules = []broker.ModuleInfo{}
		}
		return json.NewEncoder(os.Stdout).Encode(list.Modules)
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "MODULE\tPID\tRANK\tSERVICES")
	for _, m := range list.Modules {
		pid := fmt.Sprint(m.Pid)
		if m.Builtin {
			pid = "builtin"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", m.Name, pid, m.Rank, strings.Join(m.Services, ","))
	}
	return w.Flush()
}

func moduleRemoveAction(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return exitf(2, "flux module remove: give one module name (flux module list shows them)")
	}
	client, err := connect("module remove")
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.RPC(context.Background(), broker.TopicModRemove, &broker.ModuleRemove{Name: c.Args().First()}, nil); err != nil {
		return exitf(1, "flux module remove: %v", err)
	}
	return nil
}
