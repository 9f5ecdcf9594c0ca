package importers

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// Unit is the unit of a source column. Value units (number, fraction,
// percent, bps, wei, gwei) say how to turn a source number into the fixed
// unit of its field; time units (rfc3339, date, datetime, unix_s, unix_ms,
// auto) say how to read a time column.
type Unit string

// Value units.
const (
	UnitNumber   Unit = "number"   // taken as is (the default)
	UnitFraction Unit = "fraction" // already a fraction (0.035 = 3.5%): taken as is
	UnitPercent  Unit = "percent"  // divided by 100
	UnitBps      Unit = "bps"      // basis points: divided by 10,000
	UnitWei      Unit = "wei"      // divided by 1e18
	UnitGwei     Unit = "gwei"     // divided by 1e9
)

// Time units.
const (
	TimeAuto     Unit = "auto"     // one of the forms below, recognised per cell
	TimeRFC3339  Unit = "rfc3339"  // 2022-05-03T23:01:39.073Z (fractional seconds truncated)
	TimeDate     Unit = "date"     // 2006-01-02, midnight UTC
	TimeDateTime Unit = "datetime" // "2006-01-02 15:04:05", UTC unless an offset follows (+00:00)
	TimeUnixS    Unit = "unix_s"   // unix seconds
	TimeUnixMS   Unit = "unix_ms"  // unix milliseconds (truncated to the second)
	// TimeLayout prefixes a Go time layout: "layout=02/01/2006 15:04"
	// reads "31/12/2024 18:00" (UTC unless the layout has a zone).
	TimeLayout Unit = "layout="
)

// Layout returns the Go time layout of a "layout=..." unit.
func (u Unit) Layout() (string, bool) {
	if strings.HasPrefix(string(u), string(TimeLayout)) && len(u) > len(TimeLayout) {
		return string(u[len(TimeLayout):]), true
	}
	return "", false
}

var unitAliases = map[string]Unit{
	"": UnitNumber, "number": UnitNumber, "plain": UnitNumber, "usd": UnitNumber, "base": UnitNumber,
	"fraction": UnitFraction, "frac": UnitFraction,
	"percent": UnitPercent, "pct": UnitPercent, "%": UnitPercent,
	"bps": UnitBps, "wei": UnitWei, "gwei": UnitGwei,
	"auto": TimeAuto, "rfc3339": TimeRFC3339, "iso8601": TimeRFC3339, "date": TimeDate,
	"datetime": TimeDateTime, "unix_s": TimeUnixS, "unix": TimeUnixS, "unix_ms": TimeUnixMS,
}

// ParseUnit parses a unit name, case-insensitively; "" is UnitNumber.
// Aliases: plain, usd and base for number; pct and % for percent; unix and
// iso8601 for unix_s and rfc3339.
func ParseUnit(s string) (Unit, error) {
	if u, ok := unitAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return u, nil
	}
	if l, ok := strings.CutPrefix(strings.TrimSpace(s), string(TimeLayout)); ok && strings.TrimSpace(l) != "" {
		return TimeLayout + Unit(l), nil
	}
	return "", adapters.E("importers.ParseUnit", adapters.KindInvalid,
		"unknown unit %q (want number, fraction, percent, bps, wei, gwei, or for a time column rfc3339, date, datetime, unix_s, unix_ms, auto, layout=<Go time layout>)", s)
}

// IsTime reports whether u is a time unit.
func (u Unit) IsTime() bool {
	switch u {
	case TimeAuto, TimeRFC3339, TimeDate, TimeDateTime, TimeUnixS, TimeUnixMS:
		return true
	}
	_, ok := u.Layout()
	return ok
}

