package commands

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func jobKillCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "send a signal to the tasks of running jobs",
		UsageText: "flux job kill [--signal=SIG] ID [ID...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "SIGTERM", Usage: "the signal: a name (TERM, SIGUSR1) or a number"},
		},
		Action: func(c *cli.Context) error {
			const cmd = "flux-job"
			sig := parseSignal(c.String("signal"))
			if sig == 0 {
				return exitf(2, "%s: --signal %s: not a signal; use a name such as SIGUSR1 or a number from 1 to 64", cmd, c.String("signal"))
			}
			return sendCancel(c, cmd, sig)
		},
	}
}

func parseSignal(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 1 && n <= 64 {
			return n
		}
		return 0
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	return int(unix.SignalNum(name))
}

func jobRaiseCommand() *cli.Command {
	return &cli.Command{
		Name:      "raise",
		Usage:     "raise an exception on jobs; a fatal one (severity 0, the default) ends them as canceled",
		UsageText: "flux job raise [--type=TYPE] [--severity=N] [--message=NOTE] ID [ID...] [-- NOTE...]",
		Description: `Unlike Flux, only fatal exceptions (severity 0) do anything: they cancel the job, whatever the type.
A non-fatal one is refused rather than ignored.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "type", Aliases: []string{"t"}, Value: "cancel", Usage: "exception type"},
			&cli.IntFlag{Name: "severity", Aliases: []string{"s"}, Value: 0, Usage: "0 (fatal) to 7"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "exception note"},
		},
		Action: func(c *cli.Context) error {
			const cmd = "flux-job"
			if sev := c.Int("severity"); sev != 0 {
				if sev < 0 || sev > 7 {
					return exitf(2, "%s: --severity %d: give 0 (fatal) to 7", cmd, sev)
				}
				return exitf(2, "%s: --severity %d: only fatal exceptions (severity 0) are supported here", cmd, sev)
			}
			return sendCancel(c, cmd, 0)
		},
	}
}

// sendCancel cancels (sig 0) or signals the jobs named by the arguments; a
// "--" ends the ids (what follows is an exception note).
func sendCancel(c *cli.Context, cmd string, sig int) error {
	args := c.Args().Slice()
	for i, a := range args {
		if a == "--" {
			args = args[:i]
			break
		}
	}
	if len(args) == 0 {
		return exitf(2, "%s: give at least one job id; usage: %s", cmd, c.Command.UsageText)
	}
	ids, err := parseJobIDs(cmd, args)
	if err != nil {
		return err
	}
	client, err := connect("job " + c.Command.Name)
	if err != nil {
		return err
	}
	defer client.Close()
	note := c.String("message")
	if c.Command.Name == "raise" && note == "" {
		for i, a := range c.Args().Slice() {
			if a == "--" {
				note = strings.Join(c.Args().Slice()[i+1:], " ")
				break
			}
		}
	}
	if c.Command.Name == "raise" && c.String("type") != "cancel" {
		note = strings.TrimSpace(c.String("type") + ": " + note)
	}
	var reply broker.CancelReply
	if err := client.RPC(context.Background(), broker.TopicCancel, &broker.CancelRequest{IDs: ids, Signal: sig, Note: note}, &reply); err != nil {
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
