package pmi

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fakePM answers requests from a script: each request line (exactly) maps to
// reply lines. It records what it was sent.
type fakePM struct {
	replies map[string][]string
	got     chan string
}

func (f *fakePM) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			close(f.got)
			return
		}
		line = strings.TrimSuffix(line, "\n")
		f.got <- line
		for _, rep := range f.replies[line] {
			c.Write([]byte(rep + "\n"))
		}
	}
}

// slurm is what Slurm 22.05's pmi2 plugin answers on PMI_FD (transcript H).
var slurm = map[string][]string{
	"cmd=init pmi_version=1 pmi_subversion=1": {"cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1"},
	"cmd=get_maxes":      {"cmd=maxes rc=0 kvsname_max=256 keylen_max=64 vallen_max=1024"},
	"cmd=get_appnum":     {"cmd=appnum rc=0 appnum=-1"},
	"cmd=get_my_kvsname": {"cmd=my_kvsname rc=0 kvsname=21.0"},
	"cmd=put kvsname=21.0 key=card-1 value=tcp://h:1": {"cmd=put_result rc=0"},
	"cmd=barrier_in":                  {"cmd=barrier_out rc=0"},
	"cmd=get kvsname=21.0 key=card-0": {"cmd=get_result rc=0 value=tcp://h:0"},
	"cmd=get kvsname=21.0 key=nope":   {"cmd=get_result rc=1"},
	"cmd=finalize":                    {"cmd=finalize_ack rc=0"},
}

func TestClientSlurmDialect(t *testing.T) {
	ours, theirs := net.Pipe()
	pm := &fakePM{replies: slurm, got: make(chan string, 100)}
	go pm.serve(theirs)
	cl := NewClient(ours, 1, 2)
	if err := cl.Init(); err != nil {
		t.Fatal(err)
	}
	if cl.KVSName() != "21.0" || cl.Rank() != 1 || cl.Size() != 2 {
		t.Errorf("kvsname %q rank %d size %d", cl.KVSName(), cl.Rank(), cl.Size())
	}
	if err := cl.Put("card-1", "tcp://h:1"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Barrier(); err != nil {
		t.Fatal(err)
	}
	if v, err := cl.Get("card-0"); err != nil || v != "tcp://h:0" {
		t.Errorf("Get(card-0) = %q, %v", v, err)
	}
	if _, err := cl.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) = %v; want ErrNotFound (Slurm's rc=1)", err)
	}
	if err := cl.Finalize(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
}

func TestClientHydraFound(t *testing.T) {
	ours, theirs := net.Pipe()
	pm := &fakePM{replies: map[string][]string{
		"cmd=get kvsname=k key=a": {"cmd=get_result rc=0 msg=success value=x y found=TRUE"},
		"cmd=get kvsname=k key=b": {"cmd=get_result rc=-1 msg=key_b_not_found value=unknown found=FALSE"},
		"cmd=barrier_in":          {"cmd=put_result rc=0"},
	}, got: make(chan string, 100)}
	go pm.serve(theirs)
	cl := NewClient(ours, 0, 1)
	defer cl.Close()
	cl.kvsname = "k"
	if v, err := cl.Get("a"); err != nil || v != "x y" {
		t.Errorf("Get(a) = %q, %v", v, err)
	}
	if _, err := cl.Get("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(b) = %v", err)
	}
	if err := cl.Barrier(); err == nil || !strings.Contains(err.Error(), "cmd=put_result") {
		t.Errorf("Barrier with a wrong reply: %v", err)
	}
}

func TestClientPutChecks(t *testing.T) {
	cl := NewClient(nopConn{}, 0, 1)
	for _, kv := range [][2]string{
		{"", "v"}, {"a b", "v"}, {"a=b", "v"}, {strings.Repeat("k", KeyLenMax+1), "v"},
		{"k", "a b"}, {"k", "a\nb"}, {"k", strings.Repeat("v", ValLenMax+1)},
	} {
		if err := cl.Put(kv[0], kv[1]); err == nil {
			t.Errorf("Put(%q, %q) succeeded", kv[0], kv[1])
		}
	}
}

type nopConn struct{}

func (nopConn) Read([]byte) (int, error)    { return 0, errors.New("nop") }
func (nopConn) Write(b []byte) (int, error) { return len(b), nil }
func (nopConn) Close() error                { return nil }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestClientFromEnv(t *testing.T) {
	if c, err := ClientFromEnv(env(nil)); c != nil || !errors.Is(err, ErrNoPMI) {
		t.Errorf("empty env: %v, %v; want ErrNoPMI", c, err)
	}
	for _, m := range []map[string]string{
		{"PMI_FD": "x", "PMI_RANK": "0", "PMI_SIZE": "1"},
		{"PMI_FD": "3"},
		{"PMI_FD": "3", "PMI_RANK": "1", "PMI_SIZE": "1"},
		{"PMI_FD": "987654", "PMI_RANK": "0", "PMI_SIZE": "1"},
		{"PMI_PORT": "127.0.0.1:1", "PMI_ID": "x"},
	} {
		if c, err := ClientFromEnv(env(m)); err == nil {
			c.Close()
			t.Errorf("ClientFromEnv(%v) succeeded", m)
		}
	}
	// PMI_FD: a socketpair end as if inherited without close-on-exec (Slurm)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(fds[1])
	cl, err := ClientFromEnv(env(map[string]string{"PMI_FD": strconv.Itoa(fds[0]), "PMI_RANK": "1", "PMI_SIZE": "2"}))
	if err != nil {
		t.Fatal(err)
	}
	if cl.Rank() != 1 || cl.Size() != 2 {
		t.Errorf("rank %d size %d", cl.Rank(), cl.Size())
	}
	// the inherited fd number is released (the client holds a close-on-exec dup)
	var st syscall.Stat_t
	if err := syscall.Fstat(fds[0], &st); err == nil {
		t.Errorf("fd %d still open after ClientFromEnv", fds[0])
	}
	cl.Close()
}

// TestClientPort runs the PMI_PORT handshake against a fake TCP server
// answering like pmi_probe.py --mode port (transcript D).
func TestClientPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pm := &fakePM{replies: map[string][]string{
		"cmd=initack pmiid=2":                     {"cmd=initack", "cmd=set size=3", "cmd=set rank=2", "cmd=set debug=0"},
		"cmd=init pmi_version=1 pmi_subversion=1": {"cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0"},
		"cmd=get_maxes":                           {"cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=128"},
		"cmd=get_appnum":                          {"cmd=appnum appnum=0"},
		"cmd=get_my_kvsname":                      {"cmd=my_kvsname kvsname=kvs_probe_1_0"},
	}, got: make(chan string, 100)}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			pm.serve(c)
		}
	}()
	cl, err := ClientFromEnv(env(map[string]string{"PMI_PORT": ln.Addr().String(), "PMI_ID": "2"}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Init(); err != nil {
		t.Fatal(err)
	}
	if cl.Rank() != 2 || cl.Size() != 3 || cl.KVSName() != "kvs_probe_1_0" {
		t.Errorf("rank %d size %d kvsname %q", cl.Rank(), cl.Size(), cl.KVSName())
	}
	if err := cl.Put("k", strings.Repeat("v", 129)); err == nil {
		t.Error("Put of 129 bytes under vallen_max=128 succeeded")
	}
}

func TestEnvNames(t *testing.T) {
	if got := strings.Join(EnvNames(), " "); got != "PMI_FD PMI_RANK PMI_SIZE PMI_PORT PMI_ID PMI_SPAWNED PMI_JOBID" {
		t.Errorf("EnvNames() = %s", got)
	}
}
