package hierarchy

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
)

// RunTop runs a whole hierarchy from the top instance (own): the input is
// read, logged and reported exactly as flux-capacitor does (capacitor.Config),
// but the lines go down the tree of children the config describes. With
// statsFile it writes every instance's statistics as JSON at the end.
func RunTop(ctx context.Context, own *overlay.Client, capCfg capacitor.Config, opt TreeOptions, statsFile string) (capacitor.Summary, error) {
	top := Stats{Name: "top", Level: 1, Start: time.Now()}
	var res broker.ResourceReply
	if err := own.RPC(context.Background(), broker.TopicResources, nil, &res); err == nil {
		top.Cores = res.All.Cores()
	}
	if opt.Config.NumLevels == 1 {
		top.Leaf = true
		sum, err := capacitor.Run(ctx, own, capCfg)
		top.Lines, top.Failed = sum.Done+sum.Failed, sum.Failed
		writeStats(statsFile, top, nil, sum)
		return sum, err
	}
	opt.Level, opt.Name = 1, "top"
	var tree *Tree
	sum, err := capacitor.RunBackend(ctx, func() (capacitor.Backend, error) {
		t, err := StartTree(own, opt)
		tree = t
		return t, err
	}, capCfg)
	if tree != nil {
		tree.Close()
		kids, requeued, lost := tree.Stats()
		top.Requeued, top.Lost = requeued, lost
		top.Lines, top.Failed = sum.Done+sum.Failed, sum.Failed
		writeStats(statsFile, top, kids, sum)
	}
	return sum, err
}

// statsFileBody is what --stats writes.
type statsFileBody struct {
	Instances []Stats `json:"instances"`
	Total     struct {
		Lines    int     `json:"lines"`
		Done     int     `json:"done"`
		Failed   int     `json:"failed"`
		Errors   int     `json:"errors"`
		Seconds  float64 `json:"seconds"`
		Rate     float64 `json:"tasks_per_s"`
		Leaves   int     `json:"leaves"`
		Requeued int     `json:"requeued"`
		Lost     int     `json:"lost_children"`
		Retried  int     `json:"retried"` // attempts run again by --retries
		Halted   bool    `json:"halted,omitempty"`
	} `json:"total"`
}

func writeStats(path string, top Stats, kids []Stats, sum capacitor.Summary) {
	if path == "" {
		return
	}
	top.End = time.Now()
	if secs := top.End.Sub(top.Start).Seconds(); secs > 0 {
		top.Rate = float64(top.Lines) / secs
	}
	var body statsFileBody
	body.Instances = append([]Stats{top}, kids...)
	t := &body.Total
	t.Lines, t.Done, t.Failed, t.Errors = sum.Done+sum.Failed+sum.Errors, sum.Done, sum.Failed, sum.Errors
	t.Retried, t.Halted = sum.Retried, sum.Halted
	t.Seconds = sum.Elapsed.Seconds()
	if t.Seconds > 0 {
		t.Rate = float64(sum.Done+sum.Failed) / t.Seconds
	}
	for _, k := range body.Instances {
		if k.Leaf {
			t.Leaves++
		}
		t.Requeued += k.Requeued
		t.Lost += k.Lost
	}
	b, _ := json.MarshalIndent(&body, "", "  ")
	os.WriteFile(path, append(b, '\n'), 0o644)
}
