package pmi

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// taskConn returns the task side of local task i's socket.
func taskConn(t testing.TB, s *Server, i int) net.Conn {
	t.Helper()
	f, err := s.TaskFile(i)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawTask speaks the wire protocol by hand.
type rawTask struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func newRaw(t testing.TB, s *Server, i int) *rawTask {
	c := taskConn(t, s, i)
	return &rawTask{t: t, c: c, r: bufio.NewReader(c)}
}

func (rt *rawTask) send(line string) {
	rt.t.Helper()
	if _, err := rt.c.Write([]byte(line + "\n")); err != nil {
		rt.t.Fatalf("send %q: %v", line, err)
	}
}

func (rt *rawTask) recv() string {
	rt.t.Helper()
	rt.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := rt.r.ReadString('\n')
	if err != nil {
		rt.t.Fatalf("recv: %v (got %q)", err, s)
	}
	return strings.TrimSuffix(s, "\n")
}

func (rt *rawTask) roundTrip(line, want string) {
	rt.t.Helper()
	rt.send(line)
	if got := rt.recv(); got != want {
		rt.t.Errorf("%s\n  got  %s\n  want %s", line, got, want)
	}
}

// runClient runs one rank's bootstrap: init, put, barrier, get every key.
func runClient(c net.Conn, rank, size int, rounds int) (got []string, err error) {
	cl := NewClient(c, rank, size)
	defer cl.Close()
	if err := cl.Init(); err != nil {
		return nil, err
	}
	for round := range rounds {
		if err := cl.Put(fmt.Sprintf("card-%d-%d", round, rank), fmt.Sprintf("tcp://10.0.0.%d:%d", rank, 9000+round)); err != nil {
			return nil, err
		}
		if err := cl.Barrier(); err != nil {
			return nil, err
		}
		for r := range size {
			v, err := cl.Get(fmt.Sprintf("card-%d-%d", round, r))
			if err != nil {
				return nil, err
			}
			got = append(got, v)
		}
	}
	if _, err := cl.Get("no-such-key"); !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("get no-such-key: %v; want ErrNotFound", err)
	}
	return got, cl.Finalize()
}

func checkCards(t *testing.T, rank, size, rounds int, got []string) {
	t.Helper()
	var want []string
	for round := range rounds {
		for r := range size {
			want = append(want, fmt.Sprintf("tcp://10.0.0.%d:%d", r, 9000+round))
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rank %d got %q; want %q", rank, got, want)
	}
}

func TestServerOneNode(t *testing.T) {
	const n, rounds = 4, 3
	s := newServer(t, ServerConfig{KVSName: "flux-f1", Size: n, Ranks: []int{0, 1, 2, 3}, Mapping: ProcessMapping([]int{n})})
	conns := make([]net.Conn, n)
	for i := range n {
		conns[i] = taskConn(t, s, i)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got, err := runClient(conns[i], i, n, rounds)
			if err != nil {
				t.Errorf("rank %d: %v", i, err)
				return
			}
			checkCards(t, i, n, rounds, got)
		})
	}
	wg.Wait()
}

// fakeOverlay wires the Exchange functions of several Servers to each
// other: at each epoch, once every part has arrived, each gets the others'
// puts.
type fakeOverlay struct {
	parts int
	mu    sync.Mutex
	at    map[int][]arrival
}

type arrival struct {
	part int
	puts map[string]string
	done func(map[string]string, error)
}

func (o *fakeOverlay) exchange(part int) func(int, map[string]string, func(map[string]string, error)) {
	return func(epoch int, puts map[string]string, done func(map[string]string, error)) {
		o.mu.Lock()
		if o.at == nil {
			o.at = map[int][]arrival{}
		}
		o.at[epoch] = append(o.at[epoch], arrival{part, puts, done})
		all := o.at[epoch]
		if len(all) < o.parts {
			o.mu.Unlock()
			return
		}
		delete(o.at, epoch)
		o.mu.Unlock()
		for _, a := range all {
			remote := map[string]string{}
			for _, b := range all {
				if b.part != a.part {
					for k, v := range b.puts {
						remote[k] = v
					}
				}
			}
			go a.done(remote, nil)
		}
	}
}

