package sched

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// DefaultMaxPending is the queue limit when Options.MaxPending is 0.
const DefaultMaxPending = 1 << 20

// Options configure a Scheduler; New validates them once.
type Options struct {
	// Policy names the placement policy: "fcfs" (also "sched.fcfs", the
	// Flux module name); "" means fcfs.
	Policy string
	// QueueDepth bounds how far past the head a pass looks: a pass stops
	// once it has passed over QueueDepth jobs that do not fit. 0 means
	// unlimited; 1 is strict first-come first-served.
	QueueDepth int
	// MaxPending is the queue limit; 0 means DefaultMaxPending. Submit
	// beyond it returns ErrQueueFull and the caller retries later.
	MaxPending int
}

// policy decides which pending jobs start in one pass. Every policy sees the
// same Scheduler state and starts jobs only through s.start, so accounting
// stays in one place; policies differ in queue order and reservations.
type policy interface {
	schedule(s *Scheduler, now time.Time, out []Start) []Start
}

// policies maps a policy name to its constructor. Later: easy,
// conservative, hybrid backfill.
var policies = map[string]func() policy{
	"fcfs": func() policy { return fcfs{} },
}

// lookupPolicy resolves "fcfs", "sched.fcfs" or "" to a policy.
func lookupPolicy(name string) (policy, error) {
	n := strings.TrimPrefix(strings.TrimSpace(name), "sched.")
	if n == "" {
		n = "fcfs"
	}
	if mk, ok := policies[n]; ok {
		return mk(), nil
	}
	var valid []string
	for k := range policies {
		valid = append(valid, k+" (or sched."+k+")")
	}
	slices.Sort(valid)
	return nil, fmt.Errorf("unknown scheduler policy %q; valid policies: %s", name, strings.Join(valid, ", "))
}

func (o Options) validate(r resources.Set) error {
	if o.QueueDepth < 0 {
		return fmt.Errorf("queue depth %d: must be 0 (unlimited) or more", o.QueueDepth)
	}
	if o.MaxPending < 0 {
		return fmt.Errorf("max pending %d: must be 0 (the default, %d) or more", o.MaxPending, DefaultMaxPending)
	}
	if r.Cores() == 0 {
		return fmt.Errorf("the resource set has no cores; no job could ever run")
	}
	return nil
}
