package sched

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

const (
	// DefaultMaxPending is the queue limit when Options.MaxPending is 0.
	DefaultMaxPending = 1 << 20
	// DefaultEstimate is a job's expected run time when it has no -t and
	// Options.DefaultEstimate is 0. The backfill policies plan with it; the
	// launcher enforces only -t, so a job without one may run longer than
	// this (the plan then treats it as ending "now", see backfill.go).
	DefaultEstimate = time.Hour
	// DefaultReservationDepth is sched.hybrid's reservation depth when
	// Options.ReservationDepth is 0 (Fluxion's hybrid default).
	DefaultReservationDepth = 64
	// DefaultBackfillQueueDepth is the queue depth of the backfill policies
	// when Options.QueueDepth is 0. Every job a backfill pass looks at
	// costs a search of the plan, so an unbounded look at a queue of
	// 100,000 blocked jobs would make each pass quadratic; firstfit has no
	// such cost and keeps 0 = unlimited.
	DefaultBackfillQueueDepth = 1024
)

// Options configure a Scheduler; New and SetPolicy validate them once.
type Options struct {
	// Policy names the placement policy: "sched.easy" (the default, also
	// ""), "sched.fcfs", "sched.conservative", "sched.hybrid" or
	// "sched.firstfit"; the "sched." prefix is optional.
	Policy string
	// QueueDepth bounds how far past the head a pass looks: a pass stops
	// once it has passed over QueueDepth jobs that do not start. 0 means
	// unlimited for firstfit and DefaultBackfillQueueDepth for the backfill
	// policies; fcfs ignores it (it never looks past the head). With
	// firstfit, 1 is strict first-come first-served, as fcfs.
	QueueDepth int
	// ReservationDepth is how many of the jobs that cannot start now get a
	// reservation, for sched.hybrid; 0 means DefaultReservationDepth. The
	// other policies fix it and ignore this field: fcfs and firstfit none, easy 1,
	// conservative every job within the queue depth.
	ReservationDepth int
	// DefaultEstimate is the expected run time of a job without -t (whose
	// Job.Estimate is 0); 0 means DefaultEstimate (one hour).
	DefaultEstimate time.Duration
	// MaxPending is the queue limit; 0 means DefaultMaxPending. Submit
	// beyond it returns ErrQueueFull and the caller retries later.
	MaxPending int
	// LearnEstimates plans a job without -t with what jobs of the same
	// Job.Key took lately (Learner; the caller reports runs with Observe),
	// falling back to DefaultEstimate for a key not seen yet.
	LearnEstimates bool
}

// policy decides which pending jobs start in one pass. Every policy sees the
// same Scheduler state and starts jobs only through s.start, so accounting
// stays in one place; policies differ in queue order and reservations.
type policy interface {
	schedule(s *Scheduler, now time.Time, out []Start) []Start
}

// policyDef is one entry of the registry of named policies.
type policyDef struct {
	name string // without the "sched." prefix
	mk   func() policy
	// resv is the number of reservations a pass makes under o.
	resv func(o Options) int
	// depth is the queue depth when o.QueueDepth is 0.
	depth int
}

// DefaultPolicy is the policy when Options.Policy is "": EASY backfill,
// which never starves a job (a wide job's start is never delayed beyond
// its reservation by jobs queued after it) and still fills idle cores.
const DefaultPolicy = "sched.easy"

// policies is the registry, in the order error messages list them.
var policies = []policyDef{
	{"fcfs", func() policy { return fcfs{} }, func(Options) int { return 0 }, math.MaxInt},
	{"easy", func() policy { return backfill{} }, func(Options) int { return 1 }, DefaultBackfillQueueDepth},
	{"conservative", func() policy { return backfill{} }, func(Options) int { return math.MaxInt }, DefaultBackfillQueueDepth},
	{"hybrid", func() policy { return backfill{} }, func(o Options) int {
		if o.ReservationDepth == 0 {
			return DefaultReservationDepth
		}
		return o.ReservationDepth
	}, DefaultBackfillQueueDepth},
	{"firstfit", func() policy { return firstfit{} }, func(Options) int { return 0 }, math.MaxInt},
}

// PolicyNames returns the valid policy names, with the "sched." prefix.
func PolicyNames() []string {
	out := make([]string, len(policies))
	for i, p := range policies {
		out[i] = "sched." + p.name
	}
	return out
}

// lookupPolicy resolves "fcfs", "sched.fcfs" or "" (DefaultPolicy) to a
// policy.
func lookupPolicy(name string) (policyDef, error) {
	n := strings.TrimPrefix(strings.TrimSpace(name), "sched.")
	if n == "" {
		n = strings.TrimPrefix(DefaultPolicy, "sched.")
	}
	for _, p := range policies {
		if p.name == n {
			return p, nil
		}
	}
	return policyDef{}, fmt.Errorf("unknown scheduler %q; valid: %s", name, strings.Join(PolicyNames(), ", "))
}

func (o Options) validate(r resources.Set) error {
	if o.QueueDepth < 0 {
		return fmt.Errorf("queue depth %d: must be 0 (the policy's default) or more", o.QueueDepth)
	}
	if o.ReservationDepth < 0 {
		return fmt.Errorf("reservation depth %d: must be 0 (the default, %d) or more", o.ReservationDepth, DefaultReservationDepth)
	}
	if o.DefaultEstimate < 0 {
		return fmt.Errorf("default estimate %v: must be 0 (the default, %v) or more", o.DefaultEstimate, DefaultEstimate)
	}
	if o.MaxPending < 0 {
		return fmt.Errorf("max pending %d: must be 0 (the default, %d) or more", o.MaxPending, DefaultMaxPending)
	}
	if r.Cores() == 0 {
		return fmt.Errorf("the resource set has no cores; no job could ever run")
	}
	return nil
}
