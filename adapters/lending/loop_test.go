package lending_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

// loopEnv is an observation of a loop market whose collateral grows at
// exactly c.APY (no liquidity index, no exchange rate: rate 1) and whose
// debt at exactly c.BorrowAPY (no borrow index, no market size).
func loopEnv(c adaptertest.Conditions) adapters.Env {
	return testenv.ConformanceEnv(c, map[adapters.Field]float64{adapters.FieldBorrowAPY: c.BorrowAPY})
}

func TestConformance_Loops(t *testing.T) {
	for _, tc := range []struct {
		id    string
		start time.Time // the market's first month (the suite's T0 when zero)
	}{
		{"aave-v3/wsteth-loop", time.Time{}},
		// Morpho Blue's wstETH/WETH market was created on 2024-01-03.
		{"morpho/wsteth-weth-loop", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.id, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, nil, tc.id) },
				Env:       loopEnv,
				LossEvent: adapters.EventSlash,
				Borrows:   true,
				Queues:    true,
				Start:     tc.start,
			})
		})
	}
}

// TestLoop_MorphoBeforeMarket: the Morpho loop cannot be entered before
// its market existed (created 2024-01-03): a deposit on 2024-01-01 is
// refused, one on 2024-01-03 is not.
func TestLoop_MorphoBeforeMarket(t *testing.T) {
	a := testenv.Open(t, nil, "morpho/wsteth-weth-loop")
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), false}, {time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC), true}} {
		env := loopEnv(adaptertest.Conditions{Time: tc.at, APY: 0.03, BorrowAPY: 0.02})
		pos := a.NewPosition()
		pos.Leverage = 2
		_, _, err := a.Deposit(pos, &env, fixed.RequireFromString("10"))
		if (err == nil) != tc.ok {
			t.Errorf("deposit at %s: err = %v, want ok %v", tc.at.Format("2006-01-02"), err, tc.ok)
		}
	}
}

func loopDriver(t *testing.T, c *adapters.Catalog, id string) (*adapters.Adapter, *lending.Loop) {
	t.Helper()
	a := testenv.Open(t, c, id)
	l, ok := a.Driver().(*lending.Loop)
	if !ok {
		t.Fatalf("%s: driver %T, want *lending.Loop", id, a.Driver())
	}
	return a, l
}

// openLoop deposits amount into a new position of a at leverage lev.
func openLoop(t *testing.T, a *adapters.Adapter, env *adapters.Env, lev float64, amount fixed.Num) (adapters.Position, adapters.Fill) {
	t.Helper()
	pos := a.NewPosition()
	pos.Leverage = lev
	pos, f, err := a.Deposit(pos, env, amount)
	if err != nil {
		t.Fatal(err)
	}
	return pos, f
}

