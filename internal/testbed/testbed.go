// Package testbed gives integration tests the machinery the project's
// scripts/testbed/ provides: test hosts as network namespaces (Netns), and
// the rule for tests whose component is missing on this machine (Require).
//
// # Skip or fail
//
// A test that needs something this machine lacks (root, iproute2, Slurm,
// MPICH) skips with a loud reason, so `go test ./...` passes on a laptop.
// With FLUX_TEST_STRICT=1 (scripts/test sets it when CI=true) it fails
// instead, so CI cannot go green by skipping.
//
// # Lifetime of the test hosts
//
// Netns runs scripts/testbed/netns-up.sh (found by walking up from the
// test's working directory to go.mod) the first time a test asks for hosts,
// and again when a later test asks for more. The hosts are torn down with
// netns-down.sh in the t.Cleanup of the last test still using them, and
// only when no other process is using them (test binaries of other
// packages run at the same time; they coordinate through flock(2) on
// /run/flux-testbed/) and only when the testbed package brought them up:
// hosts someone made by hand (or for netns-mode Slurm) are left alone.
// Sequential tests therefore each bring the hosts up (about 0.1 to 0.3 s);
// a package with many such tests can hold them for the whole binary with
// TestMain: func TestMain(m *testing.M) { os.Exit(testbed.Main(m)) }.
// FLUX_TESTBED_KEEP=1 leaves the hosts up for debugging; remove them with
// scripts/testbed/netns-down.sh.
package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Host is one test host made by Netns.
type Host struct {
	Name string // host name and namespace name: "tbhost1"
	Addr string // its address on the test network: "10.203.0.1"
}

const (
	prefix  = "tbhost"
	subnet  = "10.203.0"
	lockDir = "/run/flux-testbed"
	maxN    = 250
)

// Command returns a command that runs name with args on h: in h's network
// namespace, with hostname h.Name and the test hosts' /etc/hosts, exactly as
// scripts/testbed/host-exec.sh does. Each step execs the next, so the
// process of the returned Cmd becomes the program itself, and cancelling ctx
// kills it. Set Env, Dir, Stdout etc. on the result as usual.
func (h Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	const script = `h=$1; shift
if [ -f "/etc/netns/$h/hosts" ]; then mount --bind "/etc/netns/$h/hosts" /etc/hosts || exit 1; fi
hostname "$h" || exit 1
exec "$@"`
	argv := append([]string{"--net=/run/netns/" + h.Name, "unshare", "--uts", "--mount",
		"sh", "-c", script, "testbed", h.Name, name}, args...)
	return exec.CommandContext(ctx, "nsenter", argv...)
}

