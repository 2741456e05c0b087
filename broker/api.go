package broker

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// Service topics. A topic is never reused for a different payload.
const (
	TopicSubmit     = "job.submit"      // SubmitRequest -> SubmitReply
	TopicResults    = "job.results"     // streaming: first ResultBatch names the watcher, later ones carry results
	TopicList       = "job.list"        // ListRequest -> ListReply
	TopicCancel     = "job.cancel"      // CancelRequest -> CancelReply
	TopicAttach     = "job.attach"      // AttachRequest -> JobResult, once the job has ended
	TopicResources  = "resource.list"   // nil -> ResourceReply
	TopicPing       = "broker.ping"     // PingRequest -> PingReply, at the rank the message is addressed to
	TopicEventPub   = "event.pub"       // EventPub -> nil; published from rank 0, in order, to every broker
	TopicEventSub   = "event.subscribe" // EventSub -> nil; matching events arrive as Event messages
	TopicModLoad    = "module.load"     // ModuleLoad -> ModuleInfo
	TopicModList    = "module.list"     // nil -> ModuleList
	TopicModRemove  = "module.remove"   // ModuleRemove -> nil
	TopicServiceAdd = "service.add"     // ServiceAdd -> nil: requests for these services come to the caller
	TopicStop       = "instance.stop"   // nil -> nil, at rank 0: stop the whole instance (what started it waits for it)
	TopicUrgency    = "job.urgency"     // UrgencyRequest -> UrgencyReply
	TopicQueue      = "queue.control"   // QueueRequest -> QueueStatus
	TopicQueueWait  = "queue.wait"      // QueueWaitRequest -> QueueStatus, once the queue is empty (or idle)
)

// Topics between brokers.
const (
	topicHello      = "broker.hello"    // HelloRequest -> nil: a rank's resources, sent up to rank 0
	topicLost       = "broker.lost"     // RanksEvent: ranks whose link broke, sent up to rank 0
	topicShutdown   = "broker.shutdown" // nil: sent down the tree when the instance stops
	topicRefused    = "broker.refused"  // RanksEvent: the parent will not take this link (sent on it, then closed)
	topicExecStart  = "exec.start"      // ExecStart -> ExecAck: job parts for one rank
	topicExecKill   = "exec.kill"       // ExecKill: signal job parts on one rank
	topicExecDone   = "exec.done"       // ExecDone: finished parts, up to rank 0 (bulk stream)
	topicExecOutput = "exec.output"     // ExecOutput: streamed lines, up to rank 0 (bulk stream)
	topicDisconnect = "job.disconnect"  // DisconnectNotice: a proxied results stream's client went away
	topicPMIReduce  = "pmi.reduce"      // PMIExchange -> PMIExchangeReply, to the parent, per barrier (pmireduce.go)
	topicExecAbort  = "exec.abort"      // ExecAbort: a task called PMI abort
)

// EventJobState is the topic of job state events: one event per burst of
// changes, carrying every transition in it.
const EventJobState = "job.state"

// EventBrokerLost is published when ranks are lost, EventBrokerOnline
// when a lost rank rejoins; both carry a RanksEvent.
const (
	EventBrokerLost   = "broker.lost"
	EventBrokerOnline = "broker.online"
)

// Jobspec is one job as a client submits it.
type Jobspec struct {
	Cookie    uint64            `msgpack:"cookie,omitempty"` // opaque to the broker, echoed in the result (the capacitor's line number)
	Req       resources.Request `msgpack:"req"`
	Argv      []string          `msgpack:"argv"`
	Env       []string          `msgpack:"env,omitempty"` // added to the batch's Env (later entries win)
	Cwd       string            `msgpack:"cwd,omitempty"`
	TimeLimit time.Duration     `msgpack:"t,omitempty"`
	Output    string            `msgpack:"output,omitempty"` // file template; "" = capture
	LabelIO   bool              `msgpack:"label,omitempty"`
	Stream    bool              `msgpack:"stream,omitempty"` // deliver output lines as they come: to the watcher, else to flux job attach
	Line      int               `msgpack:"line,omitempty"`   // input line number for {{line}}
	PMI       string            `msgpack:"pmi,omitempty"`    // "" serve PMI-1 to jobs of several tasks; "off" never; "on" also to one task
	Name      string            `msgpack:"name,omitempty"`   // shown by flux jobs
	Retry     int               `msgpack:"retry,omitempty"`  // the capacitor's retry number of this line (--retries); 0 = first attempt
	Error     string            `msgpack:"error,omitempty"`  // stderr's own file template (with Output); "" = with stdout
	Setopt    []string          `msgpack:"setopt,omitempty"` // shell options KEY=VALUE (-o), checked by the client
	Flags     string            `msgpack:"flags,omitempty"`  // --flags: "waitable"
	// Urgency is Flux's, 0 (hold) to 31 (expedite); nil means 16.
	Urgency *int `msgpack:"urgency,omitempty"`
	// Dependencies in Flux's syntax (RFC 26 shorthand): "afterok:123",
	// "afterany:ID", "afternotok:ID", "after:ID" (ParseDependency).
	Dependencies []string `msgpack:"dependency,omitempty"`
}

