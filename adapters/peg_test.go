package adapters_test

import (
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestPeg checks the one peg formula against the definitions it encodes:
// price / exchange rate for a value-accruing token, the price alone where
// one token is worth one base unit, and unknown (1, false) where the data
// cannot say.
func TestPeg(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name      string
		price     float64
		priceOK   bool
		rate      float64
		rateOK    bool
		basis     adapters.PegBasis
		want      float64
		wantKnown bool
	}{
		{"wstETH at a discount", 1.16, true, 1.17, true, adapters.PegRate, 1.16 / 1.17, true},
		{"stETH rebasing: the price", 0.9306, true, 0, false, adapters.PegPrice, 0.9306, true},
		{"rebasing ignores a rate", 0.99, true, 1.2, true, adapters.PegPrice, 0.99, true},
		{"USDC lending market in a USD vault", 0.88, true, 0, false, adapters.PegPrice, 0.88, true},
		{"value-accruing without a rate: unknown", 1.077, true, 0, false, adapters.PegRate, 1, false},
		{"value-accruing with a zero rate: unknown", 1.077, true, 0, true, adapters.PegRate, 1, false},
		{"infinite rate: unknown", 1.077, true, inf, true, adapters.PegRate, 1, false},
		{"no price: unknown", 0, false, 1.1, true, adapters.PegRate, 1, false},
		{"zero price: unknown", 0, true, 1.1, true, adapters.PegRate, 1, false},
		{"NaN price: unknown", math.NaN(), true, 1.1, true, adapters.PegPrice, 1, false},
		{"infinite price: unknown", inf, true, 1.1, true, adapters.PegRate, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := adapters.Peg(tt.price, tt.priceOK, tt.rate, tt.rateOK, tt.basis)
			if got != tt.want || known != tt.wantKnown {
				t.Errorf("Peg(%g, %v, %g, %v, %d) = %g, %v; want %g, %v", tt.price, tt.priceOK, tt.rate, tt.rateOK, tt.basis, got, known, tt.want, tt.wantKnown)
			}
		})
	}
}

// TestObservation_Peg: an exchange rate the history derived from the
// price (Observation.Derived) is not a rate: cbETH's peg is unknown, not
// price / price = 1.
func TestObservation_Peg(t *testing.T) {
	var o adapters.Observation
	o.Put(adapters.FieldPrice, 1.05)
	o.Put(adapters.FieldExchangeRate, 1.05)
	if p, known := o.Peg(adapters.PegRate); p != 1 || !known {
		t.Errorf("observed rate: Peg = %g, %v; want 1, true", p, known)
	}
	o.Derived = o.Derived.With(adapters.FieldExchangeRate)
	if p, known := o.Peg(adapters.PegRate); p != 1 || known {
		t.Errorf("rate derived from the price: Peg = %g, %v; want 1, false", p, known)
	}
	price, rate := 1.05, 1.1
	o.Values[adapters.FieldExchangeRate] = rate
	o.Derived = 0
	if p, known := o.Peg(adapters.PegRate); p != price/rate || !known {
		t.Errorf("Peg = %g, %v; want %g, true", p, known, price/rate)
	}
}

// TestPegBasisOf: only value-accruing staking tokens compare with a rate.
func TestPegBasisOf(t *testing.T) {
	for _, tt := range []struct {
		k        adapters.Kind
		rebasing bool
		want     adapters.PegBasis
	}{
		{adapters.LST, false, adapters.PegRate}, {adapters.LRT, false, adapters.PegRate},
		{adapters.LST, true, adapters.PegPrice}, {adapters.LRT, true, adapters.PegPrice},
		{adapters.Lending, false, adapters.PegPrice}, {adapters.AMM, false, adapters.PegPrice},
	} {
		if got := adapters.PegBasisOf(tt.k, tt.rebasing); got != tt.want {
			t.Errorf("PegBasisOf(%s, %v) = %d, want %d", tt.k, tt.rebasing, got, tt.want)
		}
	}
}
