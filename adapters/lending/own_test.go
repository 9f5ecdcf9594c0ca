package lending_test

import (
	"math"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

// aaveWETHSupply is the Aave v3 WETH reserve's supply rate (Aave's
// DefaultReserveInterestRateStrategy with the reserve's parameters in
// adapters/builtin.go), written out here independently of lending.IRM.
func aaveWETHSupply(u float64) float64 {
	b := 0.027 * u / 0.9
	if u > 0.9 {
		b = 0.027 + 0.8*(u-0.9)/0.1
	}
	return b * u * (1 - 0.15)
}

// TestAdapter_OwnSupply puts 10M ETH into a 2M ETH Aave v3 WETH market
// at 85% utilization and holds it a year, hour by hour: it earns the
// reserve's supply rate at the utilization after its own supply,
// 1.7M / (2M + the position), not the 1.96% the market pays without it,
// and the quote promises the rate the position then earns.
func TestAdapter_OwnSupply(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/weth")
	fields := map[adapters.Field]float64{
		adapters.FieldAPY: aaveWETHSupply(0.85), adapters.FieldSupply: 2e6, adapters.FieldBorrows: 1.7e6,
	}
	env := testenv.Env(t0, fields)
	pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("10000000")))
	if err != nil {
		t.Fatal(err)
	}
	env.Held = &pos
	q, err := a.Quote(env, fixed.FromDec(d("0")))
	if err != nil {
		t.Fatal(err)
	}
	if want := aaveWETHSupply(1.7e6 / 12e6); relErr(q.APY, want) > 1e-12 {
		t.Errorf("Quote APY holding 10M = %.6g, want the model at u = 1.7M/12M: %.6g (the market pays %.4g)", q.APY, want, aaveWETHSupply(0.85))
	}
	v := f.Value.InexactFloat64()
	for h := 1; h <= 365*24; h++ {
		u1 := 1.7e6 / (2e6 + v)
		v *= math.Pow(1+aaveWETHSupply(u1), 1.0/(365*24))
		a.Accrue(&pos, testenv.Env(t0.Add(time.Duration(h)*time.Hour), fields))
	}
	end := testenv.Env(t0.Add(365*24*time.Hour), fields)
	got := a.Value(&pos, end, adapters.PriceRate).InexactFloat64()
	if relErr(got, v) > 1e-9 {
		t.Errorf("10M after a year = %.6f, want %.6f (the IRM after own supply)", got, v)
	}
	earned := got/f.Value.InexactFloat64() - 1
	t.Logf("10M ETH into a 2M ETH market: earns %.4f%% a year, quoted %.4f%%; the market pays %.4f%%", 100*earned, 100*q.APY, 100*aaveWETHSupply(0.85))
	if earned > 0.001 || relErr(earned, q.APY) > 0.01 {
		t.Errorf("earned %.6g, want about the quoted %.6g (far below the market's %.4g)", earned, q.APY, aaveWETHSupply(0.85))
	}
}

// TestDriver_ReadInverts infers the utilization from an APY and a size
// alone (DefiLlama pools carry nothing else) by inverting the model, so
// that a deposit as large as the market moves the rate.
func TestDriver_ReadInverts(t *testing.T) {
	drv := testenv.Open(t, nil, "aave-v3/weth").Driver().(*lending.Harvesting)
	for _, u := range []float64{0.05, 0.5, 0.85, 0.9, 0.95, 0.999} {
		apy := aaveWETHSupply(u)
		// tvl in USD with the base price: 1000 ETH at 2000 USD.
		o := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: apy, adapters.FieldTVL: 2e6, adapters.FieldBaseUSD: 2000}).Obs
		s := drv.Read(&o)
		if !s.Inferred || !s.HasUtilization || !s.HasSize || math.Abs(s.Utilization-u) > 1e-9 {
			t.Errorf("Read(apy %.6g) = utilization %.12g (inferred %v, size %v), want %g", apy, s.Utilization, s.Inferred, s.HasSize, u)
		}
		if s.Supply != 1000 || math.Abs(s.Borrows-1000*u) > 1e-6 {
			t.Errorf("Read(apy %.6g): supply %g, borrows %g, want 1000, %g", apy, s.Supply, s.Borrows, 1000*u)
		}
		if got, want := drv.APYAfter(s, 1000), aaveWETHSupply(u/2); relErr(got, want) > 1e-9 {
			t.Errorf("APYAfter doubling the market at u %g = %.9g, want %.9g", u, got, want)
		}
	}
	// Above the model's highest rate: full utilization, and the curve is
	// scaled to the observed rate.
	o := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 1, adapters.FieldSupply: 1000}).Obs
	if s := drv.Read(&o); s.Utilization != 1 || !s.Inferred {
		t.Errorf("Read(apy 100%%) = utilization %g (inferred %v), want 1", s.Utilization, s.Inferred)
	}
	// An observed utilization is never replaced.
	o = testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.02, adapters.FieldSupply: 1000, adapters.FieldUtilization: 0.5}).Obs
	if s := drv.Read(&o); s.Utilization != 0.5 || s.Inferred {
		t.Errorf("Read with utilization 0.5 = %g (inferred %v), want 0.5 observed", s.Utilization, s.Inferred)
	}
}

