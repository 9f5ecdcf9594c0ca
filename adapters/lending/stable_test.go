package lending_test

import (
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// TestValue_StablecoinMarketPrice: in a USD vault a USDC supply position
// is valued at USDC's market price under market pricing, and at par under
// rate pricing; an ETH market ignores a price. On the usdc-2023 scenario
// (USDC at about 0.88 on 2023-03-11) the position shows the loss.
func TestValue_StablecoinMarketPrice(t *testing.T) {
	from, to := time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 3, 20, 0, 0, 0, 0, time.UTC)
	m, err := adapters.Builtin().Market("aave-v3/usdc")
	if err != nil {
		t.Fatal(err)
	}
	b, err := synth.Generate(synth.Config{Scenario: "usdc-2023", From: from, To: to, Step: time.Hour, Seed: 1, Markets: []adapters.Market{m}})
	if err != nil {
		t.Fatal(err)
	}
	a := testenv.Open(t, nil, "aave-v3/usdc")
	env := &adapters.Env{Time: b.Rows[0].Obs.Time, Obs: b.Rows[0].Obs}
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.NewFromInt(1000))
	if err != nil {
		t.Fatal(err)
	}
	lowest := 2.0
	for _, r := range b.Rows {
		e := &adapters.Env{Time: r.Obs.Time, Obs: r.Obs}
		price, ok := r.Obs.Get(adapters.FieldPrice)
		if !ok {
			t.Fatalf("%s: no USDC price in the scenario", r.Obs.Time)
		}
		atRate := a.Value(&pos, e, adapters.PriceRate).InexactFloat64()
		atMarket := a.Value(&pos, e, adapters.PriceMarket).InexactFloat64()
		if !testenv.Near(atMarket, atRate*price, 1e-12) {
			t.Errorf("%s: value at market %.9f, want at rate %.9f x USDC price %.6f", r.Obs.Time, atMarket, atRate, price)
		}
		lowest = min(lowest, atMarket/atRate)
	}
	if lowest > 0.9 {
		t.Errorf("USDC position at market fell to only %.4f of its value at par; the scenario's depeg reaches about 0.88", lowest)
	}
	// An ETH market: a price in its observation does not move the value.
	w := testenv.Open(t, nil, "aave-v3/weth")
	e := testenv.EnvKV(from, adapters.FieldAPY, 0.02, adapters.FieldPrice, 0.5)
	wp, _, err := w.Deposit(w.NewPosition(), e, fixed.NewFromInt(10))
	if err != nil {
		t.Fatal(err)
	}
	if r, m := w.Value(&wp, e, adapters.PriceRate), w.Value(&wp, e, adapters.PriceMarket); !r.Equal(m) {
		t.Errorf("WETH supply at market %s, at rate %s: want equal", m, r)
	}
}
