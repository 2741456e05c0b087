package commands

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
	"github.com/vmihailenco/msgpack/v5"
)

func eventCommand() *cli.Command {
	return &cli.Command{
		Name:  "event",
		Usage: "publish and subscribe to the instance's events",
		Subcommands: []*cli.Command{
			{
				Name:      "pub",
				Usage:     "publish an event with an optional JSON payload",
				UsageText: "flux event pub TOPIC [JSON]",
				Action:    eventPubAction,
			},
			{
				Name:      "sub",
				Usage:     "print events whose topic matches a glob, one JSON line each, until interrupted",
				UsageText: "flux event sub [-c COUNT] PATTERN...   (e.g. 'job.*', job.state, broker.lost)",
				Description: `Each event is printed as one JSON object: {"topic":..., "seq":..., "payload":...}.
job.state events carry the transitions of a burst of job state changes
(submitted, running, finished, failed, canceled, timeout, requeued); broker.lost names lost ranks.`,
				Flags:  []cli.Flag{&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Usage: "exit after this many events"}},
				Action: eventSubAction,
			},
		},
	}
}

func eventPubAction(c *cli.Context) error {
	if c.Args().Len() < 1 || c.Args().Len() > 2 {
		return exitf(2, "flux event pub: usage: flux event pub TOPIC [JSON]")
	}
	pub := broker.EventPub{Topic: c.Args().Get(0)}
	if c.Args().Len() == 2 {
		var v any
		if err := json.Unmarshal([]byte(c.Args().Get(1)), &v); err != nil {
			return exitf(2, "flux event pub: the payload is not JSON: %v", err)
		}
		raw, err := msgpack.Marshal(v)
		if err != nil {
			return exitf(2, "flux event pub: %v", err)
		}
		pub.Payload = raw
	}
	client, err := connect("event pub")
	if err != nil {
		return err
	}
	defer client.Close()
	if err := client.RPC(context.Background(), broker.TopicEventPub, &pub, nil); err != nil {
		return exitf(1, "flux event pub: %v", err)
	}
	return nil
}

func eventSubAction(c *cli.Context) error {
	if c.Args().Len() == 0 {
		return exitf(2, "flux event sub: give a topic pattern, e.g. 'job.*'")
	}
	client, err := connect("event sub")
	if err != nil {
		return err
	}
	defer client.Close()
	events := make(chan *overlay.Msg, 1024)
	client.OnEvent(func(m *overlay.Msg) {
		select {
		case events <- m:
		default: // a reader this slow loses events rather than stalling the connection
		}
	})
	if err := client.RPC(context.Background(), broker.TopicEventSub, &broker.EventSub{Patterns: c.Args().Slice()}, nil); err != nil {
		return exitf(1, "flux event sub: %v", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	enc := json.NewEncoder(os.Stdout)
	for n := 0; c.Int("count") == 0 || n < c.Int("count"); n++ {
		select {
		case m := <-events:
			out := map[string]any{"topic": m.Topic, "seq": m.Tag}
			if len(m.Payload) > 0 {
				var v any
				if err := msgpack.Unmarshal(m.Payload, &v); err == nil {
					out["payload"] = v
				}
			}
			if err := enc.Encode(out); err != nil {
				return exitf(1, "flux event sub: %v", err)
			}
		case <-sigs:
			return nil
		}
	}
	return nil
}