func TestServerTwoNodes(t *testing.T) {
	const n, rounds = 4, 3
	ov := &fakeOverlay{parts: 2}
	mapping := ProcessMapping([]int{2, 2})
	a := newServer(t, ServerConfig{KVSName: "flux-f2", Size: n, Ranks: []int{0, 1}, Mapping: mapping, Exchange: ov.exchange(0)})
	b := newServer(t, ServerConfig{KVSName: "flux-f2", Size: n, Ranks: []int{2, 3}, Mapping: mapping, Exchange: ov.exchange(1)})
	conns := []net.Conn{taskConn(t, a, 0), taskConn(t, a, 1), taskConn(t, b, 0), taskConn(t, b, 1)}
	var wg sync.WaitGroup
	for r := range n {
		wg.Go(func() {
			got, err := runClient(conns[r], r, n, rounds)
			if err != nil {
				t.Errorf("rank %d: %v", r, err)
				return
			}
			checkCards(t, r, n, rounds, got)
		})
	}
	wg.Wait()
}

// TestServerConcurrentBarriers runs many barrier rounds with tasks that
// race into each barrier, over two parts whose exchange completes late.
func TestServerConcurrentBarriers(t *testing.T) {
	const perPart, rounds = 3, 50
	ov := &fakeOverlay{parts: 2}
	slow := func(f func(int, map[string]string, func(map[string]string, error))) func(int, map[string]string, func(map[string]string, error)) {
		return func(e int, p map[string]string, d func(map[string]string, error)) {
			go func() { time.Sleep(time.Duration(e%3) * time.Millisecond); f(e, p, d) }()
		}
	}
	a := newServer(t, ServerConfig{KVSName: "k", Size: 2 * perPart, Ranks: []int{0, 2, 4}, Exchange: slow(ov.exchange(0))})
	b := newServer(t, ServerConfig{KVSName: "k", Size: 2 * perPart, Ranks: []int{1, 3, 5}, Exchange: slow(ov.exchange(1))})
	var wg sync.WaitGroup
	for i := range perPart {
		for _, s := range []*Server{a, b} {
			c := taskConn(t, s, i)
			rank := s.cfg.Ranks[i]
			wg.Go(func() {
				got, err := runClient(c, rank, 2*perPart, rounds)
				if err != nil {
					t.Errorf("rank %d: %v", rank, err)
					return
				}
				checkCards(t, rank, 2*perPart, rounds, got)
			})
		}
	}
	wg.Wait()
}

func TestServerBarrierFailure(t *testing.T) {
	exchanged := make(chan struct{})
	defer func() { <-exchanged }() // it logs through t.Logf
	s := newServer(t, ServerConfig{KVSName: "k", Size: 2, Ranks: []int{0},
		Exchange: func(_ int, _ map[string]string, done func(map[string]string, error)) {
			defer close(exchanged)
			done(nil, errors.New("peer lost"))
			done(nil, nil) // a second call is ignored
		}})
	cl := NewClient(taskConn(t, s, 0), 0, 2)
	if err := cl.Init(); err != nil {
		t.Fatal(err)
	}
	var re *ReplyError
	if err := cl.Barrier(); !errors.As(err, &re) || re.RC != "-1" {
		t.Fatalf("Barrier after a failed exchange: %v; want rc=-1", err)
	}
}

// TestServerDialect pins the exact replies MPICH sees (hydra's dialect).
func TestServerDialect(t *testing.T) {
	s := newServer(t, ServerConfig{KVSName: "flux-x", Size: 2, Ranks: []int{0, 1}, Mapping: "(vector,(0,1,2))"})
	rt := newRaw(t, s, 0)
	rt.roundTrip("cmd=init pmi_version=1 pmi_subversion=1", "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0")
	rt.roundTrip("cmd=init pmi_version=1 pmi_subversion=0", "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=-1")
	rt.roundTrip("cmd=get_maxes", "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024")
	rt.roundTrip("cmd=get_appnum", "cmd=appnum appnum=0")
	rt.roundTrip("cmd=get_my_kvsname", "cmd=my_kvsname kvsname=flux-x")
	rt.roundTrip("cmd=get_universe_size", "cmd=universe_size size=2")
	rt.roundTrip("cmd=get kvsname=flux-x key=PMI_process_mapping", "cmd=get_result rc=0 msg=success value=(vector,(0,1,2))")
	rt.roundTrip("cmd=get kvsname=flux-x key=hostname[1]", "cmd=get_result rc=-1 msg=key_hostname[1]_not_found value=unknown")
	rt.roundTrip("cmd=put kvsname=flux-x key=-allgather-shm-1-0 value=segments=2", "cmd=put_result rc=0 msg=success")
	rt.roundTrip("cmd=put kvsname=flux-x key=-allgather-shm-1-0 value=segments=2", "cmd=put_result rc=0 msg=success")
	rt.roundTrip("cmd=put kvsname=flux-x key=-allgather-shm-1-0 value=segments=3", "cmd=put_result rc=-1 msg=key_-allgather-shm-1-0_already_put_with_another_value")
	rt.roundTrip("cmd=put kvsname=flux-x key=sp value=a b  c", "cmd=put_result rc=0 msg=success")
	rt.roundTrip("cmd=get kvsname=flux-x key=sp", "cmd=get_result rc=0 msg=success value=a b  c")
	rt.roundTrip("cmd=put kvsname=other key=a value=b", "cmd=put_result rc=-1 msg=unknown_kvsname_other")
	rt.roundTrip("cmd=get kvsname=other key=a", "cmd=get_result rc=-1 msg=unknown_kvsname_other value=unknown")
	rt.roundTrip("cmd=finalize", "cmd=finalize_ack rc=0")
}

