package itest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// One instance booted from a boot.conf across three hosts (network
// namespaces with their own addresses and hostnames): each host runs
// `flux broker`, the brokers find their ranks from their addresses, link up
// over real TCP, and a capacitor file's tasks run on all three hosts. A peer
// with the wrong key and one sending garbage are dropped, logged, and the
// instance carries on.
func TestBootConfigAcrossHosts(t *testing.T) {
	hosts := testbed.Netns(t, 3)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if r := run(t, dir, "", "flux", "keygen", key); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var eps []string
	for _, h := range hosts {
		eps = append(eps, fmt.Sprintf(`"tcp://%s:8020"`, h.Addr))
	}
	conf := writeFile(t, filepath.Join(dir, "boot.conf"),
		fmt.Sprintf("session-id = \"nstest\"\ntbon-endpoints = [%s]\nkey-file = %q\n", strings.Join(eps, ", "), key))
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, "sh -c 'sleep 0.1; hostname'")
	}
	// An MPI job across two of the hosts: the key-value store crosses the
	// overlay at barrier time, MPICH's ranks talk over the hosts' network.
	lines = append(lines, "-N2 -n4 "+mpiProgram(t))
	writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	env := []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin"}
	var logs []*bytes.Buffer
	// Ranks 1 and 2 first: brokers may start in any order.
	for i := 2; i >= 1; i-- {
		c := hosts[i].Command(ctx, filepath.Join(bin, "flux"), "broker", "-Sboot.method=config", "-Sboot.config_file="+conf)
		c.Env, c.Dir = env, dir
		buf := &bytes.Buffer{}
		c.Stdout, c.Stderr = buf, buf
		logs = append(logs, buf)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer c.Wait()
	}
	// A garbage peer and a wrong-key peer knock on rank 0 while it runs.
	script := `sleep 0.5; flux-capacitor --quiet --joblog log --command_file cmds; echo status $?; sleep 1.5; flux ping 2`
	c0 := hosts[0].Command(ctx, filepath.Join(bin, "flux"), "broker", "-Sboot.method=config", "-Sboot.config_file="+conf,
		"sh", "-c", script)
	c0.Env, c0.Dir = env, dir
	var out0, err0 bytes.Buffer
	c0.Stdout, c0.Stderr = &out0, &err0
	if err := c0.Start(); err != nil {
		t.Fatal(err)
	}
	badpeer := filepath.Join(t.TempDir(), "badpeer")
	if msg, err := exec.Command("go", "build", "-o", badpeer, "./testdata/badpeer").CombinedOutput(); err != nil {
		t.Fatalf("building badpeer: %v\n%s", err, msg)
	}
	knocked := make(chan string, 1)
	go func() { knocked <- knock(ctx, hosts[1], hosts[0].Addr, badpeer) }()
	if err := c0.Wait(); err != nil {
		t.Fatalf("rank 0: %v\nstdout:\n%s\nstderr:\n%s\nrank 2 and 1:\n%s\n%s", err, out0.String(), err0.String(), logs[0], logs[1])
	}
	if !strings.Contains(out0.String(), "status 0") || !strings.Contains(out0.String(), "2!broker.ping") {
		t.Errorf("rank 0 output:\n%s\nstderr:\n%s", out0.String(), err0.String())
	}
	ran := map[string]int{}
	for _, h := range strings.Fields(out0.String()) {
		if strings.HasPrefix(h, "tbhost") {
			ran[h]++
		}
	}
	if len(ran) != 3 {
		t.Errorf("tasks ran on %v; want all three hosts", ran)
	}
	if rows := joblog(t, filepath.Join(dir, "log")); len(rows) != 31 {
		t.Errorf("%d job log records, want 31", len(rows))
	}
	checkRanks(t, out0.String(), 4)
	if k := <-knocked; !strings.Contains(k, "refused:") {
		t.Errorf("a peer with a wrong key was not refused: %s", k)
	}
	logText := err0.String()
	for _, want := range []string{"bad preamble", "wrong instance key"} {
		if !strings.Contains(logText, want) {
			t.Errorf("rank 0 did not log a dropped peer (%q):\n%s", want, logText)
		}
	}
}

// knock connects to a broker at addr:8020 from host h twice: once sending
// garbage, once with a wrong key. It returns what the wrong-key peer saw.
func knock(ctx context.Context, h testbed.Host, addr, badpeer string) string {
	time.Sleep(300 * time.Millisecond)
	garbage := h.Command(ctx, "bash", "-c", "exec 3<>/dev/tcp/"+addr+"/8020; head -c 512 /dev/urandom >&3; sleep 0.5")
	garbage.Run()
	out, _ := h.Command(ctx, badpeer, addr+":8020").CombinedOutput()
	return string(out)
}
