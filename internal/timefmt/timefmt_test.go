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

func TestDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * 24 * time.Hour, "30d"},
		{6 * time.Hour, "6h"},
		{90 * time.Minute, "90m"},
		{45 * time.Second, "45s"},
		{0, "0s"},
		{-48 * time.Hour, "-2d"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.in); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