func TestServerLimits(t *testing.T) {
	s := newServer(t, ServerConfig{KVSName: "k", Size: 1, Ranks: []int{0}})
	rt := newRaw(t, s, 0)
	rt.roundTrip("cmd=put kvsname=k key=a value="+strings.Repeat("v", ValLenMax), "cmd=put_result rc=0 msg=success")
	rt.roundTrip("cmd=put kvsname=k key=b value="+strings.Repeat("v", ValLenMax+1), "cmd=put_result rc=-1 msg=value_longer_than_vallen_max_1024")
	rt.roundTrip("cmd=put kvsname=k key="+strings.Repeat("k", KeyLenMax)+" value=1", "cmd=put_result rc=0 msg=success")
	rt.roundTrip("cmd=put kvsname=k key="+strings.Repeat("k", KeyLenMax+1)+" value=1", "cmd=put_result rc=-1 msg=key_longer_than_keylen_max_64")
	rt.roundTrip("cmd=put kvsname=k value=1", "cmd=put_result rc=-1 msg=put_without_key")
	// a line of exactly MaxLineLen bytes is read (and refused as a put)
	long := "cmd=put kvsname=k key=c value="
	rt.roundTrip(long+strings.Repeat("x", MaxLineLen-len(long)), "cmd=put_result rc=-1 msg=value_longer_than_vallen_max_1024")
	// one byte more: an error, then the server hangs up
	rt.send(long + strings.Repeat("x", MaxLineLen+1-len(long)))
	if got, want := rt.recv(), "cmd=error rc=-1 msg=line_longer_than_65536_bytes"; got != want {
		t.Errorf("over-long line: got %q; want %q", got, want)
	}
	rt.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if s, err := rt.r.ReadString('\n'); err == nil {
		t.Errorf("after an over-long line the connection is still open: read %q", s)
	}
}

func TestServerUnsupported(t *testing.T) {
	s := newServer(t, ServerConfig{KVSName: "k", Size: 1, Ranks: []int{0}})
	rt := newRaw(t, s, 0)
	rt.roundTrip("cmd=publish_name service=s port=p", "cmd=publish_result rc=-1 msg=unsupported_command_publish_name")
	rt.roundTrip("cmd=unpublish_name service=s", "cmd=unpublish_result rc=-1 msg=unsupported_command_unpublish_name")
	rt.roundTrip("cmd=lookup_name service=s", "cmd=lookup_result rc=-1 msg=unsupported_command_lookup_name")
	rt.roundTrip("cmd=initack pmiid=0", "cmd=initack_result rc=-1 msg=unsupported_command_initack")
	rt.roundTrip("cmd=frobnicate x=1", "cmd=frobnicate_result rc=-1 msg=unsupported_command_frobnicate")
	rt.roundTrip("no command here", "cmd=error rc=-1 msg=malformed_line")
	// MPICH's multi-line spawn request: one reply after endcmd
	for _, l := range []string{"mcmd=spawn", "nprocs=2", "execname=./a.out", "totspawns=1", "spawnssofar=1", "argcnt=0", "preput_num=0", "info_num=0"} {
		rt.send(l)
	}
	rt.roundTrip("endcmd", "cmd=spawn_result rc=-1 msg=unsupported_command_spawn")
	rt.roundTrip("cmd=get_appnum", "cmd=appnum appnum=0") // still serving
}

