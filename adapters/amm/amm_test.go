package amm_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func f64(v decimal.Decimal) float64 { return v.InexactFloat64() }

func deposit(t *testing.T, a *adapters.Adapter, env *adapters.Env, amount string) (adapters.Position, adapters.Fill) {
	t.Helper()
	pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d(amount)))
	if err != nil {
		t.Fatalf("Deposit(%s) error = %v", amount, err)
	}
	return pos, f
}

// weightedCatalog has a Balancer-style 80/20 weighted pool.
func weightedCatalog(t *testing.T) *adapters.Catalog {
	t.Helper()
	return testenv.Catalog(t, adapters.Builtin(), adapters.Profile{Name: "weighted", Kind: adapters.AMM, PoolType: adapters.PoolConstantProduct,
		Params: map[string]adapters.Param{
			"fee_tier": {Value: 0.003, Source: "test"},
			"weight0":  {Value: 0.8, Source: "test: 80/20 pool, 80% base"},
		}},
		adapters.Market{ID: "weighted/weth-bal", Kind: adapters.AMM, Base: adapters.ETH})
}

// TestProfiles opens every built-in AMM market and checks the pool model
// and capabilities its profile selects; it fails when an AMM profile has no
// market exercised. The behaviour tests below run each model.
func TestProfiles(t *testing.T) {
	want := map[string]struct {
		model    amm.Model
		harvests bool
	}{
		"curve/steth-eth":                {amm.Stable, true},
		"curve/3pool":                    {amm.Stable, true},
		"balancer/reth-weth":             {amm.Stable, true},
		"uniswap-v3/weth-usdt":           {amm.Product, false},
		"uniswap-v3/weth-usdt-range":     {amm.Concentrated, false},
		"balancer-weighted/80bal-20weth": {amm.Product, false},
	}
	c := adapters.Builtin()
	n := 0
	seen := map[string]bool{}
	for _, m := range c.Markets() {
		if m.Kind != adapters.AMM {
			continue
		}
		n++
		seen[m.Protocol] = true
		w, ok := want[m.ID]
		if !ok {
			t.Errorf("built-in AMM market %s has no expectation in this test", m.ID)
			continue
		}
		a := testenv.Open(t, c, m.ID)
		var drv *amm.Driver
		switch x := a.Driver().(type) {
		case *amm.Harvesting:
			drv = x.Driver
		case *amm.Driver:
			drv = x
		}
		if drv == nil || drv.Model() != w.model || a.CanHarvest() != w.harvests {
			t.Errorf("%s: driver %T model %v harvests %v, want model %v harvests %v", m.ID, a.Driver(), drv.Model(), a.CanHarvest(), w.model, w.harvests)
		}
	}
	if n != len(want) {
		t.Errorf("%d built-in AMM markets, want %d", n, len(want))
	}
	for _, p := range c.Profiles() {
		if p.Kind == adapters.AMM && !seen[p.Name] {
			t.Errorf("AMM profile %s has no built-in market exercised", p.Name)
		}
	}
}

