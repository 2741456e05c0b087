package broker

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// The payloads brokers send each other. Like the client topics, a topic and
// its payload are never changed incompatibly; new fields are optional.

// HelloRequest carries a rank's resources up to rank 0 when it comes online.
type HelloRequest struct {
	Rank int `msgpack:"rank"`
	Size int `msgpack:"size,omitempty"` // the sender's count of ranks; rank 0 refuses another

	Resources resources.Rank `msgpack:"resources"`
}

// ExecTask is one task of a job part.
type ExecTask struct {
	Rank  int   `msgpack:"rank"`
	Local int   `msgpack:"local"`
	Cores []int `msgpack:"cores"`
	GPUs  []int `msgpack:"gpus,omitempty"`
}

// ExecPart is the share of one job that one rank runs.
type ExecPart struct {
	Job          uint64        `msgpack:"job"`
	Env          int           `msgpack:"env"` // index into ExecStart.Envs
	Argv         []string      `msgpack:"argv"`
	Cwd          string        `msgpack:"cwd,omitempty"`
	TimeLimit    time.Duration `msgpack:"t,omitempty"`
	Output       string        `msgpack:"output,omitempty"`
	LabelIO      bool          `msgpack:"label,omitempty"`
	Stream       bool          `msgpack:"stream,omitempty"`
	Line         int           `msgpack:"line,omitempty"`
	Cookie       uint64        `msgpack:"cookie,omitempty"`
	Tasks        []ExecTask    `msgpack:"tasks"`
	JobSize      int           `msgpack:"size"`
	CoresPerTask int           `msgpack:"cpt"`
	PMI          bool          `msgpack:"pmi,omitempty"`     // serve PMI-1 to the tasks
	PMIOff       bool          `msgpack:"pmioff,omitempty"`  // -o pmi=off: not even the PMI library's variables
	Mapping      string        `msgpack:"mapping,omitempty"` // PMI_process_mapping of the whole job
	Error        string        `msgpack:"error,omitempty"`   // stderr's file template (File mode)
	Setopt       []string      `msgpack:"setopt,omitempty"`  // shell options KEY=VALUE
	// PMIRanks are the brokers holding parts of the job, with PMI: the
	// shape of its key exchange (pmireduce.go). A pointer, because msgpack's
	// omitempty sees an IDSet (no exported fields) as empty.
	PMIRanks *resources.IDSet `msgpack:"pmiranks,omitempty"`
}

// ExecStart carries the parts one rank starts in one scheduling pass. The
// environments are listed once and shared by index, since a batch of jobs
// from one capacitor has one environment.
type ExecStart struct {
	Envs  [][]string `msgpack:"envs"`
	Parts []ExecPart `msgpack:"parts"`
}

// ExecAck confirms that a rank has taken its parts.
type ExecAck struct {
	Accepted int `msgpack:"accepted"`
}

// ExecKill signals job parts on one rank.
type ExecKill struct {
	Jobs   []uint64 `msgpack:"jobs"`
	Signal int      `msgpack:"signal"`
}

// PartResult is how one rank's part of a job ended.
type PartResult struct {
	Job  uint64 `msgpack:"job"`
	Rank int    `msgpack:"rank"`
	Outcome
	Abort int `msgpack:"abort,omitempty"` // a task called PMI abort with this code
}

// ExecDone carries finished parts up to rank 0, batched per loop pass.
type ExecDone struct {
	Results []PartResult `msgpack:"results"`
}

// ExecOutput carries streamed output lines up to rank 0.
type ExecOutput struct {
	Lines []OutputLine `msgpack:"lines"`
}

// DisconnectNotice tells rank 0 that the client behind a proxied job.results
// stream (this sender's rank and that request's tag) went away.
type DisconnectNotice struct {
	Tag uint32 `msgpack:"tag"`
}

// PMIExchange carries the PMI puts of one barrier of a job from a broker's
// subtree to its parent (pmireduce.go), which answers once it has the puts
// of every part of the job, with all of them. ("pmi.exchange", which sent
// each part's puts to rank 0, is retired.)
type PMIExchange struct {
	Job   uint64            `msgpack:"job"`
	Epoch int               `msgpack:"epoch"`
	Rank  int               `msgpack:"rank"`  // the sender
	Ranks resources.IDSet   `msgpack:"ranks"` // the brokers holding parts of the job
	Puts  map[string]string `msgpack:"puts"`
}

// PMIExchangeReply is every part's puts of that barrier.
type PMIExchangeReply struct {
	KVS map[string]string `msgpack:"kvs"`
}

// ExecAbort tells rank 0 that a task called PMI abort: the whole job is
// killed and ends with the code.
type ExecAbort struct {
	Job  uint64 `msgpack:"job"`
	Rank int    `msgpack:"rank"`
	Code int    `msgpack:"code"`
	Msg  string `msgpack:"msg,omitempty"`
}
