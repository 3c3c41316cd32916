package benche2e

import (
	"fmt"
	"strings"
	"time"
)

// Table is a markdown table. Columns whose header starts with "<" are left
// aligned, the others right aligned: figures read best right aligned.
type Table struct {
	Header []string
	Rows   [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) {
	t.Rows = append(t.Rows, cells)
}

// String renders the table as GitHub markdown. Short rows are padded with
// empty cells so a missing figure never shifts the others.
func (t Table) String() string {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for i := range t.Header {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	head := make([]string, len(t.Header))
	align := make([]string, len(t.Header))
	for i, h := range t.Header {
		head[i] = strings.TrimPrefix(h, "<")
		align[i] = "---:"
		if strings.HasPrefix(h, "<") {
			align[i] = "---"
		}
	}
	row(head)
	b.WriteString("|" + strings.Join(align, "|") + "|\n")
	for _, r := range t.Rows {
		row(r)
	}
	return b.String()
}

// Seconds formats a duration in seconds with a precision fit for live
// figures: milliseconds below ten seconds, tenths above.
func Seconds(d time.Duration) string {
	s := d.Seconds()
	switch {
	case d == 0:
		return "0 s"
	case s < 10:
		return fmt.Sprintf("%.3f s", s)
	default:
		return fmt.Sprintf("%.1f s", s)
	}
}

// PerUnit formats a count divided by n with one decimal, or "–" when there
// is nothing to divide by.
func PerUnit(v float64, n int) string {
	if n <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", v/float64(n))
}

// MiB formats bytes as mebibytes.
func MiB(b uint64) string {
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// Ratio formats a/b as "×1.23", or "–" when b is zero.
func Ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("×%.2f", a.Seconds()/b.Seconds())
}
