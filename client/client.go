package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

// ErrNoInstance is returned by Connect when no URI is given and FLUX_URI
// is not set.
var ErrNoInstance = errors.New("no instance: FLUX_URI is not set; run inside `flux start` or pass the instance's local:// URI")

// Client is a connection to one instance. Its methods may be called from
// several goroutines at once.
type Client struct {
	c *overlay.Client
}

// Connect opens a connection to the instance at uri (a local:// URI), or
// at FLUX_URI when uri is "".
func Connect(uri string) (*Client, error) {
	if uri == "" {
		uri = os.Getenv("FLUX_URI")
	}
	if uri == "" {
		return nil, ErrNoInstance
	}
	conn, err := overlay.Dial(uri)
	if err != nil {
		return nil, err
	}
	return &Client{c: overlay.NewClient(conn)}, nil
}

// Close closes the connection; calls in progress fail.
func (c *Client) Close() error { return c.c.Close() }

// Job is one job to submit: the command and the resources it asks for, as
// flux submit's options give them.
type Job struct {
	Command      []string      // argv; executed directly (use sh -c for shell syntax)
	Tasks        int           // -n: tasks (default 1, or one per node with Nodes)
	Nodes        int           // -N: nodes to spread the tasks over
	CoresPerTask int           // -c (default 1)
	GPUsPerTask  int           // -g
	Exclusive    bool          // whole nodes (with Nodes)
	TimeLimit    time.Duration // -t; 0 = none
	Cwd          string        // working directory; "" = the instance's
	Env          []string      // KEY=VALUE entries added to the submitter's environment
	Output       string        // file template for the output; "" = captured (Result.Stdout)
	Name         string        // shown by flux jobs; default Command[0]
}

func (j *Job) spec() (broker.Jobspec, error) {
	if len(j.Command) == 0 {
		return broker.Jobspec{}, fmt.Errorf("client: a job needs a command")
	}
	req := resources.Request{Nodes: j.Nodes, Tasks: j.Tasks, CoresPerTask: j.CoresPerTask,
		GPUsPerTask: j.GPUsPerTask, Exclusive: j.Exclusive}.Normalize()
	if err := req.Validate(); err != nil {
		return broker.Jobspec{}, fmt.Errorf("client: %w", err)
	}
	name := j.Name
	if name == "" {
		name = j.Command[0]
	}
	return broker.Jobspec{Req: req, Argv: j.Command, Env: j.Env, Cwd: j.Cwd, TimeLimit: j.TimeLimit,
		Output: j.Output, Name: name}, nil
}

// SubmitError says why the instance refused one job of a batch.
type SubmitError struct {
	Index int    // the job's position in the batch
	Why   string // e.g. "-n 64 asks for 64 cores; the instance has 2"
}

func (e *SubmitError) Error() string { return fmt.Sprintf("job %d refused: %s", e.Index, e.Why) }

// Submit submits one job and returns its ID.
func (c *Client) Submit(ctx context.Context, job Job) (JobID, error) {
	ids, err := c.SubmitMany(ctx, []Job{job})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// SubmitMany submits jobs in one request. A job the instance refuses has
// ID 0 and a *SubmitError in the joined error; the others are queued.
func (c *Client) SubmitMany(ctx context.Context, jobs []Job) ([]JobID, error) {
	return c.submit(ctx, jobs, 0)
}

func (c *Client) submit(ctx context.Context, jobs []Job, watcher uint64) ([]JobID, error) {
	req := broker.SubmitRequest{Env: os.Environ(), Watcher: watcher, Jobs: make([]broker.Jobspec, len(jobs))}
	for i := range jobs {
		s, err := jobs[i].spec()
		if err != nil {
			return nil, fmt.Errorf("job %d: %w", i, err)
		}
		s.Cookie = uint64(i + 1)
		req.Jobs[i] = s
	}
	var reply broker.SubmitReply
	if err := c.c.RPC(ctx, broker.TopicSubmit, &req, &reply); err != nil {
		return nil, err
	}
	ids := make([]JobID, len(jobs))
	var errs []error
	for i := range ids {
		if i < len(reply.IDs) && reply.IDs[i] != 0 {
			ids[i] = JobID(reply.IDs[i])
			continue
		}
		why := "refused"
		if i < len(reply.Errs) && reply.Errs[i] != "" {
			why = reply.Errs[i]
		}
		errs = append(errs, &SubmitError{Index: i, Why: why})
	}
	return ids, errors.Join(errs...)
}

// Result is how a job ended.
type Result struct {
	ID       JobID
	Status   int  // the largest exit code of its tasks, or 128+signal
	ExitCode int  // exit code (0 when killed by a signal)
	Signal   int  // the signal that ended a task, or 0
	TimedOut bool // killed at its time limit
	Canceled bool // canceled (flux cancel, Cancel)
	Err      string
	Host     string
	Start    time.Time
	End      time.Time
	Stdout   []byte // captured output (jobs without Output)
	Stderr   []byte
}

// Success reports whether every task exited 0 and nothing went wrong.
func (r *Result) Success() bool {
	return r.Status == 0 && r.Err == "" && !r.Canceled && !r.TimedOut
}

func resultOf(r *broker.JobResult) Result {
	return Result{ID: JobID(r.ID), Status: r.Status, ExitCode: r.ExitCode, Signal: r.Signal, TimedOut: r.TimedOut,
		Canceled: r.Canceled, Err: r.Err, Host: r.Host, Start: r.Start, End: r.End, Stdout: r.Stdout, Stderr: r.Stderr}
}

// Wait waits for a job to end and returns its result. A job that already
// ended is answered at once while it is in the instance's history (the last
// 1000 jobs); an unknown one is an error that errors.Is syscall.ENOENT.
func (c *Client) Wait(ctx context.Context, id JobID) (Result, error) {
	var r broker.JobResult
	if err := c.c.RPC(ctx, broker.TopicAttach, &broker.AttachRequest{ID: uint64(id)}, &r); err != nil {
		return Result{}, err
	}
	return resultOf(&r), nil
}

// Cancel cancels jobs: pending ones leave the queue, running ones get
// SIGTERM and then SIGKILL. It reports the ids that were not active.
func (c *Client) Cancel(ctx context.Context, ids ...JobID) error {
	req := broker.CancelRequest{IDs: make([]uint64, len(ids))}
	for i, id := range ids {
		req.IDs[i] = uint64(id)
	}
	var reply broker.CancelReply
	if err := c.c.RPC(ctx, broker.TopicCancel, &req, &reply); err != nil {
		return err
	}
	if len(reply.Errs) > 0 {
		return fmt.Errorf("client: %s", reply.Errs[0])
	}
	return nil
}

// JobInfo is one row of the job table (flux jobs).
type JobInfo = broker.JobInfo

// List returns pending and running jobs and, with all, the instance's
// history of finished ones (newest first).
func (c *Client) List(ctx context.Context, all bool) ([]JobInfo, error) {
	var reply broker.ListReply
	if err := c.c.RPC(ctx, broker.TopicList, &broker.ListRequest{All: all}, &reply); err != nil {
		return nil, err
	}
	return reply.Jobs, nil
}