// TestAdapter_productPriceMove: a full-range position follows sqrt(r) of
// coin 1's price in base, so it loses 2*sqrt(r)/(1+r) - 1 against holding
// its entry coins. Uniswap WETH/USDT quotes USDT per WETH (price_inverted):
// when ETH rises by r, USDT's price in ETH falls by r.
func TestAdapter_productPriceMove(t *testing.T) {
	a := testenv.Open(t, nil, "uniswap-v3/weth-usdt")
	pos, f := deposit(t, a, testenv.Env(t0, map[adapters.Field]float64{adapters.FieldPrice: 2000}), "100")
	// Pool size unknown: the one-sided entry pays the 0.3% fee on half.
	if want := d("0.15"); !f.Slippage.Equal(fixed.FromDec(want)) {
		t.Errorf("entry slippage = %s, want fee on the swapped half %s", f.Slippage, want)
	}
	if pos.Entry != 0.0005 {
		t.Errorf("Entry = %g, want USDT's price in ETH at entry, 1/2000", pos.Entry)
	}
	for _, r := range []float64{4, 0.25, 1.21} {
		env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldPrice: 2000 * r})
		got := f64(a.Value(&pos, env, adapters.PriceMarket))
		if want := 99.85 / math.Sqrt(r); math.Abs(got-want) > 1e-12*want {
			t.Errorf("value in ETH with ETH up %gx: %.15g, want %.15g", r, got, want)
		}
		hold := 99.85 * (0.5 + 0.5/r) // half ETH, half USDT worth 1/r as much ETH
		if il := got/hold - 1; math.Abs(il-amm.ILConstantProduct(r)) > 1e-12 {
			t.Errorf("loss against holding at r = %g: %.15g, want %.15g", r, il, amm.ILConstantProduct(r))
		}
	}
	// Without price_inverted the price is coin 1's in base directly.
	c := adapters.Builtin()
	if err := c.AddMarket(adapters.Market{ID: "uniswap-v3/usdt-weth", Kind: adapters.AMM, Base: adapters.ETH}); err != nil {
		t.Fatal(err)
	}
	direct := testenv.Open(t, c, "uniswap-v3/usdt-weth")
	p2, f2 := deposit(t, direct, testenv.Env(t0, map[adapters.Field]float64{adapters.FieldPrice: 0.0005}), "100")
	if got, want := f64(direct.Value(&p2, testenv.Env(t0, map[adapters.Field]float64{adapters.FieldPrice: 0.002}), adapters.PriceRate)), 2*f64(f2.Value.Dec()); math.Abs(got-want) > 1e-12*want {
		t.Errorf("value with coin 1 up 4x in base = %g, want %g", got, want)
	}
}

func TestAdapter_weightedPriceMove(t *testing.T) {
	a := testenv.Open(t, weightedCatalog(t), "weighted/weth-bal")
	pos, f := deposit(t, a, testenv.Env(t0, map[adapters.Field]float64{adapters.FieldPrice: 2}), "100")
	v0 := f64(f.Value.Dec())
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldPrice: 6})
	got := f64(a.Value(&pos, env, adapters.PriceRate))
	hold := v0 * (0.8 + 0.2*3)
	if il := got/hold - 1; math.Abs(il-amm.ILWeighted(3, 0.8)) > 1e-12 {
		t.Errorf("80/20 loss against holding at r = 3: %.15g, want %.15g", il, amm.ILWeighted(3, 0.8))
	}
}

func TestAdapter_concentrated(t *testing.T) {
	a := testenv.Open(t, nil, "uniswap-v3/weth-usdt-range")
	g := amm.Range{Lower: 0.8, Upper: 1.25}
	fields := func(price float64) map[adapters.Field]float64 {
		return map[adapters.Field]float64{
			adapters.FieldPrice: price, adapters.FieldVolume: 20000, adapters.FieldTVL: 4e9, adapters.FieldBaseUSD: 2000,
		}
	}
	pos, f := deposit(t, a, testenv.Env(t0, fields(1)), "100")
	v0 := f64(f.Value.Dec())
	for _, r := range []float64{0.5, 0.8, 0.95, 1.1, 1.25, 3} {
		got := f64(a.Value(&pos, testenv.Env(t0, fields(r)), adapters.PriceRate))
		// The quoted price is USDT per WETH: coin 1's price ratio is 1/r.
		if want := v0 * g.Value(1/r) / g.Value(1); math.Abs(got-want) > 1e-12*want {
			t.Errorf("value at r = %g: %.15g, want %.15g", r, got, want)
		}
	}
	// Fees: 20000 ETH a day x 0.3% shared over the 2M ETH pool plus the
	// position (own / (pool + own)) while in range; the range does not
	// multiply the pool's fee yield (the pool's liquidity is assumed as
	// concentrated as the position's), and earns nothing out of range.
	daily := 20000 * 0.003 / (2e6 + v0)
	in := pos
	a.Accrue(&in, testenv.Env(t0.Add(day), fields(1)))
	if want := 1 + daily; math.Abs(in.Index-want) > 1e-14 {
		t.Errorf("fee index after a day in range = %.17g, want %.17g", in.Index, want)
	}
	out := pos
	a.Accrue(&out, testenv.Env(t0.Add(day), fields(1.3)))
	if out.Index != 1 || out.APY != 0 {
		t.Errorf("fee index after a day out of range = %g (APY %g), want 1 and 0", out.Index, out.APY)
	}
	q, _ := a.Quote(testenv.Env(t0, fields(1)), fixed.Num{})
	if want := math.Pow(1+20000*0.003/2e6, 365) - 1; math.Abs(q.APY-want) > 1e-12 || q.Unknown != "" {
		t.Errorf("Quote APY in range = %g (%q), want %g: the pool's fee yield, not %g times it", q.APY, q.Unknown, want, g.Concentration())
	}
	// Later deposits join the same range, anchored at the first entry.
	pos2, _, err := a.Deposit(pos, testenv.Env(t0, fields(1.1)), fixed.FromDec(d("50")))
	if err != nil {
		t.Fatal(err)
	}
	if pos2.Entry != 1 {
		t.Errorf("Entry after a second deposit = %g, want the first entry 1", pos2.Entry)
	}
}

