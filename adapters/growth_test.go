package adapters

import (
	"testing"
	"time"
)

// TestGrowth_Upto: a growth over (100, 200] at 10% applies to a position
// last accrued at 100 brought to 200 at that rate, or to any later time
// (the rest is the driver's own), whatever the rate then; not to one
// accrued at another time, brought to an earlier time, or brought to 200
// at another rate; the zero growth applies to nothing.
func TestGrowth_Upto(t *testing.T) {
	g := Growth{From: 100, To: 200, APY: 0.1, Factor: 1.01}
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	for _, c := range []struct {
		name     string
		from, to time.Time
		apy      float64
		ok       bool
	}{
		{"its interval and rate", at(100), at(200), 0.1, true},
		{"a later time, its rate", at(100), at(250), 0.1, true},
		{"a later time, another rate", at(100), at(250), 0.2, true},
		{"its end at another rate", at(100), at(200), 0.2, false},
		{"an earlier end", at(100), at(150), 0.1, false},
		{"another start", at(150), at(200), 0.1, false},
		{"a start with nanoseconds", at(100).Add(1), at(200), 0.1, false},
	} {
		f, end, ok := g.Upto(c.from, c.to, c.apy)
		if ok != c.ok {
			t.Errorf("%s: ok %v, want %v", c.name, ok, c.ok)
			continue
		}
		if ok && (f != 1.01 || !end.Equal(at(200))) {
			t.Errorf("%s: factor %v to %s, want 1.01 to %s", c.name, f, end, at(200))
		}
	}
	var zero Growth
	if _, _, ok := zero.Upto(at(0), at(100), 0); ok {
		t.Error("the zero growth applies")
	}
}
