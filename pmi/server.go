package pmi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The maxes the Server announces in cmd=maxes (hydra's and Slurm's values).
const (
	KVSNameMax = 256
	KeyLenMax  = 64
	ValLenMax  = 1024
)

// ServerConfig configures the Server of one job part (the tasks of one job
// on one node).
type ServerConfig struct {
	KVSName string // e.g. "flux-<jobid>"; no spaces, at most KVSNameMax bytes
	Size    int    // universe size (all tasks of the job, all nodes)
	Ranks   []int  // global PMI ranks of the local tasks, in local order
	AppNum  int    // 0
	// Mapping is the PMI_process_mapping value, pre-put; "" = none (see
	// ProcessMapping). One longer than ValLenMax is left out (MPICH then
	// exchanges hostnames instead).
	Mapping string
	// Exchange is called once per barrier when every local task has entered
	// it, with the key-value pairs put locally since the previous barrier
	// (epoch counts barriers from 0). It must call done (from any goroutine)
	// with the pairs to add to the local store (those of every other part of
	// the job), after which every local task gets barrier_out (rc=-1 if err
	// is not nil). It runs on a goroutine of its own. nil: the job lives on
	// this node only.
	Exchange func(epoch int, puts map[string]string, done func(remote map[string]string, err error))
	// Abort is called (once, on a goroutine of its own) when a task sends
	// abort; the caller kills the job. Tasks get no reply.
	Abort func(rank, code int, msg string)
	Logf  func(format string, args ...any) // nil: no log
}

// Server serves the PMI-1 wire protocol to the local tasks of one job part,
// one goroutine per task connection. A barrier completes when every local
// task has entered it (and the exchange is done): a task that exits before
// entering leaves the others waiting until the launcher, which sees its exit
// status, ends the job. A task that closes its connection without finalize
// is not an error here for the same reason.
type Server struct {
	cfg    ServerConfig
	closed chan struct{} // closed by Close
	wg     sync.WaitGroup
	abort  sync.Once

	mu sync.Mutex
	// guarded by mu:
	conns   []net.Conn        // server ends by local index; nil until TaskFile
	given   []bool            // TaskFile(i) was called
	kvs     map[string]string // the job's store as seen here
	puts    map[string]string // local puts since the last barrier
	entered int               // local tasks in the current barrier
	epoch   int               // the current barrier's epoch
	bar     *barrier          // the current barrier
	isShut  bool
}

// barrier is one barrier epoch; done is closed when it completes.
type barrier struct {
	done chan struct{}
	err  error // set before done is closed
}

