package commands

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
)

func brokerCommand() *cli.Command {
	var attrs []string
	for _, d := range boot.KnownAttrs {
		def := d.Default
		if def == "" {
			def = "-"
		}
		attrs = append(attrs, fmt.Sprintf("    %-18s %-8s %s", d.Key, def, d.Usage))
	}
	return &cli.Command{
		Name:      "broker",
		Usage:     "run one broker of an instance (on each host of a host list)",
		UsageText: "flux broker -Sboot.method=config -Sboot.config_file=boot.conf [-S KEY=VALUE...] [CMD [ARGS...]]",
		Description: `Starts one broker. With boot.method=config it reads boot.conf (TOML):
    session-id = "mycluster"
    tbon-endpoints = ["tcp://10.0.0.1:8020", "tcp://10.0.0.2:8020", "tcp://10.0.0.3:8020"]
    key-file = "/path/to/key"      # 32-byte instance key, mode 0600, the same file on every host
and takes as its rank the index of the endpoint whose address is on this host (or -Sbroker.rank=N).
Brokers link into a tree over TCP (each link authenticated with the key and encrypted), in any
start order. Rank 0 prints FLUX_URI once every rank is online; with CMD, rank 0 runs it there and
the instance stops when it exits. Without CMD the broker runs until SIGTERM or SIGINT (at rank 0
that stops the whole instance). Make a key with: flux keygen PATH.

A broker whose link to its parent breaks (its parent declared it lost) kills what it ran and dials
its parent again; a broker killed can be started again with the same command: either way it says
hello, and its cores return to the instance. Rank 0 refuses a broker whose rank is up already, one
with another key or session, and one whose boot.conf has another size: that broker exits with one
line saying why.

Attributes (-S KEY=VALUE):
` + strings.Join(attrs, "\n"),
		Flags:  []cli.Flag{attrFlag(), schedFlag()},
		Action: brokerAction,
	}
}

func brokerAction(c *cli.Context) error {
	attrs, err := boot.ParseAttrs(c.StringSlice("setattr"))
	if err == nil {
		err = attrs.Validate()
	}
	if err != nil {
		return exitf(2, "flux broker: %v", err)
	}
	so, err := schedOptions(c)
	if err != nil {
		return exitf(2, "flux broker: %v", err)
	}
	in, err := broker.Boot(broker.BootOptions{Attrs: attrs, Sched: so})
	if err != nil {
		return exitf(1, "flux broker: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		in.Close(ctx)
	}()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ready := make(chan error, 1)
	go func() { ready <- in.WaitReadyTimeout(10 * time.Minute) }()
	select {
	case err := <-ready:
		if err != nil {
			return exitf(1, "flux broker: %v", err)
		}
	case <-sigs:
		return nil
	}
	if in.Rank() == 0 {
		if f := attrs.String("broker.uri_file", ""); f != "" {
			if err := writeFileAtomic(f, in.URI+"\n"); err != nil {
				return exitf(1, "flux broker: broker.uri_file: %v", err)
			}
		} else {
			fmt.Fprintf(os.Stderr, "flux broker: rank 0 of %d ready: FLUX_URI=%s\n", in.Size, in.URI)
		}
		if argv := c.Args().Slice(); len(argv) > 0 {
			signal.Stop(sigs)
			return runInitialProgram(argv, in.URI, in.Done())
		}
	}
	select {
	case <-sigs:
		return nil
	case <-in.Done():
		if err := in.Err(); err != nil {
			return exitf(1, "flux broker: %v", err)
		}
		return nil
	}
}

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "write a new instance key (32 random bytes) to a file with mode 0600",
		UsageText: "flux keygen PATH",
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return exitf(2, "flux keygen: give the path of the key file to create")
			}
			k, err := overlay.NewKey()
			if err == nil {
				err = k.Save(c.Args().First())
			}
			if err != nil {
				return exitf(1, "flux keygen: %v", err)
			}
			return nil
		},
	}
}

// writeFileAtomic writes data to path (mode 0600) so that a reader never sees
// it half written.
func writeFileAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
