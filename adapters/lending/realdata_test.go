package lending_test

import (
	"context"
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
)

// TestRealData_aaveIndex holds Aave v3 supply positions over a whole
// AaveScan file. A position too small to move the market grows exactly as
// the file's liquidityIndex. A large one (1000 ETH in a market of about
// 500,000; 10M USDT in about 400M) earns the index's log growth scaled, at
// each day, by the reserve's rate model after its own supply over the
// model at the file's utilization, computed here from the file's
// totalAToken and debts and the Aave formula with the reserve's
// parameters.
func TestRealData_aaveIndex(t *testing.T) {
	const folder = "aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily"
	// Aave v3 supply rate: borrow(u) * u * (1 - reserve factor), borrow
	// kinked at optimal (the markets' parameters in adapters/builtin.go).
	aave := func(base, s1, s2, opt, rf float64) func(u float64) float64 {
		return func(u float64) float64 {
			b := base + s1*u/opt
			if u > opt {
				b = base + s1 + s2*(u-opt)/(1-opt)
			}
			return b * u * (1 - rf)
		}
	}
	for _, tc := range []struct {
		file, market string
		rows         int
		small, large string
		supply       func(u float64) float64
	}{
		{"aave_v3_aave-v3-ethereum_WETH_rates_2024-01-01_2025-09-18.csv", "aave-v3/weth", 638, "0.001", "1000", aave(0, 0.027, 0.80, 0.90, 0.15)},
		{"aave_v3_aave-v3-ethereum_USDT_rates_2024-01-01_2025-09-18.csv", "aave-v3/usdt", 638, "1", "10000000", aave(0, 0.065, 0.60, 0.92, 0.10)},
	} {
		t.Run(tc.market, func(t *testing.T) {
			path := testenv.SharedFile(t, folder, tc.file)
			want := testenv.Column(t, path, "liquidityIndex")
			supply := testenv.Column(t, path, "totalAToken")
			stable := testenv.Column(t, path, "totalStableDebt")
			variable := testenv.Column(t, path, "totalVariableDebt")
			b, err := importers.ImportFile(context.Background(), path, importers.Options{})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			var series []adapters.Observation
			for _, r := range b.Rows {
				if r.Market == tc.market {
					series = append(series, r.Obs)
				}
			}
			if len(series) != tc.rows || len(want) != tc.rows {
				t.Fatalf("rows: imported %d, file %d, want %d", len(series), len(want), tc.rows)
			}
			a := testenv.Open(t, nil, tc.market)
			env := &adapters.Env{Time: series[0].Time, Obs: series[0]}
			pos, f, err := a.Deposit(a.NewPosition(), env, d(tc.small))
			if err != nil {
				t.Fatal(err)
			}
			big, fb, err := a.Deposit(a.NewPosition(), env, d(tc.large))
			if err != nil {
				t.Fatal(err)
			}
			v0 := f.Value.InexactFloat64()
			vb := fb.Value.InexactFloat64()
			worst, worstBig := 0.0, 0.0
			// The same path without the index: compounding the imported APY.
			noIndex := pos
			for i, o := range series {
				env := &adapters.Env{Time: o.Time, Obs: o}
				a.Accrue(&pos, env)
				got := a.Value(&pos, env, adapters.PriceRate).InexactFloat64() / v0
				wantRatio := want[i] / want[0]
				if e := math.Abs(got-wantRatio) / wantRatio; e > worst {
					worst = e
				}
				bare := o
				bare.Set &^= 1 << adapters.FieldIndex
				a.Accrue(&noIndex, &adapters.Env{Time: o.Time, Obs: bare})
				if i == 0 {
					continue
				}
				u := (stable[i] + variable[i]) / supply[i]
				u1 := (stable[i] + variable[i]) / (supply[i] + vb)
				vb *= math.Pow(want[i]/want[i-1], tc.supply(u1)/tc.supply(u))
				a.Accrue(&big, env)
				if e := relErr(a.Value(&big, env, adapters.PriceRate).InexactFloat64(), vb); e > worstBig {
					worstBig = e
				}
			}
			if worst > 1e-9 {
				t.Errorf("value / initial value of %s departs from the file's liquidityIndex ratio by %.3g (relative), want <= 1e-9", tc.small, worst)
			}
			if worstBig > 1e-9 {
				t.Errorf("value of %s departs from the index scaled by the rate model after its own supply by %.3g (relative), want <= 1e-9", tc.large, worstBig)
			}
			last := len(series) - 1
			end := &adapters.Env{Time: series[last].Time, Obs: series[last]}
			growth := a.Value(&pos, end, adapters.PriceRate).InexactFloat64() / v0
			compounded := a.Value(&noIndex, end, adapters.PriceRate).InexactFloat64() / v0
			bigGrowth := a.Value(&big, end, adapters.PriceRate).InexactFloat64() / fb.Value.InexactFloat64()
			t.Logf("%s: index growth %.9f over %d days; compounding the daily APY instead gives %.9f; %s supplied grows %.9f",
				tc.market, growth, last, compounded, tc.large, bigGrowth)
			if !(bigGrowth < growth) {
				t.Errorf("%s grows %.9f, want less than the market's %.9f", tc.large, bigGrowth, growth)
			}
			// Compounding each day's rate tracks the index to a small share
			// of the growth (PROVENANCE: index growth / rate ~ 1.004).
			if rel := math.Abs(compounded-growth) / (growth - 1); rel > 0.02 {
				t.Errorf("APY compounding drifts %.3g of the growth away from the index, want <= 2%%", rel)
			}
		})
	}
}
