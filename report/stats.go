package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Instance is one instance of a flux-hierarchy tree, as its --stats file
// (stats.json) describes it.
type Instance struct {
	Name     string    `json:"name"`
	Level    int       `json:"level"`
	Cores    int       `json:"cores"`
	Leaf     bool      `json:"leaf"`
	Lines    int64     `json:"lines"`
	Failed   int64     `json:"failed"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Rate     float64   `json:"tasks_per_s"`
	Requeued int64     `json:"requeued"`
	Lost     int64     `json:"lost_children"`
	Syncs    int64     `json:"syncs"`
	// BusyCoreSeconds is the core-seconds its lines ran (leaves), when the
	// file has it: with Cores and the instance's lifetime it gives the
	// instance's utilisation.
	BusyCoreSeconds float64 `json:"busy_core_s"`
}

// Seconds is how long the instance lived.
func (in *Instance) Seconds() float64 { return in.End.Sub(in.Start).Seconds() }

// Utilisation is the share of its cores' time its lines used, or -1 when
// the file does not say.
func (in *Instance) Utilisation() float64 {
	if in.BusyCoreSeconds <= 0 || in.Cores <= 0 || in.Seconds() <= 0 {
		return -1
	}
	return in.BusyCoreSeconds / (float64(in.Cores) * in.Seconds())
}

// Stats is what flux-hierarchy --stats writes.
type Stats struct {
	Instances []Instance `json:"instances"`
	Total     struct {
		Lines    int64   `json:"lines"`
		Done     int64   `json:"done"`
		Failed   int64   `json:"failed"`
		Errors   int64   `json:"errors"`
		Seconds  float64 `json:"seconds"`
		Rate     float64 `json:"tasks_per_s"`
		Leaves   int64   `json:"leaves"`
		Requeued int64   `json:"requeued"`
		Lost     int64   `json:"lost_children"`
		Retried  int64   `json:"retried"`
		Halted   bool    `json:"halted"`
	} `json:"total"`
}

// maxInstances bounds the instances read from a stats file: a tree of a
// million leaves would not fit a page anyway.
const maxInstances = 100000

// ReadStats reads a stats.json.
func ReadStats(r io.Reader) (*Stats, error) {
	var s Stats
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not the JSON flux-hierarchy --stats writes: %v", err)
	}
	if len(s.Instances) == 0 {
		return nil, fmt.Errorf("no \"instances\": not a file flux-hierarchy --stats wrote")
	}
	if len(s.Instances) > maxInstances {
		s.Instances = s.Instances[:maxInstances]
	}
	return &s, nil
}
