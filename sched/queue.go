package sched

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// queue is the pending jobs in queue order, Flux's: higher urgency first,
// then submission order. Held jobs (urgency 0) sort last, so every policy
// stops at the first held job it meets. It is an intrusive doubly linked
// list, so that Cancel and starting a job from the middle are O(1) and
// nothing is re-sliced. A node lives from Submit to Finish (or Cancel): when
// its job starts it leaves the list but keeps its place in the id map, now
// holding the allocation, so a job costs one map insert and one delete in
// all. Nodes are recycled through a free list and allocated in chunks, so a
// steady stream of jobs allocates no nodes at all.
//
// last[u] is the last pending node of urgency u, so that a job is inserted
// after the last job of its urgency or higher in O(levels), not O(queue).
type queue struct {
	head, tail *node
	n          int
	free       *node // recycled nodes, linked through next
	last       [UrgencyMax + 1]*node
}

type node struct {
	job        Job
	urg        uint8  // Flux urgency, 0 (held) to 31
	seq        uint64 // submission order, for tests and tie-breaks
	prev, next *node  // queue links while pending, Scheduler.running links while running; next links the free list

	// Set when the job starts.
	running bool
	alloc   resources.Alloc
	start   time.Time // for the backfill policies' reservations
}

const nodeChunk = 256

// push queues j at its place by urgency (behind every job of the same
// urgency or higher, as seq is the newest); atTail reports whether that
// place was the tail, which the incremental passes rely on.
func (q *queue) push(j Job, urg uint8, seq uint64) (n *node, atTail bool) {
	if q.free == nil {
		chunk := make([]node, nodeChunk)
		for i := range chunk[:nodeChunk-1] {
			chunk[i].next = &chunk[i+1]
		}
		q.free = &chunk[0]
	}
	n = q.free
	q.free = n.next
	*n = node{job: j, urg: urg, seq: seq}
	q.insertAfter(q.placeFor(n), n)
	return n, n.next == nil
}

// placeFor returns the node n goes after in queue order (nil: the head).
func (q *queue) placeFor(n *node) *node {
	for u := int(n.urg); u <= UrgencyMax; u++ {
		if p := q.last[u]; p != nil {
			// p is the last job of the lowest urgency >= n's present; walk
			// back over any of n's own urgency submitted after it (only
			// when n re-enters after an urgency change).
			for p != nil && p.urg == n.urg && p.seq > n.seq {
				p = p.prev
			}
			return p
		}
	}
	return nil
}

func (q *queue) insertAfter(p, n *node) {
	n.prev = p
	if p == nil {
		n.next = q.head
		q.head = n
	} else {
		n.next = p.next
		p.next = n
	}
	if n.next != nil {
		n.next.prev = n
	} else {
		q.tail = n
	}
	if l := q.last[n.urg]; l == nil || l.next == n {
		q.last[n.urg] = n
	}
	q.n++
}

// remove unlinks n from the pending list; n stays valid.
func (q *queue) remove(n *node) {
	if q.last[n.urg] == n {
		if n.prev != nil && n.prev.urg == n.urg {
			q.last[n.urg] = n.prev
		} else {
			q.last[n.urg] = nil
		}
	}
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		q.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		q.tail = n.prev
	}
	q.n--
	n.prev, n.next = nil, nil
}

// recycle returns an unlinked node to the free list; n must not be used
// afterwards.
func (q *queue) recycle(n *node) {
	*n = node{next: q.free}
	q.free = n
}
