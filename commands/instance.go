package commands

import (
	"context"
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
	return &cli.StringFlag{Name: "sched", Usage: "scheduler: sched.fcfs (default), sched.easy, sched.conservative or sched.hybrid, " +
		"with options, e.g. \"sched.easy queue-depth=64\"; default from FLUX_SCHED_OPTIONS (or FLUX_SCHED_OPTS)"}
}

// schedOptions reads --sched, else the environment.
func schedOptions(c *cli.Context) (sched.Options, error) {
	if v := c.String("sched"); v != "" {
		if !strings.Contains(strings.Fields(v)[0], "=") {
			v = "plugin=" + v
		}
		return sched.ParseOptions(v)
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
	// Every port is held until all are picked: a port closed at once may
	// be handed out again by the next pick (seen at --test-size=128).
	var eps []string
	var held []net.Listener
	for i := 0; i < n && err == nil; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			held = append(held, l)
			eps = append(eps, fmt.Sprintf("%q", fmt.Sprintf("tcp://127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)))
		}
	}
	for _, l := range held {
		l.Close()
	}
	conf := filepath.Join(dir, "boot.conf")
	if err == nil {
		err = os.WriteFile(conf, []byte(fmt.Sprintf("session-id = \"start-%d\"\ntbon-endpoints = [%s]\nkey-file = \"key\"\n",
			os.Getpid(), strings.Join(eps, ", "))), 0o600)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	a := boot.Attrs{}
	for k, v := range attrs {
		a[k] = v
	}
	a["boot.method"], a["boot.config_file"] = boot.MethodConfig, conf
	var procs []*exec.Cmd
	for rank := 1; rank < n; rank++ {
		args := []string{"broker"}
		for k, v := range a {
			args = append(args, "-S", k+"="+v)
		}
		args = append(args, "-S", fmt.Sprintf("broker.rank=%d", rank))
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			killAll(procs)
			cleanup()
			return nil, nil, err
		}
		procs = append(procs, cmd)
	}
	a["broker.rank"] = "0"
	in, err := broker.Boot(broker.BootOptions{Attrs: a, Sched: so})
	if err != nil {
		killAll(procs)
		cleanup()
		return nil, nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		in.Close(ctx)
		waitAll(procs, 10*time.Second)
		cleanup()
	}
	return in, stop, nil
}

func killAll(procs []*exec.Cmd) {
	for _, p := range procs {
		p.Process.Kill()
		p.Wait()
	}
}

// waitAll waits for the broker processes to exit, killing any that linger.
func waitAll(procs []*exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() {
		for _, p := range procs {
			p.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		for _, p := range procs {
			p.Process.Kill()
		}
		<-done
	}
}
