package commands

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/resources"
)

// resourceFixture: 5 ranks on node[0-4]; rank 1 half busy, rank 2 drained
// with a job still there, rank 3 drained, rank 4 lost.
func resourceFixture() *broker.ResourceReply {
	r := &broker.ResourceReply{}
	for i := 0; i < 5; i++ {
		host := "node" + itoa(i)
		r.All.Ranks = append(r.All.Ranks, resources.Rank{Rank: i, Host: host, Cores: resources.RangeIDSet(0, 3)})
		free := resources.RangeIDSet(0, 3)
		if i == 1 {
			free = resources.RangeIDSet(2, 3)
		}
		r.Free.Ranks = append(r.Free.Ranks, resources.Rank{Rank: i, Host: host, Cores: free})
	}
	r.All.Ranks[0].GPUs = resources.NewIDSet(0, 1)
	r.Free.Ranks[0].GPUs = resources.NewIDSet(1)
	since := time.Date(2026, 12, 4, 23, 2, 0, 0, time.UTC)
	r.Drained = []broker.DrainInfo{{Rank: 2, Since: since, Reason: "bad fan", Draining: true}, {Rank: 3, Since: since}}
	r.Down = []int{4}
	return r
}

func TestInstanceListingsGolden(t *testing.T) {
	time.Local = time.UTC
	r := resourceFixture()
	cases := map[string]func(*bytes.Buffer){
		"resource-list":   func(b *bytes.Buffer) { writeResourceList(b, r) },
		"resource-status": func(b *bytes.Buffer) { writeResourceStatus(b, r) },
		"resource-drain":  func(b *bytes.Buffer) { writeDrainList(b, r) },
		"overlay-status":  func(b *bytes.Buffer) { writeOverlayStatus(b, 5, 2, r) },
		"overlay-status-flat": func(b *bytes.Buffer) {
			writeOverlayStatus(b, 3, 32, &broker.ResourceReply{All: resources.Set{Ranks: r.All.Ranks[:3]}})
		},
		"uptime": func(b *bytes.Buffer) {
			start := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
			b.WriteString(uptimeLine(start.Add(90*time.Second), start, "alice", "1", "5", r) + "\n")
		},
		"lsattr-v": func(b *bytes.Buffer) {
			writeAttrs(b, map[string]string{"rank": "0", "size": "5", "tbon.fanout": "2", "parent-uri": ""}, true)
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			fn(&b)
			golden(t, filepath.Join("testdata", "instance", name+".golden"), b.String())
		})
	}
}
