package commands

import (
	"context"
	"os"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
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

// embedded boots an instance inside this process (on res, or the local
// cores) and returns a client connected to it in memory, and a function that
// shuts it down (killing what still runs). The instance also listens on a
// socket in a private directory, so that its tasks get a FLUX_URI: a line
// may run flux submit, or be a nested instance that reaches its parent.
func embedded(res resources.Set, so sched.Options) (*overlay.Client, func(), error) {
	in, err := broker.Boot(broker.BootOptions{Resources: res, Sched: so})
	if err != nil {
		return nil, nil, err
	}
	startedURI = in.URI
	c := overlay.NewClient(in.Connect())
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Close()
		in.Close(ctx)
	}
	return c, stop, nil
}
