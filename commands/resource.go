package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

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
				&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "one line per rank: host, cores, free cores, GPUs"},
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
	if c.Bool("verbose") {
		fmt.Fprintln(w, "RANK\tHOST\tCORES\tFREE\tGPUS\tFREE GPUS")
		for i, rk := range r.All.Ranks {
			free := r.Free.Ranks[i]
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", rk.Rank, rk.Host, dash(rk.Cores.String()),
				dash(free.Cores.String()), dash(rk.GPUs.String()), dash(free.GPUs.String()))
		}
		return nil
	}
	fmt.Fprintln(w, "STATE\tNNODES\tNCORES\tNGPUS\tNODELIST")
	var freeNodes, allocNodes []string
	freeCores, allocCores, freeGPUs, allocGPUs := 0, 0, 0, 0
	for i, rk := range r.All.Ranks {
		free := r.Free.Ranks[i]
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
