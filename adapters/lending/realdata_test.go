package lending_test

import (
	"context"
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
)

// TestRealData_aaveIndex holds an Aave v3 supply position over a whole
// AaveScan file: its value must grow exactly as the file's liquidityIndex.
func TestRealData_aaveIndex(t *testing.T) {
	const folder = "aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily"
	for _, tc := range []struct {
		file, market string
		rows         int
	}{
		{"aave_v3_aave-v3-ethereum_WETH_rates_2024-01-01_2025-09-18.csv", "aave-v3/weth", 638},
		{"aave_v3_aave-v3-ethereum_USDT_rates_2024-01-01_2025-09-18.csv", "aave-v3/usdt", 638},
	} {
		t.Run(tc.market, func(t *testing.T) {
			path := testenv.SharedFile(t, folder, tc.file)
			want := testenv.Column(t, path, "liquidityIndex")
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
			pos, f, err := a.Deposit(a.NewPosition(), env, d("1000"))
			if err != nil {
				t.Fatal(err)
			}
			v0 := f.Value.InexactFloat64()
			worst := 0.0
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
			}
			if worst > 1e-9 {
				t.Errorf("value / initial value departs from the file's liquidityIndex ratio by %.3g (relative), want <= 1e-9", worst)
			}
			last := len(series) - 1
			end := &adapters.Env{Time: series[last].Time, Obs: series[last]}
			growth := a.Value(&pos, end, adapters.PriceRate).InexactFloat64() / v0
			compounded := a.Value(&noIndex, end, adapters.PriceRate).InexactFloat64() / v0
			t.Logf("%s: index growth %.9f over %d days; compounding the daily APY instead gives %.9f",
				tc.market, growth, last, compounded)
			// Compounding each day's rate tracks the index to a small share
			// of the growth (PROVENANCE: index growth / rate ~ 1.004).
			if rel := math.Abs(compounded-growth) / (growth - 1); rel > 0.02 {
				t.Errorf("APY compounding drifts %.3g of the growth away from the index, want <= 2%%", rel)
			}
		})
	}
}
