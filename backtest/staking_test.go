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
	"github.com/yieldvault/yieldvault/adapters/history/synth"
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
			got := last.NAV.InexactFloat64()
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
			got := last.NAV.InexactFloat64()
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
