package commands

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// slurmInstance starts an instance over every node of the Slurm allocation
// this process runs in, with one srun step for all of it (never one step
// per task): a broker per node, bootstrapped through srun's PMI, whose rank
// 0 writes its FLUX_URI to a file in a private directory. It returns a
// client connected to rank 0 and a function that stops the instance.
func slurmInstance(job resources.SlurmJob, so sched.Options) (*overlay.Client, func(), error) {
	dir, err := os.MkdirTemp("", "flux-slurm-")
	if err != nil {
		return nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	uriFile := filepath.Join(dir, "uri")
	n := strconv.Itoa(len(job.Nodes))
	// Each broker may use every CPU the job has on its node: a step task
	// with one CPU would be bound to it where Slurm binds (task/affinity).
	cpus := 0
	for _, c := range job.CPUs {
		if cpus == 0 || c < cpus {
			cpus = c
		}
	}
	args := []string{"--quiet", "--overlap", "--mpi=pmi2", "-N", n, "-n", n, "--ntasks-per-node=1",
		"--cpus-per-task=" + strconv.Itoa(max(cpus, 1)),
		"--kill-on-bad-exit=1", "--job-name=flux-brokers",
		self, "broker", "-Sboot.method=pmi", "-Sbroker.uri_file=" + uriFile}
	if so.Policy != "" {
		args = append(args, "--sched", "plugin="+so.Policy)
	}
	cmd := exec.Command("srun", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stderr, os.Stderr
	cmd.Env = withoutPMI(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("starting the brokers with srun: %w (is srun on PATH?)", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var client *overlay.Client
	stop := func() {
		// Ask rank 0 to stop the instance: every broker exits cleanly and
		// srun ends by itself; SIGTERM (then SIGKILL) only if it does not.
		if client != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			client.RPC(ctx, broker.TopicStop, nil, nil)
			cancel()
			client.Close()
		}
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
		}
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if b, err := os.ReadFile(uriFile); err == nil && strings.HasSuffix(string(b), "\n") {
			conn, err := overlay.Dial(strings.TrimSpace(string(b)))
			if err != nil {
				stop()
				return nil, nil, err
			}
			client = overlay.NewClient(conn)
			startedURI = strings.TrimSpace(string(b))
			return client, stop, nil
		}
		select {
		case err := <-exited:
			os.RemoveAll(dir)
			return nil, nil, fmt.Errorf("the brokers' srun step ended before the instance came up: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("the instance on %s did not come up in 2 minutes", resources.FormatHostlist(job.Nodes))
		}
	}
}

// withoutPMI drops PMI_* from an environment: srun gives the brokers their
// own.
func withoutPMI(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PMI_") {
			out = append(out, kv)
		}
	}
	return out
}

// slurmLocal is the instance for a one-node allocation: this node's cores as
// its affinity mask allows, capped at what Slurm gave the job here.
func slurmLocal(job resources.SlurmJob, so sched.Options) (*overlay.Client, func(), error) {
	res, err := resources.Discover()
	if err != nil {
		return nil, nil, err
	}
	if len(job.CPUs) > 0 && job.CPUs[0] > 0 && res.Ranks[0].Cores.Count() > job.CPUs[0] {
		res.Ranks[0].Cores = res.Ranks[0].Cores.First(job.CPUs[0])
	}
	return embedded(res, so)
}