func TestAdapter_productFees(t *testing.T) {
	a := testenv.Open(t, nil, "uniswap-v3/weth-usdt")
	fields := map[adapters.Field]float64{
		adapters.FieldPrice: 1, adapters.FieldVolume: 50000, adapters.FieldFeeTier: 0.0005,
		adapters.FieldBalance0: 1e5, adapters.FieldBalance1: 1e5,
	}
	pos, f := deposit(t, a, testenv.Env(t0, fields), "10")
	a.Accrue(&pos, testenv.Env(t0.Add(10*day), fields))
	// The position's share of the fees is own / (pool + own).
	daily := 50000 * 0.0005 / (2e5 + f64(f.Value.Dec()))
	if want := math.Pow(1+daily, 10); math.Abs(pos.Index-want) > 1e-13 {
		t.Errorf("fee index after 10 days = %.15g, want %.15g (fee tier from the observation)", pos.Index, want)
	}
	// Quote's APY counts the deposit (after its entry costs) in the TVL.
	q, _ := a.Quote(testenv.Env(t0, fields), fixed.FromDec(d("200000")))
	own := 200000 - f64(q.EntryCost.Dec())
	if want := math.Pow(1+50000*0.0005/(2e5+own), 365) - 1; math.Abs(q.APY-want) > 1e-12 {
		t.Errorf("Quote APY for a deposit as large as the pool = %g, want %g", q.APY, want)
	}
}

// TestBuiltin_weightedBalancer: the built-in 80/20 BAL/WETH pool is a
// weighted product pool holding 20% WETH (the base): a BAL price move r
// values the position at r^0.8 (the Balancer weighted invariant's value,
// prod (p_i)^(w_i) over the entry's), with its 0.5% fee.
func TestBuiltin_weightedBalancer(t *testing.T) {
	a := testenv.Open(t, nil, "balancer-weighted/80bal-20weth")
	fields := func(price float64) map[adapters.Field]float64 {
		return map[adapters.Field]float64{adapters.FieldPrice: price, adapters.FieldTVL: 1e8, adapters.FieldBaseUSD: 2500}
	}
	pos, f := deposit(t, a, testenv.Env(t0, fields(0.0008)), "10")
	v0 := f64(f.Value.Dec())
	for _, r := range []float64{0.5, 1.5, 3} {
		got := f64(a.Value(&pos, testenv.Env(t0, fields(0.0008*r)), adapters.PriceRate))
		if want := v0 * math.Pow(r, 0.8); math.Abs(got-want) > 1e-12*want {
			t.Errorf("value at r = %g: %.15g, want %.15g", r, got, want)
		}
	}
	// Entering swaps the BAL share (80%) of the deposit at the 0.5% fee
	// through the weighted pool: 8 ETH of 10 against 1e8 / 2500 = 40,000
	// ETH of reserves split 20/80.
	in := 8 * (1 - 0.005)
	x0, x1 := 40000*0.2, 40000*0.8
	want := 8 - x1*(1-math.Pow(x0/(x0+in), 0.2/0.8))
	if got := f64(f.Slippage.Dec()); math.Abs(got-want) > 1e-9 {
		t.Errorf("entry slippage %.12g, want %.12g (weighted-product swap of the 80%% BAL share at 0.5%%)", got, want)
	}
}

