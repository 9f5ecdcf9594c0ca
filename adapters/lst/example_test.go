package lst_test

import (
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/lst" // registers the lst kind
	"github.com/yieldvault/yieldvault/fixed"
)

// ExampleOpen opens the rETH market, deposits 10 ETH, lets the exchange
// rate move and values the position at the rate and at the market price.
func ExampleOpen() {
	a, err := adapters.Open(adapters.Builtin(), "rocketpool/reth")
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	env := &adapters.Env{Time: t0, GasPrice: 10} // 10 gwei
	env.Obs.Put(adapters.FieldExchangeRate, 1.08)
	pos, fill, err := a.Deposit(a.NewPosition(), env, fixed.NewFromInt(10))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("gas:", fill.Gas, "units:", pos.Units.StringFixed(6))

	later := &adapters.Env{Time: t0.AddDate(0, 6, 0)}
	later.Obs.Put(adapters.FieldExchangeRate, 1.0962)
	later.Obs.Put(adapters.FieldPrice, 1.0907) // rETH trades 0.5% below its rate
	a.Accrue(&pos, later)
	fmt.Println("at rate:  ", a.Value(&pos, later, adapters.PriceRate).StringFixed(6))
	fmt.Println("at market:", a.Value(&pos, later, adapters.PriceMarket).StringFixed(6))

	q, _ := a.Quote(later, fixed.NewFromInt(10))
	fmt.Println("queue open:", !q.QueueClosed, "max instant exit:", q.MaxInstantExit)
	// Output:
	// gas: 0.0013 units: 9.258056
	// at rate:   10.148681
	// at market: 10.097761
	// queue open: false max instant exit: 20000
}
