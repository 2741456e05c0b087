package sched

import (
	"fmt"
	"strconv"
)

// ParseUrgency reads an urgency as flux submit --urgency and flux job
// urgency take it: a number from 0 to 31, or hold (0), default (16) or
// expedite (31).
func ParseUrgency(s string) (int, error) {
	switch s {
	case "hold":
		return UrgencyHold, nil
	case "default":
		return UrgencyDefault, nil
	case "expedite":
		return UrgencyExpedite, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > UrgencyMax {
		return 0, fmt.Errorf("%q: want 0 (hold) to 31 (expedite), or hold, default (16) or expedite", s)
	}
	return n, nil
}
