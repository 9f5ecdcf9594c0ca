package history

import (
	"strings"
	"testing"
)

func TestRunLen(t *testing.T) {
	tests := []struct {
		markets string // one letter per row
		want    int
	}{
		{"a", 1},
		{"ab", 1},
		{"aa", 2},
		{"aaab", 3},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 33},
		{strings.Repeat("a", 1000), 1000},
		{strings.Repeat("a", 1000) + strings.Repeat("b", 5), 1000},
		{strings.Repeat("a", 513) + strings.Repeat("b", 600), 513},
	}
	for _, tc := range tests {
		rows := make([]Row, len(tc.markets))
		for i, c := range tc.markets {
			rows[i].Market = string(c)
		}
		if got := runLen(rows); got != tc.want {
			t.Errorf("runLen(%.20q... %d rows) = %d, want %d", tc.markets, len(rows), got, tc.want)
		}
	}
	// Not contiguous: a size hint between 1 and the rows.
	rows := make([]Row, 100)
	for i := range rows {
		rows[i].Market = string(rune('a' + i%2))
	}
	if got := runLen(rows); got < 1 || got > len(rows) {
		t.Errorf("runLen of interleaved rows = %d, want within [1, %d]", got, len(rows))
	}
}
