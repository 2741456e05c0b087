package resources

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseHostlist(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // hosts joined by spaces
	}{
		{"", ""},
		{"  ", ""},
		{"n1", "n1"},
		{"n[1-4,7]", "n1 n2 n3 n4 n7"},
		{"tbhost[1-3]", "tbhost1 tbhost2 tbhost3"},
		{"a,b,c", "a b c"},
		{"n[01-03]", "n01 n02 n03"},
		{"n[8-10]", "n8 n9 n10"},
		{"n[08-10]", "n08 n09 n10"},
		{"n[098-101]", "n098 n099 n100 n101"},
		{"n[01-02,7,010]", "n01 n02 n7 n010"},
		{"rack[1-2]n[01-03]", "rack1n01 rack1n02 rack1n03 rack2n01 rack2n02 rack2n03"},
		{"n[1-3],m5", "n1 n2 n3 m5"},
		{"n[1-2]-ib", "n1-ib n2-ib"},
		{"n[1-2]-ib,n3-ib", "n1-ib n2-ib n3-ib"},
		{"[1-3]", "1 2 3"},
		{"[1-2][1-2]", "11 12 21 22"},
		{"n[3,1,2]", "n3 n1 n2"},
		{"n1,n1", "n1 n1"},
		{"n[1-2],n[2-3]", "n1 n2 n2 n3"},
		{" n1 , n[ 2-3 , 5 ] ", "n1 n2 n3 n5"},
		{"node-7.cluster", "node-7.cluster"},
		{"n[5]", "n5"},
		{"n[0]", "n0"},
		{"n[00-01]", "n00 n01"},
		{strings.Repeat("a", 1024), strings.Repeat("a", 1024)},
	} {
		got, err := ParseHostlist(c.in)
		if err != nil {
			t.Errorf("ParseHostlist(%q): %v", c.in, err)
			continue
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("ParseHostlist(%q) = %q, want %q", c.in, strings.Join(got, " "), c.want)
		}
	}
}

func TestParseHostlistErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"n[3-1]", `hostlist "n[3-1]": n[3-1]: range runs backwards (3-1: write 1-3)`},
		{"a,n[1-2,5-4]", `n[1-2,5-4]: range runs backwards (5-4`},
		{"n[1-999999999]", `n[1-999999999]: the list expands to more than 1048576 hosts`},
		{"n[1-1024][1-1025]", `the list expands to more than 1048576 hosts`},
		{"n[1-600000],m[1-600000]", `m[1-600000]: the list expands to more than 1048576 hosts`},
		{"n[1-3", `n[1-3: '[' without a closing ']'`},
		{"a,n1-3]", `n1-3]: ']' without an opening '['`},
		{"n[1-[2]]", `brackets cannot be nested`},
		{"n[]", `n[]: empty brackets`},
		{"n[ ]", `empty brackets`},
		{"n[1,,2]", `n[1,,2]: empty item in [1,,2]`},
		{"n[1,]", `empty item`},
		{"n1,,n2", `empty element`},
		{"n1,", `empty element`},
		{",n1", `empty element`},
		{"n[a-b]", `n[a-b]: "a-b" is not a number or a range of numbers`},
		{"n[-1]", `missing number in "-1"`},
		{"n[1-]", `missing number in "1-"`},
		{"n[1-2-3]", `"1-2-3" is not a number`},
		{"n[2 - 3]", `"2 - 3" is not a number`},
		{"n[+1]", `"+1" is not a number`},
		{"n[1234567890123456789]", `number too long`},
		{"n 1", `"n 1": host names are printable ASCII without spaces`},
		{"n\t1", `host names are printable ASCII`},
		{"nö", `host names are printable ASCII`},
		{strings.Repeat("a", 1025), `host names longer than 1024 characters`},
		{strings.Repeat("[1]", 1025), `host names longer than 1024 characters`},
		{strings.Repeat("a", 1020) + "[1-99999]", `host names longer than 1024 characters`},
	} {
		got, err := ParseHostlist(c.in)
		if err == nil {
			t.Errorf("ParseHostlist(%q) = %q, want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseHostlist(%q): %v\nwant it to contain %s", c.in, err, c.want)
		}
	}
}

