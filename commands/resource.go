package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/urfave/cli/v2"
)

func resourceCommand() *cli.Command {
	return &cli.Command{
		Name:  "resource",
		Usage: "show the instance's resources; drain and undrain ranks",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "free, allocated and down nodes, cores and GPUs (per rank with -v)",
				UsageText: "flux resource list [-v] [--json]",
				Description: `Columns as flux-resource(1): STATE NNODES NCORES NGPUS NODELIST, with rows free, allocated
and down (lost or drained ranks). A node with both free and allocated cores counts in both rows.`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "one line per rank: host, cores, free cores, GPUs, free GPUs, state (online, lost) and since when"},
					&cli.BoolFlag{Name: "json", Usage: "print JSON"},
				},
				Action: resourceListAction,
			},
			{
				Name:      "status",
				Usage:     "ranks by state: avail, draining, drained, offline",
				UsageText: "flux resource status",
				Action:    resourceStatusAction,
			},
			{
				Name:      "drain",
				Usage:     "take ranks out of service: no new jobs start there, running ones finish",
				UsageText: "flux resource drain [RANKS|HOSTS [REASON...]]   (without RANKS: list the drained ranks)",
				Description: `RANKS is an id set of broker ranks (0-3,7) or a hostlist (node[1-2]: every rank on those
hosts). Draining a drained rank again updates its reason.
Lost ranks cannot be drained or undrained.`,
				Action: func(c *cli.Context) error { return drainAction(c, false) },
			},
			{
				Name:      "undrain",
				Usage:     "put drained ranks back into service",
				UsageText: "flux resource undrain RANKS|HOSTS",
				Action:    func(c *cli.Context) error { return drainAction(c, true) },
			},
		},
	}
}

func resourceInfo(cmd string) (broker.ResourceReply, error) {
	var r broker.ResourceReply
	client, err := connect(cmd)
	if err != nil {
		return r, err
	}
	defer client.Close()
	if err := client.RPC(context.Background(), broker.TopicResources, nil, &r); err != nil {
		return r, exitf(1, "flux %s: %v", cmd, err)
	}
	return r, nil
}

func resourceListAction(c *cli.Context) error {
	r, err := resourceInfo("resource list")
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if c.Bool("verbose") {
		w := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
		defer w.Flush()
		down := map[int]bool{}
		for _, d := range r.Down {
			down[d] = true
		}
		fmt.Fprintln(w, "RANK\tHOST\tCORES\tFREE\tGPUS\tFREE GPUS\tSTATE\tSINCE")
		for i, rk := range r.All.Ranks {
			free := r.Free.Ranks[i]
			state, since := "online", "-"
			if down[rk.Rank] {
				state = "lost"
			}
			if rk.Rank < len(r.Status) {
				rs := r.Status[rk.Rank]
				state = rs.State
				if rs.Since > 0 {
					since = time.Unix(0, int64(rs.Since*1e9)).Format("15:04:05.000")
				}
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rk.Rank, rk.Host, dash(rk.Cores.String()),
				dash(free.Cores.String()), dash(rk.GPUs.String()), dash(free.GPUs.String()), state, since)
		}
		return nil
	}
	writeResourceList(os.Stdout, &r)
	return nil
}

// outOfService is the set of ranks that are lost or drained.
func outOfService(r *broker.ResourceReply) map[int]bool {
	out := map[int]bool{}
	for _, d := range r.Down {
		out[d] = true
	}
	for _, d := range r.Drained {
		out[d.Rank] = true
	}
	return out
}

