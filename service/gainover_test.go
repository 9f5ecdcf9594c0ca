package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// TestConfig_MinGainOverCost: a strategy's rebalance.min_gain_over_cost
// reaches the service's rebalancer as it reaches a backtest's; without it
// the vault's default holds.
func TestConfig_MinGainOverCost(t *testing.T) {
	src, err := os.ReadFile("../examples/strategies/lst-lrt-balanced.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const from = `min_trade: 0.005 }`
	if !strings.Contains(string(src), from) {
		t.Fatalf("the example's rebalance line changed; update this test")
	}
	dir := t.TempDir()
	strat := filepath.Join(dir, "gain.yaml")
	if err := os.WriteFile(strat, []byte(strings.Replace(string(src), from, `min_trade: 0.005, min_gain_over_cost: 0.5 }`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, "", `
  - { id: set, strategy: `+strat+`, deposit: "100", staleness: 12h, rebalance: "@hourly" }
  - { id: unset, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", staleness: 12h, rebalance: "@hourly" }
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"set": 0.5, "unset": vault.DefaultConfig("x", adapters.ETH).Rebalance.MinGainOverCost}
	for i := range cfg.Vaults {
		vc, err := cfg.Vaults[i].VaultConfig()
		if err != nil {
			t.Fatal(err)
		}
		if got := vc.Rebalance.MinGainOverCost; got != want[cfg.Vaults[i].ID] {
			t.Errorf("vault %s: min gain over cost %g, want %g", cfg.Vaults[i].ID, got, want[cfg.Vaults[i].ID])
		}
	}
}
