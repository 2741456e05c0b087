package commands

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// brokerChild is one `flux broker` process of flux start --test-size. Its
// stderr is held back while the instance boots: if it fails then, flux
// start prints its error once, in its own name, instead of N brokers each
// printing theirs. Once the instance is up, it goes straight to stderr.
type brokerChild struct {
	rank int
	cmd  *exec.Cmd
	log  *bootLog
	done chan struct{} // closed when the process has been waited for
}

func startChild(rank int, cmd *exec.Cmd, exited chan<- *brokerChild) (*brokerChild, error) {
	c := &brokerChild{rank: rank, cmd: cmd, log: &bootLog{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		cmd.Wait()
		close(c.done)
		select {
		case exited <- c: // the first one is enough to fail a boot
		default:
		}
	}()
	return c, nil
}

// why says how a child that exited early ended: its last line, or its status.
func (c *brokerChild) why() string {
	if l := c.log.lastLine(); l != "" {
		return fmt.Sprintf("rank %d: %s", c.rank, l)
	}
	return fmt.Sprintf("rank %d exited during boot (%v)", c.rank, c.cmd.ProcessState)
}

// bootLog holds a child's output (its first 4 KiB) until goLive.
type bootLog struct {
	mu   sync.Mutex
	buf  []byte // guarded by mu
	live bool   // guarded by mu
}

const bootLogMax = 4 << 10

func (w *bootLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.live {
		return os.Stderr.Write(p)
	}
	if room := bootLogMax - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// goLive prints what was held and lets the rest through.
func (w *bootLog) goLive() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.live && len(w.buf) > 0 {
		os.Stderr.Write(w.buf)
	}
	w.live, w.buf = true, nil
}

func (w *bootLog) lastLine() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(w.buf), []byte("\n"))
	return string(lines[len(lines)-1])
}

func killAll(children []*brokerChild) {
	for _, c := range children {
		c.cmd.Process.Kill()
	}
	for _, c := range children {
		<-c.done
	}
}

// waitAll waits for the broker processes to exit, killing any that linger.
func waitAll(children []*brokerChild, d time.Duration) {
	deadline := time.After(d)
	for _, c := range children {
		select {
		case <-c.done:
		case <-deadline:
			killAll(children)
			return
		}
	}
}
