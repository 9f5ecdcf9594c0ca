package lending_test

import (
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

// A supply position in Aave v3 USDC: the rate a deposit as large as the
// market would get, and a year at the observed rate less what the
// position's own 1000 takes off it (utilization 0.9 -> 0.8991).
func Example() {
	a, err := adapters.Open(adapters.Builtin(), "aave-v3/usdc")
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	o := adapters.Observation{Time: at}
	o.Put(adapters.FieldAPY, 0.05)
	o.Put(adapters.FieldSupply, 1_000_000)
	o.Put(adapters.FieldBorrows, 900_000)
	env := &adapters.Env{Time: at, Obs: o}

	q, _ := a.Quote(env, fixed.NewFromInt(1_000_000))
	fmt.Printf("APY after doubling supply: %.4f (utilization 90%% -> 45%%)\n", q.APY)

	pos, _, _ := a.Deposit(a.NewPosition(), env, fixed.NewFromInt(1000))
	later := *env
	later.Time = at.Add(365 * 24 * time.Hour)
	a.Accrue(&pos, &later)
	fmt.Println("value after a year:", a.Value(&pos, &later, adapters.PriceRate).StringFixed(2))
	// Output:
	// APY after doubling supply: 0.0125 (utilization 90% -> 45%)
	// value after a year: 1049.90
}
