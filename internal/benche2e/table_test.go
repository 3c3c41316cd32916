package benche2e

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTable(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   Table
		want   string
	}{
		"Aligned": {
			reason: "Columns marked < are left aligned, the rest right; the marker is not printed.",
			args:   Table{Header: []string{"<name", "p50"}, Rows: [][]string{{"a", "1 s"}}},
			want:   "| name | p50 |\n|---|---:|\n| a | 1 s |\n",
		},
		"ShortRowPipe": {
			reason: "A short row is padded; a pipe in a cell is escaped.",
			args:   Table{Header: []string{"<a", "b", "c"}, Rows: [][]string{{"x|y"}}},
			want:   "| a | b | c |\n|---|---:|---:|\n| x\\|y |  |  |\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.args.String()); diff != "" {
				t.Errorf("%s\nTable.String(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	cases := map[string]struct {
		reason string
		got    string
		want   string
	}{
		"SecondsShort":  {reason: "Below ten seconds, milliseconds show.", got: Seconds(1234 * time.Millisecond), want: "1.234 s"},
		"SecondsLong":   {reason: "Above, tenths.", got: Seconds(83456 * time.Millisecond), want: "83.5 s"},
		"SecondsZero":   {reason: "Zero is zero.", got: Seconds(0), want: "0 s"},
		"Ratio":         {reason: "A ratio to the floor.", got: Ratio(3*time.Second, 2*time.Second), want: "×1.50"},
		"RatioNoFloor":  {reason: "No floor, no ratio.", got: Ratio(time.Second, 0), want: "–"},
		"PerUnit":       {reason: "Per performer, one decimal.", got: PerUnit(250, 100), want: "2.5"},
		"PerUnitNone":   {reason: "Nothing to divide by.", got: PerUnit(1, 0), want: "–"},
		"MiB":           {reason: "Mebibytes, whole.", got: MiB(3 << 20), want: "3 MiB"},
		"LoadAscending": {reason: "The load range, low to high.", got: Load{Start: [3]float64{3.04}, End: [3]float64{1.5}}.String(), want: "1.5–3.0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
