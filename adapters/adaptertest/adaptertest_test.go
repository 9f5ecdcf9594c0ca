package adaptertest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// exitDriver quotes every exit at cost and delay; its other operations
// are never called.
type exitDriver struct {
	cost  fixed.Num
	delay time.Duration
}

func (d exitDriver) Quote(*adapters.Env, fixed.Num) (adapters.Quote, error) {
	return adapters.Quote{APY: 0.03, ExitCost: d.cost, ExitDelay: d.delay, MaxInstantExit: fixed.NewFromInt(1 << 40)}, nil
}

func (exitDriver) Deposit(pos adapters.Position, _ *adapters.Env, _ fixed.Num) (adapters.Position, adapters.Fill, error) {
	return pos, adapters.Fill{}, nil
}

func (exitDriver) Withdraw(pos adapters.Position, _ *adapters.Env, _ adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	return pos, adapters.Fill{}, nil
}

func (exitDriver) Accrue(*adapters.Position, *adapters.Env) {}

func (exitDriver) Value(*adapters.Position, *adapters.Env, adapters.Pricing) decimal.Decimal {
	return decimal.Zero
}

func (exitDriver) Apply(pos adapters.Position, _ *adapters.Env, _ adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return pos, decimal.Zero, nil
}

// TestNegativeExits checks that the suite's exit check (ExitCostNotNegative)
// fails an adapter whose exit cost or delay is negative, each of its three
// quotes at every amount, and passes one whose exit costs nothing.
func TestNegativeExits(t *testing.T) {
	amounts := []fixed.Num{{}, fixed.NewFromInt(10)}
	env := &adapters.Env{Time: T0, GasPrice: 20}
	for _, tc := range []struct {
		name string
		d    exitDriver
		want int
	}{
		{"negative cost", exitDriver{cost: fixed.NewFromInt(-1)}, 6},
		{"negative delay", exitDriver{delay: -time.Hour}, 6},
		{"free exit", exitDriver{}, 0},
		{"costly exit", exitDriver{cost: fixed.NewFromInt(1), delay: time.Hour}, 0},
	} {
		a := adapters.NewAdapter(adapters.Market{ID: "test/exit"}, nil, tc.d)
		if got := negativeExits(a, env, amounts); len(got) != tc.want {
			t.Errorf("%s: negativeExits = %q, want %d failures", tc.name, got, tc.want)
		}
	}
}
