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
	"syscall"
)

var (
	// ErrNoPMI is returned by ClientFromEnv when neither PMI_FD nor PMI_PORT
	// is set: the process was not launched under a PMI-1 server.
	ErrNoPMI = errors.New("pmi: not launched under PMI (no PMI_FD or PMI_PORT in the environment)")
	// ErrNotFound is wrapped by Get when the server has no such key.
	ErrNotFound = errors.New("pmi: key not found")
)

// ReplyError is a reply with rc other than 0.
type ReplyError struct {
	Cmd string // the reply's cmd, e.g. "put_result"
	RC  string // as sent: "-1", "1", ...
	Msg string // msg=, if any
}

func (e *ReplyError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("pmi: %s rc=%s: %s", e.Cmd, e.RC, e.Msg)
	}
	return fmt.Sprintf("pmi: %s rc=%s", e.Cmd, e.RC)
}

// EnvNames lists the environment variables a PMI-1 process manager sets; a
// broker launched under PMI drops them before it launches anything.
func EnvNames() []string {
	return []string{"PMI_FD", "PMI_RANK", "PMI_SIZE", "PMI_PORT", "PMI_ID", "PMI_SPAWNED", "PMI_JOBID"}
}

// Client is a PMI-1 client: what a broker launched under a PMI-1 server
// uses to bootstrap. PMI-1 is lock-step, so a Client serves one goroutine at
// a time; Close may be called from another one to end a blocked call.
type Client struct {
	conn io.ReadWriteCloser
	r    *bufio.Reader

	rank, size int
	pmiid      string // PMI_ID under PMI_PORT ("" under PMI_FD)

	kvsname   string
	keylenMax int
	vallenMax int
}

// ClientFromEnv connects to the PMI-1 server named by the environment:
// PMI_FD (an inherited fd, with PMI_RANK and PMI_SIZE), or PMI_PORT=host:port
// with PMI_ID. It sets close-on-exec on the inherited fd and takes it over
// (Close closes it). It returns nil, ErrNoPMI when neither is set.
func ClientFromEnv(getenv func(string) string) (*Client, error) {
	if s := getenv("PMI_FD"); s != "" {
		fd, err := strconv.Atoi(s)
		if err != nil || fd < 0 {
			return nil, fmt.Errorf("pmi: PMI_FD=%q is not a file descriptor", s)
		}
		rank, err1 := strconv.Atoi(getenv("PMI_RANK"))
		size, err2 := strconv.Atoi(getenv("PMI_SIZE"))
		if err1 != nil || err2 != nil || size < 1 || rank < 0 || rank >= size {
			return nil, fmt.Errorf("pmi: PMI_FD is set but PMI_RANK=%q PMI_SIZE=%q are not a rank and a size", getenv("PMI_RANK"), getenv("PMI_SIZE"))
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return nil, fmt.Errorf("pmi: PMI_FD=%d: %w", fd, err)
		}
		syscall.CloseOnExec(fd) // Slurm passes it without; our children must not inherit it
		f := os.NewFile(uintptr(fd), "pmi-fd")
		var conn io.ReadWriteCloser = f
		if c, err := net.FileConn(f); err == nil { // a socket (the usual case): dup it, drop fd
			f.Close()
			conn = c
		}
		return newClient(conn, rank, size, ""), nil
	}
	if port := getenv("PMI_PORT"); port != "" {
		id := getenv("PMI_ID")
		if _, err := strconv.Atoi(id); err != nil {
			return nil, fmt.Errorf("pmi: PMI_PORT is set but PMI_ID=%q is not a number", id)
		}
		c, err := net.Dial("tcp", port)
		if err != nil {
			return nil, fmt.Errorf("pmi: connecting to PMI_PORT=%s: %w", port, err)
		}
		return newClient(c, -1, -1, id), nil
	}
	return nil, ErrNoPMI
}

// NewClient returns a Client over conn (a connection to a PMI-1 server) for
// the given rank and size, as if from PMI_FD, PMI_RANK and PMI_SIZE.
func NewClient(conn io.ReadWriteCloser, rank, size int) *Client {
	return newClient(conn, rank, size, "")
}

func newClient(conn io.ReadWriteCloser, rank, size int, pmiid string) *Client {
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, 4096), rank: rank, size: size, pmiid: pmiid,
		keylenMax: KeyLenMax, vallenMax: ValLenMax}
}

// Init opens the session: under PMI_PORT the initack handshake (which tells
// the rank and size), then init (version 1.1), get_maxes, get_my_kvsname and
// get_appnum (whose value is ignored: Slurm answers -1).
func (c *Client) Init() error {
	if c.pmiid != "" {
		if err := c.initack(); err != nil {
			return err
		}
	}
	l, err := c.call("response_to_init", "init", "pmi_version", "1", "pmi_subversion", "1")
	if err != nil {
		return err
	}
	if v := l["pmi_version"]; v != "" && v != "1" {
		return fmt.Errorf("pmi: server speaks PMI version %s; want 1", v)
	}
	if l, err = c.call("maxes", "get_maxes"); err != nil {
		return err
	}
	if n, err := strconv.Atoi(l["keylen_max"]); err == nil && n > 0 {
		c.keylenMax = n
	}
	if n, err := strconv.Atoi(l["vallen_max"]); err == nil && n > 0 {
		c.vallenMax = n
	}
	if l, err = c.call("my_kvsname", "get_my_kvsname"); err != nil {
		return err
	}
	if c.kvsname = l["kvsname"]; c.kvsname == "" {
		return errors.New("pmi: server sent an empty kvsname")
	}
	_, err = c.call("appnum", "get_appnum")
	return err
}

