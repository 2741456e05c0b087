package broker

import (
	"testing"

	"github.com/fluxtaskfarm/flux/overlay"
)

// Routing at rank 1 of 7 with fanout 2: parent 0, children 3 and 4; ranks
// 2, 5 and 6 are elsewhere in the tree.
//
//	    0
//	 1     2
//	3 4   5 6
func TestRouting(t *testing.T) {
	type step struct {
		from string // "c" (the client), or "p0", "p3", "p4" (peers)
		m    *overlay.Msg
		want []string
	}
	resp := func(topic string, src, dst int32, tag uint32) *overlay.Msg {
		return &overlay.Msg{Type: overlay.Response, Topic: topic, Src: src, Dst: dst, Tag: tag}
	}
	for _, tc := range []struct {
		name  string
		setup func(c *core)
		steps []step
	}{
		{name: "a client's request goes down to a child's subtree with a tag of this broker's, the answer comes back with the client's",
			steps: []step{
				{"c", newMsg(TopicPing, -1, 4, 7, nil), []string{"send 4 request broker.ping tag=1 src=1 dst=4"}},
				{"p4", resp(TopicPing, 4, 1, 1), []string{"reply c response broker.ping tag=7 src=1 dst=-1"}},
				{"p4", resp(TopicPing, 4, 1, 1), []string{}}, // answered already: late
			}},
		{name: "a rank outside the subtree is reached through the parent",
			steps: []step{
				{"c", newMsg(TopicPing, -1, 5, 3, nil), []string{"send 0 request broker.ping tag=1 src=1 dst=5"}},
				{"p0", resp(TopicPing, 5, 1, 1), []string{"reply c response broker.ping tag=3 src=1 dst=-1"}},
			}},
		{name: "a service this broker does not provide goes up",
			steps: []step{
				{"c", newMsg(TopicList, -1, -1, 9, nil), []string{"send 0 request job.list tag=1 src=1 dst=-1"}},
			}},
		{name: "served here: the answer goes back to the asking peer",
			steps: []step{
				{"p0", newMsg(TopicPing, 0, 1, 5, nil), []string{"send 0 response broker.ping tag=5 src=1 dst=0"}},
				{"p3", newMsg(TopicPing, 3, 1, 6, nil), []string{"send 3 response broker.ping tag=6 src=1 dst=3"}},
			}},
		{name: "messages for others pass through",
			steps: []step{
				{"p0", resp(TopicPing, 0, 3, 8), []string{"send 3 response broker.ping tag=8 src=0 dst=3"}},
				{"p3", newMsg(TopicPing, 3, 6, 2, nil), []string{"send 0 request broker.ping tag=2 src=3 dst=6"}},
				{"p0", newMsg(TopicPing, 0, 4, 4, nil), []string{"send 4 request broker.ping tag=4 src=0 dst=4"}},
			}},
		{name: "no such rank, or a lost child: the sender hears EHOSTUNREACH at once",
			setup: func(c *core) { delete(c.st.children, 3) },
			steps: []step{
				{"c", newMsg(TopicPing, -1, 9, 1, nil), []string{"reply c response broker.ping tag=1 src=1 dst=-1 errnum=113"}},
				{"c", newMsg(TopicPing, -1, 3, 2, nil), []string{"reply c response broker.ping tag=2 src=1 dst=-1 errnum=113"}},
				{"p0", newMsg(TopicPing, 0, 3, 3, nil), []string{"send 0 response broker.ping tag=3 src=1 dst=0 errnum=113"}},
			}},
		{name: "only the asked may answer: a client's response, a response with an unknown tag, are dropped",
			steps: []step{
				{"c", newMsg(TopicPing, -1, 4, 7, nil), []string{"send 4 request broker.ping tag=1 src=1 dst=4"}},
				{"c", resp(TopicPing, -1, 1, 1), []string{}},
				{"p3", resp(TopicPing, 3, 1, 99), []string{}},
			}},
		{name: "a request that wants no answer leaves no pending tag",
			steps: []step{
				{"c", func() *overlay.Msg {
					m := newMsg(TopicPing, -1, 4, 0, nil)
					m.Flags |= overlay.FlagNoResponse
					return m
				}(), []string{"send 4 request broker.ping tag=0 src=1 dst=4"}},
			}},
		{name: "before the parent link is up, what must go up is held, then sent after the hello",
			setup: func(c *core) { c.st.parent, c.st.joined = nil, false },
			steps: []step{
				{"p3", newMsg(TopicPing, 3, 0, 2, nil), []string{}},
				{"c", newMsg(TopicPing, -1, 4, 1, nil), []string{"send 4 request broker.ping tag=1 src=1 dst=4"}}, // down needs no parent
			}},
		{name: "a service a module provides is handed to it; only its answer counts",
			setup: func(c *core) { c.st.mods.providers["kvs"] = c.client("mod") },
			steps: []step{
				{"p0", newMsg("kvs.get", 0, 1, 4, nil), []string{"reply mod request kvs.get tag=1 src=1 dst=1"}},
				{"c", resp("kvs.get", -1, 1, 1), []string{}},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCore(t, 1, 7, 2)
			ends := map[string]endpoint{"c": c.client("c"), "p0": c.peers[0], "p3": c.peers[3], "p4": c.peers[4]}
			if tc.setup != nil {
				tc.setup(c)
				for cl, name := range c.clients {
					ends[name] = cl
				}
			}
			for i, s := range tc.steps {
				wantFx(t, "step "+string(rune('1'+i)), c.from(ends[s.from], s.m), s.want)
			}
		})
	}
}

