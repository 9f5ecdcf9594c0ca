package importers

import (
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

func TestParseUnit(t *testing.T) {
	tests := []struct {
		in   string
		want Unit
	}{
		{"", UnitNumber}, {"plain", UnitNumber}, {"Percent", UnitPercent}, {"%", UnitPercent},
		{"bps", UnitBps}, {"wei", UnitWei}, {"gwei", UnitGwei}, {"fraction", UnitFraction},
		{"unix_ms", TimeUnixMS}, {"unix", TimeUnixS}, {"iso8601", TimeRFC3339}, {"auto", TimeAuto},
	}
	for _, tc := range tests {
		got, err := ParseUnit(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseUnit(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseUnit("furlongs"); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("ParseUnit(furlongs) error = %v, want KindInvalid", err)
	}
}

func TestUnit_IsTime(t *testing.T) {
	for u, want := range map[Unit]bool{UnitPercent: false, UnitNumber: false, TimeDate: true, TimeUnixMS: true, TimeAuto: true} {
		if got := u.IsTime(); got != want {
			t.Errorf("%q.IsTime() = %v, want %v", u, got, want)
		}
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		in   string
		unit Unit
		want float64
	}{
		{"0.035", UnitFraction, 0.035},
		{"3.5", UnitNumber, 3.5},
		{"4.29", UnitPercent, 0.0429}, // exact: the shift is applied to the decimal text
		{"-1.5", UnitPercent, -0.015},
		{"25", UnitBps, 0.0025},
		{"1500000000000000000", UnitWei, 1.5},
		{"548963775474164526621074", UnitWei, 548963.775474164526621074},
		{"30", UnitGwei, 3e-8},
		{"1e2", UnitPercent, 1},  // an exponent falls back to division
		{" 2.5 ", UnitNumber, 0}, // callers trim; untrimmed text is an error (see below)
	}
	for _, tc := range tests {
		got, err := ParseValue(tc.in, tc.unit)
		if tc.in == " 2.5 " {
			if err == nil {
				t.Errorf("ParseValue(%q) = %g, want an error for untrimmed text", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseValue(%q, %s) = %v, %v; want %v", tc.in, tc.unit, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "0x"} {
		if v, err := ParseValue(bad, UnitPercent); err == nil {
			t.Errorf("ParseValue(%q) = %g, want an error", bad, v)
		}
	}
	if v, err := ParseValue("NaN", UnitPercent); err != nil || !math.IsNaN(v) {
		t.Errorf("ParseValue(NaN) = %g, %v; want NaN so that the range check names it", v, err)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2022, 5, 3, 23, 1, 39, 0, time.UTC)
	midnight := time.Date(2022, 5, 3, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		unit Unit
		want time.Time
	}{
		{"2022-05-03T23:01:39.073Z", TimeRFC3339, want},
		{"2022-05-03T23:01:39.073Z", TimeAuto, want},
		{"2022-05-04T01:01:39+02:00", TimeAuto, want},
		{"2022-05-03", TimeDate, midnight},
		{"2022-05-03", TimeAuto, midnight},
		{"2022-05-03 23:01:39", TimeDateTime, want},
		{"2022-05-03 23:01:39", TimeAuto, want},
		{"2022-05-03 23:01:39+00:00", TimeAuto, want},
		{"2022-05-03 23:01:39.5", TimeDateTime, want},
		{"1651618899", TimeUnixS, want},
		{"1651618899", TimeAuto, want},
		{"1651618899073", TimeUnixMS, want},
		{"1651618899073", TimeAuto, want},
		{"1651618899.9", TimeUnixS, want},
		// Dune's form, and the forms DefiLlama and spreadsheets write.
		{"2022-05-03 23:01:39.000 UTC", TimeAuto, want},
		{"2022-05-03 23:01:39 UTC", TimeAuto, want},
		{"2022-05-03 00:00:00.000 UTC", TimeAuto, midnight},
		{"2022-05-03 00:00", TimeAuto, midnight},
		{"2022-05-03T23:01:39.073", TimeAuto, want},
		{"2022-05-03T23:01:39", TimeAuto, want},
		{"2022-05-03T23:01:39.000Z", TimeAuto, want},
		// Any Go layout.
		{"03/05/2022 23:01:39", Unit("layout=02/01/2006 15:04:05"), want},
		{"May 3, 2022", Unit("layout=Jan 2, 2006"), midnight},
		{"2022-05-04 01:01:39 +0200", Unit("layout=2006-01-02 15:04:05 -0700"), want},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in, tc.unit)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q, %s) = %v, %v; want %v UTC", tc.in, tc.unit, got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		in   string
		unit Unit
	}{
		{"", TimeAuto}, {"yesterday", TimeAuto}, {"2022-13-01", TimeDate}, {"1651618899073", TimeUnixS},
		{"-5", TimeUnixS}, {"NaN", TimeUnixS}, {"2022-05-03", TimeUnixS}, {"1651618899", UnitPercent},
		{"2022-05-03 23:01:39 EST", TimeAuto}, // an unknown zone is refused, not read as UTC
		{"2022/05/03", Unit("layout=02/01/2006")},
	} {
		if got, err := ParseTime(bad.in, bad.unit); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("ParseTime(%q, %s) = %v, %v; want KindInvalid", bad.in, bad.unit, got, err)
		}
	}
}

func TestParseUnit_Layout(t *testing.T) {
	u, err := ParseUnit("layout=02/01/2006 15:04")
	if err != nil || !u.IsTime() {
		t.Fatalf("ParseUnit(layout=...) = %q, %v; want a time unit", u, err)
	}
	if l, _ := u.Layout(); l != "02/01/2006 15:04" {
		t.Errorf("layout %q, want the case and colons kept", l)
	}
	c, isTime, err := ParseColumnSpec("time=Date:layout=02/01/2006 15:04")
	if err != nil || !isTime || c.Name != "Date" || c.Unit != u {
		t.Errorf("ParseColumnSpec = %+v, %v, %v; want column Date with the layout", c, isTime, err)
	}
}

func TestAprToAPY(t *testing.T) {
	tests := []struct{ apr, want float64 }{
		{0, 0},
		{0.05, math.Exp(0.05) - 1}, // per-second compounding is continuous to 1e-9
		{0.0175708783840463, 0.017726},
		{1e-9, 1e-9},
	}
	for _, tc := range tests {
		got := aprToAPY(tc.apr)
		tol := 1e-6
		if tc.apr == 1e-9 {
			tol = 1e-15
		}
		if math.Abs(got-tc.want) > tol {
			t.Errorf("aprToAPY(%g) = %.9g, want %.9g", tc.apr, got, tc.want)
		}
	}
	// Against the definition (1+apr/n)^n - 1 evaluated in 256-bit
	// arithmetic (the float64 form of the definition loses 1e-9 to
	// rounding 1+apr/n, which is why aprToAPY uses expm1/log1p).
	for _, apr := range []float64{0.0816242174451201, 0.0175708783840463, 1.40369429193e-05, 0.226} {
		n := new(big.Float).SetPrec(256).SetInt64(secondsPerYear)
		x := new(big.Float).SetPrec(256).SetFloat64(apr)
		x.Quo(x, n).Add(x, big.NewFloat(1).SetPrec(256))
		r := big.NewFloat(1).SetPrec(256)
		for e := secondsPerYear; e > 0; e >>= 1 {
			if e&1 == 1 {
				r.Mul(r, x)
			}
			x.Mul(x, x)
		}
		r.Sub(r, big.NewFloat(1))
		def, _ := r.Float64()
		if got := aprToAPY(apr); math.Abs(got-def) > 1e-15*max(def, 1e-3) {
			t.Errorf("aprToAPY(%g) = %.17g, definition gives %.17g", apr, got, def)
		}
	}
}
