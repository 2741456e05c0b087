package sched

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// optionKeys are the keys ParseOptions accepts, in the order errors list them.
var optionKeys = []string{"plugin", "queue-depth", "reservation-depth", "default-estimate", "learn-estimates"}

// ParseOptions parses a scheduler option string as Flux spells it in
// FLUX_SCHED_OPTIONS, `flux module load` and --sched:
//
//	plugin=sched.easy reservation-depth=8 queue-depth=32 default-estimate=1h learn-estimates=on
//
// Items are key=value, separated by spaces or commas; a bare word is the
// plugin ("sched.easy queue-depth=8"). Policy names take the "sched." prefix
// or not; the returned Options.Policy is spelled with it. default-estimate
// takes a Go duration or Flux's FSD ("90s", "30m", "1.5h", "2d"). Unknown
// keys and policies are errors that list the valid ones; "plugin=sched.firstfit
// queue-depth=1" is sched.fcfs.
func ParseOptions(s string) (Options, error) {
	var o Options
	seen := map[string]bool{}
	items := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			k, v = "plugin", item
		}
		if seen[k] {
			return Options{}, fmt.Errorf("scheduler option %q is given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "plugin":
			var def policyDef
			if def, err = lookupPolicy(v); err == nil {
				o.Policy = "sched." + def.name
			}
		case "queue-depth":
			o.QueueDepth, err = parseCount(k, v)
		case "reservation-depth":
			o.ReservationDepth, err = parseCount(k, v)
		case "default-estimate":
			o.DefaultEstimate, err = parseEstimate(v)
		case "learn-estimates":
			switch v {
			case "on", "yes", "true", "1":
				o.LearnEstimates = true
			case "off", "no", "false", "0":
			default:
				err = fmt.Errorf("learn-estimates=%s: want on or off", v)
			}
		default:
			err = fmt.Errorf("unknown scheduler option %q; valid: %s", k, strings.Join(optionKeys, ", "))
		}
		if err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// OptionsFromEnv parses FLUX_SCHED_OPTIONS or, when that is unset or empty,
// FLUX_SCHED_OPTS (the seed's spelling). Neither set means the defaults.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	name := "FLUX_SCHED_OPTIONS"
	v := getenv(name)
	if strings.TrimSpace(v) == "" {
		name = "FLUX_SCHED_OPTS"
		v = getenv(name)
	}
	o, err := ParseOptions(v)
	if err != nil {
		return Options{}, fmt.Errorf("%s=%q: %w", name, v, err)
	}
	return o, nil
}

func parseCount(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%s: want a whole number, 0 or more", key, v)
	}
	return n, nil
}

// parseEstimate reads a Go duration ("1h30m") or a Flux FSD ("90s", "1.5h",
// "2d"). A bare number is refused: -t reads it as minutes, FSD as seconds.
func parseEstimate(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	if strings.HasSuffix(v, "d") {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "d"), 64); err == nil && f >= 0 && f < 1e5 {
			return time.Duration(f * float64(24*time.Hour)), nil
		}
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return 0, fmt.Errorf("default-estimate=%s: give a unit, e.g. %ss, %sm or %sh", v, v, v, v)
	}
	return 0, fmt.Errorf("default-estimate=%s: want a duration such as 90s, 30m, 1.5h or 2d", v)
}
