package sched

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// queue is the pending jobs in submission order: an intrusive doubly linked
// list, so that Cancel and starting a job from the middle are O(1) and
// nothing is re-sliced. A node lives from Submit to Finish (or Cancel): when
// its job starts it leaves the list but keeps its place in the id map, now
// holding the allocation, so a job costs one map insert and one delete in
// all. Nodes are recycled through a free list and allocated in chunks, so a
// steady stream of jobs allocates no nodes at all.
type queue struct {
	head, tail *node
	n          int
	free       *node // recycled nodes, linked through next
}

type node struct {
	job        Job
	seq        uint64 // submission order, for tests and tie-breaks
	prev, next *node  // queue links while pending, Scheduler.running links while running; next links the free list

	// Set when the job starts.
	running bool
	alloc   resources.Alloc
	start   time.Time // for the backfill policies' reservations
}

const nodeChunk = 256

func (q *queue) push(j Job, seq uint64) *node {
	if q.free == nil {
		chunk := make([]node, nodeChunk)
		for i := range chunk[:nodeChunk-1] {
			chunk[i].next = &chunk[i+1]
		}
		q.free = &chunk[0]
	}
	n := q.free
	q.free = n.next
	*n = node{job: j, seq: seq, prev: q.tail}
	if q.tail != nil {
		q.tail.next = n
	} else {
		q.head = n
	}
	q.tail = n
	q.n++
	return n
}

// remove unlinks n from the pending list; n stays valid.
func (q *queue) remove(n *node) {
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