// SubmitRequest carries a batch of jobs. Env is the base environment of
// every job in the batch, sent once per batch rather than once per job.
type SubmitRequest struct {
	Env     []string  `msgpack:"env"`
	Jobs    []Jobspec `msgpack:"jobs"`
	Watcher uint64    `msgpack:"watcher,omitempty"`  // send each result on this job.results stream (its first response names it)
	SameEnv bool      `msgpack:"same_env,omitempty"` // with Watcher: Env is the previous batch's on that stream (not sent again)
}

// SubmitReply answers a SubmitRequest position by position: IDs[i] is the
// job id of Jobs[i], or 0 with Errs[i] saying why it was refused.
type SubmitReply struct {
	IDs  []uint64 `msgpack:"ids"`
	Errs []string `msgpack:"errs"`
}

// Outcome is how a job, or one rank's part of a job, ended.
type Outcome struct {
	Status   int       `msgpack:"status"` // exit code, or 128+signal; the largest over tasks
	ExitCode int       `msgpack:"exit"`
	Signal   int       `msgpack:"signal,omitempty"`
	TimedOut bool      `msgpack:"timeout,omitempty"`
	Canceled bool      `msgpack:"canceled,omitempty"`
	Start    time.Time `msgpack:"start"`
	End      time.Time `msgpack:"end"`
	Stdout   []byte    `msgpack:"stdout,omitempty"`
	Stderr   []byte    `msgpack:"stderr,omitempty"`
	Err      string    `msgpack:"err,omitempty"` // a launch problem, e.g. "foo: command not found"
}

// Failed is the outcome of a job that ended without running (refused, or
// its instance lost): the status and why, at this moment.
func Failed(status int, why string) Outcome { return failedAt(time.Now(), status, why) }

// failedAt is Failed at a given time: the broker's state machine reads no
// clock but its events' time.
func failedAt(now time.Time, status int, why string) Outcome {
	return Outcome{Status: status, ExitCode: status, Start: now, End: now, Err: why}
}

// Killed is the outcome of a job that was canceled by signal sig.
func Killed(sig int) Outcome { return killedAt(time.Now(), sig) }

// killedAt is Killed at a given time (see failedAt).
func killedAt(now time.Time, sig int) Outcome {
	return Outcome{Status: 128 + sig, Signal: sig, Canceled: true, Start: now, End: now}
}

// JobResult is a job's final record. The outcome's fields are inlined in
// its encoding.
type JobResult struct {
	ID     uint64 `msgpack:"id"`
	Cookie uint64 `msgpack:"cookie,omitempty"`
	Host   string `msgpack:"host"`
	Outcome
}

// OutputLine is one line of a streamed (--line-buffer) job's output.
type OutputLine struct {
	ID     uint64 `msgpack:"id"`
	Cookie uint64 `msgpack:"cookie,omitempty"`
	Task   int    `msgpack:"task"`
	Stderr bool   `msgpack:"stderr,omitempty"`
	Data   []byte `msgpack:"data"`
}

// ResultBatch is one response on the job.results stream. Output lines of a
// job always arrive before its result.
type ResultBatch struct {
	Watcher uint64       `msgpack:"watcher,omitempty"` // in the first response of a stream: the id to submit with
	Output  []OutputLine `msgpack:"output,omitempty"`
	Results []JobResult  `msgpack:"results,omitempty"`
	Started []uint64     `msgpack:"started,omitempty"` // cookies of jobs that started (WatchRequest.Started)
}

// WatchRequest opens a job.results stream (the payload may be absent).
type WatchRequest struct {
	Started bool `msgpack:"started,omitempty"` // also report, by cookie, when each job starts
	// Keep: the stream's jobs are not canceled when it closes, and their
	// output stays in the history for flux job attach (flux submit --wait;
	// the capacitor's jobs die with it so that --resume never runs a line twice).
	Keep bool `msgpack:"keep,omitempty"`
}

// ListRequest asks for the job table; finished jobs only with All.
type ListRequest struct {
	All       bool `msgpack:"all"`
	Stats     bool `msgpack:"stats,omitempty"`      // also the instance's job counts (flux jobs --stats)
	StatsOnly bool `msgpack:"stats_only,omitempty"` // only the counts, no jobs
}

