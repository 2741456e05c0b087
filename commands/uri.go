package commands

import (
	"fmt"
	"os"

	"github.com/fluxtaskfarm/flux/internal/rundir"
	"github.com/urfave/cli/v2"
)

func uriCommand() *cli.Command {
	return &cli.Command{
		Name:      "uri",
		Usage:     "print the URI of a running instance: the one of yours on this node, pid:PID, or a child instance by its job id",
		UsageText: "flux uri [--local|--remote] [TARGET]    flux uri --list",
		Description: `TARGET is a URI (printed as it is), pid:PID (the instance a running flux-capacitor,
flux-hierarchy or flux start of yours on this node runs on), or jobid:ID (a child instance that runs
as job ID of the current instance, FLUX_URI or the one running).

Unlike flux-core's flux uri, TARGET may be left out: then it is FLUX_URI's instance, else the one
instance of yours running on this node (found in the per-user run directory, $XDG_RUNTIME_DIR/flux or $TMPDIR/flux-UID); when
several run, they are listed and the exit status is 1. --list lists every running instance,
children of a hierarchy included. URIs are local (unix sockets): --local and --remote are accepted
and change nothing.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "local", Usage: "print a local URI (ours always are)"},
			&cli.BoolFlag{Name: "remote", Usage: "accepted for compatibility; the URI stays local"},
			&cli.BoolFlag{Name: "list", Usage: "list the running instances of yours on this node"},
		},
		Action: uriAction,
	}
}

func uriAction(c *cli.Context) error {
	if c.Bool("list") {
		all, err := rundir.List()
		if err != nil {
			return exitf(1, "flux uri: %v", err)
		}
		for _, e := range all {
			line := e.Describe()
			if e.ParentURI != "" {
				line += "  child of " + e.ParentURI + " as job " + e.JobID
			}
			fmt.Println(line)
		}
		return nil
	}
	if c.Args().Len() > 1 {
		return exitf(2, "flux uri: one TARGET at most (a URI, pid:PID or jobid:ID)")
	}
	if c.Args().Len() == 1 {
		uri, err := resolveTarget("uri", c.Args().First())
		if err != nil {
			return err
		}
		fmt.Println(uri)
		return nil
	}
	if uri := os.Getenv("FLUX_URI"); uri != "" {
		// Inside an instance: that one.
		fmt.Println(uri)
		return nil
	}
	e, err := findInstance("uri", nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, e.URI)
	return nil
}