// decimalShift is the power of ten a value unit divides by.
func (u Unit) decimalShift() int {
	switch u {
	case UnitPercent:
		return 2
	case UnitBps:
		return 4
	case UnitGwei:
		return 9
	case UnitWei:
		return 18
	}
	return 0
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// ParseValue parses a source number in unit u and returns it in its
// field's unit. The decimal shift of percent, bps, gwei and wei is applied
// to the decimal text before rounding, so "4.29" percent gives exactly the
// float64 nearest 0.0429 and a wei amount larger than 2^53 loses nothing
// beyond float64 precision. NaN and infinities parse (so that range checks
// can name them); callers check values with adapters.CheckValue.
func ParseValue(s string, u Unit) (float64, error) {
	shift := u.decimalShift()
	if shift > 0 && plainDecimal(s) {
		return strconv.ParseFloat(s+"e-"+strconv.Itoa(shift), 64)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return v / pow10[shift], nil
}

// plainDecimal reports whether s is [+-]digits[.digits] with no exponent,
// so that appending an exponent keeps it a valid number.
func plainDecimal(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i = 1
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// Bounds on imported times, the store's plausible range (history.MinTime,
// history.MaxTime): anything outside is a unit mistake.
var (
	minTime  = history.MinTime.Unix()
	maxTime  = history.MaxTime.Unix()
	timeSpan = history.MinTime.Format(time.DateOnly) + ".." + history.MaxTime.Format(time.DateOnly)
)

// ParseTime reads a time cell in time unit u and returns it in UTC,
// truncated to the second (the store keeps unix seconds).
func ParseTime(s string, u Unit) (time.Time, error) {
	const op = "importers.ParseTime"
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, adapters.E(op, adapters.KindInvalid, "empty time")
	}
	if u == TimeAuto || u == "" {
		u = guessTimeUnit(s)
	}
	var (
		t   time.Time
		err error
	)
	switch u {
	case TimeUnixS, TimeUnixMS:
		var v float64
		v, err = strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return time.Time{}, adapters.E(op, adapters.KindInvalid, "bad %s time %q", u, s)
		}
		if u == TimeUnixMS {
			v /= 1000
		}
		v = math.Floor(v)
		if v < float64(minTime) || v >= float64(maxTime) {
			return time.Time{}, adapters.E(op, adapters.KindInvalid, "%s time %q is outside %s (wrong unit?)", u, s, timeSpan)
		}
		return time.Unix(int64(v), 0).UTC(), nil
	case TimeRFC3339:
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			// Without a zone (2024-01-01T00:00:00[.000]): UTC.
			t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
		}
	case TimeDate:
		t, err = time.Parse(time.DateOnly, s)
	case TimeDateTime:
		t, err = parseDateTime(s)
	default:
		l, ok := u.Layout()
		if !ok {
			return time.Time{}, adapters.E(op, adapters.KindInvalid, "%q is not a time unit", u)
		}
		if t, err = time.Parse(l, s); err != nil {
			return time.Time{}, adapters.E(op, adapters.KindInvalid, "time %q does not match the layout %q", s, l)
		}
	}
	if err != nil {
		return time.Time{}, adapters.E(op, adapters.KindInvalid, "bad %s time %q", u, s)
	}
	t = t.UTC().Truncate(time.Second)
	if t.Unix() < minTime || t.Unix() >= maxTime {
		return time.Time{}, adapters.E(op, adapters.KindInvalid, "time %q is outside %s (a time in the wrong unit?)", s, timeSpan)
	}
	return t, nil
}

// parseDateTime reads a date, a space and a time of day: seconds and a
// fraction optional ("2024-01-01 00:00", "2024-01-01 00:00:00.000"), then
// an optional zone: an offset (+00:00, Z) or " UTC" / " GMT", the form
// Dune writes ("2024-01-01 00:00:00.000 UTC"). Other zone names are
// refused: Go would read an unknown abbreviation as UTC.
func parseDateTime(s string) (time.Time, error) {
	for _, z := range []string{" UTC", " GMT", " utc", " gmt"} {
		if v, ok := strings.CutSuffix(s, z); ok {
			s = v
			break
		}
	}
	var last error
	for _, l := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04Z07:00", "2006-01-02 15:04"} {
		t, err := time.Parse(l, s)
		if err == nil {
			return t, nil
		}
		last = err
	}
	return time.Time{}, last
}

// guessTimeUnit recognises the form of one time cell for TimeAuto: digits
// are unix seconds, or milliseconds from 12 digits on (after 1973-03-03 in
// ms, before year 5138 in seconds); a T after the date means RFC 3339; a bare date is a
// date; a date, a space and a time is a datetime.
func guessTimeUnit(s string) Unit {
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		} else if s[i] == '.' {
			break
		} else {
			digits = -1
			break
		}
	}
	switch {
	case digits >= 12:
		return TimeUnixMS
	case digits > 0:
		return TimeUnixS
	case len(s) == len(time.DateOnly):
		return TimeDate
	case len(s) > len(time.DateOnly) && s[len(time.DateOnly)] == 'T':
		return TimeRFC3339
	}
	return TimeDateTime
}
