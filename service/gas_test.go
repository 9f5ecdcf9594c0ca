package service

import (
	"context"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// TestVaultRT_Gas checks where a USD vault's gas asset price comes from:
// an ETH market loaded beside the universe (gas_asset_market), else the
// gas_asset_price setting, else the reference price.
func TestVaultRT_Gas(t *testing.T) {
	tests := []struct {
		name     string
		keys     string
		wantData bool
		want     float64 // when not from the data
	}{
		{"reference", "", false, vault.RefETHUSD},
		{"setting", "    gas_asset_price: 2500\n", false, 2500},
		{"data", "    gas_asset_market: lido/steth\n    gas_asset_price: 2500\n", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := writeConfig(t, "", "  - id: u\n    strategy: $STRAT/usd-lending.yaml\n    deposit: \"1000\"\n"+tc.keys)
			s := newTestService(t, path, NewManualClock(t0))
			rt := s.vaults["u"]
			row, err := s.store.Vault(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			v, err := rt.restore(row)
			if err != nil {
				t.Fatal(err)
			}
			w, err := rt.window(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Get("lido/steth") != nil; got != tc.wantData {
				t.Fatalf("window holds lido/steth: %t, want %t", got, tc.wantData)
			}
			if _, err := v.ObserveWindow(w, row.State.Time, rt.gas()); err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if tc.wantData {
				var ok bool
				if want, ok = vault.GasAssetPriceAt(w, adapters.USD, row.State.Time.Unix()); !ok || want == vault.RefETHUSD {
					t.Fatalf("the data gives %g, %t: want an ETH price", want, ok)
				}
			}
			if got := v.GasAssetPrice(); got != want {
				t.Errorf("gas asset price %g, want %g", got, want)
			}
		})
	}
}
