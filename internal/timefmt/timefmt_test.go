package timefmt

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-03-01", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{" 2024-03-01T06:30 ", time.Date(2024, 3, 1, 6, 30, 0, 0, time.UTC), true},
		{"2024-03-01 06:30", time.Date(2024, 3, 1, 6, 30, 0, 0, time.UTC), true},
		{"2024-03-01 06:30:15", time.Date(2024, 3, 1, 6, 30, 15, 0, time.UTC), true},
		{"2024-03-01T06:30:15.5Z", time.Date(2024, 3, 1, 6, 30, 15, 5e8, time.UTC), true},
		{"2024-03-01T08:30:15+02:00", time.Date(2024, 3, 1, 6, 30, 15, 0, time.UTC), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2024-13-01", time.Time{}, false},
		{"01/03/2024", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) || (ok && got.Location() != time.UTC) {
			t.Errorf("Parse(%q) = %v, %t; want %v, %t", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
