package backtest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestRun_OwnSupplyFiveTimesTheMarket holds 10,000 ETH in an Aave v3
// WETH market of 2,000 ETH at 85% utilization for a year: the run earns
// the reserve's supply rate at the utilization after the vault's own
// supply, 1,700 / (2,000 + the vault's position), computed here with
// Aave's formula and the reserve's parameters, not the 1.84% the market
// pays without the vault. The hold benchmark earns the same.
func TestRun_OwnSupplyFiveTimesTheMarket(t *testing.T) {
	supplyRate := func(u float64) float64 { // Aave v3 WETH (adapters/builtin.go)
		b := 0.027 * u / 0.9
		if u > 0.9 {
			b = 0.027 + 0.8*(u-0.9)/0.1
		}
		return b * u * (1 - 0.15)
	}
	const id = "aave-v3/weth"
	m, err := adapters.Builtin().Market(id)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const hours = 365 * 24
	s := &adapters.Series{Market: m, Times: make([]int64, hours+1), Set: make([]adapters.FieldSet, hours+1)}
	fields := map[adapters.Field]float64{
		adapters.FieldAPY: supplyRate(0.85), adapters.FieldSupply: 2000, adapters.FieldBorrows: 1700, adapters.FieldUtilization: 0.85,
	}
	for f, v := range fields {
		s.Cols[f] = make([]float64, hours+1)
		for i := range s.Cols[f] {
			s.Cols[f][i] = v
		}
	}
	for i := range s.Times {
		s.Times[i] = start.Add(time.Duration(i) * time.Hour).Unix()
		for f := range fields {
			s.Set[i] = s.Set[i].With(f)
		}
	}
	w := &adapters.Window{From: start, To: start.Add(hours * time.Hour), Series: []*adapters.Series{s}}
	res, err := Run(context.Background(), Spec{Strategy: holdFirst(t, []string{id}), Universe: []string{id}, Data: w,
		Capital: decimal.NewFromInt(10_000), GasPrice: -1})
	if err != nil {
		t.Fatal(err)
	}
	// The position compounds hour by hour at the model after itself.
	v := 10_000.0
	for h := 0; h < hours; h++ {
		v *= math.Pow(1+supplyRate(1700/(2000+v)), 1.0/hours)
	}
	want := v/10_000 - 1
	got := res.Metrics.TotalReturn
	t.Logf("10,000 ETH in a 2,000 ETH market: %.4f%% a year (the market pays %.4f%%)", 100*got, 100*supplyRate(0.85))
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("total return = %.9f, want %.9f: the IRM after the vault's own supply", got, want)
	}
	if b := res.Benchmarks[0]; math.Abs(b.Metrics.TotalReturn-want) > 1e-9 {
		t.Errorf("hold benchmark total return = %.9f, want %.9f", b.Metrics.TotalReturn, want)
	}
}