// TestAdapter_ownLiquidity: a position four times the pool's size earns
// a fifth of the fees (own / (pool + own)) in the backtest's accrual as in
// the quote, not the pool's whole fee yield.
func TestAdapter_ownLiquidity(t *testing.T) {
	for _, id := range []string{"uniswap-v3/weth-usdt", "uniswap-v3/weth-usdt-range"} {
		t.Run(id, func(t *testing.T) {
			a := testenv.Open(t, nil, id)
			// A 1,000 ETH pool (TVL in USD at 2000 USD/ETH) trading 500 ETH a day at 0.3%.
			fields := map[adapters.Field]float64{adapters.FieldPrice: 2000, adapters.FieldVolume: 500, adapters.FieldTVL: 2e6, adapters.FieldBaseUSD: 2000}
			pos, f := deposit(t, a, testenv.Env(t0, fields), "4000")
			own := f64(f.Value.Dec())
			fees := 500 * 0.003 // ETH a day
			wantDaily := fees * own / (1000 + own) / own
			a.Accrue(&pos, testenv.Env(t0.Add(day), fields))
			if got := pos.Index - 1; math.Abs(got-wantDaily) > 1e-15 {
				t.Errorf("a day's fee growth = %.12g, want %.12g (own %.2f over a 1000 ETH pool)", got, wantDaily, own)
			}
			// The quote promises what the accrual pays: the deposit's value
			// after its entry costs joins the pool.
			q, _ := a.Quote(testenv.Env(t0, fields), fixed.FromDec(d("4000")))
			if want := math.Pow(1+fees/(1000+own), 365) - 1; math.Abs(q.APY-want) > 1e-12 {
				t.Errorf("Quote APY for 4000 ETH into a 1000 ETH pool = %.15g, want %.15g", q.APY, want)
			}
			// Holding the position: a further deposit's quote counts it, as
			// Accrue does; a sale gives up (H·a(H) − (H−X)·a(H−X)) / X a
			// year per unit, with a(h) = (1 + fees / (1000 + h))^365 − 1.
			held := testenv.Env(t0.Add(day), fields)
			held.Held = &pos
			hv := f64(a.Value(&pos, held, adapters.PriceRate))
			fa := func(h float64) float64 { return math.Pow(1+fees/(1000+h), 365) - 1 }
			q, _ = a.Quote(held, fixed.FromDec(d("4000")))
			if want := fa(hv + 4000 - f64(q.EntryCost.Dec())); math.Abs(q.APY-want) > 1e-12 {
				t.Errorf("Quote APY for 4000 more ETH on %.2f held = %.15g, want %.15g", hv, q.APY, want)
			}
			for _, x := range []float64{1000, 3000, hv, 2 * hv} {
				q, err := a.QuoteSell(held, fixed.FromDec(decimal.NewFromFloat(x)))
				if err != nil {
					t.Fatal(err)
				}
				xs := math.Min(x, hv)
				want := (hv*fa(hv) - (hv-xs)*fa(hv-xs)) / xs
				if math.Abs(q.APY-want) > 1e-9*want {
					t.Errorf("QuoteSell(%g) of %.2f held: APY %.12g, want %.12g (the fees it gives up per unit)", x, hv, q.APY, want)
				}
				if x == 1000 {
					t.Logf("selling 1000 of %.0f ETH: gives up %.4f%% a year per unit; the position earns %.4f%%; the rate after adding the sale %.4f%%", hv, 100*q.APY, 100*fa(hv), 100*fa(hv+1000))
				}
			}
		})
	}
}

