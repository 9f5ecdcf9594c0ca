package vault_test

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/vault"
)

// A vault over Aave's WETH market: two deposits, a rebalance into the
// market, a month of interest, a withdrawal.
func ExampleVault_Deposit() {
	ad, err := adapters.Open(adapters.Builtin(), "aave-v3/weth")
	if err != nil {
		panic(err)
	}
	cfg := vault.DefaultConfig("demo", adapters.ETH)
	cfg.ManagementFee, cfg.PerformanceFee = 0, 0
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := vault.New(cfg, []*adapters.Adapter{ad}, start)
	if err != nil {
		panic(err)
	}
	var obs adapters.Observation
	obs.Put(adapters.FieldAPY, 0.03)
	obs.Put(adapters.FieldUtilization, 0.8)
	_ = v.Observe("aave-v3/weth", obs)

	alice, _ := v.Deposit(start, "alice", decimal.RequireFromString("10"))
	bob, _ := v.Deposit(start, "bob", decimal.RequireFromString("5"))
	fmt.Println("alice shares:", alice)
	fmt.Println("bob shares:", bob)

	target := strategies.Target{Allocations: []strategies.Allocation{{Market: "aave-v3/weth", Weight: 0.9}}, Idle: 0.1}
	_, res, _ := v.Rebalance(start, start, vault.TriggerManual, target)
	fmt.Println("orders:", len(res.Executed), "idle:", v.Idle())

	later := start.Add(30 * 24 * time.Hour)
	_ = v.Accrue(later)
	fmt.Println("total assets after 30 days:", v.TotalAssets().StringFixed(6))
	w, _ := v.Redeem(later, "bob", bob)
	fmt.Println("bob redeems:", w.Paid.StringFixed(6))
	fmt.Println("ledger reconciles:", vault.Reconcile(v) == nil)
	// Output:
	// alice shares: 10000000
	// bob shares: 5000000
	// orders: 1 idle: 1.5
	// total assets after 30 days: 15.032838
	// bob redeems: 5.010946
	// ledger reconciles: true
}