// JobStats counts the instance's jobs since it started, as flux jobs
// --stats shows them; Retried counts jobs that were a line's retry.
type JobStats struct {
	Pending   int `msgpack:"pending" json:"pending"`
	Running   int `msgpack:"running" json:"running"`
	Completed int `msgpack:"completed" json:"successful"`
	Failed    int `msgpack:"failed" json:"failed"` // failed, canceled or timed out
	Canceled  int `msgpack:"canceled" json:"canceled"`
	Timeout   int `msgpack:"timeout" json:"timeout"`
	Inactive  int `msgpack:"inactive" json:"inactive"`
	Purged    int `msgpack:"purged" json:"inactive_purged"` // finished jobs no longer in the bounded history
	Retried   int `msgpack:"retried" json:"retried"`
}

// JobInfo is one row of flux jobs.
type JobInfo struct {
	ID       uint64            `msgpack:"id" json:"id"`
	State    string            `msgpack:"state" json:"state"` // pending, running, finished, canceled, failed, timeout
	Name     string            `msgpack:"name" json:"name"`
	Req      resources.Request `msgpack:"req" json:"request"`
	Submit   time.Time         `msgpack:"submit" json:"t_submit"`
	Start    time.Time         `msgpack:"start,omitempty" json:"t_run,omitempty"`
	End      time.Time         `msgpack:"end,omitempty" json:"t_inactive,omitempty"`
	Status   int               `msgpack:"status" json:"status"`
	Ranks    string            `msgpack:"ranks,omitempty" json:"ranks,omitempty"`
	Cores    string            `msgpack:"cores,omitempty" json:"cores,omitempty"`
	Why      string            `msgpack:"why,omitempty" json:"why,omitempty"` // why a pending job waits
	Urgency  int               `msgpack:"urgency" json:"urgency"`             // Flux's 0 (held) to 31
	Canceled bool              `msgpack:"canceled,omitempty" json:"canceled,omitempty"`
	Retry    int               `msgpack:"retry,omitempty" json:"retry,omitempty"` // a line run again by --retries: its retry number
	// For flux jobs -o, flux job info and flux job eventlog:
	Note      string        `msgpack:"note,omitempty" json:"note,omitempty"` // the exception note: a launch error, a lost rank
	TimedOut  bool          `msgpack:"timedout,omitempty" json:"timedout,omitempty"`
	Signal    int           `msgpack:"signal,omitempty" json:"signal,omitempty"`
	TimeLimit time.Duration `msgpack:"t,omitempty" json:"duration,omitempty"`
	Argv      []string      `msgpack:"argv,omitempty" json:"argv,omitempty"`
	Cwd       string        `msgpack:"cwd,omitempty" json:"cwd,omitempty"`
	Flags     string        `msgpack:"flags,omitempty" json:"flags,omitempty"`
	Setopt    []string      `msgpack:"setopt,omitempty" json:"setopt,omitempty"`  // -o shell options
	Output    string        `msgpack:"output,omitempty" json:"output,omitempty"`  // --output template
	Hosts     string        `msgpack:"hosts,omitempty" json:"nodelist,omitempty"` // the hosts of Ranks, in rank order, comma-separated
}

// UrgencyRequest changes a pending job's urgency (flux job urgency).
type UrgencyRequest struct {
	ID      uint64 `msgpack:"id"`
	Urgency int    `msgpack:"urgency"` // 0 (hold) to 31 (expedite)
}

// UrgencyReply carries the urgency the job had before.
type UrgencyReply struct {
	Old int `msgpack:"old"`
}

// QueueRequest is flux queue's: Op is "status", "start", "stop", "enable"
// or "disable"; Reason goes with stop and disable.
type QueueRequest struct {
	Op     string `msgpack:"op"`
	Reason string `msgpack:"reason,omitempty"`
}

// QueueStatus is the queue's state after a QueueRequest.
type QueueStatus struct {
	Enabled       bool   `msgpack:"enabled" json:"enabled"` // submissions are taken
	DisableReason string `msgpack:"disable_reason,omitempty" json:"disable_reason,omitempty"`
	Started       bool   `msgpack:"started" json:"started"` // jobs are scheduled
	StopReason    string `msgpack:"stop_reason,omitempty" json:"stop_reason,omitempty"`
	Pending       int    `msgpack:"pending" json:"pending"` // queued, held or waiting for dependencies
	Running       int    `msgpack:"running" json:"running"`
}

// QueueWaitRequest waits until no job is active (drain) or, with Idle,
// until none is running.
type QueueWaitRequest struct {
	Idle bool `msgpack:"idle,omitempty"`
}

// ListReply is the job table: pending and running jobs, then (with All)
// the bounded history of finished ones, newest first.
type ListReply struct {
	Jobs  []JobInfo `msgpack:"jobs"`
	Stats *JobStats `msgpack:"stats,omitempty"`
}

