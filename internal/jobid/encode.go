package jobid

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// Form is a text encoding of an id.
type Form int

// The forms Flux knows (flux job id --to=...).
const (
	F58 Form = iota
	Dec
	Hex
	DotHex
	Words
)

// FormNames lists the forms by their flux names, for messages and flags.
var FormNames = []string{"f58", "dec", "hex", "dothex", "words"}

// ParseForm reads a form's name (f58, dec, hex, dothex, words).
func ParseForm(s string) (Form, error) {
	for i, n := range FormNames {
		if s == n {
			return Form(i), nil
		}
	}
	return 0, fmt.Errorf("unknown id form %q; use one of %s", s, strings.Join(FormNames, ", "))
}

// f58Alphabet is Flux's base58 alphabet (Bitcoin's): no 0, O, I or l.
const f58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// f58Value maps a byte to its digit value, or -1.
var f58Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(f58Alphabet); i++ {
		t[f58Alphabet[i]] = int8(i)
	}
	return t
}()

// The f58 prefixes: Flux prints "ƒ" (U+0192) where the locale is UTF-8 and
// "f" otherwise; it reads both.
const (
	PrefixUTF8  = "ƒ"
	PrefixASCII = "f"
)

// Prefix is what F58 prints: "ƒ", or "f" when FLUX_F58_FORCE_ASCII is set
// or the locale (LC_ALL, LC_CTYPE, LANG, first one set) is not UTF-8.
var Prefix = prefixFromEnv(os.Getenv)

func prefixFromEnv(getenv func(string) string) string {
	if getenv("FLUX_F58_FORCE_ASCII") != "" {
		return PrefixASCII
	}
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(k); v != "" {
			v = strings.ToLower(v)
			if strings.Contains(v, "utf-8") || strings.Contains(v, "utf8") {
				return PrefixUTF8
			}
			return PrefixASCII
		}
	}
	return PrefixASCII
}

// String is an id in f58, the form every command prints.
func String(id uint64) string { return string(AppendF58(make([]byte, 0, 16), id)) }

// AppendF58 appends id's f58 form (with Prefix) to b.
func AppendF58(b []byte, id uint64) []byte {
	var digits [11]byte // 58^11 > 2^64
	i := len(digits)
	for {
		i--
		digits[i] = f58Alphabet[id%58]
		id /= 58
		if id == 0 {
			break
		}
	}
	b = append(b, Prefix...)
	return append(b, digits[i:]...)
}

// Encode prints id in the form f.
func Encode(id uint64, f Form) string {
	switch f {
	case Dec:
		return strconv.FormatUint(id, 10)
	case Hex:
		return "0x" + strconv.FormatUint(id, 16)
	case DotHex:
		return fmt.Sprintf("%04x.%04x.%04x.%04x", id>>48, id>>32&0xffff, id>>16&0xffff, id&0xffff)
	case Words:
		return encodeWords(id)
	}
	return String(id)
}

// ErrSyntax is wrapped by every Parse error.
var ErrSyntax = errors.New("not a job id")

// Parse reads an id in any form: f58 ("ƒ2bG3oV" or "f2bG3oV"), decimal,
// hex ("0x…"), dothex ("0000.000a.fc00.0000", also as the KVS path
// "job.0000.000a.fc00.0000") or words. Blanks around it are
// ignored. The error says which forms are accepted.
func Parse(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(t, "job."); ok && strings.Count(rest, ".") == 3 {
		t = rest // the KVS form: job.0000.000a.fc00.0000
	}
	var (
		id  uint64
		err error
	)
	switch {
	case t == "":
		err = ErrSyntax
	case strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X"):
		id, err = parseHex(t[2:])
	case strings.HasPrefix(t, PrefixUTF8):
		id, err = parseF58(t[len(PrefixUTF8):])
	case strings.IndexByte(t, '.') >= 0:
		id, err = parseDotHex(t)
	case strings.IndexByte(t, '-') >= 0:
		id, err = decodeWords(t)
	case t[0] == 'f':
		id, err = parseF58(t[1:])
	default:
		id, err = parseDec(t)
	}
	if err != nil {
		return 0, fmt.Errorf("%q: %w (ids look like ƒ2bG3oV, f2bG3oV, 123456, 0x1e240, 0000.0000.0001.e240 or six words)", s, ErrSyntax)
	}
	return id, nil
}

func parseDec(s string) (uint64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

func parseHex(s string) (uint64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' || strings.IndexByte(s, '_') >= 0 {
		return 0, ErrSyntax
	}
	return strconv.ParseUint(s, 16, 64)
}

func parseF58(s string) (uint64, error) {
	if s == "" || len(s) > 11 {
		return 0, ErrSyntax
	}
	var id uint64
	for i := 0; i < len(s); i++ {
		d := f58Value[s[i]]
		if d < 0 {
			return 0, ErrSyntax
		}
		hi, lo := bits.Mul64(id, 58)
		if hi != 0 || lo+uint64(d) < lo {
			return 0, ErrSyntax // overflow
		}
		id = lo + uint64(d)
	}
	return id, nil
}

func parseDotHex(s string) (uint64, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, ErrSyntax
	}
	var id uint64
	for _, p := range parts {
		if len(p) != 4 {
			return 0, ErrSyntax
		}
		v, err := parseHex(p)
		if err != nil {
			return 0, ErrSyntax
		}
		id = id<<16 | v
	}
	return id, nil
}
