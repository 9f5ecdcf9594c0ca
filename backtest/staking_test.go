package backtest

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// TestScenario_Ezeth2024NoQueue runs the ezeth-2024 scenario (the ezETH
// depeg of 2024-04-24) with a strategy that holds ezETH and must leave it
// when it trades 3% below its rate. Renzo's withdrawals opened only with
// its contract upgrade of 2024-06-10/11: before that no ezETH exit may use
// a queue, so the strategy cannot escape the depeg at par. After it the
// same strategy may queue.
func TestScenario_Ezeth2024NoQueue(t *testing.T) {
	ctx := context.Background()
	from, to := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 31, 0, 0, 0, 0, time.UTC)
	m, err := adapters.Builtin().Market("renzo/ezeth")
	if err != nil {
		t.Fatal(err)
	}
	b, err := synth.Generate(synth.Config{Scenario: "ezeth-2024", From: from, To: to, Step: time.Hour, Seed: 1, Markets: []adapters.Market{m}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.OpenMemory(ctx, history.WithClock(func() time.Time { return time.Unix(0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	src := `name: ezeth-hold
base: ETH
universe: [renzo/ezeth]
rules:
  score: 1.0
constraints: { idle: 0.5 }
rebalance: { every: "@daily" }
exit: { when: 'peg < 0.97' }
`
	s, err := rules.Load("ezeth-hold.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	capital := decimal.NewFromInt(100)
	cfg := DefaultVaultConfig(s, adapters.ETH, capital)
	cfg.Rebalance.MinGainOverCost = 0
	res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital, Pricing: adapters.PriceMarket, Vault: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2024, 6, 11, 0, 0, 0, 0, time.UTC)
	sellsBefore := 0
	for _, e := range res.Ledger {
		if e.Market != "renzo/ezeth" || e.Time.After(opened) {
			continue
		}
		switch e.Type {
		case vault.EntryQueue:
			t.Errorf("%s: ezETH queued before Renzo's withdrawals opened (2024-06-11): %s", e.Time.Format(time.RFC3339), e.Reason)
		case vault.EntrySell:
			sellsBefore++
		}
	}
	if res.Metrics.Exits == 0 || sellsBefore == 0 {
		t.Errorf("exits %d, ezETH sales before 2024-06-11 %d: the depeg of 2024-04-24 should force an exit through the venue", res.Metrics.Exits, sellsBefore)
	}
}

// TestRealData_RateOnlyHold holds 100% of an LST whose real history has
// an exchange rate but no APY (rETH's on-chain rate, wstETH's protocol
// rate, osETH's Compound feed). Its yield is read from the rate's
// trailing growth (history.RateAPYWindow), so the buy passes the gain
// test on the first step, and the position then grows exactly as the
// file's rate: the final NAV is idle plus each buy's value after its
// costs times the rate ratio from the buy to the end, within 1e-12.
func TestRealData_RateOnlyHold(t *testing.T) {
	tests := []struct {
		folder, market string
		from, to       string
	}{
		{"reth-exchange-rate", "rocketpool/reth", "2021-11-01", "2024-09-01"},
		{"lst-lrt-market-vs-aave-oracle-hourly", "lido/wsteth", "2024-06-01", "2025-09-01"},
		{"compound-v3-lst-lrt-oracle-hourly", "stakewise/oseth", "2024-07-15", "2024-11-01"},
	}
	for _, tt := range tests {
		t.Run(tt.market, func(t *testing.T) {
			db := importFolder(t, tt.folder)
			ctx := context.Background()
			src := "name: hold\nbase: ETH\nuniverse: [" + tt.market + "]\nrules:\n  score: 1.0\nconstraints: { idle: 0 }\nrebalance: { every: \"@daily\" }\n"
			s, err := rules.Load("hold.yaml", []byte(src), adapters.Builtin())
			if err != nil {
				t.Fatal(err)
			}
			from, to := day(tt.from), day(tt.to)
			w, err := Load(ctx, db, s, from, to, 0)
			if err != nil {
				t.Fatal(err)
			}
			capital := decimal.NewFromInt(100)
			res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital, Pricing: adapters.PriceRate})
			if err != nil {
				t.Fatal(err)
			}
			series := w.Get(tt.market)
			if !series.Derived.Has(adapters.FieldAPY) {
				t.Errorf("%s: no APY derived from the exchange rate", tt.market)
			}
			rateAt := func(at time.Time) float64 {
				i := series.Index(at.Unix())
				if i < 0 {
					t.Fatalf("no row at or before %s", at)
				}
				return series.Cols[adapters.FieldExchangeRate][i]
			}
			last := res.Steps[len(res.Steps)-1]
			rEnd := rateAt(last.Time)
			want := last.Idle.InexactFloat64()
			buys := 0
			for _, e := range res.Ledger {
				if e.Market != tt.market {
					continue
				}
				switch e.Type {
				case vault.EntryBuy:
					if buys == 0 && !e.Time.Equal(res.Steps[0].Time) {
						t.Errorf("first buy at %s, want the first step %s", e.Time.Format(time.RFC3339), res.Steps[0].Time.Format(time.RFC3339))
					}
					buys++
					value := e.Amount.Sub(e.Cost()).InexactFloat64()
					want += value * rEnd / rateAt(e.Time)
				default:
					t.Errorf("%s: unexpected %s of %s (%s)", e.Time.Format(time.RFC3339), e.Type, e.Amount, e.Reason)
				}
			}
			if buys == 0 {
				t.Fatalf("%s was never bought: the 100%% hold stayed in cash", tt.market)
			}
			got := last.NAV.Float()
			t.Logf("%s %s .. %s: NAV %.12f, rate ratio from the first buy %.9f, %d buys", tt.market, tt.from, tt.to, got, rEnd/rateAt(res.Steps[0].Time), buys)
			if math.Abs(got-want) > 1e-12*want {
				t.Errorf("final NAV = %.15g, want idle + value x rate ratio = %.15g (rel diff %.3g)", got, want, math.Abs(got-want)/want)
			}
		})
	}
}

// TestRealData_PriceOnlyCbETH holds 100% of cbETH on the Compound v3
// file, whose cbETH feed is a Chainlink market price (it falls 12-19
// times a month and starts at 0.9887 ETH, below the 1.0 cbETH minted at;
// data.md): the data has no exchange rate. The price is then cbETH's
// value at rate and market pricing alike (no fake premium from price /
// an index started at 1), its peg is unknown and reads 1 (the rule
// 'peg == 1' keeps it eligible; 1.077 would not), its yield is the
// price's trailing growth (positive over the file), and the run warns.
// The final NAV is idle plus each buy's value after costs times the
// price ratio read here from the raw CSV, within 1e-12.
func TestRealData_PriceOnlyCbETH(t *testing.T) {
	dir := sharedData(t, "compound-v3-lst-lrt-oracle-hourly")
	db := importFolder(t, "compound-v3-lst-lrt-oracle-hourly")
	ctx := context.Background()
	// The raw file: symbol, unix seconds, ETH per cbETH.
	raw, err := os.ReadFile(filepath.Join(dir, "cbETH_compoundv3_price.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var ts []int64
	var px []float64
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if i == 0 || len(f) != 3 || f[2] == "" {
			continue
		}
		sec, err1 := strconv.ParseInt(f[1], 10, 64)
		p, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: %q", i+1, line)
		}
		ts, px = append(ts, sec), append(px, p)
	}
	priceAt := func(at time.Time) float64 {
		k := sort.Search(len(ts), func(k int) bool { return ts[k] > at.Unix() }) - 1
		if k < 0 {
			t.Fatalf("no cbETH price at or before %s", at)
		}
		return px[k]
	}
	const id = "coinbase/cbeth"
	src := "name: hold\nbase: ETH\nuniverse: [" + id + "]\nrules:\n  eligible: peg == 1.0\n  score: 1.0\nconstraints: { idle: 0 }\nrebalance: { every: \"@daily\" }\n"
	s, err := rules.Load("hold.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	from, to := day("2023-02-01"), day("2024-11-01")
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	ser := w.Get(id)
	if !ser.Derived.Has(adapters.FieldExchangeRate) || !ser.Derived.Has(adapters.FieldAPY) {
		t.Fatalf("derived fields %b: want the exchange rate read from the price and its APY", ser.Derived)
	}
	navs := map[adapters.Pricing]float64{}
	for _, pricing := range []adapters.Pricing{adapters.PriceRate, adapters.PriceMarket} {
		t.Run(pricing.String(), func(t *testing.T) {
			capital := decimal.NewFromInt(100)
			res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital, Pricing: pricing})
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, m := range res.Warnings {
				warned = warned || strings.HasPrefix(m, id+": its data has a market price but no exchange rate")
			}
			if !warned {
				t.Errorf("no warning that %s is valued at its market price: %q", id, res.Warnings)
			}
			last := res.Steps[len(res.Steps)-1]
			pEnd := priceAt(last.Time)
			want := last.Idle.InexactFloat64()
			buys := 0
			for _, e := range res.Ledger {
				if e.Market != id {
					continue
				}
				if e.Type != vault.EntryBuy {
					t.Errorf("%s: unexpected %s of %s (%s)", e.Time.Format(time.RFC3339), e.Type, e.Amount, e.Reason)
					continue
				}
				if buys == 0 && !e.Time.Equal(res.Steps[0].Time) {
					t.Errorf("first buy at %s, want the first step %s", e.Time.Format(time.RFC3339), res.Steps[0].Time.Format(time.RFC3339))
				}
				buys++
				want += e.Amount.Sub(e.Cost()).InexactFloat64() * pEnd / priceAt(e.Time)
			}
			if buys == 0 {
				t.Fatalf("%s was never bought (peg read as other than 1, or no yield)", id)
			}
			got := last.NAV.Float()
			navs[pricing] = got
			t.Logf("%s at %s pricing: NAV %.12f, price ratio %.9f, APY %.4f%%", id, pricing, got, pEnd/priceAt(res.Steps[0].Time), res.Metrics.APY*100)
			if math.Abs(got-want) > 1e-12*want {
				t.Errorf("final NAV = %.15g, want idle + value x price ratio = %.15g (rel diff %.3g)", got, want, math.Abs(got-want)/want)
			}
			if !(res.Metrics.APY > 0) {
				t.Errorf("APY %.6f: cbETH's price grew over the file", res.Metrics.APY)
			}
		})
	}
	if a, b := navs[adapters.PriceRate], navs[adapters.PriceMarket]; a != b {
		t.Errorf("NAV at rate pricing %.15g, at market pricing %.15g: the price is the value at both", a, b)
	}
}

// importFolders imports shared-data folders into one in-memory history.
func importFolders(t *testing.T, folders ...string) *history.DB {
	t.Helper()
	ctx := context.Background()
	db, err := history.OpenMemory(ctx, history.WithClock(func() time.Time { return time.Unix(0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, f := range folders {
		batches, err := importers.ImportDir(ctx, sharedData(t, f), importers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range batches {
			if _, err := db.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// curveInvariantOut is what selling dx of coin i into a two-coin Curve
// stableswap pool (the stETH pool's contract: Ann = A x 2, invariant
// Ann (x + y) + D = Ann D + D^3 / (4 x y)) brings out of the other coin
// after the fee, solved here by bisection (the model iterates Newton's
// method as the contract does).
func curveInvariantOut(amp, fee, xIn, xOut, dx float64) float64 {
	ann := amp * 2
	f := func(d, x, y float64) float64 { return ann*(x+y) + d - ann*d - d*d*d/(4*x*y) }
	bisect := func(lo, hi float64, g func(float64) float64) float64 {
		glo := g(lo)
		for k := 0; k < 200 && hi-lo > 1e-16*hi; k++ {
			mid := (lo + hi) / 2
			if gm := g(mid); (gm > 0) == (glo > 0) {
				lo, glo = mid, gm
			} else {
				hi = mid
			}
		}
		return (lo + hi) / 2
	}
	d := bisect(1e-9*(xIn+xOut), 2*(xIn+xOut), func(d float64) float64 { return f(d, xIn, xOut) })
	x := xIn + dx
	y := bisect(1e-12*d, d, func(y float64) float64 { return f(d, x, y) })
	return (xOut - y) * (1 - fee)
}

// TestRealData_StethCurvePoolExit: the Curve stETH pool snapshots
// (2022-07-29 .. 2023-01-12; the file has no June 2022 row, so the June
// depeg's exits stay priced on the profile's depth at the CoinGecko peg)
// give lido/steth's rows the pool's balances, and an instant stETH exit
// is priced on the pool's own invariant with them: the stETH 10,000 ETH buy, sold into
// the imbalanced August 2022 pool (72-74% stETH) and the later ones
// brings what the contract's formula gives on the balances read here from
// the raw CSV, within 1e-9.
func TestRealData_StethCurvePoolExit(t *testing.T) {
	dir := sharedData(t, "curve-steth-pool-snapshots-2022")
	db := importFolders(t, "steth-usd-coingecko-hourly", "curve-steth-pool-snapshots-2022")
	ctx := context.Background()
	type snap struct {
		ts     int64
		b0, b1 float64
	}
	raw, err := os.ReadFile(filepath.Join(dir, "curve_steth_pool_snapshots.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var snaps []snap
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if i == 0 {
			continue
		}
		ts, err1 := strconv.ParseInt(f[1], 10, 64)
		b0, err2 := strconv.ParseFloat(f[3], 64)
		b1, err3 := strconv.ParseFloat(f[4], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("line %d: %q", i+1, line)
		}
		snaps = append(snaps, snap{ts, b0, b1})
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ts < snaps[j].ts })
	w, err := db.Load(ctx, []string{"lido/steth"}, day("2022-06-01"), day("2023-01-12"))
	if err != nil {
		t.Fatal(err)
	}
	ser := w.Get("lido/steth")
	cat := adapters.Builtin()
	ad, err := adapters.Open(cat, "lido/steth")
	if err != nil {
		t.Fatal(err)
	}
	amp, fee := ad.Profile().ParamOr("venue_amplification", 0), ad.Profile().ParamOr("venue_fee", 0)
	if amp <= 0 {
		t.Fatal("the lido profile names no stableswap venue")
	}
	june, checked := 0, 0
	for i := range ser.Times {
		o := ser.At(i)
		at := o.Time
		if at.Before(day("2022-07-29")) {
			if o.Set.Has(adapters.FieldBalance0) {
				june++
			}
			continue
		}
		k := sort.Search(len(snaps), func(k int) bool { return snaps[k].ts > at.Unix() }) - 1
		if k < 0 || i%97 != 0 {
			continue
		}
		b0, b1 := o.Values[adapters.FieldBalance0], o.Values[adapters.FieldBalance1]
		if b0 != snaps[k].b0 || b1 != snaps[k].b1 {
			t.Fatalf("%s: balances %g / %g, want the snapshot's %g / %g", at, b0, b1, snaps[k].b0, snaps[k].b1)
		}
		env := &adapters.Env{Time: at, Obs: o, GasPrice: 0}
		pos, _, err := ad.Deposit(ad.NewPosition(), env, fixed.RequireFromString("10000"))
		if err != nil {
			t.Fatal(err)
		}
		units := pos.Units
		_, fill, err := ad.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: adapters.ExitInstant})
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		sold := units.InexactFloat64() // stETH rebases: one unit per ETH of value
		want := math.Min(curveInvariantOut(amp, fee, b1, b0, sold), sold)
		got := fill.Amount.InexactFloat64()
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s: %.4f stETH into %.0f ETH / %.0f stETH brought %.9f ETH, the invariant %.9f", at.Format(time.RFC3339), sold, b0, b1, got, want)
		}
		if checked == 0 {
			t.Logf("%s: pool %.0f ETH / %.0f stETH (%.1f%% stETH): the %.4f stETH 10,000 ETH bought bring %.4f ETH (%.3f%% below par), route %q",
				at.Format(time.DateOnly), b0, b1, 100*b1/(b0+b1), sold, got, 100*(1-got/sold), fill.Route)
		}
		checked++
	}
	if june != 0 {
		t.Errorf("%d rows before 2022-07-29 carry pool balances; the file starts then", june)
	}
	if checked < 10 {
		t.Errorf("only %d snapshots checked", checked)
	}
}

// TestScenario_ScopedSlashExposureWarning: a slash scoped to a tag whose
// share of a market's backing is not sourced (the large EigenLayer
// operators behind rsETH and ezETH) is applied by its full size and the
// run warns, once per market; one scoped to Renzo's own operator set
// (share 1 by construction) is applied without a warning.
func TestScenario_ScopedSlashExposureWarning(t *testing.T) {
	ctx := context.Background()
	from, to := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 15, 0, 0, 0, 0, time.UTC)
	cat := adapters.Builtin()
	var ms []adapters.Market
	for _, id := range []string{"kelp/rseth", "renzo/ezeth"} {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	src := "name: hold\nbase: ETH\nuniverse: [kelp/rseth, renzo/ezeth]\nrules:\n  score: 1.0\nconstraints: { idle: 0 }\nrebalance: { every: \"@daily\" }\n"
	s, err := rules.Load("hold.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		scope string
		warn  []string // markets warned of
	}{
		{"operator:eigenlayer-large", []string{"kelp/rseth", "renzo/ezeth"}},
		{"operator:renzo-set", nil},
	} {
		t.Run(tt.scope, func(t *testing.T) {
			b, err := synth.Generate(synth.Config{Scenario: "correlated-slash", SlashScope: tt.scope, From: from, To: to, Step: 6 * time.Hour, Seed: 1, Markets: ms})
			if err != nil {
				t.Fatal(err)
			}
			db, err := history.OpenMemory(ctx, history.WithClock(func() time.Time { return time.Unix(0, 0) }))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
			w, err := Load(ctx, db, s, from, to, 0)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultVaultConfig(s, adapters.ETH, decimal.NewFromInt(100))
			cfg.Rebalance.MinGainOverCost = 0
			res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100), Vault: &cfg})
			if err != nil {
				t.Fatal(err)
			}
			slashes := 0
			for _, ev := range res.Events {
				if ev.Type == string(adapters.EventSlash) {
					slashes++
				}
			}
			if slashes == 0 {
				t.Fatal("no slash applied")
			}
			var warned []string
			for _, m := range res.Warnings {
				if id, _, ok := strings.Cut(m, ": a slash scoped to "+tt.scope); ok {
					warned = append(warned, id)
				}
			}
			if strings.Join(warned, " ") != strings.Join(tt.warn, " ") {
				t.Errorf("warned of %q, want %q (warnings %q)", warned, tt.warn, res.Warnings)
			}
		})
	}
}

// TestRealData_3poolCoinPrices: importing Compound's USDC file gives the
// 3pool's rows USDC's market price (coin 1), and at market pricing a 3pool
// LP position is marked to it: its value over the rate-priced value is
// sum(x_i q_i) / sum(x_i p_i), p_i the coins' marginal prices on the
// pool's invariant (Ann = A x 3: Ann sum(x) + D = Ann D + D^4 / (27 x0 x1 x2))
// found here by central differences of D solved by bisection, q_1 USDC's
// observed price, q_0 = 1 (no DAI price in the files) and q_2 = p_2. On
// 2023-03-11, USDC at 0.9555 with the pool half USDC, the position marks
// about 2% down; at rate pricing nothing moves.
func TestRealData_3poolCoinPrices(t *testing.T) {
	db := importFolders(t, "curve-3pool-balances-messari-daily", "compound-v3-usdc-messari-daily")
	ctx := context.Background()
	w, err := db.Load(ctx, []string{"curve/3pool"}, day("2023-03-01"), day("2023-03-20"))
	if err != nil {
		t.Fatal(err)
	}
	ser := w.Get("curve/3pool")
	ad, err := adapters.Open(adapters.Builtin(), "curve/3pool")
	if err != nil {
		t.Fatal(err)
	}
	amp := ad.Profile().ParamOr("amplification", 0)
	if m, err := adapters.Builtin().Market("curve/3pool"); err == nil {
		if v, ok := m.Params["amplification"]; ok {
			amp = v
		}
	}
	ann := amp * 3
	dOf := func(x [3]float64) float64 {
		f := func(d float64) float64 {
			return ann*(x[0]+x[1]+x[2]) + d - ann*d - d*d*d*d/(27*x[0]*x[1]*x[2])
		}
		lo, hi := 1e-9*(x[0]+x[1]+x[2]), 2*(x[0]+x[1]+x[2])
		for k := 0; k < 300 && hi-lo > 1e-16*hi; k++ {
			mid := (lo + hi) / 2
			if f(mid) > 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		return (lo + hi) / 2
	}
	grad := func(x [3]float64, i int) float64 {
		h := 1e-4 * x[i]
		up, dn := x, x
		up[i] += h
		dn[i] -= h
		return (dOf(up) - dOf(dn)) / (2 * h)
	}
	var pos adapters.Position
	worst, checked := 1.0, 0
	for i := range ser.Times {
		o := ser.At(i)
		q1, ok := o.Get(adapters.FieldCoin1Price)
		if !ok || !o.Set.Has(adapters.FieldBalance2) {
			continue
		}
		env := &adapters.Env{Time: o.Time, Obs: o}
		if pos.Units.IsZero() {
			if pos, _, err = ad.Deposit(ad.NewPosition(), env, fixed.RequireFromString("1000000")); err != nil {
				t.Fatal(err)
			}
		}
		x := [3]float64{o.Values[adapters.FieldBalance0], o.Values[adapters.FieldBalance1], o.Values[adapters.FieldBalance2]}
		g0 := grad(x, 0)
		p1, p2 := grad(x, 1)/g0, grad(x, 2)/g0
		want := (x[0] + x[1]*q1 + x[2]*p2) / (x[0] + x[1]*p1 + x[2]*p2)
		rate := ad.Value(&pos, env, adapters.PriceRate).InexactFloat64()
		market := ad.Value(&pos, env, adapters.PriceMarket).InexactFloat64()
		if got := market / rate; math.Abs(got-want) > 1e-8 {
			t.Errorf("%s: market / rate value = %.10f, want %.10f (USDC %.6f, share %.3f)", o.Time.Format(time.DateOnly), got, want, q1, x[1]/(x[0]+x[1]+x[2]))
		}
		worst = math.Min(worst, market/rate)
		checked++
	}
	t.Logf("%d days checked; lowest market / rate value %.5f", checked, worst)
	if checked < 15 {
		t.Errorf("only %d days with both balances and a USDC price", checked)
	}
	if worst > 0.985 {
		t.Errorf("lowest market / rate value %.5f: USDC at 0.9555 on a half-USDC pool should mark about 2%% down", worst)
	}
}