// writeResourceList prints flux resource list's table.
func writeResourceList(w io.Writer, r *broker.ResourceReply) {
	type row struct {
		hosts       []string
		cores, gpus int
	}
	var free, alloc, down row
	off := outOfService(r)
	for i, rk := range r.All.Ranks {
		if off[rk.Rank] {
			down.hosts = append(down.hosts, rk.Host)
			down.cores += rk.Cores.Count()
			down.gpus += rk.GPUs.Count()
			continue
		}
		f := r.Free.Ranks[i]
		fc, fg := f.Cores.Count(), f.GPUs.Count()
		if fc > 0 || fg > 0 {
			free.hosts = append(free.hosts, rk.Host)
			free.cores += fc
			free.gpus += fg
		}
		if fc < rk.Cores.Count() || fg < rk.GPUs.Count() {
			alloc.hosts = append(alloc.hosts, rk.Host)
			alloc.cores += rk.Cores.Count() - fc
			alloc.gpus += rk.GPUs.Count() - fg
		}
	}
	fmt.Fprintf(w, "%10s %6s %6s %5s %s\n", "STATE", "NNODES", "NCORES", "NGPUS", "NODELIST")
	for _, x := range []struct {
		name string
		r    row
	}{{"free", free}, {"allocated", alloc}, {"down", down}} {
		line := fmt.Sprintf("%10s %6d %6d %5d %s", x.name, len(x.r.hosts), x.r.cores, x.r.gpus, resources.FormatHostlist(x.r.hosts))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func resourceStatusAction(c *cli.Context) error {
	r, err := resourceInfo("resource status")
	if err != nil {
		return err
	}
	writeResourceStatus(os.Stdout, &r)
	return nil
}

// writeResourceStatus prints flux resource status: ranks grouped by state,
// with the ✔/✗ up column.
func writeResourceStatus(w io.Writer, r *broker.ResourceReply) {
	lost := map[int]bool{}
	for _, d := range r.Down {
		lost[d] = true
	}
	drained := map[int]broker.DrainInfo{}
	for _, d := range r.Drained {
		drained[d.Rank] = d
	}
	groups := map[string][]string{}
	for _, rk := range r.All.Ranks {
		st := "avail"
		if d, ok := drained[rk.Rank]; ok {
			st = "drained"
			if d.Draining {
				st = "draining"
			}
		}
		if lost[rk.Rank] {
			st = "offline"
		}
		groups[st] = append(groups[st], rk.Host)
	}
	fmt.Fprintf(w, "%12s%2s %6s %s\n", "STATE", "UP", "NNODES", "NODELIST")
	for _, st := range []string{"avail", "draining", "drained", "offline"} {
		hosts := groups[st]
		if len(hosts) == 0 {
			continue
		}
		up := "✔"
		if st == "offline" {
			up = "✗"
		}
		fmt.Fprintf(w, "%12s %s %6d %s\n", st, up, len(hosts), resources.FormatHostlist(hosts))
	}
}

func drainAction(c *cli.Context, undrain bool) error {
	cmd := "flux-resource"
	if c.Args().Len() == 0 {
		if undrain {
			return exitf(2, "%s: undrain: give the ranks to undrain, as in flux resource undrain 1-3", cmd)
		}
		r, err := resourceInfo("resource drain")
		if err != nil {
			return err
		}
		writeDrainList(os.Stdout, &r)
		return nil
	}
	ranks, err := drainTargets(cmd, c.Args().First())
	if err != nil {
		return err
	}
	if undrain && c.Args().Len() > 1 {
		return exitf(2, "%s: undrain takes only ranks, not a reason", cmd)
	}
	req := broker.DrainRequest{Ranks: ranks, Reason: strings.Join(c.Args().Tail(), " "), Undrain: undrain}
	client, err := connect("resource drain")
	if err != nil {
		return err
	}
	defer client.Close()
	var reply broker.DrainReply
	if err := client.RPC(context.Background(), broker.TopicDrain, &req, &reply); err != nil {
		return exitf(1, "%s: %v", cmd, err)
	}
	for _, e := range reply.Errs {
		fmt.Fprintf(os.Stderr, "%s: %s\n", cmd, e)
	}
	if len(reply.Errs) > 0 {
		return exitStatus(1)
	}
	return nil
}

// drainTargets reads drain's targets: an id set of ranks (0-3,7) or, as
// Flux also takes, a hostlist (node[1-2]) naming every rank on those hosts.
func drainTargets(cmd, arg string) ([]int, error) {
	if set, err := resources.ParseIDSet(arg); err == nil && !set.Empty() {
		return set.IDs(), nil
	}
	hosts, err := resources.ParseHostlist(arg)
	if err != nil || len(hosts) == 0 {
		return nil, exitf(2, "%s: %s: neither ranks nor hosts; write ranks such as 1 or 0-3,7, or hosts such as node[1-2]", cmd, arg)
	}
	r, err := resourceInfo("resource drain")
	if err != nil {
		return nil, err
	}
	var ranks []int
	for _, h := range hosts {
		found := false
		for _, rk := range r.All.Ranks {
			if rk.Host == h {
				ranks = append(ranks, rk.Rank)
				found = true
			}
		}
		if !found {
			return nil, exitf(1, "%s: %s: no such host in the instance", cmd, h)
		}
	}
	return ranks, nil
}

// writeDrainList prints flux resource drain without arguments.
func writeDrainList(w io.Writer, r *broker.ResourceReply) {
	host := map[int]string{}
	for _, rk := range r.All.Ranks {
		host[rk.Rank] = rk.Host
	}
	fmt.Fprintf(w, "%-12s %-8s %-30s %s\n", "TIME", "STATE", "REASON", "NODELIST")
	for _, d := range r.Drained {
		st := "drained"
		if d.Draining {
			st = "draining"
		}
		line := fmt.Sprintf("%-12s %-8s %-30s %s", d.Since.Local().Format("Jan02 15:04"), st, d.Reason, host[d.Rank])
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