// initack is the PMI_PORT handshake: "cmd=initack pmiid=<id>" is answered
// by cmd=initack and three cmd=set lines (size, rank, debug).
func (c *Client) initack() error {
	if _, err := c.call("initack", "initack", "pmiid", c.pmiid); err != nil {
		return err
	}
	for range 3 {
		l, err := c.read()
		if err != nil {
			return err
		}
		if l.Cmd() != "set" {
			return fmt.Errorf("pmi: initack: got cmd=%s; want cmd=set", l.Cmd())
		}
		if v, ok := l["size"]; ok {
			c.size, _ = strconv.Atoi(v)
		}
		if v, ok := l["rank"]; ok {
			c.rank, _ = strconv.Atoi(v)
		}
	}
	if c.size < 1 || c.rank < 0 || c.rank >= c.size {
		return fmt.Errorf("pmi: initack gave rank %d of size %d", c.rank, c.size)
	}
	return nil
}

// Rank is this process's rank (PMI_RANK; under PMI_PORT known after Init).
func (c *Client) Rank() int { return c.rank }

// Size is the number of processes (PMI_SIZE; under PMI_PORT known after Init).
func (c *Client) Size() int { return c.size }

// KVSName is the job's key-value space (known after Init).
func (c *Client) KVSName() string { return c.kvsname }

// Put stores key=value; it becomes visible to the other ranks after the next
// Barrier. Keys and values are limited to the server's keylen_max and
// vallen_max and to RFC 13's characters (ASCII 33..126; keys without '=').
func (c *Client) Put(key, value string) error {
	if err := c.checkWord("key", key, c.keylenMax); err != nil {
		return err
	}
	if strings.Contains(key, "=") {
		return fmt.Errorf("pmi: put: key %q contains '='", key)
	}
	if len(value) > 0 {
		if err := c.checkWord("value", value, c.vallenMax); err != nil {
			return err
		}
	}
	_, err := c.call("put_result", "put", "kvsname", c.kvsname, "key", key, "value", value)
	return err
}

func (c *Client) checkWord(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("pmi: put: empty %s", what)
	}
	if len(s) > max {
		return fmt.Errorf("pmi: put: %s of %d bytes is longer than the server's limit of %d", what, len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return fmt.Errorf("pmi: put: %s %q has byte %#x; PMI-1 allows ASCII 33..126 only", what, clip(s), s[i])
		}
	}
	return nil
}

// Barrier waits until every rank has entered the barrier.
func (c *Client) Barrier() error {
	_, err := c.call("barrier_out", "barrier_in")
	return err
}

// Get returns the value of key. A reply with rc other than 0 (hydra's -1,
// Slurm's 1) is an error wrapping ErrNotFound.
func (c *Client) Get(key string) (string, error) {
	l, err := c.call("get_result", "get", "kvsname", c.kvsname, "key", key)
	var re *ReplyError
	if errors.As(err, &re) {
		return "", fmt.Errorf("%w: %q (%v)", ErrNotFound, key, err)
	}
	if err != nil {
		return "", err
	}
	return l["value"], nil
}

// Abort asks the server to kill the whole job with exit code code. There is
// no reply: the server kills this process too. msg, if any, is sent as
// error_msg with spaces turned into '_' (MPICH 4.0 sends none).
func (c *Client) Abort(code int, msg string) error {
	kv := []string{"exitcode", strconv.Itoa(code)}
	if msg = strings.Join(strings.Fields(msg), "_"); msg != "" {
		kv = append(kv, "error_msg", msg)
	}
	_, err := io.WriteString(c.conn, FormatLine("abort", kv...))
	return err
}

// Finalize ends the session (the server expects EOF next).
func (c *Client) Finalize() error {
	_, err := c.call("finalize_ack", "finalize")
	return err
}

// Close closes the connection (the inherited PMI_FD, or the TCP connection).
func (c *Client) Close() error { return c.conn.Close() }

// call sends one request and reads its reply, which must be cmd=want; any rc
// other than 0 gives a *ReplyError (an absent rc is success, as RFC 13 says).
func (c *Client) call(want, cmd string, kv ...string) (Line, error) {
	if _, err := io.WriteString(c.conn, FormatLine(cmd, kv...)); err != nil {
		return nil, fmt.Errorf("pmi: sending %s: %w", cmd, err)
	}
	l, err := c.read()
	if err != nil {
		return nil, fmt.Errorf("pmi: waiting for the reply to %s: %w", cmd, err)
	}
	if l.Cmd() != want {
		return l, fmt.Errorf("pmi: %s answered with cmd=%s (rc=%s msg=%s); want cmd=%s", cmd, l.Cmd(), l["rc"], l["msg"], want)
	}
	if rc, ok := l["rc"]; ok && rc != "0" {
		return l, &ReplyError{Cmd: l.Cmd(), RC: rc, Msg: l["msg"]}
	}
	return l, nil
}

// read reads and parses one line of at most MaxLineLen bytes.
func (c *Client) read() (Line, error) {
	var buf []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > MaxLineLen+1 {
			return nil, fmt.Errorf("pmi: reply longer than %d bytes", MaxLineLen)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return ParseLine(strings.TrimSuffix(string(buf[:len(buf)-1]), "\r"))
}
