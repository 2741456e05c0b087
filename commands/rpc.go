package commands

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
	"github.com/vmihailenco/msgpack/v5"
)

func rpcCommand() *cli.Command {
	return &cli.Command{
		Name:      "rpc",
		Usage:     "send one request to a service and print the response as JSON",
		UsageText: "flux rpc [--rank N] TOPIC [JSON]",
		Description: `For trying services, above all those of modules: the request goes to the service's nearest
provider (or to --rank), its JSON body is sent as msgpack, and the response is printed as JSON.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "rank", Value: -1, DefaultText: "nearest provider", Usage: "send to this rank"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "give up after this long"},
		},
		Action: rpcAction,
	}
}

func rpcAction(c *cli.Context) error {
	if c.Args().Len() < 1 || c.Args().Len() > 2 {
		return exitf(2, "flux rpc: usage: %s", c.Command.UsageText)
	}
	var body any
	if c.Args().Len() == 2 {
		if err := json.Unmarshal([]byte(c.Args().Get(1)), &body); err != nil {
			return exitf(2, "flux rpc: the request body is not JSON: %v", err)
		}
	}
	client, err := connect("rpc")
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.Duration("timeout"))
	defer cancel()
	var raw msgpack.RawMessage
	err = client.RPCTo(ctx, c.Int("rank"), c.Args().First(), body, &raw)
	if err != nil && !errors.Is(err, overlay.ErrNoPayload) {
		return exitf(1, "flux rpc %s: %v", c.Args().First(), err)
	}
	var v any
	if len(raw) > 0 {
		if err := msgpack.Unmarshal(raw, &v); err != nil {
			return exitf(1, "flux rpc: undecodable response: %v", err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(v)
}
