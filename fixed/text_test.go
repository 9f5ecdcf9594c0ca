package fixed

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestNum_JSON: a Num marshals to decimal's JSON, byte for byte, and reads
// back to the same decimal (coefficient and exponent), for amounts of
// every form (zero, fast, wide).
func TestNum_JSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, d := range append(numAmounts(rng, 300), decimal.RequireFromString("1e40"), decimal.RequireFromString("-0.000000000000000000001")) {
		n := FromDec(d)
		got, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(d)
		if string(got) != string(want) {
			t.Fatalf("Marshal(%s) = %s, decimal's %s", d, got, want)
		}
		if n.String() != d.String() {
			t.Fatalf("String(%s) = %s", d, n.String())
		}
		var back Num
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		var dback decimal.Decimal
		_ = json.Unmarshal(want, &dback)
		if !same(back.Dec(), dback) {
			t.Fatalf("Unmarshal(%s) = %s (exp %d), decimal's %s (exp %d)", got, back.Dec(), back.Dec().Exponent(), dback, dback.Exponent())
		}
	}
	var n Num
	if err := json.Unmarshal([]byte(`"x"`), &n); err == nil {
		t.Error(`Unmarshal("x"): no error`)
	}
	if err := json.Unmarshal([]byte(`null`), &n); err != nil || !n.IsZero() {
		t.Errorf("Unmarshal(null) = %s, %v; want zero, nil", n, err)
	}
}

// TestNum_ApproxFloat: Num.ApproxFloat is ApproxFloat of its decimal, bit
// for bit.
func TestNum_ApproxFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, d := range numAmounts(rng, 500) {
		if got, want := FromDec(d).ApproxFloat(), ApproxFloat(d); got != want {
			t.Fatalf("ApproxFloat(%s) = %v, want %v", d, got, want)
		}
	}
}

// TestNewFromInt: NewFromInt is FromDec(decimal.NewFromInt(x)), the same
// Num (and so the same decimal back).
func TestNewFromInt(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	xs := []int64{0, 1, -1, 1 << 62, -1 << 63, 1<<63 - 1, 365 * 24 * 3600 * 1e9}
	for range 200 {
		xs = append(xs, rng.Int64(), -rng.Int64N(1e12))
	}
	for _, x := range xs {
		got, want := NewFromInt(x), FromDec(decimal.NewFromInt(x))
		if got != want || !same(got.Dec(), decimal.NewFromInt(x)) {
			t.Fatalf("NewFromInt(%d) = %+v (%s), want %+v", x, got, got.Dec(), want)
		}
	}
}
