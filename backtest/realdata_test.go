package backtest

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// sharedData returns a folder of the shared real data, skipping the test
// when YIELDVAULT_SHARED_DATA is unset and failing it when the folder is
// missing.
func sharedData(t *testing.T, folder string) string {
	t.Helper()
	root := os.Getenv("YIELDVAULT_SHARED_DATA")
	if root == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the real-data test")
	}
	dir := filepath.Join(root, folder)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("YIELDVAULT_SHARED_DATA is set but %s is missing: %v", dir, err)
	}
	return dir
}

// importFolder imports a shared-data folder into an in-memory history.
func importFolder(t *testing.T, folder string) *history.DB {
	t.Helper()
	ctx := context.Background()
	batches, err := importers.ImportDir(ctx, sharedData(t, folder), importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.OpenMemory(ctx, history.WithClock(func() time.Time { return time.Unix(0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, b := range batches {
		if _, err := db.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestRealData_AaveUSDCHold holds $1M of Aave v3 USDC supply over the
// whole Messari file and checks that the run's APY is what compounding
// the file's daily supply APYs, after the hold's own supply, gives,
// computed here independently: each
// row's APY compounds over the time since the previous row (the lending
// adapter's convention: the rate observed at a time applies to the
// interval ending there).
func TestRealData_AaveUSDCHold(t *testing.T) {
	db := importFolder(t, "aave-v3-usdc-messari-daily")
	ctx := context.Background()
	const id = "aave-v3/usdc"
	w, err := db.Load(ctx, []string{id}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Get(id)
	if s.Len() < 900 {
		t.Fatalf("loaded %d rows of %s, want the file's ~1000", s.Len(), id)
	}
	// Independent compounding of the daily supply APY, each scaled by
	// the Aave v3 USDC model (slope 6.5% to the 92% kink, 60% above,
	// reserve factor 10%: adapters/builtin.go) after the hold's own
	// $1M over the model at the file's utilization.
	model := func(u float64) float64 {
		b := 0.065 * u / 0.92
		if u > 0.92 {
			b = 0.065 + 0.60*(u-0.92)/0.08
		}
		return b * u * 0.9
	}
	logGrowth := 0.0
	apy, util, supply := s.Cols[adapters.FieldAPY], s.Cols[adapters.FieldUtilization], s.Cols[adapters.FieldSupply]
	if apy == nil || util == nil || supply == nil {
		t.Fatal("no apy, utilization or supply column")
	}
	own := 1e6
	for i := 1; i < s.Len(); i++ {
		dt := float64(s.Times[i]-s.Times[i-1]) / (365 * 86400)
		u := math.Min(util[i], 1)
		r := apy[i] * model(u*supply[i]/(supply[i]+own)) / model(u)
		logGrowth += dt * math.Log1p(r)
		own *= math.Exp(dt * math.Log1p(r))
	}
	years := float64(s.Times[s.Len()-1]-s.Times[0]) / (365 * 86400)
	want := math.Exp(logGrowth/years) - 1

	hold := holdFirst(t, []string{id})
	res, err := Run(ctx, Spec{Strategy: hold, Universe: []string{id}, Data: w, Capital: decimal.NewFromInt(1_000_000), GasPrice: -1,
		Source: "aave-v3-usdc-messari-daily"})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Metrics.APY
	t.Logf("Aave v3 USDC %s .. %s: run APY %.6f%%, compounded supply APY %.6f%%", res.Settings.From.Format("2006-01-02"),
		res.Settings.To.Format("2006-01-02"), got*100, want*100)
	if math.Abs(got-want) > 1e-4 {
		t.Errorf("hold APY = %.6f, compounding the supply APY gives %.6f: more than 1 bp apart", got, want)
	}
	if b := res.Benchmarks[0]; math.Abs(b.Metrics.APY-want) > 1e-4 {
		t.Errorf("hold benchmark APY = %.6f, want %.6f within 1 bp", b.Metrics.APY, want)
	}
}

// TestRealData_Steth2022DepegExit runs a balanced strategy (half stETH,
// half idle) whose exit rule leaves stETH when it trades 5% below peg,
// from 2022-06-01 to the year's end over the real stETH/ETH history
// priced at market, so that it must leave during the June depeg (low
// 0.9306 on 2022-06-18). Lido's withdrawal queue opened with Lido V2 on
// 2023-05-15: in 2022 stETH leaves only through the venue, so no order
// may use a queue, and every sale during the depeg brings no more than
// the observed market price of what it sells (the venue's cost comes on
// top).
func TestRealData_Steth2022DepegExit(t *testing.T) {
	db := importFolder(t, "steth-usd-coingecko-hourly")
	ctx := context.Background()
	src := `name: steth-balanced
base: ETH
universe: [lido/steth]
rules:
  score: 1.0
constraints: { idle: 0.5 }
rebalance: { every: "@daily" }
exit: { when: 'peg < 0.95' }
`
	s, err := rules.Load("steth-balanced.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	from, to := day("2022-06-01"), day("2022-12-31")
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The file carries prices, not APYs: with no yield to weigh, the
	// rebalancer's gain-over-cost test is switched off.
	capital := decimal.NewFromInt(100)
	cfg := DefaultVaultConfig(s, adapters.ETH, capital)
	cfg.Rebalance.MinGainOverCost = 0
	res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital, Pricing: adapters.PriceMarket, Vault: &cfg,
		Source: "steth-usd-coingecko-hourly"})
	if err != nil {
		t.Fatal(err)
	}
	var hold *Benchmark
	for i := range res.Benchmarks {
		if res.Benchmarks[i].Name == "hold lido/steth" {
			hold = &res.Benchmarks[i]
		}
	}
	if hold == nil {
		t.Fatal("no hold lido/steth benchmark")
	}
	t.Logf("strategy max drawdown %.4f (exits %d), hold stETH %.4f (trough %s)", res.Metrics.MaxDrawdown, res.Metrics.Exits,
		hold.Metrics.MaxDrawdown, hold.Metrics.DrawdownTrough.Format("2006-01-02"))
	if hold.Metrics.MaxDrawdown < 0.05 {
		t.Errorf("holding stETH through 2022 at market drew down only %.4f; the data should show the June depeg", hold.Metrics.MaxDrawdown)
	}
	if res.Metrics.Decisions < 200 {
		t.Errorf("only %d decisions over seven months of daily rebalances", res.Metrics.Decisions)
	}
	series := w.Get("lido/steth")
	sells := 0
	for _, e := range res.Ledger {
		if e.Market != "lido/steth" {
			continue
		}
		if e.Type == vault.EntryQueue {
			t.Errorf("%s: %s queued stETH through Lido's withdrawal queue, which opened only on 2023-05-15", e.Time.Format(time.RFC3339), e.Reason)
		}
		if e.Type != vault.EntrySell || e.Time.Before(day("2022-06-10")) || e.Time.After(day("2022-06-21")) {
			continue
		}
		sells++
		// At market pricing the ledger's slippage is net of the depeg NAV
		// had already marked: proceeds + costs is the position's market
		// value at the observed price, so costs below zero would be a
		// sale above the market.
		i := series.Index(e.Time.Unix())
		price := series.At(i).Values[adapters.FieldPrice]
		if e.Slippage.Sign() < 0 || e.Gas.Sign() < 0 {
			t.Errorf("%s: sold stETH at price %.6f for %s with slippage %s and gas %s: better than the market price",
				e.Time.Format(time.RFC3339), price, e.Amount, e.Slippage, e.Gas)
		}
		if price > 0.97 {
			t.Errorf("%s: an exit at price %.6f, above the rule's 0.95 (the data's last price at or before the sale)", e.Time.Format(time.RFC3339), price)
		}
	}
	if sells == 0 {
		t.Errorf("no stETH sale between 2022-06-10 and 2022-06-20, when stETH traded below 0.97")
	}
}
