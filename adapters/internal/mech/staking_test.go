package mech

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

func TestFastDecimal(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{0.1, "0.1"},
		{1.0853, "1.0853"},
		{1.115283, "1.115283"},
		{0.930592, "0.930592"},
		{-0.02, "-0.02"},
		{123456.789, "123456.789"},
		{1e-20, "0"},
		{2.5e-18, "0.000000000000000003"},
		{1e17, "100000000000000000"},
		{math.NaN(), "0"},
		{math.Inf(1), "0"},
	}
	for _, tt := range tests {
		if got := FastDecimal(tt.in); !got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("FastDecimal(%g) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestMulRate(t *testing.T) {
	tests := []struct {
		u    string
		x    float64
		want string
	}{
		{"10", 1.1, "11"},
		{"0.000000000000000001", 0.5, "0.000000000000000001"}, // half away from zero
		{"0.000000000000000001", 0.49, "0"},
		{"123.456789012345678901", 1.0853, "133.987653115098765311"},
		{"0", 1.5, "0"},
		{"5", 0, "0"},
		{"-2", 1.5, "-3"},
		{"7", 1e20, "700000000000000000000"},
	}
	for _, tt := range tests {
		if got := MulRate(decimal.RequireFromString(tt.u), tt.x); !got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("MulRate(%s, %g) = %s, want %s", tt.u, tt.x, got, tt.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		u := decimal.New(r.Int64N(1<<62), -int32(r.IntN(25))).Mul(decimal.NewFromInt(r.Int64N(1000) + 1))
		x := r.Float64() * math.Pow(10, float64(r.IntN(8)-3))
		want := adapters.Quantize(u.Mul(FastDecimal(x)))
		if got := MulRate(u, x); !got.Equal(want) {
			t.Fatalf("MulRate(%s, %v) = %s, want %s", u, x, got, want)
		}
	}
}

func TestGrowth(t *testing.T) {
	year := time.Duration(YearSeconds) * time.Second
	tests := []struct {
		apy  float64
		dt   time.Duration
		want float64
	}{
		{0.05, year, 1.05},
		{0.05, 0, 1},
		{0, year, 1},
		{0.21, year / 2, 1.1},
		{-1, year, 0},
		{-2, year, 0},
	}
	for _, tt := range tests {
		if got := Growth(tt.apy, tt.dt); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("Growth(%g, %v) = %.17g, want %.17g", tt.apy, tt.dt, got, tt.want)
		}
	}
}

// TestMulRate_Allocs: a Value (units on a fixed.Num times a rate) allocates
// only the decimal it returns (decimal.NewFromBigInt's big.Int and words).
func TestMulRate_Allocs(t *testing.T) {
	u := fixed.RequireFromString("123.456789012345678901")
	got := testing.AllocsPerRun(100, func() { _ = u.MulRate(1.0853).Dec() })
	if got > 2 {
		t.Errorf("MulRate allocations = %g, want <= 2", got)
	}
}
