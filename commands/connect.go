package commands

import (
	"context"
	"os"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

// connect opens a client to the instance named by FLUX_URI.
func connect(cmd string) (*overlay.Client, error) {
	uri := os.Getenv("FLUX_URI")
	if uri == "" {
		return nil, exitf(2, "flux %s: no instance: FLUX_URI is not set; run it inside `flux start`, "+
			"or use flux-capacitor, which starts its own instance", cmd)
	}
	conn, err := overlay.Dial(uri)
	if err != nil {
		return nil, exitf(1, "flux %s: %v", cmd, err)
	}
	return overlay.NewClient(conn), nil
}

// embedded boots an instance inside this process on the local cores and
// returns a client connected to it in memory, and a function that shuts it
// down (killing what still runs).
func embedded(cfg broker.Config) (*overlay.Client, func(), error) {
	if len(cfg.Resources.Ranks) == 0 {
		r, err := resources.Discover()
		if err != nil {
			return nil, nil, err
		}
		cfg.Resources = r
	}
	b, err := broker.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	c := overlay.NewClient(b.Connect())
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Close()
		b.Shutdown(ctx)
	}
	return c, stop, nil
}
