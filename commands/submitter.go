package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/fluxtaskfarm/flux/overlay"
)

// submitBatch is how many jobs travel in one job.submit: one round trip per
// thousand jobs, not one per job (flux submit --cc=1-10000).
const submitBatch = 1024

// submitter submits jobs in batches for flux submit and flux bulksubmit,
// and with --wait collects their results from one job.results stream.
type submitter struct {
	cmd      string
	client   *overlay.Client
	quiet    bool
	wait     bool // collect results; exit with the largest status
	watch    bool // print each job's output (implies wait)
	dryRun   bool
	progress *progressLine

	env     []string
	batch   []broker.Jobspec
	sent    int // jobs submitted so far (their cookies are 1..sent)
	refused int

	results *overlay.Stream
	watcher uint64
	sameEnv bool

	mu     sync.Mutex // guards the counts below, shared with the reader goroutine
	done   int
	status int // the largest exit status so far
	failed int
	cond   *sync.Cond
	lost   error
}

func newSubmitter(cmd string, quiet, wait, watch, dryRun bool, prog *progressLine) *submitter {
	s := &submitter{cmd: cmd, quiet: quiet, wait: wait || watch, watch: watch, dryRun: dryRun, progress: prog,
		env: os.Environ()}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// open connects (not for --dry-run) and, to wait, opens the results stream.
func (s *submitter) open() error {
	if s.dryRun {
		return nil
	}
	client, err := connect(s.cmd)
	if err != nil {
		return err
	}
	s.client = client
	if s.wait {
		// Keep: Ctrl-C stops the waiting, not the jobs, as in Flux.
		st, w, err := broker.WatchResultsWith(client, &broker.WatchRequest{Started: s.progress != nil, Keep: true})
		if err != nil {
			return exitf(1, "flux %s: %v", s.cmd, err)
		}
		s.results, s.watcher = st, w
		go s.read()
	}
	return nil
}

// add queues one job; a full batch is submitted.
func (s *submitter) add(spec broker.Jobspec) error {
	if s.dryRun {
		b, _ := json.Marshal(jobspecJSON(&spec, mergeEnvRules(s.env, spec.Env)))
		fmt.Printf("%s\n", b)
		return nil
	}
	// Output streams to --watch, or (nobody waiting) to a later flux job
	// attach; --wait alone has no use for it.
	spec.Stream = s.watch || !s.wait
	s.sent++
	spec.Cookie = uint64(s.sent)
	s.batch = append(s.batch, spec)
	if len(s.batch) >= submitBatch {
		return s.flush()
	}
	return nil
}

// flush submits the queued jobs and prints their ids.
func (s *submitter) flush() error {
	if len(s.batch) == 0 || s.dryRun {
		return nil
	}
	req := broker.SubmitRequest{Env: s.env, Jobs: s.batch, Watcher: s.watcher}
	if s.watcher != 0 && s.sameEnv {
		req.Env, req.SameEnv = nil, true
	}
	var reply broker.SubmitReply
	if err := s.client.RPC(context.Background(), broker.TopicSubmit, &req, &reply); err != nil {
		return exitf(1, "flux %s: %v", s.cmd, err)
	}
	s.sameEnv = true
	var out []byte
	for i, id := range reply.IDs {
		if id == 0 {
			why := "the instance refused the job"
			if i < len(reply.Errs) && reply.Errs[i] != "" {
				why = reply.Errs[i]
			}
			fmt.Fprintf(os.Stderr, "flux %s: %s\n", s.cmd, why)
			s.refused++
			s.mu.Lock()
			s.done++ // no result will come for it
			s.status = max(s.status, 1)
			s.mu.Unlock()
			continue
		}
		if !s.quiet {
			out = append(jobid.AppendF58(out, id), '\n')
		}
	}
	os.Stdout.Write(out)
	if s.progress != nil {
		s.progress.submitted(len(s.batch) - countRefused(reply.IDs))
	}
	s.batch = s.batch[:0]
	return nil
}

func countRefused(ids []uint64) int {
	n := 0
	for _, id := range ids {
		if id == 0 {
			n++
		}
	}
	return n
}

// read collects results until the stream ends.
func (s *submitter) read() {
	for {
		m, err := s.results.Recv()
		if err != nil {
			s.mu.Lock()
			s.lost = err
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		var b broker.ResultBatch
		if err := m.Decode(&b); err != nil {
			continue
		}
		if s.watch {
			for _, o := range b.Output {
				if o.Stderr {
					os.Stderr.Write(o.Data)
				} else {
					os.Stdout.Write(o.Data)
				}
			}
		}
		if s.progress != nil && len(b.Started) > 0 {
			s.progress.started(len(b.Started))
		}
		s.mu.Lock()
		for i := range b.Results {
			r := &b.Results[i]
			if s.watch {
				os.Stdout.Write(r.Stdout)
				os.Stderr.Write(r.Stderr)
			}
			status := r.Status
			if status == 0 && r.Err != "" {
				status = 1
			}
			if r.Err != "" && s.watch {
				fmt.Fprintf(os.Stderr, "flux %s: %s: %s\n", s.cmd, jobid.String(r.ID), r.Err)
			}
			if status != 0 {
				s.failed++
			}
			s.status = max(s.status, status)
			s.done++
			if s.progress != nil {
				s.progress.finished(status != 0)
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// finish submits what is left and, to wait, waits for every result. It
// returns the exit status.
func (s *submitter) finish() (int, error) {
	if err := s.flush(); err != nil {
		return 1, err
	}
	if s.dryRun {
		return 0, nil
	}
	defer s.client.Close()
	if s.results == nil {
		if s.progress != nil {
			s.progress.stop()
		}
		return min(s.refused, 1), nil
	}
	s.mu.Lock()
	for s.done < s.sent && s.lost == nil {
		s.cond.Wait()
	}
	status, lost := s.status, s.lost
	s.mu.Unlock()
	if s.progress != nil {
		s.progress.stop()
	}
	s.results.Close()
	if lost != nil && s.done < s.sent {
		return 1, exitf(1, "flux %s: lost the instance with %d jobs unfinished: %v", s.cmd, s.sent-s.done, lost)
	}
	return status, nil
}

// mergeEnvRules applies --env rules to an environment the way the broker
// will (for --dry-run's jobspec).
func mergeEnvRules(base, rules []string) []string {
	out := append([]string(nil), base...)
	for _, r := range rules {
		kept := out[:0]
		if len(r) > 1 && r[0] == '-' {
			for _, kv := range out {
				k, _, _ := strings.Cut(kv, "=")
				if ok, _ := path.Match(r[1:], k); !ok {
					kept = append(kept, kv)
				}
			}
			out = kept
			continue
		}
		name, _, _ := strings.Cut(r, "=")
		for _, kv := range out {
			if k, _, _ := strings.Cut(kv, "="); k != name {
				kept = append(kept, kv)
			}
		}
		out = append(kept, r)
	}
	return out
}
