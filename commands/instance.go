package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/sched"
	"github.com/urfave/cli/v2"
)

// attrFlag is Flux's -S key=value broker attribute option.
func attrFlag() cli.Flag {
	var keys []string
	for _, d := range boot.KnownAttrs {
		keys = append(keys, d.Key)
	}
	return &cli.StringSliceFlag{Name: "setattr", Aliases: []string{"S"},
		Usage: "broker attribute KEY=VALUE (repeatable): " + strings.Join(keys, ", ")}
}

// schedFlag picks the scheduling policy.
func schedFlag() cli.Flag {
	return &cli.StringFlag{Name: "sched", Usage: "scheduler: sched.easy (default: EASY backfill, never starves a wide job), sched.fcfs (strict, " +
		"the head blocks), sched.conservative, sched.hybrid or sched.firstfit (any job that fits starts; can starve wide jobs), " +
		"with options, e.g. \"sched.easy queue-depth=64 default-estimate=30m learn-estimates=on\"; default from FLUX_SCHED_OPTIONS (or FLUX_SCHED_OPTS)"}
}

// schedOptions reads --sched, else the environment.
func schedOptions(c *cli.Context) (sched.Options, error) {
	if v := c.String("sched"); v != "" {
		spec := v
		if f := strings.Fields(v); len(f) > 0 && !strings.Contains(f[0], "=") {
			spec = "plugin=" + v
		}
		o, err := sched.ParseOptions(spec)
		if err != nil {
			return o, fmt.Errorf("--sched %q: %w", v, err)
		}
		return o, nil
	}
	return sched.OptionsFromEnv(os.Getenv)
}

// startTestInstance starts an instance of n brokers on this host: rank 0 in
// this process, the others as `flux broker` child processes, all booted
// from a boot.conf written into a private directory with a fresh key.
func startTestInstance(n int, attrs boot.Attrs, so sched.Options) (*broker.Instance, func(), error) {
	dir, err := os.MkdirTemp("", "flux-start-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	key, err := overlay.NewKey()
	if err == nil {
		err = key.Save(filepath.Join(dir, "key"))
	}
	// Every rank's listener is bound here, before boot.conf is written, and
	// handed to its broker (rank 0's directly, the others' as an inherited
	// file descriptor): no port is ever closed and bound again, so two
	// ranks can never be handed the same one.
	var eps []string
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			if l != nil && l != lns[0] {
				l.Close()
			}
		}
	}()
	for i := 0; i < n && err == nil; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			lns = append(lns, l)
			eps = append(eps, fmt.Sprintf("%q", "tcp://"+l.Addr().String()))
		}
	}
	closeRoot := func() {
		if len(lns) > 0 {
			lns[0].Close()
		}
	}
	conf := filepath.Join(dir, "boot.conf")
	if err == nil {
		err = os.WriteFile(conf, []byte(fmt.Sprintf("session-id = \"start-%d\"\ntbon-endpoints = [%s]\nkey-file = \"key\"\n",
			os.Getpid(), strings.Join(eps, ", "))), 0o600)
	}
	if err != nil {
		closeRoot()
		cleanup()
		return nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		closeRoot()
		cleanup()
		return nil, nil, err
	}
	a := boot.Attrs{}
	for k, v := range attrs {
		a[k] = v
	}
	a["boot.method"], a["boot.config_file"] = boot.MethodConfig, conf
	// Rank 0 first: what is wrong with the shared settings fails here,
	// once, before any child could report it too.
	a0 := boot.Attrs{"broker.rank": "0"}
	for k, v := range a {
		a0[k] = v
	}
	in, err := broker.Boot(broker.BootOptions{Attrs: a0, Sched: so, Listener: lns[0]})
	if err != nil {
		closeRoot()
		cleanup()
		return nil, nil, err
	}
	var children []*brokerChild
	exited := make(chan *brokerChild, 1)
	abort := func(err error) (*broker.Instance, func(), error) {
		killAll(children)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in.Close(ctx)
		cleanup()
		return nil, nil, err
	}
	for rank := 1; rank < n; rank++ {
		args := []string{"broker"}
		for k, v := range a {
			args = append(args, "-S", k+"="+v)
		}
		args = append(args, "-S", fmt.Sprintf("broker.rank=%d", rank))
		cmd := exec.Command(self, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		f, err := lns[rank].(*net.TCPListener).File()
		var c *brokerChild
		if err == nil {
			cmd.ExtraFiles = []*os.File{f} // fd 3 in the child
			cmd.Env = append(os.Environ(), broker.ListenFDEnv+"=3")
			c, err = startChild(rank, cmd, exited)
			f.Close()
		}
		// The child has its copy; this process needs none.
		lns[rank].Close()
		if err != nil {
			return abort(err)
		}
		children = append(children, c)
	}
	// Wait for every rank; a child that exits meanwhile fails the boot
	// with its own words, printed once (by flux start).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- in.WaitReady(ctx) }()
	select {
	case err := <-ready:
		if err != nil {
			return abort(err)
		}
	case c := <-exited:
		cancel()
		<-ready
		return abort(errors.New(c.why()))
	}
	for _, c := range children {
		c.log.goLive()
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		in.Close(ctx)
		// A rank the instance lost (killed, stopped, cut off) gets no
		// broker.shutdown and may never exit by itself: the run's end does
		// not wait for it.
		for _, r := range in.DownRanks() {
			if r > 0 && r <= len(children) {
				children[r-1].cmd.Process.Kill()
			}
		}
		waitAll(children, 10*time.Second)
		cleanup()
	}
	return in, stop, nil
}
