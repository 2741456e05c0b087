package capacitor

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// durationHint is the tail of every ParseDuration syntax error; ParseLine
// prefixes it with the option, as in "-t 5x: not a duration; ...".
const durationHint = "not a duration; use 30s, 2m, 1h or a number of minutes"

// ParseDuration reads a time limit the way Flux's -t/--time-limit does
// (Flux Standard Duration, RFC 23): a decimal number with an optional unit
// suffix ms, s, m, h or d. A bare number is minutes, as in flux submit -t 90.
//
// The grammar is checked by hand before strconv sees the number, so forms
// that ParseFloat would accept but a user never means ("inf", "1e3", "0x10",
// "1_0") are rejected rather than silently turned into odd limits. Zero and
// negative values parse; whether they make sense is the caller's decision.
func ParseDuration(s string) (time.Duration, error) {
	num, unit := splitDurationUnit(s)
	if !isDecimal(num) {
		return 0, errors.New(s + ": " + durationHint)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil { // cannot happen after isDecimal except for range errors
		return 0, errors.New(s + ": " + durationHint)
	}
	ns := math.Round(v * float64(unit))
	if ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, errors.New(s + ": too long; a time limit must be under 292 years")
	}
	return time.Duration(ns), nil
}

// splitDurationUnit separates the unit suffix; no suffix means minutes.
func splitDurationUnit(s string) (string, time.Duration) {
	switch {
	case len(s) > 2 && s[len(s)-2:] == "ms":
		return s[:len(s)-2], time.Millisecond
	case len(s) > 1 && s[len(s)-1] == 's':
		return s[:len(s)-1], time.Second
	case len(s) > 1 && s[len(s)-1] == 'm':
		return s[:len(s)-1], time.Minute
	case len(s) > 1 && s[len(s)-1] == 'h':
		return s[:len(s)-1], time.Hour
	case len(s) > 1 && s[len(s)-1] == 'd':
		return s[:len(s)-1], 24 * time.Hour
	}
	return s, time.Minute
}

// isDecimal reports whether s is [+-]digits[.digits] or [+-].digits, with at
// least one digit.
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