// marketOracleWeETHLoop is the built-in catalog with the Aave weETH loop
// again as market id, under a market-price oracle.
func marketOracleWeETHLoop(t *testing.T, id string) *adapters.Catalog {
	t.Helper()
	c := adapters.Builtin()
	if err := c.Load("market-oracle.yaml", []byte(`
markets:
  - id: `+id+`
    kind: lending
    base: ETH
    protocol: aave-v3-emode-weeth
    legs: { collateral: aave-v3/weeth, debt: aave-v3/weth, token: etherfi/weeth }
    params: { oracle_market_price: 1 }
    param_sources: { oracle_market_price: "test: a market-price oracle" }
`)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLoop_DatedParams: the e-mode parameters in force at each date, as
// the governance sources give them, and the e-mode category the figures
// carry (ETH-correlated 1, then wstETH/ETH 8 and weETH/ETH 7 from the
// 2025-03-18 AIP's payload; Morpho none).
func TestLoop_DatedParams(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	tests := []struct {
		id             string
		at             string
		ltv, lltv, lif float64
		emode          int
	}{
		{"aave-v3/wsteth-loop", "2024-07-05", 0.93, 0.95, 1.01, 1},
		{"aave-v3/wsteth-loop", "2025-03-18", 0.935, 0.955, 1.01, 8},
		{"aave-v3/weeth-loop", "2025-03-17", 0, 0, 1, 0},
		{"aave-v3/weeth-loop", "2025-06-01", 0.93, 0.95, 1.01, 7},
		// Morpho: LIF = min(1.15, 1 / (0.3 x 0.945 + 0.7)).
		{"morpho/wsteth-weth-loop", "2024-07-05", 0.945, 0.945, 1 / (0.3*0.945 + 0.7), 0},
	}
	for _, tt := range tests {
		t.Run(tt.id+"@"+tt.at, func(t *testing.T) {
			_, l := loopDriver(t, nil, tt.id)
			at := day(tt.at)
			if got := l.LTV(at); got != tt.ltv {
				t.Errorf("LTV = %g, want %g", got, tt.ltv)
			}
			if got := l.LLTV(at); got != tt.lltv {
				t.Errorf("LLTV = %g, want %g", got, tt.lltv)
			}
			if got := l.Incentive(at); math.Abs(got-tt.lif) > 1e-15 {
				t.Errorf("Incentive = %.17g, want %.17g", got, tt.lif)
			}
			pos := adapters.Position{}
			env := adapters.Env{Time: at}
			if got := l.Figures(&pos, &env, 2).EMode; got != tt.emode {
				t.Errorf("Figures' e-mode category = %d, want %d", got, tt.emode)
			}
			if tt.ltv > 0 {
				if got, want := l.MaxLeverage(at), 1/(1-tt.ltv); math.Abs(got-want) > 1e-12 {
					t.Errorf("MaxLeverage = %g, want 1/(1-ltv) = %g", got, want)
				}
			}
		})
	}
}

// TestLoop_LeverageAboveLTV: a deposit at a leverage the LTV does not allow
// is refused with KindCapExceeded; one before the market existed with
// KindInvalid.
func TestLoop_LeverageAboveLTV(t *testing.T) {
	a, l := loopDriver(t, nil, "aave-v3/wsteth-loop")
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	env := testenv.Env(at, map[adapters.Field]float64{adapters.FieldAPY: 0.001, adapters.FieldBorrowAPY: 0.02})
	pos := a.NewPosition()
	pos.Leverage = l.MaxLeverage(at) * 1.01
	if _, _, err := a.Deposit(pos, env, fixed.NewFromInt(10)); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("Deposit at leverage %g: error = %v, want kind %v", pos.Leverage, err, adapters.KindCapExceeded)
	}
	pos.Leverage = l.MaxLeverage(at) * 0.99
	if _, _, err := a.Deposit(pos, env, fixed.NewFromInt(10)); err != nil {
		t.Errorf("Deposit at leverage %g: error = %v", pos.Leverage, err)
	}
	w, _ := loopDriver(t, nil, "aave-v3/weeth-loop")
	old := testenv.Env(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), map[adapters.Field]float64{adapters.FieldAPY: 0.001})
	if _, _, err := w.Deposit(w.NewPosition(), old, fixed.NewFromInt(10)); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("weETH loop before its e-mode existed: error = %v, want kind %v", err, adapters.KindInvalid)
	}
}

// TestLoop_Route: the open is priced on the cheaper of n borrow rounds
// (gas per round) and a flash loan (gas plus the premium), computed here
// from the profile's parameters.
func TestLoop_Route(t *testing.T) {
	a, l := loopDriver(t, nil, "aave-v3/wsteth-loop")
	p := a.Profile()
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	ltv := l.LTV(at)
	for _, tt := range []struct {
		lev, gwei float64
		amount    string
	}{{3, 5, "100"}, {3, 50, "100"}, {10, 20, "1000"}, {10, 2, "100000"}, {1.5, 10, "10"}} {
		env := testenv.Env(at, map[adapters.Field]float64{adapters.FieldAPY: 0.001, adapters.FieldBorrowAPY: 0.02})
		env.GasPrice = tt.gwei
		pos := a.NewPosition()
		pos.Leverage = tt.lev
		amount := decimal.RequireFromString(tt.amount)
		_, f, err := a.Deposit(pos, env, fixed.FromDec(amount))
		if err != nil {
			t.Fatalf("Deposit error = %v", err)
		}
		n, l := 0, 1.0
		for l < tt.lev-1e-12 {
			l, n = 1+ltv*l, n+1
		}
		gp := func(name string) float64 { v, _ := p.Param(name); return v }
		stepGas := (gp("gas_deposit") + float64(n)*(gp("gas_borrow")+gp("gas_mint")+gp("gas_deposit"))) * tt.gwei * 1e-9
		flash := gp("gas_flash")*tt.gwei*1e-9 + gp("flash_loan_fee")*amount.InexactFloat64()*(tt.lev-1)
		wantRoute, wantCost := "loop", stepGas
		if flash < stepGas {
			wantRoute, wantCost = "flash loan", flash
		}
		if got := f.Cost().InexactFloat64(); math.Abs(got-wantCost) > 1e-12*math.Max(1, wantCost) || f.Route[:len(wantRoute)] != wantRoute {
			t.Errorf("lev %g at %g gwei, %s: route %q cost %g, want %s cost %g (steps %d: %g, flash %g)", tt.lev, tt.gwei, tt.amount, f.Route, got, wantRoute, wantCost, n, stepGas, flash)
		}
	}
}

