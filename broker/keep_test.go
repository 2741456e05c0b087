package broker

import (
	"context"
	"testing"

	"github.com/fluxtaskfarm/flux/overlay"
)

// Jobs of a Keep stream (flux submit --wait) outlive their submitter and
// keep their output for attach; those of a plain stream (the capacitor's)
// are canceled when it goes away.
func TestWatcherKeep(t *testing.T) {
	b, c := newTestBroker(t, 2)
	for _, keep := range []bool{true, false} {
		c2 := overlay.NewClient(b.Connect())
		_, w, err := WatchResultsWith(c2, &WatchRequest{Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		reply := submit(t, c2, w, spec(1, "sh", "-c", "sleep 0.3; echo kept"))
		c2.Close()
		var r JobResult
		if err := c.RPC(context.Background(), TopicAttach, &AttachRequest{ID: reply.IDs[0]}, &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case keep && (r.Status != 0 || r.Canceled || string(r.Stdout) != "kept\n"):
			t.Errorf("keep: status %d canceled %v stdout %q; want the job to finish and keep its output", r.Status, r.Canceled, r.Stdout)
		case !keep && !r.Canceled:
			t.Errorf("no keep: status %d, want the job canceled with its submitter", r.Status)
		}
	}
}
