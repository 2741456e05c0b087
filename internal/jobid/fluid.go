package jobid

import (
	"sync"
	"time"
)

// The layout of a FLUID (RFC 19), most significant bits first.
const (
	timestampBits = 40
	generatorBits = 14
	sequenceBits  = 10

	MaxGenerator = 1<<generatorBits - 1
	maxSequence  = 1<<sequenceBits - 1
	maxTimestamp = 1<<timestampBits - 1
)

// Epoch is where our timestamps count from. Flux counts from the first
// start of an instance; we count from a fixed date so that ids stay unique
// across instances and restarts (with the generator id telling concurrent
// instances apart), at the price of longer ids (11 f58 digits) than a fresh
// Flux instance's.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Make composes an id from its parts (each masked to its width).
func Make(timestamp uint64, generator, sequence uint32) uint64 {
	return (timestamp&maxTimestamp)<<(generatorBits+sequenceBits) |
		uint64(generator&MaxGenerator)<<sequenceBits | uint64(sequence&maxSequence)
}

// Split returns an id's timestamp (ms since Epoch), generator and sequence.
func Split(id uint64) (timestamp uint64, generator, sequence uint32) {
	return id >> (generatorBits + sequenceBits), uint32(id>>sequenceBits) & MaxGenerator, uint32(id) & maxSequence
}

// Time is when an id was made.
func Time(id uint64) time.Time {
	ts, _, _ := Split(id)
	return Epoch.Add(time.Duration(ts) * time.Millisecond)
}

// Generator hands out increasing ids. More than 1024 ids in one millisecond
// borrow the next millisecond rather than wait for it, so ids never repeat
// and a burst never blocks; the clock catches up after the burst.
type Generator struct {
	mu   sync.Mutex // guards the fields below; the broker's loop is the usual only caller
	id   uint32
	now  func() time.Time
	last uint64 // timestamp of the last id
	seq  uint32 // sequence of the last id
	used bool
}

// NewGenerator makes a generator with id gen (0..MaxGenerator) reading the
// clock now (nil: time.Now).
func NewGenerator(gen uint32, now func() time.Time) *Generator {
	if now == nil {
		now = time.Now
	}
	return &Generator{id: gen & MaxGenerator, now: now}
}

// Next returns a new id, larger than every id this generator gave before.
func (g *Generator) Next() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	ts := uint64(0)
	if d := g.now().Sub(Epoch); d > 0 {
		ts = uint64(d / time.Millisecond)
	}
	switch {
	case !g.used || ts > g.last:
		g.last, g.seq, g.used = ts, 0, true
	case g.seq < maxSequence:
		g.seq++
	default:
		g.last++
		g.seq = 0
	}
	return Make(g.last, g.id, g.seq)
}
