package resources

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxHosts bounds the expansion of a hostlist, so that a mistyped or hostile
// "n[1-999999999]" is an error and not gigabytes of host names.
const MaxHosts = 1 << 20

// MaxHostName bounds the length of one expanded host name (DNS allows 253).
const MaxHostName = 1024

// maxDigits bounds a number inside brackets (18 digits fit an int64).
const maxDigits = 18

// ParseHostlist expands a hostlist in the Slurm and Flux syntax into host
// names, in order:
//
//	"n[1-4,7]"          n1 n2 n3 n4 n7
//	"tbhost[1-3]"       tbhost1 tbhost2 tbhost3
//	"a,b,c"             a b c
//	"n[01-03]"          n01 n02 n03 (a range is zero-padded to the width of its first number)
//	"rack[1-2]n[01-02]" rack1n01 rack1n02 rack2n01 rack2n02 (several groups: the first varies slowest)
//	"n[1-3],m5"         n1 n2 n3 m5
//	"n[1-2]-ib"         n1-ib n2-ib
//
// Elements are separated by commas outside brackets; spaces around elements
// and around the items inside brackets are ignored. Duplicates are kept.
// "" is the empty list. Host names are printable ASCII without spaces,
// commas or brackets. Errors name the bad element: unbalanced or nested
// brackets, empty elements or items, ranges that run backwards, numbers
// that are not decimal, names longer than MaxHostName, and lists that
// expand to more than MaxHosts names.
func ParseHostlist(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	elems, err := splitHostlist(s)
	if err != nil {
		return nil, fmt.Errorf("hostlist %q: %w", s, err)
	}
	// First pass: parse and count, so that nothing is expanded unless the
	// whole list is valid and within MaxHosts.
	parsed := make([][]hostPart, len(elems))
	total := 0
	for i, e := range elems {
		parts, n, err := parseHostElem(e)
		if err != nil {
			return nil, fmt.Errorf("hostlist %q: %s: %w", s, e, err)
		}
		if total += n; total > MaxHosts {
			return nil, fmt.Errorf("hostlist %q: %s: the list expands to more than %d hosts", s, e, MaxHosts)
		}
		parsed[i] = parts
	}
	hosts := make([]string, 0, total)
	for _, parts := range parsed {
		hosts = expandParts(hosts, parts, "")
	}
	return hosts, nil
}

// splitHostlist splits at the commas outside brackets and checks that the
// brackets are balanced and not nested.
func splitHostlist(s string) ([]string, error) {
	var elems []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth > 0 {
				return nil, fmt.Errorf("%s: brackets cannot be nested", elemAround(s, start))
			}
			depth++
		case ']':
			if depth == 0 {
				return nil, fmt.Errorf("%s: ']' without an opening '['", elemAround(s, start))
			}
			depth--
		case ',':
			if depth == 0 {
				elems = append(elems, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("%s: '[' without a closing ']'", strings.TrimSpace(s[start:]))
	}
	elems = append(elems, strings.TrimSpace(s[start:]))
	for _, e := range elems {
		if e == "" {
			return nil, errors.New("empty element (two commas in a row, or a leading or trailing comma?)")
		}
	}
	return elems, nil
}

// elemAround is the element starting at start, up to the next comma outside
// brackets (or the end), for error messages.
func elemAround(s string, start int) string {
	depth := 0
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth <= 0 {
				return strings.TrimSpace(s[start:i])
			}
		}
	}
	return strings.TrimSpace(s[start:])
}

// hostPart is a literal piece of a host name, or (lit == "" and
// ranges != nil) a bracket group.
type hostPart struct {
	lit    string
	ranges []numRange
}

// numRange is one item of a bracket group: lo..hi, zero-padded to width.
type numRange struct {
	lo, hi int64
	width  int
}

func (r numRange) count() int64 { return r.hi - r.lo + 1 }

// parseHostElem parses one element ("rack[1-2]n[01-03]") into its parts and
// the number of hosts it expands to (at most MaxHosts+1: counting stops there).
func parseHostElem(e string) ([]hostPart, int, error) {
	var parts []hostPart
	count := int64(1)
	nameLen := 0 // the longest name it expands to
	for len(e) > 0 {
		open := strings.IndexByte(e, '[')
		if open < 0 {
			open = len(e)
		}
		if open > 0 {
			lit := e[:open]
			if err := checkHostChars(lit); err != nil {
				return nil, 0, err
			}
			parts = append(parts, hostPart{lit: lit})
			nameLen += len(lit)
		}
		if nameLen > MaxHostName {
			return nil, 0, fmt.Errorf("host names longer than %d characters", MaxHostName)
		}
		if open == len(e) {
			break
		}
		end := strings.IndexByte(e[open:], ']') + open // splitHostlist checked the balance
		ranges, n, err := parseBracket(e[open+1 : end])
		if err != nil {
			return nil, 0, err
		}
		parts = append(parts, hostPart{ranges: ranges})
		width := 0
		for _, r := range ranges {
			width = max(width, r.width, len(strconv.FormatInt(r.hi, 10)))
		}
		if nameLen += width; nameLen > MaxHostName {
			return nil, 0, fmt.Errorf("host names longer than %d characters", MaxHostName)
		}
		if count *= n; count > MaxHosts {
			count = MaxHosts + 1
		}
		e = e[end+1:]
	}
	return parts, int(count), nil
}

