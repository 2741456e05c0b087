package hierarchy

import (
	"time"

	"github.com/fluxtaskfarm/flux/broker"
)

// The line service a parent (the top, or a relay) offers its children. It
// registers a service name unique to it with service.add at its broker; a
// child reaches it through the broker it runs under (FLUX_PARENT_URI), and
// the request travels up to the nearest provider.
const (
	opPull = ".pull" // PullRequest -> PullReply, held until lines or the end exist
	opPush = ".push" // PushRequest -> nil
)

// PullRequest asks for up to Credits lines: a child asks for what it can
// run, so no instance ever buffers more than its children can take.
type PullRequest struct {
	Child   string `msgpack:"child"`
	Credits int    `msgpack:"credits"`
}

// PullReply carries lines (as jobs; Cookie is the input line number), or
// EOF once the stream has ended and nothing is left. The environment of the
// lines comes with a child's first lines only; the child keeps it.
type PullReply struct {
	Env  []string         `msgpack:"env,omitempty"`
	Jobs []broker.Jobspec `msgpack:"jobs,omitempty"`
	EOF  bool             `msgpack:"eof,omitempty"`
}

// PushRequest carries results up: finished lines, lines that started (so a
// lost child's unstarted lines can go to its siblings), and, at the end,
// the child's statistics.
type PushRequest struct {
	Child   string             `msgpack:"child"`
	Results []broker.JobResult `msgpack:"results,omitempty"`
	Started []uint64           `msgpack:"started,omitempty"`
	Stats   []Stats            `msgpack:"stats,omitempty"`
}

// Stats describe one instance of the tree, for --stats.
type Stats struct {
	Name     string    `msgpack:"name" json:"name"`
	Level    int       `msgpack:"level" json:"level"`
	Cores    int       `msgpack:"cores" json:"cores"`
	Leaf     bool      `msgpack:"leaf" json:"leaf"`
	Lines    int       `msgpack:"lines" json:"lines"`   // lines that ended here (leaves), or passed through (relays)
	Failed   int       `msgpack:"failed" json:"failed"` // of those, not exit 0
	Start    time.Time `msgpack:"start" json:"start"`
	End      time.Time `msgpack:"end" json:"end"`
	Rate     float64   `msgpack:"rate" json:"tasks_per_s"`
	Requeued int       `msgpack:"requeued,omitempty" json:"requeued,omitempty"` // lines given back by lost children
	Lost     int       `msgpack:"lost,omitempty" json:"lost_children,omitempty"`
}
