package hierarchy

import (
	"math"
	"time"
)

// stockTime is how much work, in time, a child keeps in lines beyond what
// its cores run: enough that a sync's round trip never leaves a core idle,
// and few enough that lines do not sit at one child while its siblings run
// out at the end of a run. A child that ends 1,600 lines a second keeps 80;
// one whose lines run for an hour keeps one.
const stockTime = 50 * time.Millisecond

// meterTau is the time constant of a child's rate estimate: long enough to
// smooth batches (a leaf's lines end in bursts), short enough to follow a
// change in the lines' length within a fraction of a second.
const meterTau = 100 * time.Millisecond

// meter estimates a rate of events as an exponentially weighted count: each
// event adds one, and the sum decays with time constant meterTau, so sum /
// meterTau is the recent rate.
type meter struct {
	sum float64
	at  time.Time
}

func (m *meter) decay(now time.Time) {
	if !m.at.IsZero() {
		m.sum *= math.Exp(-float64(now.Sub(m.at)) / float64(meterTau))
	}
	m.at = now
}

// add counts n events at now.
func (m *meter) add(n int, now time.Time) {
	m.decay(now)
	m.sum += float64(n)
}

// rate is the recent rate, in events per second.
func (m *meter) rate(now time.Time) float64 {
	m.decay(now)
	return m.sum / meterTau.Seconds()
}

// stock is how many lines a child ending lines at m's rate keeps waiting:
// stockTime's worth, within [least, most].
func (m *meter) stock(now time.Time, least, most int) int {
	n := int(m.rate(now) * stockTime.Seconds())
	return min(max(n, least), most)
}
