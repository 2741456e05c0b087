package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/urfave/cli/v2"
)

// The commands that describe the instance itself: flux uptime, dmesg,
// overlay status, getattr, lsattr.

func instanceInfoCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "uptime",
			Usage:     "how long the instance has run, its owner, depth and size",
			UsageText: "flux uptime",
			Action:    uptimeAction,
		},
		{
			Name:      "dmesg",
			Usage:     "print the broker's log ring (its last 1000 log lines)",
			UsageText: "flux dmesg",
			Action: func(c *cli.Context) error {
				client, err := connect("dmesg")
				if err != nil {
					return err
				}
				defer client.Close()
				var r broker.DmesgReply
				if err := client.RPC(context.Background(), broker.TopicDmesg, nil, &r); err != nil {
					return exitf(1, "flux-dmesg: %v", err)
				}
				for _, l := range r.Lines {
					fmt.Println(l)
				}
				return nil
			},
		},
		{
			Name:  "overlay",
			Usage: "the tree of brokers",
			Subcommands: []*cli.Command{{
				Name:      "status",
				Usage:     "the tree of brokers and each rank's state: full, partial (something below is lost) or lost",
				UsageText: "flux overlay status",
				Action:    overlayStatusAction,
			}},
		},
		{
			Name:      "getattr",
			Usage:     "print one broker attribute",
			UsageText: "flux getattr NAME",
			Action: func(c *cli.Context) error {
				if c.Args().Len() != 1 {
					return exitf(2, "flux-getattr: give one attribute name; flux lsattr lists them")
				}
				attrs, err := brokerAttrs("getattr")
				if err != nil {
					return err
				}
				v, ok := attrs[c.Args().First()]
				if !ok {
					return exitf(1, "flux-getattr: %s: No such file or directory (flux lsattr lists the attributes)", c.Args().First())
				}
				fmt.Println(v)
				return nil
			},
		},
		{
			Name:      "lsattr",
			Usage:     "list broker attributes (with -v, their values)",
			UsageText: "flux lsattr [-v]",
			Flags:     []cli.Flag{&cli.BoolFlag{Name: "values", Aliases: []string{"v"}, Usage: "print the values too"}},
			Action: func(c *cli.Context) error {
				attrs, err := brokerAttrs("lsattr")
				if err != nil {
					return err
				}
				writeAttrs(os.Stdout, attrs, c.Bool("values"))
				return nil
			},
		},
	}
}

func brokerAttrs(cmd string) (map[string]string, error) {
	client, err := connect(cmd)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	var r broker.AttrsReply
	if err := client.RPC(context.Background(), broker.TopicAttrs, nil, &r); err != nil {
		return nil, exitf(1, "flux-%s: %v", cmd, err)
	}
	return r.Attrs, nil
}

func writeAttrs(w io.Writer, attrs map[string]string, values bool) {
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if values {
			v := attrs[k]
			if v == "" {
				v = "-"
			}
			fmt.Fprintf(w, "%-39s %s\n", k, v)
		} else {
			fmt.Fprintln(w, k)
		}
	}
}

func uptimeAction(c *cli.Context) error {
	attrs, err := brokerAttrs("uptime")
	if err != nil {
		return err
	}
	r, err := resourceInfo("uptime")
	if err != nil {
		return err
	}
	start, _ := strconv.ParseFloat(attrs["broker.starttime"], 64)
	now := time.Now()
	fmt.Println(uptimeLine(now, time.Unix(0, int64(start*1e9)), currentUser().name, attrs["instance-level"], attrs["size"], &r))
	return nil
}

// uptimeLine is flux uptime's line: " 23:02:14 run 7.4s,  owner root,
// depth 0,  size 2", then drained and offline counts when there are any.
func uptimeLine(now, start time.Time, owner, depth, size string, r *broker.ResourceReply) string {
	s := fmt.Sprintf(" %s run %s,  owner %s,  depth %s,  size %s", now.Format("15:04:05"), fsd(now.Sub(start).Seconds()),
		owner, depth, size)
	if n := len(r.Drained); n > 0 {
		s += fmt.Sprintf(",  %d drained", n)
	}
	if n := len(r.Down); n > 0 {
		s += fmt.Sprintf(",  %d offline", n)
	}
	return s
}

func overlayStatusAction(c *cli.Context) error {
	attrs, err := brokerAttrs("overlay status")
	if err != nil {
		return err
	}
	r, err := resourceInfo("overlay status")
	if err != nil {
		return err
	}
	size, _ := strconv.Atoi(attrs["size"])
	fanout, _ := strconv.Atoi(attrs["tbon.fanout"])
	writeOverlayStatus(os.Stdout, size, fanout, &r)
	return nil
}

// writeOverlayStatus draws the tree of ranks with each one's state: full
// (it and everything below are up), partial (something below is lost),
// lost.
func writeOverlayStatus(w io.Writer, size, fanout int, r *broker.ResourceReply) {
	host := map[int]string{}
	for _, rk := range r.All.Ranks {
		host[rk.Rank] = rk.Host
	}
	lost := map[int]bool{}
	for _, d := range r.Down {
		lost[d] = true
	}
	var whole func(rank int) bool
	whole = func(rank int) bool {
		if lost[rank] {
			return false
		}
		for _, ch := range boot.Children(rank, size, max(fanout, 1)) {
			if !whole(ch) {
				return false
			}
		}
		return true
	}
	var draw func(rank int, prefix, branch string)
	draw = func(rank int, prefix, branch string) {
		st := "full"
		switch {
		case lost[rank]:
			st = "lost"
		case !whole(rank):
			st = "partial"
		}
		fmt.Fprintf(w, "%s%s%d %s: %s\n", prefix, branch, rank, host[rank], st)
		kids := boot.Children(rank, size, max(fanout, 1))
		next := prefix
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		for i, ch := range kids {
			b := "├─ "
			if i == len(kids)-1 {
				b = "└─ "
			}
			draw(ch, next, b)
		}
	}
	if size > 0 {
		draw(0, "", "")
	}
}
