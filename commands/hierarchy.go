package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/hierarchy"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
)

func hierarchyCommand() *cli.Command {
	flags := append(streamFlags(),
		&cli.StringFlag{Name: "config", Usage: "config.json: {\"num_levels\":3,\"levels\":[{\"num_children\":2,\"cores_per_child\":36},{\"num_children\":36,\"cores_per_child\":1}]}"},
		&cli.StringFlag{Name: "stats", Usage: "write per-instance counts and rates as JSON to this file at the end"},
		&cli.DurationFlag{Name: "simulate", Usage: "leaves do not run their lines but end them after this long (exec.test.run_duration), to measure large trees"},
		// How a parent starts its children; not for users.
		&cli.StringFlag{Name: "child", Hidden: true},
		&cli.StringFlag{Name: "parent-service", Hidden: true},
		&cli.IntFlag{Name: "level", Hidden: true},
		&cli.StringFlag{Name: "config-json", Hidden: true},
	)
	return &cli.Command{
		Name:      "hierarchy",
		Usage:     "run a stream of command lines through a tree of child instances that pull lines down to the leaves",
		UsageText: "flux-hierarchy --config=config.json [flux-capacitor options] [--command_file FILE ...]",
		Description: `Builds the tree of instances that config.json describes (the flux-hierarchy prototype's format):
level L starts levels[L-1].num_children children with cores_per_child cores each, as jobs of its
own instance (flux start ... inside it); instances at num_levels are leaves and run the lines.
Extensions: "nodes_per_child", "gpus_per_child", a per-level "sched", and "shape":"2x18" (two
levels: 2 children of 18 single-core leaves each; "2x18:4" gives each leaf 4 cores).

The top reads the input exactly as flux-capacitor does (files or standard input, streaming, the
same per-line options, --joblog, --resume, progress, summary, exit status). Leaves ask for lines
when they have room (in batches, never more than they can run), relays pass the asks up, and
results flow up in batches to the one job log at the top. A line too large for a leaf runs at the
lowest level whose instance can hold it. If a child instance dies, the lines it had not started
go to its siblings and the lines it was running end as failed ("instance lost"), or run again with
--retries N (as any failed line); Ctrl-C at the top tears the whole tree down.`,
		Flags:  flags,
		Action: hierarchyAction,
	}
}

func hierarchyAction(c *cli.Context) error {
	if name := c.String("child"); name != "" {
		return hierarchyChild(c, name)
	}
	if c.String("config") == "" {
		return exitf(2, "flux-hierarchy: --config=config.json is required (see --help for the format)")
	}
	cfg, err := hierarchy.LoadConfig(c.String("config"))
	if err != nil {
		return exitf(2, "flux-hierarchy: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		return exitf(1, "flux-hierarchy: %v", err)
	}
	return runStream(c, "flux-hierarchy", func(ctx context.Context, own *overlay.Client, capCfg capacitor.Config) (capacitor.Summary, error) {
		var res broker.ResourceReply
		if err := own.RPC(ctx, broker.TopicResources, nil, &res); err != nil {
			return capacitor.Summary{}, err
		}
		if err := cfg.Fit(res.All.Cores(), res.All.Nodes()); err != nil {
			return capacitor.Summary{}, usageError(err)
		}
		opt := hierarchy.TreeOptions{Config: cfg, Self: self, Env: os.Environ(), Simulate: c.Duration("simulate"),
			Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
		return hierarchy.RunTop(ctx, own, capCfg, opt, c.String("stats"))
	})
}

// hierarchyChild is the program a child instance runs: a relay or a leaf.
func hierarchyChild(c *cli.Context, name string) error {
	var cfg hierarchy.Config
	if err := json.Unmarshal([]byte(c.String("config-json")), &cfg); err != nil {
		return exitf(2, "flux hierarchy --child: bad --config-json: %v", err)
	}
	getenv, env := os.Getenv, os.Environ()
	ip, inProcess := inProcessOf(c.Context)
	if inProcess {
		getenv, env = ip.getenv, ip.env
	}
	ownURI, parentURI := getenv("FLUX_URI"), getenv("FLUX_PARENT_URI")
	if ownURI == "" || parentURI == "" {
		return exitf(2, "flux hierarchy --child runs inside a child instance (FLUX_URI and FLUX_PARENT_URI set by flux start)")
	}
	var own *overlay.Client
	if inProcess {
		own = ip.own
	} else {
		var err error
		if own, err = dialClient(ownURI); err != nil {
			return exitf(1, "flux hierarchy %s: %v", name, err)
		}
	}
	defer own.Close()
	parent, err := dialClient(parentURI)
	if err != nil {
		return exitf(1, "flux hierarchy %s: %v", name, err)
	}
	defer parent.Close()
	level := c.Int("level")
	if level >= cfg.NumLevels {
		opt := hierarchy.LeafOptions{Name: name, Level: level, Service: c.String("parent-service")}
		if inProcess {
			if opt.Jobs, err = ip.localJobs(); err != nil {
				return exitf(1, "flux hierarchy %s: %v", name, err)
			}
		}
		_, err = hierarchy.RunLeaf(own, parent, opt)
	} else {
		self, _ := os.Executable()
		_, err = hierarchy.RunRelay(own, parent, name, c.String("parent-service"), hierarchy.TreeOptions{
			Config: cfg, Level: level, Name: name, Self: self, Env: env, Simulate: c.Duration("simulate"),
			Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	}
	if err != nil {
		return exitf(1, "flux hierarchy: %v", err)
	}
	return nil
}

func dialClient(uri string) (*overlay.Client, error) {
	conn, err := overlay.Dial(uri)
	if err != nil {
		return nil, err
	}
	return overlay.NewClient(conn), nil
}

// usageError makes err a usage error of the run (exit status 2).
func usageError(err error) error { return capacitor.UsageError(err) }
