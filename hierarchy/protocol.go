package hierarchy

import (
	"time"

	"github.com/fluxtaskfarm/flux/broker"
)

// The line service a parent (the top, or a relay) offers its children. It
// registers a service name unique to it with service.add at its broker; a
// child reaches it through the broker it runs under (FLUX_PARENT_URI), and
// the request travels up to the nearest provider.
//
// There is one operation, sync, so that one round trip carries both ways:
// up go the results and started lines since the child's last sync and the
// number of lines it can take; down come lines. A child has at most one
// sync asking for lines out at a time (the parent holds its reply until a
// line or the end of the stream exists) and at most one that only carries
// results (answered at once), so a child never costs its parent more than
// two requests in flight, however many lines it runs.
const opSync = ".sync" // SyncRequest -> SyncReply

// SyncRequest is a child's message to its parent. The parent takes the
// results and started lines at once; with Credits > 0 it answers with up to
// that many lines, holding the answer until it has one or the stream has
// ended; with Credits == 0 it answers at once with no lines.
type SyncRequest struct {
	Child   string             `msgpack:"child"`
	Credits int                `msgpack:"credits,omitempty"`
	Results []broker.JobResult `msgpack:"results,omitempty"`
	Started []uint64           `msgpack:"started,omitempty"` // so a lost child's unstarted lines can go to its siblings
	Stats   []Stats            `msgpack:"stats,omitempty"`   // with the child's last sync: its statistics and its children's
}

// SyncReply carries lines (as jobs; Cookie is the input line number), or
// EOF once the stream has ended and nothing is left. The environment of the
// lines comes with a child's first lines only; the child keeps it.
type SyncReply struct {
	Env  []string         `msgpack:"env,omitempty"`
	Jobs []broker.Jobspec `msgpack:"jobs,omitempty"`
	EOF  bool             `msgpack:"eof,omitempty"`
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
	// Syncs sent to the parent: lines per sync says how well batching works
	// (a child that takes one line at a time costs its parent a round trip
	// per line).
	Syncs int `msgpack:"syncs,omitempty" json:"syncs,omitempty"`
	// BusyCoreSeconds adds up cores x runtime of the lines a leaf ran: with
	// Cores and its lifetime, the leaf's utilisation (flux report --stats).
	BusyCoreSeconds float64 `msgpack:"busy,omitempty" json:"busy_core_s,omitempty"`
}
