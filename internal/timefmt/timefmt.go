// Package timefmt parses the times users write on command lines and in
// configuration and scenario files: RFC 3339, a date, or a date and a
// time of day without a zone (read as UTC).
package timefmt

import (
	"strconv"
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

// Duration writes a duration the way users write one: whole days as
// "30d", whole hours as "6h", whole minutes as "15m", else Go's form
// ("1h30m0s" reads "90m"; "720h0m0s" reads "30d").
func Duration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return sign + strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return sign + strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return sign + strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return sign + strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return sign + d.String()
}
