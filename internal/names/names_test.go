package names

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestService(t *testing.T) {
	long := strings.Repeat("a", 60)
	cases := map[string]struct {
		reason    string
		performer string
		want      string
	}{
		"Short": {
			reason:    "A name that makes a valid DNS-1035 label is used as is.",
			performer: "example",
			want:      "performer-example",
		},
		"Exactly63": {
			reason:    "performer- plus 53 characters is 63 characters and still valid.",
			performer: strings.Repeat("b", 53),
			want:      "performer-" + strings.Repeat("b", 53),
		},
		"TooLong": {
			reason:    "Over 63 characters is cut and suffixed with a hash of the full name.",
			performer: long,
			want:      "performer-" + strings.Repeat("a", 42) + "-" + Hash("performer-"+long, 10),
		},
		"Dots": {
			reason:    "Dots are valid in claim names but not in Service names: replaced, and the hash keeps it unique.",
			performer: "ml.worker",
			want:      "performer-ml-worker-" + Hash("performer-ml.worker", 10),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Service(tc.performer)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nService(%q): -want, +got:\n%s", tc.reason, tc.performer, diff)
			}
			if !IsDNSLabel(got) {
				t.Errorf("%s\nService(%q) = %q is not a DNS-1035 label", tc.reason, tc.performer, got)
			}
		})
	}
}

func TestServiceCollisions(t *testing.T) {
	// Names that look alike after cutting or replacing must still differ.
	base := strings.Repeat("x", 70)
	in := []string{base + "1", base + "2", "a.b", "a-b", "a_b", "A-b"}
	seen := map[string]string{}
	for _, p := range in {
		s := Service(p)
		if prev, ok := seen[s]; ok {
			t.Errorf("Service(%q) == Service(%q) == %q", p, prev, s)
		}
		seen[s] = p
	}
}

func TestDeployment(t *testing.T) {
	cases := map[string]struct {
		reason    string
		performer string
		revision  string
		want      string
	}{
		"Short": {
			reason:    "The revision is appended to the Service name.",
			performer: "example",
			revision:  "abcdef0123",
			want:      "performer-example-abcdef0123",
		},
		"Long": {
			reason:    "A long name is shortened with a hash that covers the revision, so revisions never collide.",
			performer: strings.Repeat("p", 50),
			revision:  "abcdef0123",
			want: "performer-" + strings.Repeat("p", 42) + "-" +
				Hash("performer-"+strings.Repeat("p", 50)+"-abcdef0123", 10),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Deployment(tc.performer, tc.revision)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nDeployment(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDNSLabel(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"Valid":          {reason: "Valid labels are kept.", in: "abc-1", want: "abc-1"},
		"LeadingDigit":   {reason: "DNS-1035 labels start with a letter.", in: "1abc", want: "abc-" + Hash("1abc", 10)},
		"OnlyDigits":     {reason: "Nothing usable is left: the hash alone, led by a letter.", in: "123", want: "x" + Hash("123", 10)},
		"Upper":          {reason: "Uppercase is lowered and hashed.", in: "ABC", want: "abc-" + Hash("ABC", 10)},
		"Empty":          {reason: "The empty string is not a label.", in: "", want: "x" + Hash("", 10)},
		"TrailingHyphen": {reason: "A label may not end with '-'.", in: "abc-", want: "abc-" + Hash("abc-", 10)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DNSLabel(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nDNSLabel(%q): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
			if !IsDNSLabel(got) {
				t.Errorf("%s\nDNSLabel(%q) = %q is not a DNS-1035 label", tc.reason, tc.in, got)
			}
		})
	}
}

func TestLabelValue(t *testing.T) {
	long := strings.Repeat("v", 70)
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"Valid":    {reason: "Valid values are kept, dots and case included.", in: "v2.1.0_RC", want: "v2.1.0_RC"},
		"Empty":    {reason: "The empty value is valid.", in: "", want: ""},
		"TooLong":  {reason: "Long values are cut and hashed.", in: long, want: strings.Repeat("v", 52) + "-" + Hash(long, 10)},
		"Trailing": {reason: "Values end with an alphanumeric character.", in: "v1.", want: "v1-" + Hash("v1.", 10)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := LabelValue(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nLabelValue(%q): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
			if !IsLabelValue(got) {
				t.Errorf("%s\nLabelValue(%q) = %q is not a label value", tc.reason, tc.in, got)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	got := Endpoint("performer-example", "avs-project-a", 9090)
	want := "performer-example.avs-project-a.svc.cluster.local:9090"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Endpoint(...): -want, +got:\n%s", diff)
	}
}

func FuzzDNSLabel(f *testing.F) {
	for _, s := range []string{"", "a", "performer-x", "A.B_c", strings.Repeat("z", 100), "-1-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := DNSLabel(s); !IsDNSLabel(got) {
			t.Errorf("DNSLabel(%q) = %q is not a DNS-1035 label", s, got)
		}
		if got := LabelValue(s); !IsLabelValue(got) {
			t.Errorf("LabelValue(%q) = %q is not a label value", s, got)
		}
	})
}