func TestParseHostlistLimit(t *testing.T) {
	hosts, err := ParseHostlist(fmt.Sprintf("n[1-%d]", MaxHosts))
	if err != nil || len(hosts) != MaxHosts || hosts[MaxHosts-1] != fmt.Sprint("n", MaxHosts) {
		t.Fatalf("%d hosts, %v", len(hosts), err)
	}
	if _, err := ParseHostlist(fmt.Sprintf("n[1-%d],m", MaxHosts)); err == nil {
		t.Fatal("one host over the limit: no error")
	}
}

func TestFormatHostlist(t *testing.T) {
	for _, c := range []struct {
		hosts string // space-separated
		want  string
	}{
		{"", ""},
		{"n1", "n1"},
		{"n1 n2 n3 n7", "n[1-3,7]"},
		{"tbhost1 tbhost2 tbhost3", "tbhost[1-3]"},
		{"a b c", "a,b,c"},
		{"n01 n02 n03", "n[01-03]"},
		{"n8 n9 n10", "n[8-10]"},
		{"n08 n09 n10", "n[08-10]"},
		{"n9 n010", "n[9,010]"},
		{"n009 n010", "n[009-010]"},
		{"n1 n2 n3 m5", "n[1-3],m5"},
		{"n1 m1 n2", "n1,m1,n2"},
		{"n3 n1 n2", "n[3,1-2]"},
		{"n1 n1", "n[1,1]"},
		{"n1-ib n2-ib", "n[1-2]-ib"},
		{"rack1n01 rack1n02 rack2n01 rack2n02", "rack1n[01-02],rack2n[01-02]"},
		{"1 2 3", "[1-3]"},
		{"x99999999999999999999 x1", "x99999999999999999999,x1"},
		{"n0 n00 n000", "n[0,00,000]"},
	} {
		var hosts []string
		if c.hosts != "" {
			hosts = strings.Split(c.hosts, " ")
		}
		got := FormatHostlist(hosts)
		if got != c.want {
			t.Errorf("FormatHostlist(%q) = %q, want %q", hosts, got, c.want)
		}
		back, err := ParseHostlist(got)
		if err != nil || !slices.Equal(back, hosts) {
			t.Errorf("ParseHostlist(%q) = %q, %v; want %q", got, back, err, hosts)
		}
	}
}

func FuzzParseHostlist(f *testing.F) {
	for _, s := range []string{"", "n1", "n[1-4,7]", "tbhost[1-3]", "a,b,c", "rack[1-2]n[01-03]", "n[1-3],m5",
		"n[8-10]", "n[098-101]", "n[1-2]-ib", "[1-2][1-2]", "n[3,1,2]", "n1,n1", "n[3-1]", "n[1-999999999]",
		"n[", "n]", "n[[1]]", "n[]", "n1,,n2", "n[0,00,000]", "x99999999999999999999", "n[1-2]1[3-4]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := ParseHostlist(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "hostlist ") {
				t.Fatalf("ParseHostlist(%q): error without context: %v", s, err)
			}
			return
		}
		if len(hosts) > MaxHosts || len(hosts) > 0 && len(slices.MaxFunc(hosts, func(a, b string) int { return len(a) - len(b) })) > MaxHostName {
			t.Fatalf("ParseHostlist(%q): %d hosts, over the limit", s, len(hosts))
		}
		for _, h := range hosts {
			if h == "" || strings.ContainsAny(h, ",[] ") {
				t.Fatalf("ParseHostlist(%q): host %q", s, h)
			}
		}
		str := FormatHostlist(hosts)
		back, err := ParseHostlist(str)
		if err != nil {
			t.Fatalf("ParseHostlist(%q) -> FormatHostlist %q, which does not parse: %v", s, str, err)
		}
		if !slices.Equal(back, hosts) {
			t.Fatalf("round trip of %q via %q: %q != %q", s, str, back, hosts)
		}
		if again := FormatHostlist(back); again != str {
			t.Fatalf("FormatHostlist not stable for %q: %q then %q", s, str, again)
		}
	})
}
