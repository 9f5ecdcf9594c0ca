// Package timefmt parses the times users write on command lines and in
// configuration and scenario files: RFC 3339, a date, or a date and a
// time of day without a zone (read as UTC).
package timefmt

import (
	"strings"
	"time"
)

// layouts are tried in order.
var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// Parse parses s (surrounding space ignored) as RFC 3339 (any fraction
// of a second), "2006-01-02T15:04", "2006-01-02 15:04:05",
// "2006-01-02 15:04" or "2006-01-02", and returns it in UTC. Times
// without a zone are UTC. ok is false when no layout fits.
func Parse(s string) (t time.Time, ok bool) {
	s = strings.TrimSpace(s)
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