// NewServer checks cfg and returns a Server with an empty store (plus
// PMI_process_mapping).
func NewServer(cfg ServerConfig) (*Server, error) {
	switch {
	case cfg.KVSName == "" || len(cfg.KVSName) > KVSNameMax || strings.ContainsAny(cfg.KVSName, " \t\n="):
		return nil, fmt.Errorf("pmi: kvs name %q must be 1 to %d bytes without spaces or '='", cfg.KVSName, KVSNameMax)
	case cfg.Size < 1:
		return nil, fmt.Errorf("pmi: job size %d; want at least 1", cfg.Size)
	case len(cfg.Ranks) < 1 || len(cfg.Ranks) > cfg.Size:
		return nil, fmt.Errorf("pmi: %d local tasks for a job of %d; want 1 to %d", len(cfg.Ranks), cfg.Size, cfg.Size)
	}
	seen := make(map[int]bool, len(cfg.Ranks))
	for _, r := range cfg.Ranks {
		if r < 0 || r >= cfg.Size || seen[r] {
			return nil, fmt.Errorf("pmi: local ranks %v: rank %d is repeated or outside 0..%d", cfg.Ranks, r, cfg.Size-1)
		}
		seen[r] = true
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	s := &Server{
		cfg:    cfg,
		closed: make(chan struct{}),
		conns:  make([]net.Conn, len(cfg.Ranks)),
		given:  make([]bool, len(cfg.Ranks)),
		kvs:    map[string]string{},
		puts:   map[string]string{},
		bar:    &barrier{done: make(chan struct{})},
	}
	switch {
	case cfg.Mapping == "":
	case len(cfg.Mapping) > ValLenMax:
		cfg.Logf("pmi %s: PMI_process_mapping is %d bytes, over vallen_max %d; not providing it", cfg.KVSName, len(cfg.Mapping), ValLenMax)
	default:
		s.kvs["PMI_process_mapping"] = cfg.Mapping
	}
	return s, nil
}

// TaskFile returns the child end of task i's socketpair (i is the local
// index), to be passed to the child as an inherited fd (the launcher puts it
// at fd 3 and sets TaskEnv). The server keeps the other end, close-on-exec,
// and starts serving it. Both ends are close-on-exec: os/exec clears the
// flag on the child's copy only. Call it once per task before starting the
// tasks; the caller closes the returned file once the child has started.
func (s *Server) TaskFile(i int) (*os.File, error) {
	if i < 0 || i >= len(s.cfg.Ranks) {
		return nil, fmt.Errorf("pmi: task index %d; this part has tasks 0..%d", i, len(s.cfg.Ranks)-1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isShut {
		return nil, errors.New("pmi: TaskFile after Close")
	}
	if s.given[i] {
		return nil, fmt.Errorf("pmi: TaskFile(%d) called twice", i)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("pmi: socketpair for task %d: %w", i, err)
	}
	ours := os.NewFile(uintptr(fds[0]), "pmi-server")
	c, err := net.FileConn(ours) // dups with close-on-exec
	ours.Close()
	if err != nil {
		syscall.Close(fds[1])
		return nil, fmt.Errorf("pmi: socketpair for task %d: %w", i, err)
	}
	s.given[i] = true
	s.conns[i] = c
	s.wg.Add(1)
	go s.serve(i, c)
	return os.NewFile(uintptr(fds[1]), fmt.Sprintf("pmi-task-%d", i)), nil
}

// TaskEnv returns the environment of task i when its socket is at fd:
// PMI_FD, PMI_RANK, PMI_SIZE (no PMI_SPAWNED: not spawned).
func (s *Server) TaskEnv(i int, fd int) []string {
	return []string{
		"PMI_FD=" + strconv.Itoa(fd),
		"PMI_RANK=" + strconv.Itoa(s.cfg.Ranks[i]),
		"PMI_SIZE=" + strconv.Itoa(s.cfg.Size),
	}
}

// Close closes every server end and returns when the connection goroutines
// have ended. Tasks waiting in a barrier get no reply. A pending Exchange's
// done becomes a no-op.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.isShut {
		s.mu.Unlock()
		return nil
	}
	s.isShut = true
	close(s.closed)
	for _, c := range s.conns {
		if c != nil {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// errHangUp ends a connection without reply.
var errHangUp = errors.New("hang up")

// serve reads task i's requests and answers each before reading the next
// (PMI-1 is lock-step: a client never sends before it has its reply).
func (s *Server) serve(i int, c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	rank := s.cfg.Ranks[i]
	r := bufio.NewReaderSize(c, MaxLineLen+1)
	spawn := false // inside a multi-line mcmd=spawn ... endcmd request
	for {
		raw, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			s.cfg.Logf("pmi %s: rank %d sent a line longer than %d bytes; closing its connection", s.cfg.KVSName, rank, MaxLineLen)
			io.WriteString(c, FormatLine("error", "rc", "-1", "msg", "line_longer_than_"+strconv.Itoa(MaxLineLen)+"_bytes"))
			return
		}
		if err != nil {
			if len(raw) > 0 {
				s.cfg.Logf("pmi %s: rank %d: connection ended inside a line %q", s.cfg.KVSName, rank, clip(string(raw)))
			}
			return // EOF after finalize, or a task that exited: the launcher sees its status
		}
		line := strings.TrimSuffix(string(raw[:len(raw)-1]), "\r")
		var reply string
		switch {
		case spawn:
			if line == "endcmd" {
				spawn = false
				reply = FormatLine("spawn_result", "rc", "-1", "msg", "unsupported_command_spawn")
			}
		case strings.HasPrefix(line, "mcmd="):
			spawn = true
			s.cfg.Logf("pmi %s: rank %d asked for %s; not supported", s.cfg.KVSName, rank, line)
		default:
			reply, err = s.handle(rank, line)
			if err != nil {
				return
			}
		}
		if reply == "" {
			continue
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

// unsupported maps the operations RFC 13 defines but we do not offer to the
// reply names MPICH waits for.
var unsupported = map[string]string{
	"publish_name":   "publish_result",
	"unpublish_name": "unpublish_result",
	"lookup_name":    "lookup_result",
	"spawn":          "spawn_result",
}

// handle answers one request line; "" means no reply.
func (s *Server) handle(rank int, line string) (string, error) {
	l, err := ParseLine(line)
	if err != nil {
		s.cfg.Logf("pmi %s: rank %d: %v", s.cfg.KVSName, rank, err)
		return FormatLine("error", "rc", "-1", "msg", "malformed_line"), nil
	}
	switch cmd := l.Cmd(); cmd {
	case "init":
		ver, err1 := strconv.Atoi(l["pmi_version"])
		sub, err2 := strconv.Atoi(l["pmi_subversion"])
		rc := "0"
		if err1 != nil || err2 != nil || ver < 1 || (ver == 1 && sub < 1) {
			rc = "-1" // 1.0 and older lack init; we speak 1.1
		}
		return FormatLine("response_to_init", "pmi_version", "1", "pmi_subversion", "1", "rc", rc), nil
	case "get_maxes":
		return FormatLine("maxes", "kvsname_max", strconv.Itoa(KVSNameMax),
			"keylen_max", strconv.Itoa(KeyLenMax), "vallen_max", strconv.Itoa(ValLenMax)), nil
	case "get_appnum":
		return FormatLine("appnum", "appnum", strconv.Itoa(s.cfg.AppNum)), nil
	case "get_my_kvsname":
		return FormatLine("my_kvsname", "kvsname", s.cfg.KVSName), nil
	case "get_universe_size":
		return FormatLine("universe_size", "size", strconv.Itoa(s.cfg.Size)), nil
	case "put":
		if msg := s.put(l); msg != "" {
			s.cfg.Logf("pmi %s: rank %d: put %s refused: %s", s.cfg.KVSName, rank, clip(l["key"]), msg)
			return FormatLine("put_result", "rc", "-1", "msg", msg), nil
		}
		return FormatLine("put_result", "rc", "0", "msg", "success"), nil
	case "get":
		return s.get(l), nil
	case "barrier_in":
		return s.barrierIn()
	case "finalize":
		return FormatLine("finalize_ack", "rc", "0"), nil
	case "abort":
		code, err := strconv.Atoi(l["exitcode"])
		if err != nil {
			code = 1
		}
		msg := l["error_msg"]
		if msg == "" {
			msg = l["msg"]
		}
		s.cfg.Logf("pmi %s: rank %d called abort with exit code %d (%s)", s.cfg.KVSName, rank, code, msg)
		s.abort.Do(func() {
			if s.cfg.Abort != nil {
				go s.cfg.Abort(rank, code, msg)
			}
		})
		return "", nil // no reply: the rank waits to be killed
	default:
		name, ok := unsupported[cmd]
		if !ok {
			name = cmd + "_result"
		}
		s.cfg.Logf("pmi %s: rank %d sent unsupported command %q", s.cfg.KVSName, rank, cmd)
		return FormatLine(name, "rc", "-1", "msg", "unsupported_command_"+cmd), nil
	}
}

// put stores a local put and returns "" or the reason it was refused.
func (s *Server) put(l Line) string {
	key, value := l["key"], l["value"]
	switch {
	case l["kvsname"] != s.cfg.KVSName:
		return "unknown_kvsname_" + l["kvsname"]
	case key == "":
		return "put_without_key"
	case len(key) > KeyLenMax:
		return "key_longer_than_keylen_max_" + strconv.Itoa(KeyLenMax)
	case len(value) > ValLenMax:
		return "value_longer_than_vallen_max_" + strconv.Itoa(ValLenMax)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.kvs[key]; ok {
		if old == value {
			return ""
		}
		return "key_" + key + "_already_put_with_another_value"
	}
	s.kvs[key] = value
	s.puts[key] = value
	return ""
}

func (s *Server) get(l Line) string {
	key := l["key"]
	if l["kvsname"] != s.cfg.KVSName {
		return FormatLine("get_result", "rc", "-1", "msg", "unknown_kvsname_"+l["kvsname"], "value", "unknown")
	}
	s.mu.Lock()
	v, ok := s.kvs[key]
	s.mu.Unlock()
	if !ok {
		return FormatLine("get_result", "rc", "-1", "msg", "key_"+key+"_not_found", "value", "unknown")
	}
	return FormatLine("get_result", "rc", "0", "msg", "success", "value", v)
}

// barrierIn enters the current barrier and waits for it to complete. The
// last local task to enter starts the exchange with the other job parts.
func (s *Server) barrierIn() (string, error) {
	s.mu.Lock()
	b := s.bar
	s.entered++
	if s.entered == len(s.cfg.Ranks) {
		epoch, puts := s.epoch, s.puts
		s.entered, s.epoch, s.puts = 0, s.epoch+1, map[string]string{}
		s.bar = &barrier{done: make(chan struct{})}
		s.mu.Unlock()
		s.exchange(epoch, puts, b)
	} else {
		s.mu.Unlock()
	}
	select {
	case <-b.done:
	case <-s.closed:
		return "", errHangUp
	}
	if b.err != nil {
		return FormatLine("barrier_out", "rc", "-1", "msg", "barrier_failed"), nil
	}
	return FormatLine("barrier_out"), nil
}

// exchange hands the puts of one epoch to cfg.Exchange and completes b when
// it is done.
func (s *Server) exchange(epoch int, puts map[string]string, b *barrier) {
	if s.cfg.Exchange == nil {
		close(b.done)
		return
	}
	var once sync.Once
	done := func(remote map[string]string, err error) {
		called := false
		once.Do(func() {
			called = true
			s.mu.Lock()
			for k, v := range remote {
				if old, ok := s.kvs[k]; ok && old != v {
					s.cfg.Logf("pmi %s: barrier %d: key %s put with different values on two nodes; keeping %q", s.cfg.KVSName, epoch, clip(k), clip(old))
					continue
				}
				s.kvs[k] = v
			}
			s.mu.Unlock()
			if err != nil {
				s.cfg.Logf("pmi %s: barrier %d failed: %v", s.cfg.KVSName, epoch, err)
			}
			b.err = err
			close(b.done)
		})
		if !called {
			s.cfg.Logf("pmi %s: barrier %d: exchange reported done twice; ignoring the second", s.cfg.KVSName, epoch)
		}
	}
	go s.cfg.Exchange(epoch, puts, done)
}