func TestServerAbort(t *testing.T) {
	type abortCall struct{ rank, code int }
	calls := make(chan abortCall, 4)
	s := newServer(t, ServerConfig{KVSName: "k", Size: 4, Ranks: []int{2, 3},
		Abort: func(rank, code int, msg string) { calls <- abortCall{rank, code} }})
	r0, r1 := newRaw(t, s, 0), newRaw(t, s, 1)
	r1.send("cmd=abort exitcode=7")
	select {
	case c := <-calls:
		if c != (abortCall{3, 7}) {
			t.Errorf("Abort(%d, %d); want Abort(3, 7)", c.rank, c.code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Abort was not called")
	}
	r0.send("cmd=abort exitcode=9 error_msg=second")
	// no reply to abort: the next line read is the answer to get_appnum
	r1.roundTrip("cmd=get_appnum", "cmd=appnum appnum=0")
	r0.roundTrip("cmd=get_appnum", "cmd=appnum appnum=0")
	select {
	case c := <-calls:
		t.Errorf("Abort called a second time: %v", c)
	default:
	}
}

// TestServerSplitWrites sends requests a byte at a time.
func TestServerSplitWrites(t *testing.T) {
	s := newServer(t, ServerConfig{KVSName: "k", Size: 1, Ranks: []int{0}})
	rt := newRaw(t, s, 0)
	for _, req := range []string{"cmd=put kvsname=k key=a value=x y\n", "cmd=get kvsname=k key=a\r\n"} {
		for i := range len(req) {
			if _, err := rt.c.Write([]byte{req[i]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := rt.recv(); got != "cmd=put_result rc=0 msg=success" {
		t.Errorf("put: %q", got)
	}
	if got := rt.recv(); got != "cmd=get_result rc=0 msg=success value=x y" {
		t.Errorf("get: %q", got)
	}
}

func TestServerCloseUnblocksBarrier(t *testing.T) {
	s, err := NewServer(ServerConfig{KVSName: "k", Size: 2, Ranks: []int{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	rt := newRaw(t, s, 0)
	rt.send("cmd=barrier_in")
	time.Sleep(20 * time.Millisecond)
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs with a task in a barrier")
	}
	rt.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := rt.r.ReadString('\n'); err == nil {
		t.Errorf("read %q after Close; want EOF", l)
	}
	if _, err := s.TaskFile(1); err == nil {
		t.Error("TaskFile after Close succeeded")
	}
}

func TestServerTaskFile(t *testing.T) {
	s := newServer(t, ServerConfig{KVSName: "k", Size: 3, Ranks: []int{1, 2}})
	if got := strings.Join(s.TaskEnv(1, 3), " "); got != "PMI_FD=3 PMI_RANK=2 PMI_SIZE=3" {
		t.Errorf("TaskEnv(1, 3) = %q", got)
	}
	f, err := s.TaskFile(0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := s.TaskFile(0); err == nil {
		t.Error("TaskFile(0) twice succeeded")
	}
	if _, err := s.TaskFile(2); err == nil {
		t.Error("TaskFile(2) of 2 tasks succeeded")
	}
	if flags, err := fcntlGetfd(f); err != nil || flags&1 == 0 { // FD_CLOEXEC
		t.Errorf("child end flags %#x, %v; want close-on-exec until exec.Cmd dups it", flags, err)
	}
}

func TestNewServerErrors(t *testing.T) {
	for _, cfg := range []ServerConfig{
		{KVSName: "", Size: 1, Ranks: []int{0}},
		{KVSName: "a b", Size: 1, Ranks: []int{0}},
		{KVSName: strings.Repeat("k", KVSNameMax+1), Size: 1, Ranks: []int{0}},
		{KVSName: "k", Size: 0, Ranks: []int{0}},
		{KVSName: "k", Size: 2, Ranks: nil},
		{KVSName: "k", Size: 2, Ranks: []int{0, 0}},
		{KVSName: "k", Size: 2, Ranks: []int{2}},
		{KVSName: "k", Size: 1, Ranks: []int{0, 1}},
	} {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("NewServer(%+v) succeeded", cfg)
		}
	}
	// a mapping over vallen_max is left out
	s := newServer(t, ServerConfig{KVSName: "k", Size: 1, Ranks: []int{0}, Mapping: "(vector" + strings.Repeat(",(0,1,1)", 200) + ")"})
	rt := newRaw(t, s, 0)
	rt.roundTrip("cmd=get kvsname=k key=PMI_process_mapping", "cmd=get_result rc=-1 msg=key_PMI_process_mapping_not_found value=unknown")
}

// BenchmarkRound4 measures one put / barrier / get round of 4 local tasks.
func BenchmarkRound4(b *testing.B) {
	const n = 4
	s := newServer(b, ServerConfig{KVSName: "k", Size: n, Ranks: []int{0, 1, 2, 3}})
	clients := make([]*Client, n)
	for i := range n {
		clients[i] = NewClient(taskConn(b, s, i), i, n)
		if err := clients[i].Init(); err != nil {
			b.Fatal(err)
		}
	}
	for it := 0; b.Loop(); it++ {
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Go(func() {
				if err := c.Put(fmt.Sprintf("k%d-%d", it, i), "v"); err != nil {
					b.Error(err)
				}
				if err := c.Barrier(); err != nil {
					b.Error(err)
				}
				if _, err := c.Get(fmt.Sprintf("k%d-%d", it, (i+1)%n)); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}
