package broker

import (
	"testing"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

// The PMI key exchange, reduced up the tree, at rank 1 of 7 (fanout 2:
// parent 0, children 3 and 4). A contribution is this broker's own part's
// (local) or a child's pmi.reduce request with its subtree's merged puts.
func TestPMIExchange(t *testing.T) {
	type contrib struct {
		from string            // "local", "p3" or "p4"
		puts map[string]string // its puts
		want []string          // the effects once it is in
	}
	kv := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		ranks    []int
		steps    []contrib
		parent   map[string]string // rank 0's answer to the request that went up, if one did
		afterUp  []string
		childKVS string // what each child's answer holds
	}{
		{name: "every part below this rank: it is the top, and answers all with the merged set",
			ranks: []int{1, 3, 4},
			steps: []contrib{
				{"local", kv("a", "1"), []string{}},
				{"p3", kv("b", "2"), []string{}},
				{"p4", kv("c", "3"), []string{
					"pmi reply {a=1 b=2 c=3}",
					"send 3 response pmi.reduce tag=3 src=1 dst=3",
					"send 4 response pmi.reduce tag=4 src=1 dst=4",
				}},
			},
			childKVS: "{a=1 b=2 c=3}"},
		{name: "parts elsewhere too: one merged request goes up, the answer comes down to each contributor",
			ranks: []int{3, 4, 5},
			steps: []contrib{
				{"p4", kv("c", "3"), []string{}},
				{"p3", kv("b", "2"), []string{"send 0 request pmi.reduce tag=1 src=1 dst=0"}},
			},
			parent: kv("b", "2", "c", "3", "d", "4"),
			afterUp: []string{
				"send 4 response pmi.reduce tag=4 src=1 dst=4",
				"send 3 response pmi.reduce tag=3 src=1 dst=3",
			},
			childKVS: "{b=2 c=3 d=4}"},
		{name: "this rank's part and one child's, the rest elsewhere",
			ranks: []int{1, 4, 6},
			steps: []contrib{
				{"local", kv("a", "1"), []string{}},
				{"p4", kv("c", "3"), []string{"send 0 request pmi.reduce tag=1 src=1 dst=0"}},
			},
			parent: kv("a", "1", "c", "3", "e", "5"),
			afterUp: []string{
				"pmi reply {a=1 c=3 e=5}",
				"send 4 response pmi.reduce tag=4 src=1 dst=4",
			},
			childKVS: "{a=1 c=3 e=5}"},
		{name: "a job on this rank alone needs no exchange",
			ranks: []int{1},
			steps: []contrib{{"local", kv("a", "1"), []string{"pmi reply {}"}}}},
		{name: "a contribution for a job this rank is not on the way to is refused",
			ranks: []int{2, 5},
			steps: []contrib{{"p3", kv("b", "2"), []string{"send 3 response pmi.reduce tag=3 src=1 dst=3 errnum=5"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCore(t, 1, 7, 2)
			ranks := resources.NewIDSet(tc.ranks...)
			var up *overlay.Msg
			for _, s := range tc.steps {
				ex := &PMIExchange{Job: 7, Epoch: 1, Ranks: ranks, Puts: s.puts}
				var fx []effect
				if s.from == "local" {
					ex.Rank = 1
					c.st.pmiExchange(ex, func(map[string]string, error) {})
					fx = c.raw()
				} else {
					p := c.peers[int(s.from[1]-'0')]
					ex.Rank = p.rank
					c.st.handle(request{from: p, m: newMsg(topicPMIReduce, int32(p.rank), 1, uint32(p.rank), ex)})
					fx = c.raw()
				}
				wantFx(t, s.from, c.show(fx), s.want)
				for _, e := range fx {
					if e.kind == fxSend && e.peer.rank == 0 {
						up = e.msg
					}
					c.checkChildAnswer(e, tc.childKVS)
				}
			}
			if tc.parent == nil {
				if up != nil {
					t.Fatal("a request went up though this rank's subtree holds the whole job")
				}
				return
			}
			var sentUp PMIExchange
			if err := up.Decode(&sentUp); err != nil {
				t.Fatal(err)
			}
			if sentUp.Rank != 1 || sentUp.Ranks.String() != ranks.String() {
				t.Errorf("went up as rank %d for ranks %s", sentUp.Rank, sentUp.Ranks)
			}
			for k, v := range sentUp.Puts {
				if tc.parent[k] != v {
					t.Errorf("went up with %s=%s, which the subtree did not put", k, v)
				}
			}
			answer, err := up.Respond(&PMIExchangeReply{KVS: tc.parent})
			if err != nil {
				t.Fatal(err)
			}
			c.st.handle(request{from: c.peers[0], m: answer})
			fx := c.raw()
			wantFx(t, "answer", c.show(fx), tc.afterUp)
			for _, e := range fx {
				c.checkChildAnswer(e, tc.childKVS)
			}
			if len(c.st.pmi.rounds) != 0 {
				t.Errorf("%d rounds left in progress", len(c.st.pmi.rounds))
			}
		})
	}
}

// checkChildAnswer checks that a pmi.reduce answer to a child holds kvs.
func (c *core) checkChildAnswer(e effect, kvs string) {
	c.t.Helper()
	if e.kind != fxSend || e.msg.Topic != topicPMIReduce || e.msg.Type != overlay.Response || e.msg.Errnum != 0 {
		return
	}
	var rep PMIExchangeReply
	if err := e.msg.Decode(&rep); err != nil {
		c.t.Fatal(err)
	}
	if got := kvsLine(rep.KVS); got != kvs {
		c.t.Errorf("rank %d got %s, want %s", e.peer.rank, got, kvs)
	}
}

// A part that ends before its barrier completes fails the round: the
// children that contributed hear EIO, and the round is gone.
func TestPMIRoundDropped(t *testing.T) {
	c := newCore(t, 1, 7, 2)
	ex := &PMIExchange{Job: 9, Epoch: 2, Rank: 3, Ranks: resources.NewIDSet(1, 3), Puts: map[string]string{"b": "2"}}
	c.st.handle(request{from: c.peers[3], m: newMsg(topicPMIReduce, 3, 1, 8, ex)})
	wantFx(t, "in", c.pass(), []string{})
	c.st.launched(&launcher.Result{JobID: 9, Status: 1})
	wantFx(t, "dropped", c.effects(), []string{"send 3 response pmi.reduce tag=8 src=1 dst=3 errnum=5"})
	if len(c.st.pmi.rounds) != 0 {
		t.Error("the round was kept")
	}
}