// The held messages of a broker whose parent link is not up go up, in
// order, right after its hello.
func TestHeldUntilParent(t *testing.T) {
	c := newCore(t, 1, 7, 2)
	c.st.parent, c.st.joined = nil, false
	p3 := c.peers[3]
	wantFx(t, "held", c.from(p3, newMsg(TopicPing, 3, 0, 2, nil)), []string{})
	wantFx(t, "held", c.from(p3, newMsg(topicExecDone, 3, 0, 0, &ExecDone{})), []string{})
	parent := &peer{rank: 0}
	c.st.link(linkEvent{p: parent, parent: true})
	wantFx(t, "joined", c.effects(), []string{
		"serve 0",
		"send 0 request broker.hello tag=1 src=1 dst=0",
		"send 0 request broker.ping tag=2 src=3 dst=0",
		"send 0 request exec.done tag=0 src=3 dst=0",
		"ready",
	})
	// A refusal of the hello stops the broker with rank 0's reason.
	hello := &overlay.Msg{Type: overlay.Response, Topic: topicHello, Src: 0, Dst: 1, Tag: 1, Errnum: 1, Errstr: "rank 1 is online already"}
	wantFx(t, "refused", c.from(parent, hello), []string{"timer deadline 8s"})
	if c.st.failed == nil || !c.st.stopping {
		t.Fatalf("a refused hello did not stop the broker: failed=%v stopping=%v", c.st.failed, c.st.stopping)
	}
}

// A child's link breaks at rank 1 (of 15, fanout 2): requests waiting on
// its subtree fail, and rank 0 hears which ranks are lost.
func TestLostChildAtInnerRank(t *testing.T) {
	c := newCore(t, 1, 15, 2)
	cl := c.client("c")
	wantFx(t, "to 7", c.from(cl, newMsg(TopicPing, -1, 7, 5, nil)), []string{"send 3 request broker.ping tag=1 src=1 dst=7"})
	wantFx(t, "to 4", c.from(cl, newMsg(TopicPing, -1, 4, 6, nil)), []string{"send 4 request broker.ping tag=2 src=1 dst=4"})
	c.st.handle(request{from: c.peers[3], gone: true})
	fx := c.raw()
	wantFx(t, "lost", c.show(fx), []string{
		"reply c response broker.ping tag=5 src=1 dst=-1 errnum=113",
		"send 0 request broker.lost tag=0 src=1 dst=0",
	})
	var ev RanksEvent
	if err := sent(t, fx, 0, topicLost).Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.Ranks; len(got) != 3 || got[0] != 3 || got[1] != 7 || got[2] != 8 {
		t.Errorf("lost ranks: %v, want 3's subtree [3 7 8]", got)
	}
	// The request to 4 still waits; rank 3 is unreachable now.
	wantFx(t, "to 3", c.from(cl, newMsg(TopicPing, -1, 8, 7, nil)), []string{"reply c response broker.ping tag=7 src=1 dst=-1 errnum=113"})
	wantFx(t, "4 answers", c.from(c.peers[4], &overlay.Msg{Type: overlay.Response, Topic: TopicPing, Src: 4, Dst: 1, Tag: 2}),
		[]string{"reply c response broker.ping tag=6 src=1 dst=-1"})
	// The same link's news twice, or a stale link's, changes nothing.
	c.st.handle(request{from: c.peers[3], gone: true})
	wantFx(t, "again", c.pass(), []string{})
}

// A client goes away: its pending requests are forgotten (a proxied
// results stream tells rank 0), its services and subscriptions too.
func TestClientGone(t *testing.T) {
	c := newCore(t, 1, 7, 2)
	cl := c.client("c")
	wantFx(t, "results", c.from(cl, func() *overlay.Msg {
		m := newMsg(TopicResults, -1, -1, 3, nil)
		m.Flags |= overlay.FlagStreaming
		return m
	}()), []string{"send 0 request job.results tag=1 src=1 dst=-1"})
	c.st.handle(request{from: cl, gone: true})
	wantFx(t, "gone", c.pass(), []string{"send 0 request job.disconnect tag=0 src=1 dst=0", "close client c"})
	wantFx(t, "late", c.from(c.peers[0], &overlay.Msg{Type: overlay.Response, Topic: TopicResults, Dst: 1, Tag: 1}), []string{})
}
