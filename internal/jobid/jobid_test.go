package jobid

import (
	"errors"
	"math"
	"testing"
	"time"
)

// Pairs seen from flux-core 0.88 (flux job id --to=...).
func TestEncodeMatchesFlux(t *testing.T) {
	Prefix = PrefixUTF8
	cases := []struct {
		id                      uint64
		f58, hex, dothex, words string
	}{
		{47177531392, "ƒ2EsvBSf", "0xafc000000", "0000.000a.fc00.0000", "rufus-cowboy-venice--airline-academy-academy"},
		{0, "ƒ1", "0x0", "0000.0000.0000.0000", "academy-academy-academy--academy-academy-academy"},
		{1626, "ƒV3", "0x65a", "0000.0000.0000.065a", "academy-acrobat-academy--academy-academy-academy"},
		{4294967296, "ƒ7YXq9H", "0x100000000", "0000.0001.0000.0000", "academy-academy-academy--acrobat-academy-academy"},
	}
	for _, c := range cases {
		if got := String(c.id); got != c.f58 {
			t.Errorf("String(%d) = %q, want %q", c.id, got, c.f58)
		}
		for f, want := range map[Form]string{Hex: c.hex, DotHex: c.dothex, Words: c.words, F58: c.f58} {
			if got := Encode(c.id, f); got != want {
				t.Errorf("Encode(%d, %s) = %q, want %q", c.id, FormNames[f], got, want)
			}
			if back, err := Parse(want); err != nil || back != c.id {
				t.Errorf("Parse(%q) = %d, %v; want %d", want, back, err, c.id)
			}
		}
	}
}

func TestParse(t *testing.T) {
	good := map[string]uint64{
		"ƒ2EsvBSf": 47177531392, "f2EsvBSf": 47177531392, " 47177531392\n": 47177531392,
		"0XAFC000000": 47177531392, "18446744073709551615": math.MaxUint64,
		"fjpXCZedGfVQ": math.MaxUint64, "ƒ1": 0, "job.0000.000a.fc00.0000": 47177531392,
	}
	for s, want := range good {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	bad := []string{"", "ƒ", "f", "fBOGUS0", "ƒ0", "fl", "12a", "-1", "+1", "0x", "0x-1", "0xg", "0x1_0",
		"18446744073709551616", "fjpXCZedGfVR", "ƒ11111111111111", "0000.0000.0000", "0000.0000.0000.00000",
		"000g.0000.0000.0000", "academy-academy--academy-academy-academy", "foo-bar-baz--academy-academy-academy",
		"verbal-verbal-verbal--academy-academy-academy", "1.5", "ƒ2bG3oV x", "job.12", "job.0000.0000.0000"}
	for _, s := range bad {
		if got, err := Parse(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %d, %v; want ErrSyntax", s, got, err)
		}
	}
}

func TestPrefixFromEnv(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LANG": "C.UTF-8"}, PrefixUTF8},
		{map[string]string{"LANG": "en_US.utf8"}, PrefixUTF8},
		{map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C"}, PrefixASCII},
		{map[string]string{"LC_CTYPE": "en_US.UTF-8", "LANG": "C"}, PrefixUTF8},
		{map[string]string{"LANG": "C.UTF-8", "FLUX_F58_FORCE_ASCII": "1"}, PrefixASCII},
		{map[string]string{}, PrefixASCII},
	}
	for _, c := range cases {
		if got := prefixFromEnv(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: prefix %q, want %q", c.env, got, c.want)
		}
	}
}

func TestGeneratorIncreasesThroughBursts(t *testing.T) {
	now := Epoch.Add(5 * time.Second)
	g := NewGenerator(77, func() time.Time { return now })
	last := uint64(0)
	for i := 0; i < 5000; i++ { // several milliseconds' worth of sequence numbers
		id := g.Next()
		if id <= last {
			t.Fatalf("id %d after %d: not increasing", id, last)
		}
		last = id
		if _, gen, _ := Split(id); gen != 77 {
			t.Fatalf("generator %d, want 77", gen)
		}
	}
	ts, _, _ := Split(last)
	if ts != 5000+4 { // 5000 ids, 1024 a millisecond: borrowed 4 ms
		t.Errorf("timestamp %d after the burst, want 5004", ts)
	}
	now = now.Add(-time.Second) // the clock steps back: ids still increase
	if id := g.Next(); id <= last {
		t.Errorf("id %d after the clock stepped back, not above %d", id, last)
	}
	now = Epoch.Add(time.Minute)
	id := g.Next()
	if ts, _, seq := Split(id); ts != 60000 || seq != 0 {
		t.Errorf("after a minute: timestamp %d seq %d, want 60000 0", ts, seq)
	}
	if got := Time(id); !got.Equal(now) {
		t.Errorf("Time = %v, want %v", got, now)
	}
}

func TestParseForm(t *testing.T) {
	for i, n := range FormNames {
		if f, err := ParseForm(n); err != nil || f != Form(i) {
			t.Errorf("ParseForm(%q) = %v, %v", n, f, err)
		}
	}
	if _, err := ParseForm("emoji"); err == nil {
		t.Error("ParseForm(emoji) accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ƒ2EsvBSf", "f1", "123", "0xafc000000", "0000.000a.fc00.0000",
		"rufus-cowboy-venice--airline-academy-academy", "ƒ", "-", "..", "0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		for form := range FormNames {
			back, err := Parse(Encode(id, Form(form)))
			if err != nil || back != id {
				t.Fatalf("%q -> %d: %s form %q reads back as %d, %v", s, id, FormNames[form], Encode(id, Form(form)), back, err)
			}
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(math.MaxUint64))
	f.Add(uint64(47177531392))
	f.Fuzz(func(t *testing.T, id uint64) {
		for _, p := range []string{PrefixUTF8, PrefixASCII} {
			Prefix = p
			for form := range FormNames {
				s := Encode(id, Form(form))
				if back, err := Parse(s); err != nil || back != id {
					t.Fatalf("%d as %s = %q reads back as %d, %v", id, FormNames[form], s, back, err)
				}
			}
		}
	})
}
