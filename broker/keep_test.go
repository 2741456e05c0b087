package broker

import (
	"context"
	"strings"
	"testing"
	"time"

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

// flux job attach of a job nobody watches: its output as it comes (what it
// wrote before the attach first), then its result, which carries all of it.
func TestAttachStream(t *testing.T) {
	_, c := newTestBroker(t, 1)
	js := spec(0, "sh", "-c", "echo a; sleep 0.4; echo b")
	js.Stream = true
	reply := submit(t, c, 0, js)
	time.Sleep(200 * time.Millisecond)
	st, err := c.Stream(context.Background(), TopicAttach, &AttachRequest{ID: reply.IDs[0], Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var lines []string
	for {
		m, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var b ResultBatch
		if err := m.Decode(&b); err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Output {
			lines = append(lines, string(o.Data))
		}
		if len(b.Results) > 0 {
			if got := strings.Join(lines, ""); got != "a\nb\n" {
				t.Errorf("streamed %q, want a then b", lines)
			}
			if r := b.Results[0]; string(r.Stdout) != "a\nb\n" || r.Status != 0 {
				t.Errorf("result stdout %q status %d", r.Stdout, r.Status)
			}
			return
		}
	}
}
