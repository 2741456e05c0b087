package testbed

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the echo server and client that run on the
// test hosts: FLUX_TESTBED_HELPER=server|client ADDR.
func TestMain(m *testing.M) {
	if h := os.Getenv("FLUX_TESTBED_HELPER"); h != "" {
		os.Exit(helper(h))
	}
	os.Exit(m.Run())
}

func helper(spec string) int {
	role, addr, _ := strings.Cut(spec, " ")
	host, _ := os.Hostname()
	switch role {
	case "server": // echo each line back, prefixed with this host's name
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("listening", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				return 1
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "%s echoes %s\n", host, sc.Text())
				}
			}()
		}
	case "client":
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		defer c.Close()
		fmt.Fprintf(c, "hello from %s\n", host)
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Print(line)
		return 0
	}
	return 2
}

func TestNetnsEcho(t *testing.T) {
	hosts := Netns(t, 3)
	if hosts[0] != (Host{"tbhost1", "10.203.0.1"}) || hosts[2] != (Host{"tbhost3", "10.203.0.3"}) {
		t.Fatalf("hosts %v", hosts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, h := range hosts {
		out, err := h.Command(ctx, "hostname").Output()
		if err != nil || strings.TrimSpace(string(out)) != h.Name {
			t.Errorf("hostname on %s: %q, %v", h.Name, out, err)
		}
	}

	// the guard route: 10.203.0.x is unreachable from the root namespace
	// (checked with a route lookup, which sends nothing)
	out, err := exec.Command("ip", "route", "get", "10.203.0.1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unreachable") && !strings.Contains(string(out), "No route to host") {
		t.Errorf("root namespace reaches the test network: ip route get 10.203.0.1: %s", out)
	}

	server := hosts[0].Command(ctx, os.Args[0])
	server.Env = append(os.Environ(), "FLUX_TESTBED_HELPER=server "+hosts[0].Addr+":8020")
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { server.Process.Kill(); server.Wait() }()
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "listening 10.203.0.1:8020") {
		t.Fatalf("server: %q, %v", first, err)
	}
	go io.Copy(io.Discard, stdout)

	// by name (the hosts file) from host 2, by address from host 3
	for i, addr := range map[int]string{1: "tbhost1:8020", 2: "10.203.0.1:8020"} {
		client := hosts[i].Command(ctx, os.Args[0])
		client.Env = append(os.Environ(), "FLUX_TESTBED_HELPER=client "+addr)
		out, err := client.CombinedOutput()
		want := fmt.Sprintf("tbhost1 echoes hello from %s\n", hosts[i].Name)
		if err != nil || string(out) != want {
			t.Errorf("client on %s to %s: %q, %v; want %q", hosts[i].Name, addr, out, err, want)
		}
	}
}

func TestNetnsGrowAndCancel(t *testing.T) {
	Netns(t, 2)
	hosts := Netns(t, 4) // a second, larger request in the same test extends the set
	if len(hosts) != 4 {
		t.Fatal(len(hosts))
	}
	out, err := hosts[3].Command(context.Background(), "sh", "-c", "hostname; ip -4 -o addr show dev eth0").Output()
	if err != nil || !strings.Contains(string(out), "tbhost4\n") || !strings.Contains(string(out), "10.203.0.4/24") {
		t.Errorf("host 4: %q, %v", out, err)
	}
	// cancelling the context kills the command itself (every step execs the next)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = hosts[1].Command(ctx, "sleep", "30").Run()
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("sleep not killed: %v after %v", err, time.Since(start))
	}
}

// fakeTB records what Require does instead of stopping a real test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                          {}
func (f *fakeTB) Skipf(format string, args ...any) { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestRequire(t *testing.T) {
	t.Setenv("FLUX_TEST_STRICT", "")
	f := &fakeTB{TB: t}
	Require(f, "Slurm", "sbatch is not installed")
	if f.failed != "" || !strings.Contains(f.skipped, "needs Slurm, which is not available here: sbatch is not installed") {
		t.Errorf("not strict: %+v", f)
	}
	for _, v := range []string{"1", "true", "yes"} {
		t.Setenv("FLUX_TEST_STRICT", v)
		f = &fakeTB{TB: t}
		Require(f, "MPICH", "mpicc is not installed")
		if f.skipped != "" || !strings.Contains(f.failed, "MPICH: mpicc is not installed (FLUX_TEST_STRICT=1") {
			t.Errorf("strict=%s: %+v", v, f)
		}
	}
	t.Setenv("FLUX_TEST_STRICT", "0")
	if Strict() {
		t.Error("FLUX_TEST_STRICT=0 is strict")
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/scripts/testbed/host-exec.sh"); err != nil {
		t.Error(err)
	}
}