// CancelRequest cancels jobs: pending ones leave the queue, running ones get
// SIGTERM and, after the kill grace, SIGKILL.
type CancelRequest struct {
	IDs    []uint64 `msgpack:"ids"`
	All    bool     `msgpack:"all"`              // every pending and running job
	Signal int      `msgpack:"signal,omitempty"` // flux job kill: only send this signal to running jobs' tasks
	Note   string   `msgpack:"note,omitempty"`   // flux cancel -m, flux job raise: the exception's note
}

// CancelReply counts what was canceled; Errs names ids that were not active.
type CancelReply struct {
	Canceled int      `msgpack:"canceled"`
	Errs     []string `msgpack:"errs,omitempty"`
}

// AttachRequest waits for one job to end and returns its result (with the
// captured output, while the job is in the bounded history).
type AttachRequest struct {
	ID uint64 `msgpack:"id"`
	// Stream: respond with ResultBatch messages instead of one JobResult:
	// the job's streamed output so far and as it comes, then a last batch
	// holding its result (flux job attach).
	Stream bool `msgpack:"stream,omitempty"`
}

// ResourceReply describes the instance's resources and what is free now.
type ResourceReply struct {
	All     resources.Set `msgpack:"all" json:"all"`
	Free    resources.Set `msgpack:"free" json:"free"`
	Down    []int         `msgpack:"down,omitempty" json:"down,omitempty"` // lost ranks
	Status  []RankStatus  `msgpack:"status,omitempty" json:"status,omitempty"`
	Pending int           `msgpack:"pending" json:"pending"`
	Running int           `msgpack:"running" json:"running"`
	Drained []DrainInfo   `msgpack:"drained,omitempty" json:"drained,omitempty"` // flux resource drain
}

// PingRequest and PingReply are flux ping's echo.
type PingRequest struct {
	Seq int    `msgpack:"seq"`
	Pad string `msgpack:"pad,omitempty"`
}

// PingReply says who answered.
type PingReply struct {
	Seq  int    `msgpack:"seq"`
	Pad  string `msgpack:"pad,omitempty"`
	Rank int    `msgpack:"rank"`
	Host string `msgpack:"host"`
}

// EventPub publishes an event; Payload is any msgpack value (JSON on the CLI).
type EventPub struct {
	Topic   string `msgpack:"topic"`
	Payload []byte `msgpack:"payload,omitempty"` // msgpack-encoded body of the event
}

// EventSub subscribes the calling connection to events whose topic matches
// one of the glob patterns (path.Match syntax: "job.*").
type EventSub struct {
	Patterns []string `msgpack:"patterns"`
}

// JobTransition is one job state change in a job.state event.
type JobTransition struct {
	ID     uint64 `msgpack:"id" json:"id"`
	State  string `msgpack:"state" json:"state"` // submitted, running, finished, failed, canceled, timeout
	Status int    `msgpack:"status,omitempty" json:"status,omitempty"`
	Ranks  string `msgpack:"ranks,omitempty" json:"ranks,omitempty"`
}

// JobStateEvent is the payload of a job.state event.
type JobStateEvent struct {
	Transitions []JobTransition `msgpack:"transitions" json:"transitions"`
}

// RanksEvent names ranks and why they changed: the payload of broker.lost
// and broker.online events, and of the broker.lost notice a broker sends up
// to rank 0 when a child's link breaks.
type RanksEvent struct {
	Ranks []int  `msgpack:"ranks" json:"ranks"`
	Why   string `msgpack:"why" json:"why"`
}

// ModuleLoad starts an external program as a module of the broker that
// receives it. It connects to FLUX_URI and registers its services with
// service.add.
type ModuleLoad struct {
	Path string   `msgpack:"path"`
	Args []string `msgpack:"args,omitempty"`
	Env  []string `msgpack:"env,omitempty"`
}

// ModuleInfo describes one module.
type ModuleInfo struct {
	Name     string   `msgpack:"name" json:"name"`
	Pid      int      `msgpack:"pid,omitempty" json:"pid,omitempty"`
	Rank     int      `msgpack:"rank" json:"rank"`
	Services []string `msgpack:"services" json:"services"`
	Builtin  bool     `msgpack:"builtin,omitempty" json:"builtin,omitempty"`
}

// ModuleList lists a broker's modules.
type ModuleList struct {
	Modules []ModuleInfo `msgpack:"modules"`
}

// ModuleRemove stops a module by name.
type ModuleRemove struct {
	Name string `msgpack:"name"`
}

// ServiceAdd registers service names for the calling connection.
type ServiceAdd struct {
	Names []string `msgpack:"names"`
	Pid   int      `msgpack:"pid,omitempty"` // the module's process id, so flux module list can show its services
}