// TestLoop_LiquidationByHand: a 4x loop with a market-price oracle; the
// collateral's price falls 23%: the health factor drops below 1 and Aave's
// rule applies: half the debt repaid (the health factor is above 0.95),
// collateral worth the repaid debt x 1.01 seized at the oracle's price.
// The figures are computed here from the formula.
func TestLoop_LiquidationByHand(t *testing.T) {
	c := marketOracleWeETHLoop(t, "aave-v3/weeth-loop")
	a, l := loopDriver(t, c, "aave-v3/weeth-loop")
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	obs := func(at time.Time, price float64) *adapters.Env {
		return testenv.Env(at, map[adapters.Field]float64{adapters.FieldIndex: 1.0, adapters.FieldExchangeRate: 1.05, adapters.FieldPrice: price,
			adapters.FieldBorrowIndex: 1.02, adapters.FieldAPY: 0})
	}
	pos := a.NewPosition()
	pos.Leverage = 4
	pos, f, err := a.Deposit(pos, obs(at, 1.05), fixed.NewFromInt(100))
	if err != nil {
		t.Fatal(err)
	}
	E := f.Value.InexactFloat64()
	coll, debt := 4*E, 3*E // at the rate, 1.05
	units := coll / 1.05
	if h := l.Health(&pos, obs(at, 1.05)); math.Abs(h-coll*0.95/debt) > 1e-9 {
		t.Errorf("health at open = %g, want %g", h, coll*0.95/debt)
	}
	later := at.Add(time.Hour)
	depeg := obs(later, 1.05*0.77)
	hf := units * 1.05 * 0.77 * 0.95 / debt
	np, lq, ok := a.Liquidate(pos, depeg)
	if !ok {
		t.Fatalf("no liquidation at health %g", hf)
	}
	if math.Abs(lq.HealthBefore-hf) > 1e-9 {
		t.Errorf("health before = %g, want %g", lq.HealthBefore, hf)
	}
	// Liquidators call while the health factor is below 1; each call
	// repays half the debt (the health factor is above 0.95) and seizes
	// the repaid debt x 1.01 at the oracle's (market) price.
	px := 1.05 * 0.77
	u, b, calls, repaid, seizedUnits := units, debt, 0, 0.0, 0.0
	for u*px*0.95/b < 1 {
		r := b * 0.5
		s := r * 1.01 / px
		u, b, calls, repaid, seizedUnits = u-s, b-r, calls+1, repaid+r, seizedUnits+s
	}
	loss := seizedUnits*1.05 - repaid // at rate pricing
	if lq.Calls != calls || math.Abs(lq.Repaid.InexactFloat64()-repaid) > 1e-9 || math.Abs(lq.Loss.InexactFloat64()-loss) > 1e-9 {
		t.Errorf("liquidation = %+v, want %d calls repaying %g with a loss of %g", lq, calls, repaid, loss)
	}
	if calls != 2 {
		t.Errorf("the hand computation took %d calls; the test means 2 (a call that leaves the position unhealthy)", calls)
	}
	if got, want := np.Units.InexactFloat64(), units-seizedUnits; math.Abs(got-want) > 1e-9 {
		t.Errorf("units after = %g, want %g", got, want)
	}
	if lq.HealthAfter < 1 {
		t.Errorf("health after = %g, want >= 1", lq.HealthAfter)
	}
	// At the exchange-rate oracle the same depeg liquidates nothing.
	ar, _ := loopDriver(t, nil, "aave-v3/weeth-loop")
	pr, _, err := ar.Deposit(func() adapters.Position { p := ar.NewPosition(); p.Leverage = 4; return p }(), obs(at, 1.05), fixed.NewFromInt(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ar.Liquidate(pr, depeg); ok {
		t.Errorf("an exchange-rate oracle liquidated on a market depeg")
	}
}

// TestLoop_MorphoLiquidation: Morpho Blue repays the whole debt in one
// call and seizes it times the LIF from the LLTV.
func TestLoop_MorphoLiquidation(t *testing.T) {
	a, l := loopDriver(t, nil, "morpho/wsteth-weth-loop")
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	env := testenv.Env(at, map[adapters.Field]float64{adapters.FieldExchangeRate: 1.17, adapters.FieldBorrowAPY: 0.03})
	pos, _ := openLoop(t, a, env, 15, fixed.NewFromInt(100))
	// A slash of 2% of the collateral takes a 15x loop below its LLTV.
	pos, _, err := a.Apply(pos, env, adapters.Event{Market: a.Market().ID, Time: at, Type: adapters.EventSlash, Size: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	debt := pos.Debt.InexactFloat64() // debt index 1
	units := pos.Units.InexactFloat64()
	np, lq, ok := a.Liquidate(pos, env)
	if !ok {
		t.Fatalf("no liquidation at health %g", l.Health(&pos, env))
	}
	lif := 1 / (0.3*0.945 + 0.7)
	if lq.Calls != 1 || math.Abs(lq.Repaid.InexactFloat64()-debt) > 1e-9 || np.Debt.Sign() != 0 {
		t.Errorf("liquidation = %+v, debt after %s; want the whole debt %g repaid in one call", lq, np.Debt, debt)
	}
	if got, want := np.Units.InexactFloat64(), units-debt*lif/1.17; math.Abs(got-want) > 1e-9 {
		t.Errorf("units after = %g, want %g", got, want)
	}
}

// TestLoop_BorrowIndex: with a borrow index in the history the debt
// follows it exactly, whatever the borrow APY says.
func TestLoop_BorrowIndex(t *testing.T) {
	a, _ := loopDriver(t, nil, "aave-v3/wsteth-loop")
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	env := func(at time.Time, li, rate, bi float64) *adapters.Env {
		return testenv.Env(at, map[adapters.Field]float64{adapters.FieldIndex: li, adapters.FieldExchangeRate: rate, adapters.FieldBorrowIndex: bi,
			adapters.FieldBorrowAPY: 0.5, adapters.FieldUtilization: 0.9, adapters.FieldSupply: 1e6})
	}
	pos := a.NewPosition()
	pos.Leverage = 3
	pos, _, err := a.Deposit(pos, env(at, 1.001, 1.17, 1.05), fixed.NewFromInt(10))
	if err != nil {
		t.Fatal(err)
	}
	end := env(at.Add(90*24*time.Hour), 1.0012, 1.18, 1.06)
	a.Accrue(&pos, end)
	want := pos.Units.InexactFloat64()*1.0012*1.18 - pos.Debt.InexactFloat64()*1.06
	if got := a.Value(&pos, end, adapters.PriceRate).InexactFloat64(); math.Abs(got/want-1) > 1e-12 {
		t.Errorf("value = %.15g, want units x index x rate - debt x borrow index = %.15g", got, want)
	}
}

// TestLoop_OwnBorrowMovesRate: without a borrow index, the position's own
// debt raises the debt market's utilization and its borrow rate, by the
// model (the ratio of the model's rates after and before).
func TestLoop_OwnBorrowMovesRate(t *testing.T) {
	a, l := loopDriver(t, nil, "aave-v3/wsteth-loop")
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	fields := map[adapters.Field]float64{adapters.FieldBorrowAPY: 0.03, adapters.FieldUtilization: 0.85, adapters.FieldSupply: 1000}
	pos := a.NewPosition()
	pos.Leverage = 5
	pos, _, err := a.Deposit(pos, testenv.Env(at, fields), fixed.NewFromInt(50))
	if err != nil {
		t.Fatal(err)
	}
	own := pos.Debt.InexactFloat64()
	m := l.Figures(&pos, testenv.Env(at.Add(time.Hour), fields), 0)
	irm := lending.IRM{Base: 0, Slope1: 0.027, Slope2: 0.80, Optimal: 0.90, ReserveFactor: 0.15}
	want := 0.03 * irm.Borrow((0.85*1000+own)/1000) / irm.Borrow(0.85)
	if math.Abs(m.BorrowAPY-want) > 1e-12 {
		t.Errorf("borrow APY with own debt %g = %g, want %g", own, m.BorrowAPY, want)
	}
}

// TestLoop_BorrowAboveLTVAtOracle: under a market-price oracle, a loop
// the exchange rate would allow is refused while the collateral trades
// below it: the borrow's debt over the collateral at the oracle's price
// would be above the LTV (Aave's borrow check).
func TestLoop_BorrowAboveLTVAtOracle(t *testing.T) {
	c := marketOracleWeETHLoop(t, "aave-v3/weeth-loop")
	a, l := loopDriver(t, c, "aave-v3/weeth-loop")
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	// 10x: debt 9 of collateral 10 at the rate; at a price 5% below the
	// rate the collateral is worth 9.5 to the oracle: 9 / 9.5 = 0.947 >
	// 0.93.
	env := testenv.Env(at, map[adapters.Field]float64{adapters.FieldExchangeRate: 1.05, adapters.FieldPrice: 1.05 * 0.95, adapters.FieldIndex: 1})
	pos := a.NewPosition()
	pos.Leverage = 10
	if l.MaxLeverage(at) < 10 {
		t.Fatalf("max leverage %g, the test needs 10 allowed at the rate", l.MaxLeverage(at))
	}
	if _, _, err := a.Deposit(pos, env, fixed.NewFromInt(10)); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("10x under a 5%% depeg seen by the oracle: error = %v, want kind %v", err, adapters.KindCapExceeded)
	}
	pos.Leverage = 5 // debt 4 of 5, 4 / 4.75 = 0.84
	if _, _, err := a.Deposit(pos, env, fixed.NewFromInt(10)); err != nil {
		t.Errorf("5x under the same depeg: error = %v", err)
	}
}

// TestLoop_UnwindAboveRate: when the venue pays above the exchange rate the
// unwind's slippage is negative (a gain), so that the amount received plus
// the costs is the value removed (it was clamped at 0, and the vault booked
// the gain as a rounding cost).
func TestLoop_UnwindAboveRate(t *testing.T) {
	a, _ := loopDriver(t, nil, "aave-v3/wsteth-loop")
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	env := testenv.Env(at, map[adapters.Field]float64{adapters.FieldIndex: 1, adapters.FieldExchangeRate: 1.17, adapters.FieldPrice: 1.1712,
		adapters.FieldBorrowIndex: 1.02, adapters.FieldExitLiquidity: 1e9})
	env.GasPrice = 10
	pos, _ := openLoop(t, a, env, 3, fixed.NewFromInt(100))
	for _, w := range []adapters.Withdrawal{{Amount: fixed.NewFromInt(10)}, {All: true}} {
		_, f, err := a.Withdraw(pos, env, w)
		if err != nil {
			t.Fatal(err)
		}
		if f.Slippage.Sign() >= 0 {
			t.Errorf("%+v: slippage %s, want < 0 (sold 0.1%% above the rate, less a 0.01%% fee)", w, f.Slippage)
		}
		if got := f.Amount.Add(f.Cost()); !got.Equal(f.Value) {
			t.Errorf("%+v: amount %s + costs %s = %s, want the value removed %s", w, f.Amount, f.Cost(), got, f.Value)
		}
	}
}

// TestLoop_OracleGap checks LoopFigures.OracleGap, the collateral's market
// price over the oracle's price less 1: price / rate - 1 under the
// built-in weETH loop's exchange-rate oracle (CAPO), 0 under a
// market-price oracle (the catalog's twin) and without an observed price.
func TestLoop_OracleGap(t *testing.T) {
	c := marketOracleWeETHLoop(t, "aave-v3/weeth-market-oracle-loop")
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	priced := map[adapters.Field]float64{adapters.FieldExchangeRate: 1.05, adapters.FieldPrice: 1.0185, adapters.FieldIndex: 1}
	unpriced := map[adapters.Field]float64{adapters.FieldExchangeRate: 1.05, adapters.FieldIndex: 1}
	for _, tc := range []struct {
		market string
		fields map[adapters.Field]float64
		want   float64
	}{
		{"aave-v3/weeth-loop", priced, 1.0185/1.05 - 1},
		{"aave-v3/weeth-market-oracle-loop", priced, 0},
		{"aave-v3/weeth-loop", unpriced, 0},
	} {
		a, l := loopDriver(t, c, tc.market)
		pos := a.NewPosition()
		pos.Leverage = 4
		env := testenv.Env(at, tc.fields)
		pos, _, err := a.Deposit(pos, env, fixed.NewFromInt(10))
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Figures(&pos, env, 0).OracleGap; math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s %v: oracle gap %g, want %g", tc.market, tc.fields, got, tc.want)
		}
	}
}