// Strict reports whether FLUX_TEST_STRICT asks for missing components to
// fail tests rather than skip them.
func Strict() bool {
	switch strings.ToLower(os.Getenv("FLUX_TEST_STRICT")) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// Require is the skip-or-fail rule, for a test that has found that what it
// needs (what: "Slurm", "MPICH", "network namespaces") is not available on
// this machine, and why. It skips the test with a loud message, or, under
// FLUX_TEST_STRICT=1, fails it. It does not return.
func Require(t testing.TB, what, why string) {
	t.Helper()
	if Strict() {
		t.Fatalf("REQUIRED COMPONENT MISSING: %s: %s (FLUX_TEST_STRICT=1 makes this a failure)", what, why)
		return // Fatalf does not return; fakes in tests do
	}
	t.Skipf("SKIPPED, NOT TESTED: needs %s, which is not available here: %s (set FLUX_TEST_STRICT=1 to make this a failure)", what, why)
}

// the process-wide state of the test hosts
var state struct {
	mu      sync.Mutex
	up      int      // hosts known to be up in this process (0 = not set up by us yet)
	users   int      // tests (and Main) holding them
	useLock *os.File // shared flock held while users > 0
}

// Netns returns n test hosts tbhost1..tbhostn (10.203.0.1..n), bringing them
// up with scripts/testbed/netns-up.sh when needed, and releasing them when
// the test ends (see the package comment). It skips the test (fails under
// FLUX_TEST_STRICT=1) when not root, when no `ip`, nsenter or unshare is
// installed, or when the namespaces cannot be made.
func Netns(t testing.TB, n int) []Host {
	t.Helper()
	if n < 1 || n > maxN {
		t.Fatalf("testbed.Netns: n = %d; want 1..%d", n, maxN)
	}
	if os.Geteuid() != 0 {
		Require(t, "network namespaces", "the test hosts need root (run the tests as root, e.g. in CI)")
	}
	for _, tool := range []string{"nsenter", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			Require(t, "network namespaces", tool+" (util-linux) is not installed")
		}
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if _, aerr := exec.LookPath("apt-get"); aerr != nil {
			Require(t, "network namespaces", "the ip command (iproute2) is not installed and there is no apt-get to install it")
		}
		// netns-up.sh installs iproute2
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if err := acquire(root, n); err != nil {
		var skip *unavailable
		if errors.As(err, &skip) {
			Require(t, "network namespaces", skip.Error())
		}
		t.Fatalf("testbed: %v", err)
	}
	t.Cleanup(func() {
		if err := release(root); err != nil {
			t.Errorf("testbed: tearing down test hosts: %v", err)
		}
	})
	hosts := make([]Host, n)
	for i := range hosts {
		hosts[i] = Host{Name: prefix + strconv.Itoa(i+1), Addr: subnet + "." + strconv.Itoa(i+1)}
	}
	return hosts
}

// Main runs a test binary's tests, keeping test hosts that its tests bring
// up until all of them have run (instead of tearing them down after each
// test). Use it from TestMain: os.Exit(testbed.Main(m)).
func Main(m *testing.M) int {
	state.mu.Lock()
	state.users++ // a user that needs no hosts yet: holds them once they exist
	state.mu.Unlock()
	code := m.Run()
	root, err := RepoRoot()
	if err == nil {
		err = release(root)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed: tearing down test hosts: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// unavailable is a set-up failure that means "this machine cannot do it".
type unavailable struct{ msg string }

func (u *unavailable) Error() string { return u.msg }

// The two locks in lockDir: "setup" serializes netns-up/down across
// processes; "use" is held shared by every process using the hosts, and
// taken exclusive (without waiting) by the one that tears them down.
// "owned" marks hosts the testbed package brought up.
func openLock(name string) (*os.File, error) {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(lockDir, name), os.O_CREATE|os.O_RDWR, 0o644)
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

func acquire(root string, n int) error {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.up >= n && state.useLock != nil {
		state.users++
		return nil
	}
	setup, err := openLock("setup")
	if err != nil {
		return &unavailable{fmt.Sprintf("cannot make lock files in %s: %v", lockDir, err)}
	}
	defer setup.Close()
	if err := flock(setup, syscall.LOCK_EX); err != nil {
		return err
	}
	defer flock(setup, syscall.LOCK_UN)

	owned := filepath.Join(lockDir, "owned")
	if _, err := os.Stat("/run/netns/" + prefix + "-sw"); err != nil {
		// nothing up: can this machine make network namespaces at all?
		if out, err := exec.Command("unshare", "--net", "true").CombinedOutput(); err != nil {
			return &unavailable{fmt.Sprintf("cannot create network namespaces here (unshare --net: %v: %s)",
				err, strings.TrimSpace(string(out)))}
		}
		// whatever we make is ours to remove
		if err := os.WriteFile(owned, []byte("made by internal/testbed (scripts/testbed/netns-up.sh)\n"), 0o644); err != nil {
			return err
		}
	}
	_, ipErr := exec.LookPath("ip")
	out, err := runScript(root, "netns-up.sh", strconv.Itoa(n))
	if err != nil {
		msg := fmt.Sprintf("scripts/testbed/netns-up.sh %d failed (%v): %s", n, err, strings.TrimSpace(out))
		if ipErr != nil {
			return &unavailable{"the ip command (iproute2) is missing and could not be installed: " + msg}
		}
		return errors.New(msg)
	}
	if state.useLock == nil {
		use, err := openLock("use")
		if err != nil {
			return err
		}
		if err := flock(use, syscall.LOCK_SH); err != nil {
			use.Close()
			return err
		}
		state.useLock = use
	}
	if n > state.up {
		state.up = n
	}
	state.users++
	return nil
}

func release(root string) error {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.users > 0 {
		state.users--
	}
	if state.users > 0 || state.useLock == nil {
		return nil
	}
	use := state.useLock
	state.useLock, state.up = nil, 0
	if keep := os.Getenv("FLUX_TESTBED_KEEP"); keep != "" && keep != "0" {
		use.Close()
		return nil
	}
	setup, err := openLock("setup")
	if err != nil {
		use.Close()
		return err
	}
	defer setup.Close()
	if err := flock(setup, syscall.LOCK_EX); err != nil {
		use.Close()
		return err
	}
	defer flock(setup, syscall.LOCK_UN)
	defer use.Close()
	// Still in use by another process? Then it tears them down when done.
	if err := flock(use, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil
	}
	owned := filepath.Join(lockDir, "owned")
	if _, err := os.Stat(owned); err != nil {
		return nil // brought up by someone else: leave them
	}
	if out, err := runScript(root, "netns-down.sh"); err != nil {
		return fmt.Errorf("scripts/testbed/netns-down.sh: %v: %s", err, strings.TrimSpace(out))
	}
	if err := os.Remove(owned); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err // netns-down.sh removes it too
	}
	return nil
}

func runScript(root, name string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "testbed", name)}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// RepoRoot is the directory holding the project's go.mod, found by walking
// up from the working directory (a test runs in its package's directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "scripts", "testbed", "netns-up.sh")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod with scripts/testbed/netns-up.sh above %s", dir)
		}
	}
}
