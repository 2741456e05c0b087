package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func resourceCommand() *cli.Command {
	return &cli.Command{
		Name:  "resource",
		Usage: "show the instance's resources",
		Subcommands: []*cli.Command{{
			Name:      "list",
			Usage:     "list free and allocated nodes, cores and GPUs (per rank with -v)",
			UsageText: "flux resource list [-v] [--json]",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "one line per rank: host, cores, free cores, GPUs, free GPUs, state (online, lost) and since when"},
				&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			},
			Action: resourceListAction,
		}},
	}
}

func resourceListAction(c *cli.Context) error {
	client, err := connect("resource list")
	if err != nil {
		return err
	}
	defer client.Close()
	var r broker.ResourceReply
	if err := client.RPC(context.Background(), broker.TopicResources, nil, &r); err != nil {
		return exitf(1, "flux resource list: %v", err)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	defer w.Flush()
	down := map[int]bool{}
	for _, d := range r.Down {
		down[d] = true
	}
	if c.Bool("verbose") {
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
	fmt.Fprintln(w, "STATE\tNNODES\tNCORES\tNGPUS\tNODELIST")
	var freeNodes, allocNodes, downNodes []string
	freeCores, allocCores, freeGPUs, allocGPUs, downCores, downGPUs := 0, 0, 0, 0, 0, 0
	for i, rk := range r.All.Ranks {
		free := r.Free.Ranks[i]
		if down[rk.Rank] {
			// A lost rank's resources are out of service, neither free
			// nor allocated (flux resource list's "down" line).
			downNodes = append(downNodes, rk.Host)
			downCores += rk.Cores.Count()
			downGPUs += rk.GPUs.Count()
			continue
		}
		fc, fg := free.Cores.Count(), free.GPUs.Count()
		freeCores += fc
		freeGPUs += fg
		allocCores += rk.Cores.Count() - fc
		allocGPUs += rk.GPUs.Count() - fg
		if fc > 0 || fg > 0 {
			freeNodes = append(freeNodes, rk.Host)
		}
		if fc < rk.Cores.Count() || fg < rk.GPUs.Count() {
			allocNodes = append(allocNodes, rk.Host)
		}
	}
	fmt.Fprintf(w, "free\t%d\t%d\t%d\t%s\n", len(freeNodes), freeCores, freeGPUs, hostList(freeNodes))
	fmt.Fprintf(w, "allocated\t%d\t%d\t%d\t%s\n", len(allocNodes), allocCores, allocGPUs, hostList(allocNodes))
	fmt.Fprintf(w, "down\t%d\t%d\t%d\t%s\n", len(downNodes), downCores, downGPUs, hostList(downNodes))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func hostList(hosts []string) string {
	if len(hosts) == 0 {
		return ""
	}
	h := append([]string(nil), hosts...)
	sort.Strings(h)
	return strings.Join(h, ",")
}
