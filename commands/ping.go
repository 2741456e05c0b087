package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/urfave/cli/v2"
)

func pingCommand() *cli.Command {
	return &cli.Command{
		Name:      "ping",
		Usage:     "send an echo request to a broker rank and time the round trip",
		UsageText: "flux ping [-c COUNT] [-p PAD] RANK",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 1, Usage: "number of requests"},
			&cli.IntFlag{Name: "pad", Aliases: []string{"p"}, Usage: "bytes of padding in each request"},
		},
		Action: pingAction,
	}
}

func pingAction(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return exitf(2, "flux ping: give one rank, e.g. flux ping 3")
	}
	rank, err := strconv.Atoi(c.Args().First())
	if err != nil || rank < 0 {
		return exitf(2, "flux ping: %q is not a rank (0, 1, 2, ...)", c.Args().First())
	}
	client, err := connect("ping")
	if err != nil {
		return err
	}
	defer client.Close()
	pad := strings.Repeat("x", c.Int("pad"))
	for seq := 0; seq < c.Int("count"); seq++ {
		start := time.Now()
		var reply broker.PingReply
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := client.RPCTo(ctx, rank, broker.TopicPing, &broker.PingRequest{Seq: seq, Pad: pad}, &reply)
		cancel()
		if err != nil {
			return exitf(1, "flux ping: rank %d: %v", rank, err)
		}
		fmt.Printf("%d!broker.ping pad=%d seq=%d host=%s time=%.3f ms\n", reply.Rank, len(reply.Pad), reply.Seq,
			reply.Host, float64(time.Since(start).Microseconds())/1000)
	}
	return nil
}
