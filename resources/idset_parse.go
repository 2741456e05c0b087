package resources

import (
	"fmt"
	"strings"
)

// ParseIDSet parses an id set: comma-separated ids and inclusive ranges
// ("0-3,7"), optionally inside Flux RFC 22 brackets ("[0-3,7]"). "" and "[]"
// are the empty set. Ids may repeat or come in any order (the result is a
// set); spaces around an element are ignored. Negative ids, reversed ranges
// ("3-1"), empty elements ("1,,2"), ids above MaxID and anything that is not
// a decimal number are rejected with an error naming the bad element.
func ParseIDSet(s string) (IDSet, error) {
	body := strings.TrimSpace(s)
	if strings.HasPrefix(body, "[") {
		if !strings.HasSuffix(body, "]") {
			return IDSet{}, fmt.Errorf("idset %q: opening '[' without a closing ']'", s)
		}
		body = strings.TrimSpace(body[1 : len(body)-1])
	} else if strings.HasSuffix(body, "]") {
		return IDSet{}, fmt.Errorf("idset %q: closing ']' without an opening '['", s)
	}
	if body == "" {
		return IDSet{}, nil
	}
	// Two passes: the first validates and finds the largest id so the
	// bitset is allocated once.
	top := -1
	for part := range strings.SplitSeq(body, ",") {
		_, hi, err := parseElem(part)
		if err != nil {
			return IDSet{}, fmt.Errorf("idset %q: %w", s, err)
		}
		if hi > top {
			top = hi
		}
	}
	w := make([]uint64, top/64+1)
	for part := range strings.SplitSeq(body, ",") {
		lo, hi, _ := parseElem(part)
		setRange(w, lo, hi)
	}
	return IDSet{w: w}, nil
}

// parseElem parses "7" or "0-3".
func parseElem(part string) (lo, hi int, err error) {
	p := strings.TrimSpace(part)
	if p == "" {
		return 0, 0, fmt.Errorf("empty element (two commas in a row, or a trailing comma?)")
	}
	if strings.HasPrefix(p, "-") {
		return 0, 0, fmt.Errorf("%q: ids cannot be negative", p)
	}
	a, b, isRange := strings.Cut(p, "-")
	lo, err = parseID(strings.TrimSpace(a), p)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err = parseID(strings.TrimSpace(b), p)
	if err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("%q: range is reversed (write %d-%d)", p, hi, lo)
	}
	return lo, hi, nil
}

// parseID accepts only ASCII digits: strconv.Atoi would take "+3".
func parseID(d, elem string) (int, error) {
	if d == "" {
		return 0, fmt.Errorf("%q: missing number", elem)
	}
	n := 0
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c < '0' || c > '9' {
			if c == '-' {
				return 0, fmt.Errorf("%q: ids cannot be negative", elem)
			}
			return 0, fmt.Errorf("%q: not a non-negative integer or range", elem)
		}
		n = n*10 + int(c-'0')
		if n > MaxID {
			return 0, fmt.Errorf("%q: id too large (the limit is %d)", elem, MaxID)
		}
	}
	return n, nil
}