// TestAdapter_noPoolSize: volume without any pool size (the GeckoTerminal
// file) supports no fee yield: the quote's APY is 0 with the reason, never
// volume x fee / the deposit, and a held position earns no fees.
func TestAdapter_noPoolSize(t *testing.T) {
	a := testenv.Open(t, nil, "uniswap-v3/weth-usdt-range")
	fields := map[adapters.Field]float64{adapters.FieldPrice: 2000, adapters.FieldVolume: 400000, adapters.FieldFeeTier: 0.003}
	for _, amt := range []string{"0", "1e-12", "10", "1e6"} {
		q, err := a.Quote(testenv.Env(t0, fields), fixed.FromDec(d(amt)))
		if err != nil {
			t.Fatal(err)
		}
		if q.APY != 0 || !strings.Contains(q.Unknown, "no pool size") {
			t.Errorf("Quote(%s) APY = %g, Unknown %q; want 0 and the reason", amt, q.APY, q.Unknown)
		}
	}
	pos, _ := deposit(t, a, testenv.Env(t0, fields), "10")
	a.Accrue(&pos, testenv.Env(t0.Add(30*day), fields))
	if pos.Index != 1 || pos.APY != 0 {
		t.Errorf("fee index after 30 days = %g (APY %g), want 1 and 0", pos.Index, pos.APY)
	}
}

func TestAdapter_slippage(t *testing.T) {
	a := testenv.Open(t, nil, "uniswap-v3/weth-usdt")
	fields := map[adapters.Field]float64{adapters.FieldPrice: 1, adapters.FieldBalance0: 1000, adapters.FieldBalance1: 1000}
	env := testenv.Env(t0, fields)
	// Entering with 200 swaps 100 through a 1000/1000 pool at 0.3%.
	in := 100 * 0.997
	want := 100 - 1000*in/(1000+in)
	_, f := deposit(t, a, env, "200")
	if got := f64(f.Slippage.Dec()); math.Abs(got-want) > 1e-12 {
		t.Errorf("entry slippage = %.15g, want %.15g", got, want)
	}
	prev := 0.0
	for _, amt := range []string{"2", "20", "200", "900"} {
		q, err := a.Quote(env, fixed.FromDec(d(amt)))
		if err != nil {
			t.Fatal(err)
		}
		share := f64(q.EntryCost.Dec()) / f64(d(amt))
		if share <= prev {
			t.Errorf("entry cost share for %s = %g, want above %g (slippage grows with size)", amt, share, prev)
		}
		prev = share
	}
	// Exits are bounded by the base balance and by MaxSlippage.
	pos, _ := deposit(t, a, env, "1500")
	if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("1100"))}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Errorf("Withdraw beyond the base balance: error = %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
	_, f, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("100"))})
	if err != nil {
		t.Fatal(err)
	}
	in = 50 * 0.997
	if want := 50 - 1000*in/(1000+in); math.Abs(f64(f.Slippage.Dec())-want) > 1e-12 {
		t.Errorf("exit slippage = %s, want %g", f.Slippage, want)
	}
	if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("100")), MaxSlippage: 0.01}); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("Withdraw with MaxSlippage 1%% under a %g slippage: error = %v, want kind %v", f64(f.Slippage.Dec())/100, err, adapters.KindCapExceeded)
	}
	if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("10")), Mode: adapters.ExitQueue}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Withdraw(ExitQueue) error = %v, want kind %v (no queue)", err, adapters.KindInvalid)
	}
}

