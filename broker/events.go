package broker

import (
	"path"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/vmihailenco/msgpack/v5"
)

// eventService is publish/subscribe over the tree. Events are published at
// rank 0, which numbers them, and flow down the tree over the same ordered
// control streams, so every broker sees them in the same order. Clients
// subscribe at their own broker with glob patterns.
type eventService struct {
	st   *state
	subs map[*client][]string
	seq  uint32
}

func newEventService(st *state) *eventService {
	return &eventService{st: st, subs: make(map[*client][]string)}
}

func (ev *eventService) subscribe(from endpoint, m *overlay.Msg) {
	c, ok := from.(*client)
	if !ok {
		ev.st.respondErr(from, m, syscall.EINVAL, "event.subscribe is for clients of this broker")
		return
	}
	var req EventSub
	if err := m.Decode(&req); err != nil {
		ev.st.respondErr(from, m, syscall.EPROTO, "event.subscribe: "+err.Error())
		return
	}
	for _, p := range req.Patterns {
		if _, err := path.Match(p, ""); err != nil {
			ev.st.respondErr(from, m, syscall.EINVAL, "event.subscribe: bad pattern "+p+": use a glob such as job.* or *")
			return
		}
	}
	ev.subs[c] = append(ev.subs[c], req.Patterns...)
	ev.st.respond(from, m, nil)
}

// publishRequest is event.pub at rank 0 (other ranks forward it here).
func (ev *eventService) publishRequest(from endpoint, m *overlay.Msg) {
	var req EventPub
	if err := m.Decode(&req); err != nil || req.Topic == "" {
		ev.st.respondErr(from, m, syscall.EPROTO, "event.pub: needs a topic")
		return
	}
	ev.publishRaw(req.Topic, req.Payload)
	ev.st.respond(from, m, nil)
}

// audience reports whether anyone could receive an event published now:
// a subscriber here, or other brokers (whose subscribers rank 0 cannot see).
func (ev *eventService) audience() bool { return ev.st.size > 1 || len(ev.subs) > 0 }

// publish sends an event from rank 0.
func (ev *eventService) publish(topic string, body any) {
	if !ev.audience() {
		return
	}
	raw, err := msgpack.Marshal(body)
	if err != nil {
		ev.st.cfg.Logf("broker: encoding event %s: %v", topic, err)
		return
	}
	ev.publishRaw(topic, raw)
}

func (ev *eventService) publishRaw(topic string, payload []byte) {
	ev.seq++
	m := &overlay.Msg{Type: overlay.Event, Topic: topic, Src: 0, Dst: -1, Tag: ev.seq}
	if len(payload) > 0 {
		m.Payload = msgpack.RawMessage(payload)
	}
	ev.received(m)
}

// received delivers an event here and passes it on down the tree.
func (ev *eventService) received(m *overlay.Msg) {
	for c, pats := range ev.subs {
		for _, p := range pats {
			if ok, _ := path.Match(p, m.Topic); ok {
				ev.st.reply(c, m)
				break
			}
		}
	}
	for _, p := range ev.st.childPeers() {
		ev.st.send(p, m, false)
	}
}

func (ev *eventService) clientGone(c *client) { delete(ev.subs, c) }
