package resources

import "testing"

func FuzzParseIDSet(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,7", "[0-3,7]", "[]", "7,0-3", "1,,2", "3-1", "-1", "0-1048576",
		"63,64,127-128", " 1 , 2 ", "0-99999999999", "+1", "1-2-3", "[0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseIDSet(s)
		if err != nil {
			return
		}
		str := v.String()
		w, err := ParseIDSet(str)
		if err != nil {
			t.Fatalf("ParseIDSet(%q) = %q, which does not parse: %v", s, str, err)
		}
		if !w.Equal(v) || w.String() != str {
			t.Fatalf("round trip of %q: %q -> %q", s, str, w)
		}
		if n := len(v.IDs()); n != v.Count() {
			t.Fatalf("%q: %d ids but Count %d", s, n, v.Count())
		}
		if !v.Union(v).Equal(v) || !v.Minus(v).Empty() || !v.Intersect(v).Equal(v) || !v.First(v.Count()).Equal(v) {
			t.Fatalf("%q: set identities fail", s)
		}
	})
}
