package amm_test

import (
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/fixed"
)

// A Curve ETH/stETH LP position opened in a balanced pool and marked to
// the pool when it holds 80% stETH, as in June 2022.
func Example() {
	a, err := adapters.Open(adapters.Builtin(), "curve/steth-eth")
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)
	pool := func(eth, steth float64) *adapters.Env {
		o := adapters.Observation{Time: at}
		o.Put(adapters.FieldBalance0, eth)
		o.Put(adapters.FieldBalance1, steth)
		return &adapters.Env{Time: at, Obs: o}
	}
	pos, fill, _ := a.Deposit(a.NewPosition(), pool(500_000, 500_000), fixed.NewFromInt(100))
	fmt.Println("value at entry:", fill.Value.StringFixed(4))
	fmt.Println("value at 80% stETH:", a.Value(&pos, pool(200_000, 800_000), adapters.PriceMarket).StringFixed(4))
	fmt.Printf("curve stETH price there: %.4f\n", amm.StablePrice(50, []float64{200_000, 800_000}, 1))
	fmt.Printf("constant-product loss at 2x: %.4f\n", amm.ILConstantProduct(2))
	// Output:
	// value at entry: 99.9799
	// value at 80% stETH: 96.2204
	// curve stETH price there: 0.9465
	// constant-product loss at 2x: -0.0572
}
