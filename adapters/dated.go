package adapters

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/internal/timefmt"
)

// ParamChange is a later value of a dated profile parameter: the value in
// force from From (a date, "2006-01-02", or an RFC 3339 time, UTC) until
// the next change, with its own source note.
type ParamChange struct {
	From   string  `json:"from" yaml:"from"`
	Value  float64 `json:"value" yaml:"value"`
	Source string  `json:"source" yaml:"source"`
}

// Dated is one profile parameter's values over time, compiled once so
// that the lookup in a backtest's step loop does not allocate. The zero
// value is a parameter the profile does not set.
type Dated struct {
	set   bool
	since int64     // unix seconds the parameter took effect; math.MinInt64: always
	from  []int64   // from[i]: unix seconds vals[i+1] takes effect, ascending
	vals  []float64 // vals[0] is Param.Value
}

// Set reports whether the profile sets the parameter.
func (d *Dated) Set() bool { return d.set }

// At returns the value in force at t and whether the parameter is in
// force then: false when the profile does not set it or t is before its
// Since (the mechanism it describes did not exist yet).
func (d *Dated) At(t time.Time) (float64, bool) {
	if !d.set {
		return 0, false
	}
	u := t.Unix()
	if u < d.since {
		return 0, false
	}
	for i := len(d.from) - 1; i >= 0; i-- {
		if u >= d.from[i] {
			return d.vals[i+1], true
		}
	}
	return d.vals[0], true
}

// Or returns the value in force at t, or def when the parameter is not in
// force then.
func (d *Dated) Or(t time.Time, def float64) float64 {
	if v, ok := d.At(t); ok {
		return v
	}
	return def
}

// Max is the largest value the parameter ever takes (0 when unset), for
// the range checks done once at construction.
func (d *Dated) Max() float64 {
	m := 0.0
	for _, v := range d.vals {
		m = math.Max(m, v)
	}
	return m
}

// Min is the smallest value the parameter ever takes (0 when unset).
func (d *Dated) Min() float64 {
	if !d.set {
		return 0
	}
	m := d.vals[0]
	for _, v := range d.vals[1:] {
		m = math.Min(m, v)
	}
	return m
}

// Since is the time the parameter took effect, and false when it has
// always been in force (or is unset).
func (d *Dated) Since() (time.Time, bool) {
	if !d.set || d.since == math.MinInt64 {
		return time.Time{}, false
	}
	return time.Unix(d.since, 0).UTC(), true
}

// Breaks returns the times the parameter's value may change: when it took
// effect (if it has not always been in force) and each later change, in
// order.
func (d *Dated) Breaks() []time.Time {
	var out []time.Time
	if d.set && d.since != math.MinInt64 {
		out = append(out, time.Unix(d.since, 0).UTC())
	}
	for _, f := range d.from {
		out = append(out, time.Unix(f, 0).UTC())
	}
	return out
}

// IsDated reports whether the parameter changes over time or starts late.
func (p Param) IsDated() bool { return p.Since != "" || len(p.Changes) > 0 }

// compile builds the lookup of a parameter already validated.
func (p Param) compile() Dated {
	d := Dated{set: true, since: math.MinInt64, vals: []float64{p.Value}}
	if t, ok := timefmt.Parse(p.Since); ok && p.Since != "" {
		d.since = t.Unix()
	}
	for _, c := range p.Changes {
		t, _ := timefmt.Parse(c.From)
		d.from = append(d.from, t.Unix())
		d.vals = append(d.vals, c.Value)
	}
	return d
}

// AtTime returns the value and source note in force at t, and whether
// the parameter is in force then (see Dated.At).
func (p Param) AtTime(t time.Time) (value float64, source string, ok bool) {
	if s, ok := timefmt.Parse(p.Since); p.Since != "" && ok && t.Before(s) {
		return 0, "", false
	}
	value, source = p.Value, p.Source
	for _, c := range p.Changes {
		if f, _ := timefmt.Parse(c.From); !t.Before(f) {
			value, source = c.Value, c.Source
		}
	}
	return value, source, true
}

// validateDates checks a parameter's dates: each parses, changes come
// after Since and after one another, and each change has a finite value
// >= 0 and a source note.
func (p Param) validateDates() string {
	last := int64(math.MinInt64)
	if p.Since != "" {
		t, ok := timefmt.Parse(p.Since)
		if !ok {
			return fmt.Sprintf("since %q is not a date (want 2006-01-02 or RFC 3339)", p.Since)
		}
		last = t.Unix()
	}
	for i, c := range p.Changes {
		t, ok := timefmt.Parse(c.From)
		if !ok {
			return fmt.Sprintf("changes[%d].from %q is not a date (want 2006-01-02 or RFC 3339)", i, c.From)
		}
		if t.Unix() <= last {
			return fmt.Sprintf("changes[%d].from %s is not after the previous date", i, c.From)
		}
		last = t.Unix()
		if c.Value != c.Value || c.Value < 0 || c.Value > 1e18 {
			return fmt.Sprintf("changes[%d].value %g must be a finite number >= 0", i, c.Value)
		}
		if strings.TrimSpace(c.Source) == "" {
			return fmt.Sprintf("changes[%d] (from %s) has no source note", i, c.From)
		}
	}
	return ""
}

// DatedParam returns the compiled lookup of a parameter over time (the
// zero Dated when the profile does not set it). Build it once, outside a
// step loop.
func (p *Profile) DatedParam(name string) Dated {
	v, ok := p.Params[name]
	if !ok {
		return Dated{}
	}
	return v.compile()
}

// ParamAt returns the value of a parameter in force at t, or def when the
// profile does not set it or it is not in force then.
func (p *Profile) ParamAt(name string, t time.Time, def float64) float64 {
	v, ok := p.Params[name]
	if !ok {
		return def
	}
	if x, _, in := v.AtTime(t); in {
		return x
	}
	return def
}