// TestAdapter_stableImbalance: a Curve LP marked to the pool's marginal
// prices loses what the imbalance implies and recovers as it rebalances.
func TestAdapter_stableImbalance(t *testing.T) {
	a := testenv.Open(t, nil, "curve/steth-eth")
	tilted := map[adapters.Field]float64{adapters.FieldBalance0: 2e5, adapters.FieldBalance1: 8e5}
	balanced := map[adapters.Field]float64{adapters.FieldBalance0: 5e5, adapters.FieldBalance1: 5e5}
	pos, f := deposit(t, a, testenv.Env(t0, balanced), "100")
	// Curve's imbalance fee on a one-coin add is about fee/2 of the amount:
	// fee * n/(4(n-1)) on each coin's distance from a proportional deposit.
	if got, want := f64(f.Slippage.Dec()), 100*0.0004/2; math.Abs(got-want) > 0.01*want {
		t.Errorf("entry slippage into a balanced 1M pool = %s, want about %g", f.Slippage, want)
	}
	v0 := f64(f.Value.Dec())
	got := f64(a.Value(&pos, testenv.Env(t0, tilted), adapters.PriceRate))
	vr := amm.StableValueRatio(50, []float64{2e5, 8e5})
	if want := v0 * vr; math.Abs(got-want) > 1e-12*want {
		t.Errorf("value at 80%% stETH = %.15g, want %.15g (value ratio %.6f)", got, want, vr)
	}
	// With only a price, the balances that give it are solved for.
	priced := map[adapters.Field]float64{adapters.FieldPrice: amm.StablePrice(50, []float64{2e5, 8e5}, 1)}
	if got := f64(a.Value(&pos, testenv.Env(t0, priced), adapters.PriceRate)); math.Abs(got-v0*vr) > 1e-8*v0 {
		t.Errorf("value at the 80%% price without balances = %.12g, want %.12g", got, v0*vr)
	}
	// Entering a tilted pool with the scarce coin and exiting at once loses
	// only the fees and the curve's second-order slippage.
	p2, f2 := deposit(t, a, testenv.Env(t0, tilted), "100")
	_, f3, err := a.Withdraw(p2, testenv.Env(t0, tilted), adapters.Withdrawal{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if rt := f64(f3.Amount.Dec()) / 100; rt > 1 || rt < 0.998 {
		t.Errorf("round trip into the tilted pool returns %g of the amount (entry %s, exit %s), want within [0.998, 1]", rt, f2.Slippage, f3.Slippage)
	}
	// Exiting more ETH than the pool holds fails.
	big, _ := deposit(t, a, testenv.Env(t0, tilted), "500000")
	if _, _, err := a.Withdraw(big, testenv.Env(t0, tilted), adapters.Withdrawal{All: true}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Errorf("Withdraw beyond the ETH balance: error = %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
}

func TestAdapter_rewardsAndHarvest(t *testing.T) {
	a := testenv.Open(t, nil, "curve/steth-eth") // CRV, harvest_swap_cost 0.5%
	fields := map[adapters.Field]float64{adapters.FieldRewardAPY: 0.02, adapters.FieldAPY: 0}
	pos, f := deposit(t, a, testenv.Env(t0, fields), "1000")
	a.Accrue(&pos, testenv.Env(t0.Add(73*day), fields))
	want := f.Value.Dec().Mul(d("0.004")) // 2% x 73/365
	if got := pos.Rewards.Dec(); got.Sub(want).Abs().GreaterThan(d("1e-15")) {
		t.Errorf("Rewards = %s, want %s", got, want)
	}
	np, hf, err := a.Harvest(pos, testenv.Env(t0.Add(73*day), fields))
	if err != nil {
		t.Fatal(err)
	}
	if np.Rewards.Sign() != 0 || !hf.Fee.Equal(fixed.FromDec(adapters.Quantize(pos.Rewards.Dec().Mul(d("0.005"))))) || !hf.Amount.Equal(fixed.FromDec(pos.Rewards.Dec().Sub(hf.Fee.Dec()))) {
		t.Errorf("Harvest fill = %+v, want the rewards less a 0.5%% swap cost", hf)
	}
	u := testenv.Open(t, nil, "uniswap-v3/weth-usdt")
	if u.CanHarvest() {
		t.Errorf("uniswap-v3 has no reward tokens but can harvest")
	}
}

func TestAdapter_pause(t *testing.T) {
	a := testenv.Open(t, nil, "balancer/reth-weth")
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldBalance0: 1e4, adapters.FieldBalance1: 1e4})
	pos, _ := deposit(t, a, env, "10")
	paused, _, err := a.Apply(pos, env, adapters.Event{Time: t0, Market: "balancer/reth-weth", Type: adapters.EventPause})
	if err != nil || !paused.Paused {
		t.Fatalf("Apply(pause): paused %v, err %v", paused.Paused, err)
	}
	if _, _, err := a.Deposit(paused, env, fixed.FromDec(d("1"))); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Deposit while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	if _, _, err := a.Withdraw(paused, env, adapters.Withdrawal{All: true}); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Withdraw while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	resumed, _, _ := a.Apply(paused, env, adapters.Event{Time: t0, Market: "balancer/reth-weth", Type: adapters.EventUnpause})
	if _, _, err := a.Withdraw(resumed, env, adapters.Withdrawal{All: true}); err != nil {
		t.Errorf("Withdraw after unpause: error = %v", err)
	}
	// A depeg changes nothing by itself; the price and balances carry it.
	same, loss, err := a.Apply(pos, env, adapters.Event{Time: t0, Market: "balancer/reth-weth", Type: adapters.EventDepeg, Size: 0.1})
	if err != nil || loss.Sign() != 0 || !same.Units.Equal(pos.Units) {
		t.Errorf("Apply(depeg): loss %s, err %v, units changed %v", loss, err, !same.Units.Equal(pos.Units))
	}
}

func TestNew_invalid(t *testing.T) {
	m := adapters.Market{ID: "x/pool", Kind: adapters.AMM, Base: adapters.ETH, Protocol: "x"}
	tests := []struct {
		name     string
		poolType string
		params   map[string]float64
	}{
		{"unknown pool type", "orderbook", nil},
		{"fee tier 1", adapters.PoolConstantProduct, map[string]float64{"fee_tier": 1}},
		{"amplification below 1", adapters.PoolStableswap, map[string]float64{"amplification": 0.5}},
		{"weight0 1", adapters.PoolConstantProduct, map[string]float64{"weight0": 1}},
		{"range above entry", adapters.PoolConcentrated, map[string]float64{"range_lower": 1.1, "range_upper": 1.3}},
		{"range below entry", adapters.PoolConcentrated, map[string]float64{"range_lower": 0.5, "range_upper": 0.9}},
		{"haircut above 1", adapters.PoolStableswap, map[string]float64{"reward_haircut": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := adapters.Profile{Name: "x", Kind: adapters.AMM, PoolType: tt.poolType, Params: map[string]adapters.Param{}}
			for k, v := range tt.params {
				p.Params[k] = adapters.Param{Value: v, Source: "test"}
			}
			if _, err := amm.New(m, &p); !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("New() error = %v, want kind %v", err, adapters.KindInvalid)
			}
		})
	}
	// A one-sided range (no upper bound) is valid.
	p := adapters.Profile{Name: "x", Kind: adapters.AMM, PoolType: adapters.PoolConcentrated,
		Params: map[string]adapters.Param{"range_lower": {Value: 0.5, Source: "test"}}}
	if _, err := amm.New(m, &p); err != nil {
		t.Errorf("New() with range [0.5, open) error = %v", err)
	}
}

// TestAdapter_threeCoinPool: the 3pool (DAI, USDC, USDT; A = 2000) marked to
// its balances, as when USDC depegged in March 2023 and the pool filled
// with it.
func TestAdapter_threeCoinPool(t *testing.T) {
	a := testenv.Open(t, nil, "curve/3pool")
	even := map[adapters.Field]float64{adapters.FieldBalance0: 1e8, adapters.FieldBalance1: 1e8, adapters.FieldBalance2: 1e8}
	tilted := map[adapters.Field]float64{adapters.FieldBalance0: 0.6e8, adapters.FieldBalance1: 2e8, adapters.FieldBalance2: 0.4e8}
	pos, f := deposit(t, a, testenv.Env(t0, even), "1000")
	got := f64(a.Value(&pos, testenv.Env(t0, tilted), adapters.PriceRate))
	want := f64(f.Value.Dec()) * amm.StableValueRatio(2000, []float64{0.6e8, 2e8, 0.4e8})
	if math.Abs(got-want) > 1e-12*want {
		t.Errorf("value with the pool full of USDC = %.12g, want %.12g", got, want)
	}
	if got >= f64(f.Value.Dec()) {
		t.Errorf("value %g did not fall below %s when DAI became scarce", got, f.Value)
	}
	if p := amm.StablePrice(2000, []float64{0.6e8, 2e8, 0.4e8}, 1); !(p < 1) {
		t.Errorf("USDC price in DAI = %g, want below 1 with USDC abundant", p)
	}
}
