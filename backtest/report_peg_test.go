package backtest

import (
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestMarketCurves_Peg: the report's peg is a staking token's price /
// exchange rate (the price alone for a rebasing token); a value-accruing
// token's row without an exchange rate has no peg, and a pool or a lending
// market draws none (their price is not a peg).
func TestMarketCurves_Peg(t *testing.T) {
	cat := adapters.Builtin()
	series := func(price, rate []float64) *adapters.Series {
		s := &adapters.Series{Times: []int64{0, 3600}, Set: make([]adapters.FieldSet, 2)}
		for i := range s.Times {
			if price != nil {
				s.Set[i] |= adapters.FieldSet(1) << adapters.FieldPrice
			}
			if rate != nil && rate[i] > 0 {
				s.Set[i] |= adapters.FieldSet(1) << adapters.FieldExchangeRate
			}
		}
		s.Cols[adapters.FieldPrice], s.Cols[adapters.FieldExchangeRate] = price, rate
		return s
	}
	nan := math.NaN()
	tests := []struct {
		id          string
		price, rate []float64
		want        []float64
	}{
		{"lido/steth", []float64{0.98, 0.995}, nil, []float64{0.98, 0.995}},            // rebasing: price is the peg
		{"rocketpool/reth", []float64{1.1, 1.1}, []float64{1.1, 0}, []float64{1, nan}}, // no rate on row 2: no peg
		{"coinbase/cbeth", []float64{1.077, 1.08}, nil, []float64{nan, nan}},           // a price only: rate x peg, not a peg
		{"curve/steth-eth", []float64{1, 1}, nil, []float64{nan, nan}},                 // a pool: no peg
		{"aave-v3/weth", []float64{3000, 3100}, nil, []float64{nan, nan}},              // lending: no peg
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			ad, err := adapters.Open(cat, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			mc := marketCurves([]*market{{id: tc.id, ad: ad, cursor: newCursor(series(tc.price, tc.rate), nil)}}, 0, 3600)
			if len(mc) != 1 || len(mc[0].Peg) != len(tc.want) {
				t.Fatalf("got %+v, want pegs %v", mc, tc.want)
			}
			for i, w := range tc.want {
				got := mc[0].Peg[i]
				if (math.IsNaN(w) != math.IsNaN(got)) || (!math.IsNaN(w) && math.Abs(got-w) > 1e-12) {
					t.Errorf("row %d: peg %v, want %v", i, got, w)
				}
			}
		})
	}
}
