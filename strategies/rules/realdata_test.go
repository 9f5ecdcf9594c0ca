package rules

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"

	"github.com/yieldvault/yieldvault/fixed"
)

// sharedData returns the real-data folder, or skips when it is not set.
func sharedData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the real-data test")
	}
	return dir
}

// stethPegSeries reads CoinGecko's hourly stETH/ETH ratio as the market
// price of lido/steth (exchange rate 1, so peg = the ratio).
func stethPegSeries(t *testing.T, dir string, m adapters.Market) *adapters.Series {
	t.Helper()
	path := filepath.Join(dir, "steth-usd-coingecko-hourly", "steth_eth_hourly_derived.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("real data missing: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) < 1000 || strings.Join(recs[0], ",") != "steth_ts_ms,weth_ts_ms,time_utc,steth_usd,weth_usd,steth_per_eth" {
		t.Fatalf("%s: unexpected header %v or %d rows", path, recs[0], len(recs))
	}
	s := &adapters.Series{Market: m}
	var price, rate []float64
	for i, r := range recs[1:] {
		ms, err1 := strconv.ParseInt(r[0], 10, 64)
		ratio, err2 := strconv.ParseFloat(r[5], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s:%d: bad row %v", path, i+2, r)
		}
		ts := ms / 1000
		if n := len(s.Times); n > 0 && ts <= s.Times[n-1] {
			continue // keep times strictly ascending
		}
		s.Times = append(s.Times, ts)
		price = append(price, ratio)
		rate = append(rate, 1)
		s.Set = append(s.Set, adapters.FieldSet(0).With(adapters.FieldPrice).With(adapters.FieldExchangeRate).With(adapters.FieldAPY))
	}
	s.Cols[adapters.FieldPrice] = price
	s.Cols[adapters.FieldExchangeRate] = rate
	s.Cols[adapters.FieldAPY] = make([]float64, len(price))
	for i := range price {
		s.Cols[adapters.FieldAPY][i] = 0.04
	}
	return s
}

// TestRealData_StethDepegExit replays the June 2022 stETH discount: a
// 24-hour average peg below 0.97 exits Lido, before and after it holds.
func TestRealData_StethDepegExit(t *testing.T) {
	dir := sharedData(t)
	cat := adapters.Builtin()
	lido, _ := cat.Market("lido/steth")
	aave, _ := cat.Market("aave-v3/weth")
	lidoProf, _ := cat.ProfileFor(lido)
	aaveProf, _ := cat.ProfileFor(aave)
	series := stethPegSeries(t, dir, lido)
	s := mustLoad(t, `name: depeg
base: ETH
universe: [lido/steth, aave-v3/weth]
rules:
  eligible: avg(peg, "24h") >= 0.99
  score: apy
exit: { when: 'avg(peg, "24h") < 0.97' }
`)
	tests := []struct {
		at       time.Time
		wantExit bool
		reason   string // prefix of lido's reason
	}{
		{time.Date(2022, 5, 1, 12, 0, 0, 0, time.UTC), false, "score 0.04"},
		{time.Date(2022, 6, 18, 21, 0, 0, 0, time.UTC), true, "exit: avg(peg, \"24h\") 0.93"},
		{time.Date(2022, 9, 15, 0, 0, 0, 0, time.UTC), false, "ineligible: avg(peg, \"24h\") 0.9"},
		{time.Date(2023, 2, 20, 0, 0, 0, 0, time.UTC), false, "score 0.04"},
	}
	for _, tc := range tests {
		t.Run(tc.at.Format("2006-01-02"), func(t *testing.T) {
			row := series.Index(tc.at.Unix())
			if row < 0 {
				t.Fatalf("no data at %v", tc.at)
			}
			var aaveObs adapters.Observation
			aaveObs.Put(adapters.FieldAPY, 0.02)
			st := &strategies.State{Time: tc.at, Base: adapters.ETH, NAV: fixed.NewFromInt(100), Markets: []strategies.MarketState{
				{Market: lido, Profile: lidoProf, Series: series, Row: row, Obs: series.At(row)},
				{Market: aave, Profile: aaveProf, Row: 0, Obs: aaveObs},
			}}
			got, err := s.Plan(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			exited := len(got.Exit) == 1 && got.Exit[0] == "lido/steth"
			if exited != tc.wantExit {
				t.Errorf("exit = %v, want lido exit %v", got.Exit, tc.wantExit)
			}
			if r := got.Allocations[0].Reason; !strings.HasPrefix(r, tc.reason) {
				t.Errorf("lido reason %q, want prefix %q", r, tc.reason)
			}
			if tc.wantExit && got.Allocations[0].Weight != 0 {
				t.Errorf("lido weight %v after an exit, want 0", got.Allocations[0].Weight)
			}
		})
	}
}