func checkHostChars(lit string) error {
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%q: host names are printable ASCII without spaces", lit)
		}
	}
	return nil
}

// parseBracket parses the inside of a bracket group: "1-4,7", "01-03".
// The count it returns is capped at MaxHosts+1.
func parseBracket(body string) ([]numRange, int64, error) {
	if strings.TrimSpace(body) == "" {
		return nil, 0, errors.New("empty brackets")
	}
	var ranges []numRange
	var count int64
	for item := range strings.SplitSeq(body, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, 0, fmt.Errorf("empty item in [%s] (two commas in a row?)", body)
		}
		a, b, isRange := strings.Cut(item, "-")
		lo, err := parseHostNum(a, item)
		if err != nil {
			return nil, 0, err
		}
		hi := lo
		if isRange {
			if hi, err = parseHostNum(b, item); err != nil {
				return nil, 0, err
			}
			if hi < lo {
				return nil, 0, fmt.Errorf("range runs backwards (%s: write %s-%s)", item, b, a)
			}
		}
		r := numRange{lo: lo, hi: hi, width: len(a)}
		ranges = append(ranges, r)
		if count += r.count(); count > MaxHosts {
			count = MaxHosts + 1
		}
	}
	return ranges, count, nil
}

func parseHostNum(d, item string) (int64, error) {
	if d == "" {
		return 0, fmt.Errorf("missing number in %q", item)
	}
	if len(d) > maxDigits {
		return 0, fmt.Errorf("number too long in %q (at most %d digits)", item, maxDigits)
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, fmt.Errorf("%q is not a number or a range of numbers", item)
		}
	}
	return strconv.ParseInt(d, 10, 64)
}

// expandParts appends every host of one element: prefix + the expansion of
// parts (the cartesian product of its groups, the first varying slowest).
func expandParts(hosts []string, parts []hostPart, prefix string) []string {
	for i, p := range parts {
		if p.ranges == nil {
			prefix += p.lit
			continue
		}
		for _, r := range p.ranges {
			for n := r.lo; n <= r.hi; n++ {
				hosts = expandParts(hosts, parts[i+1:], prefix+padNum(n, r.width))
			}
		}
		return hosts
	}
	return append(hosts, prefix)
}

func padNum(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// FormatHostlist compresses host names into a hostlist, the inverse of
// ParseHostlist: ["n1","n2","n3","n7"] -> "n[1-3,7]". The order of the hosts
// is kept exactly (so duplicates and unsorted lists survive a round trip):
// neighbours that differ only in their last number share one bracket group,
// consecutive numbers become ranges, and zero padding is kept ("n[01-03]").
// A host that shares nothing with its neighbours is written as it is.
func FormatHostlist(hosts []string) string {
	var b strings.Builder
	for i := 0; i < len(hosts); {
		h := splitHost(hosts[i])
		j := i + 1
		for j < len(hosts) && h.ok {
			g := splitHost(hosts[j])
			if !g.ok || g.prefix != h.prefix || g.suffix != h.suffix {
				break
			}
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j-i == 1 {
			b.WriteString(hosts[i])
			i = j
			continue
		}
		b.WriteString(h.prefix)
		b.WriteByte('[')
		writeRanges(&b, hosts[i:j])
		b.WriteByte(']')
		b.WriteString(h.suffix)
		i = j
	}
	return b.String()
}

// hostName is a host name split around its last run of digits.
type hostName struct {
	prefix, digits, suffix string
	num                    int64
	ok                     bool // has a number that fits in brackets
}

func splitHost(h string) hostName {
	end := len(h)
	for end > 0 && (h[end-1] < '0' || h[end-1] > '9') {
		end--
	}
	start := end
	for start > 0 && h[start-1] >= '0' && h[start-1] <= '9' {
		start--
	}
	if start == end || end-start > maxDigits {
		return hostName{}
	}
	n, err := strconv.ParseInt(h[start:end], 10, 64)
	if err != nil {
		return hostName{}
	}
	return hostName{prefix: h[:start], digits: h[start:end], suffix: h[end:], num: n, ok: true}
}

// writeRanges writes the bracket items of hosts (same prefix and suffix): a
// run of consecutive numbers that its first number's width reproduces
// becomes "lo-hi".
func writeRanges(b *strings.Builder, hosts []string) {
	for i := 0; i < len(hosts); {
		lo := splitHost(hosts[i])
		j := i + 1
		for j < len(hosts) {
			h := splitHost(hosts[j])
			if h.num != lo.num+int64(j-i) || padNum(h.num, len(lo.digits)) != h.digits {
				break
			}
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(lo.digits)
		if j-i > 1 {
			b.WriteByte('-')
			b.WriteString(splitHost(hosts[j-1]).digits)
		}
		i = j
	}
}