func TestUtilizationAfter(t *testing.T) {
	tests := []struct {
		u, supply, own, ownBorrows, want float64
	}{
		{0.85, 2e6, 0, 0, 0.85},
		{0.85, 2e6, 10e6, 0, 1.7e6 / 12e6},
		{0.5, 100, -50, 0, 1},
		{0.5, 100, -200, 0, 1},
		{0.5, 100, 0, 25, 0.75},
		{0.5, 100, 100, 100, 0.75},
	}
	for _, tt := range tests {
		if got := lending.UtilizationAfter(tt.u, tt.supply, tt.own, tt.ownBorrows); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("UtilizationAfter(%g, %g, %g, %g) = %.17g, want %.17g", tt.u, tt.supply, tt.own, tt.ownBorrows, got, tt.want)
		}
	}
}

// TestAdapter_QuoteSellMarginal sells 4M of a 10M ETH position in a 2M ETH
// Aave v3 WETH market at 85% utilization. What stays earns more once the
// supply falls, so the sale gives up (H·r(H) − (H−X)·r(H−X)) / X a year
// per unit sold, with r(h) the reserve's supply rate at 1.7M / (2M + h):
// far below the rate the position earns, and not the rate after adding
// the sale (r(H+X)), which a deposit's quote gives.
func TestAdapter_QuoteSellMarginal(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/weth")
	env := testenv.Env(t0, map[adapters.Field]float64{
		adapters.FieldAPY: aaveWETHSupply(0.85), adapters.FieldSupply: 2e6, adapters.FieldBorrows: 1.7e6,
	})
	pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("10000000")))
	if err != nil {
		t.Fatal(err)
	}
	env.Held = &pos
	h := f.Value.InexactFloat64()
	r := func(own float64) float64 { return aaveWETHSupply(1.7e6 / (2e6 + own)) }
	for _, c := range []struct {
		sale string
		want float64
	}{
		{"4000000", (h*r(h) - (h-4e6)*r(h-4e6)) / 4e6},
		{"10000000", r(h)}, // the whole position: all its income
		{"20000000", r(h)}, // more than it holds: the whole position
		{"0", r(h)},        // nothing sold: the rate it earns
		{"1", (h*r(h) - (h-1)*r(h-1)) / 1},
	} {
		q, err := a.QuoteSell(env, fixed.FromDec(d(c.sale)))
		if err != nil {
			t.Fatal(err)
		}
		if relErr(q.APY, c.want) > 1e-6 {
			t.Errorf("QuoteSell(%s).APY = %.9g, want %.9g", c.sale, q.APY, c.want)
		}
		// The yield alone (what a rebalance reads of the sells it may
		// not make) is the full quote's, to the bit.
		y, err := a.QuoteSellYield(env, fixed.FromDec(d(c.sale)))
		if err != nil || relErr(y.APY, c.want) > 1e-6 || y.APY != q.APY || y.RewardAPY != q.RewardAPY {
			t.Errorf("QuoteSellYield(%s) = %+v, %v, want APY %.9g (QuoteSell's %.9g)", c.sale, y, err, c.want, q.APY)
		}
		y, err = a.QuoteYield(env, fixed.FromDec(d(c.sale)))
		if x := d(c.sale).InexactFloat64(); err != nil || relErr(y.APY, r(h+x)) > 1e-6 {
			t.Errorf("QuoteYield(%s) = %+v, %v, want the deposit's APY %.9g", c.sale, y, err, r(h+x))
		}
	}
	q, _ := a.QuoteSell(env, fixed.FromDec(d("4000000")))
	dep, _ := a.Quote(env, fixed.FromDec(d("4000000")))
	t.Logf("selling 4M of 10M: gives up %.5f%% a year per unit; the position earns %.5f%%; a deposit quote of 4M says %.5f%%",
		100*q.APY, 100*r(h), 100*dep.APY)
	if !(q.APY < r(h)) || relErr(dep.APY, r(h+4e6)) > 1e-9 {
		t.Errorf("sale %.6g, position %.6g, deposit quote %.6g (want r(H+X) %.6g)", q.APY, r(h), dep.APY, r(h+4e6))
	}
	// Without a holder a sale is priced at the market's rate.
	env.Held = nil
	if q, _ := a.QuoteSell(env, fixed.FromDec(d("4000000"))); relErr(q.APY, aaveWETHSupply(0.85)) > 1e-12 {
		t.Errorf("QuoteSell without a position = %.9g, want the market's %.9g", q.APY, aaveWETHSupply(0.85))
	}
}
