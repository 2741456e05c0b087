package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SlurmCluster is the real Slurm cluster a test submits to with sbatch,
// srun, salloc, squeue and scancel (found on PATH) as usual.
type SlurmCluster struct {
	Nodes []string // node names as Slurm lists them: "n1".."n4" for scripts/testbed/slurm-up.sh
}

var slurmState struct {
	mu      sync.Mutex
	done    bool
	cluster SlurmCluster
	err     error // *unavailable: skip (or fail when strict); other: fail
}

// Slurm returns the Slurm cluster on this machine. The first call in a test
// binary reuses a cluster that answers already (one brought up by hand, by
// an earlier test binary, or by scripts/test), or else brings one up with
// scripts/testbed/slurm-up.sh in its default layout: 4 nodes n1..n4 of 4
// CPUs, all on this host, installing Slurm and munge from Debian when
// missing (a few seconds; test binaries that start at the same time take
// turns through flock(2) on /run/flux-testbed/slurm-setup). Later calls
// return the same cluster at once.
//
// The cluster is left running when the tests end, for the next test binary
// and the next run: scripts/testbed/slurm-down.sh stops it (scripts/test and
// CI call it at the end; it stops only the daemons slurm-up.sh started).
//
// Slurm skips the test with a loud reason (fails it under
// FLUX_TEST_STRICT=1) when the cluster cannot be had here: not root, or
// Slurm neither installed nor installable. A cluster that is installed but
// fails to come up fails the test.
func Slurm(t testing.TB) SlurmCluster {
	t.Helper()
	slurmState.mu.Lock()
	defer slurmState.mu.Unlock()
	if !slurmState.done {
		slurmState.cluster, slurmState.err = setupSlurm()
		slurmState.done = true
	}
	if err := slurmState.err; err != nil {
		var skip *unavailable
		if errors.As(err, &skip) {
			Require(t, "Slurm", skip.Error())
		}
		t.Fatalf("testbed: %v", err)
	}
	return SlurmCluster{Nodes: append([]string(nil), slurmState.cluster.Nodes...)}
}

func setupSlurm() (SlurmCluster, error) {
	if os.Geteuid() != 0 {
		return SlurmCluster{}, &unavailable{"the test cluster's daemons need root (run the tests as root, e.g. in CI)"}
	}
	if c, err := runningSlurm(); err == nil {
		return c, nil
	}
	_, ctldErr := exec.LookPath("slurmctld")
	_, aptErr := exec.LookPath("apt-get")
	if ctldErr != nil && aptErr != nil {
		return SlurmCluster{}, &unavailable{"slurmctld is not installed and there is no apt-get to install it"}
	}
	root, err := RepoRoot()
	if err != nil {
		return SlurmCluster{}, err
	}

	lock, err := openLock("slurm-setup")
	if err != nil {
		return SlurmCluster{}, &unavailable{fmt.Sprintf("cannot make lock files in %s: %v", lockDir, err)}
	}
	defer lock.Close()
	if err := flock(lock, syscall.LOCK_EX); err != nil {
		return SlurmCluster{}, err
	}
	defer flock(lock, syscall.LOCK_UN)
	if c, err := runningSlurm(); err == nil {
		return c, nil // another test binary brought it up while we waited
	}

	cmd := exec.Command("bash", filepath.Join(root, "scripts", "testbed", "slurm-up.sh"))
	// the default layout: nodes in the root namespace, reachable from tests
	cmd.Env = append(os.Environ(), "SLURM_TB_NETNS=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("scripts/testbed/slurm-up.sh failed (%v): %s", err, strings.TrimSpace(string(out)))
		if _, lerr := exec.LookPath("slurmctld"); lerr != nil {
			return SlurmCluster{}, &unavailable{"Slurm is not installed and could not be installed: " + msg}
		}
		return SlurmCluster{}, errors.New(msg)
	}
	c, err := runningSlurm()
	if err != nil {
		return SlurmCluster{}, fmt.Errorf("slurm-up.sh succeeded, but: %v", err)
	}
	return c, nil
}

// runningSlurm asks sinfo for the nodes of a cluster that answers and has
// every node up (idle, or busy with other tests' jobs).
func runningSlurm() (SlurmCluster, error) {
	if _, err := exec.LookPath("sinfo"); err != nil {
		return SlurmCluster{}, err
	}
	// sinfo takes about 9 s to give up on a controller that is not there
	// (or not reachable from here: netns-mode clusters live on tbhost1)
	if !slurmctldRunning() {
		return SlurmCluster{}, errors.New("no slurmctld is running on this machine")
	}
	if addr := slurmctldAddr(); addr != "" {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return SlurmCluster{}, fmt.Errorf("slurmctld at %s: %v", addr, err)
		}
		conn.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sinfo", "-h", "-N", "-o", "%N %t").Output()
	if err != nil {
		return SlurmCluster{}, fmt.Errorf("sinfo: %v", err)
	}
	var c SlurmCluster
	seen := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		name, st, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch st {
		case "idle", "mix", "alloc", "comp":
		default:
			return SlurmCluster{}, fmt.Errorf("sinfo: node %s is %q", name, st)
		}
		if !seen[name] { // -N lists a node once per partition
			seen[name] = true
			c.Nodes = append(c.Nodes, name)
		}
	}
	if len(c.Nodes) == 0 {
		return SlurmCluster{}, errors.New("sinfo lists no nodes")
	}
	return c, nil
}

// slurmctldAddr is the address and port of the controller that
// slurm.conf names ("SlurmctldHost=vm(127.0.0.1)", SlurmctldPort), or "" when
// the config does not say (then sinfo finds out).
func slurmctldAddr() string {
	conf := os.Getenv("SLURM_CONF")
	if conf == "" {
		conf = "/etc/slurm/slurm.conf"
	}
	data, err := os.ReadFile(conf)
	if err != nil {
		return ""
	}
	host, port := "", "6817" // Slurm's default port
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		switch {
		case !ok:
		case strings.EqualFold(k, "SlurmctldHost") && host == "": // the first is the primary
			host = v
			if _, a, ok := strings.Cut(v, "("); ok {
				host = strings.TrimSuffix(a, ")")
			}
		case strings.EqualFold(k, "SlurmctldPort"):
			port, _, _ = strings.Cut(v, "-") // a range: the first port
		}
	}
	if host == "" {
		return ""
	}
	return net.JoinHostPort(strings.TrimSpace(host), strings.TrimSpace(port))
}

// slurmctldRunning reports whether a slurmctld process (not a zombie) runs
// on this machine.
func slurmctldRunning() bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "slurmctld" {
			continue
		}
		status, err := os.ReadFile(d + "/status")
		if err == nil && !strings.Contains(string(status), "zombie") {
			return true
		}
	}
	return false
}
