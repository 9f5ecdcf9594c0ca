package history

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// sameAsStrconv fails t unless parseFloat(s) gives strconv.ParseFloat's
// bits and error (or lack of one).
func sameAsStrconv(t *testing.T, s string) {
	t.Helper()
	got, gotErr := parseFloat([]byte(s))
	want, wantErr := strconv.ParseFloat(s, 64)
	if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Errorf("parseFloat(%q) = %v (%#x), want %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Errorf("parseFloat(%q) error = %v, want %v", s, gotErr, wantErr)
	}
}

func TestParseFloat(t *testing.T) {
	tests := []string{
		"0", "-0", "+0", "0.0", "00", "007", "1", "-1", "3", "1.", ".5", "-.5", "+.5", "0.1", "0.2", "0.3",
		"0.030123456789012345", "1.0000342155498765", "1523456789.0123457", "3012.345678901234",
		"1e-07", "1E+05", "2.5e-3", "1e22", "1e23", "9007199254740993", "9007199254740992",
		"12345678901234567890", "1234567890123456789", "0.1234567890123456789", "0.00000000000000000000000001",
		"1e-64", "1e64", "1e-65", "1e65", "1e308", "1.7976931348623157e308", "1.8e308", "4.9e-324", "2.2250738585072014e-308",
		"1e400", "-1e400", "1e-400", "123456789012345678901234567890",
		"inf", "-Inf", "NaN", "nan", "0x1p-2", "1_000", "", ".", "-", "+", "e5", "1e", "1e+", "1e-", "1..2", "1.2.3", "1ee2",
		"1,5", " 1", "1 ", "0.000001", "999999999999999999", "0.9999999999999999", "0.99999999999999999",
		"5e-324", "2.4703282292062327e-324", "1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203124", "9.999999999999999e22", "7.3177701707893310e+15",
	}
	for _, s := range tests {
		sameAsStrconv(t, s)
	}
}

func TestAtofPrefix(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		n    int
		ok   bool
	}{
		{"1.5,2", 1.5, 3, true},
		{"1e5,x", 1e5, 3, true},
		{"-0.25e-1", -0.025, 8, true},
		{"7", 7, 1, true},
		{"3.,", 3, 2, true},
		{"1e,2", 0, 0, false},
		{"1e+", 0, 0, false},
		{",1", 0, 0, false},
		{"abc", 0, 0, false},
		{"inf,", 0, 0, false},
		{"12345678901234567890,", 0, 0, false},
		{"0.030123456789012345 ", 0.030123456789012345, 20, true},
	}
	for _, tc := range tests {
		got, n, ok := atofPrefix([]byte(tc.in))
		if ok != tc.ok || ok && (got != tc.want || n != tc.n) {
			t.Errorf("atofPrefix(%q) = %v, %d, %v; want %v, %d, %v", tc.in, got, n, ok, tc.want, tc.n, tc.ok)
		}
	}
	if got, _, _ := atofPrefix([]byte("-0,")); !math.Signbit(got) {
		t.Errorf("atofPrefix(-0) = %v, want negative zero", got)
	}
}

func TestParseFloat_Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for range n {
		var v float64
		switch rng.IntN(4) {
		case 0:
			v = rng.Float64()
		case 1:
			v = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		case 2:
			v = math.Float64frombits(rng.Uint64())
		case 3:
			v = float64(rng.IntN(1e6)) / 1000
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		g := strconv.FormatFloat(v, 'g', -1, 64)
		sameAsStrconv(t, g)
		// As a field followed by others: the same value, ending at the comma.
		if got, n, ok := atofPrefix([]byte(g + ",1.5")); ok && (n != len(g) || math.Float64bits(got) != math.Float64bits(v)) {
			t.Errorf("atofPrefix(%q) = %v, %d; want %v, %d", g+",1.5", got, n, v, len(g))
		}
		sameAsStrconv(t, strconv.FormatFloat(v, 'e', rng.IntN(20), 64))
		sameAsStrconv(t, strconv.FormatFloat(v, 'f', rng.IntN(25), 64))
		if t.Failed() {
			return
		}
	}
}

// TestPowersOfTen checks entries of the computed table against strconv's
// detailedPowersOfTen (the values worked out independently with Python
// integers).
func TestPowersOfTen(t *testing.T) {
	tests := []struct {
		e  int
		lo uint64
		hi uint64
	}{
		{-64, 0x3F2398D747B36224, 0xA87FEA27A539E9A5},
		{-1, 0xCCCCCCCCCCCCCCCC, 0xCCCCCCCCCCCCCCCC},
		{0, 0, 0x8000000000000000},
		{1, 0, 0xA000000000000000},
		{22, 0x0000000000000000, 0x878678326EAC9000},
		{64, 0x3CBF6B71C76B25FB, 0xC2781F49FFCFA6D5},
	}
	for _, tc := range tests {
		got := powersOfTen[tc.e-minExp10]
		if got != [2]uint64{tc.lo, tc.hi} {
			t.Errorf("powersOfTen 1e%d = {%#x, %#x}, want {%#x, %#x}", tc.e, got[0], got[1], tc.lo, tc.hi)
		}
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "0.030123456789012345", "1e-07", "1e400", "inf", "0x1p-2", "1_0", ".", "9007199254740993"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameAsStrconv(t, s)
	})
}

func BenchmarkParseFloat(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([][]byte, 1024)
	for i := range in {
		in[i] = strconv.AppendFloat(nil, 0.03+rng.NormFloat64()*0.001, 'g', -1, 64)
	}
	b.Run("parseFloat", func(b *testing.B) {
		i := 0
		for b.Loop() {
			parseFloat(in[i&1023])
			i++
		}
	})
	b.Run("strconv", func(b *testing.B) {
		i := 0
		for b.Loop() {
			strconv.ParseFloat(string(in[i&1023]), 64)
			i++
		}
	})
}

// TestParseTime checks the fast RFC 3339 path against time.Parse over
// random instants from year 0 to 9999 and the edges of months and leap
// years.
func TestParseTime(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, gotErr := parseTime([]byte(s))
		want, wantErr := time.Parse(time.RFC3339, s)
		if (gotErr == nil) != (wantErr == nil) || gotErr == nil && !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v (UTC)", s, got, gotErr, want, wantErr)
		}
	}
	for _, s := range []string{"0000-01-01T00:00:00Z", "0000-02-29T12:00:00Z", "0000-03-01T00:00:00Z", "1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59Z", "2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-28T23:59:59Z", "2024-02-30T00:00:00Z",
		"2024-13-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "9999-12-31T23:59:59Z", "2024-01-01T00:00:00+01:00"} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	lo, hi := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 20000 {
		check(time.Unix(lo+rng.Int64N(hi-lo), 0).UTC().Format(time.RFC3339))
	}
}
