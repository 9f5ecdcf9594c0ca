package lending_test

import (
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// BenchmarkAccrue/lending is the backtest hot path: accrue one supply
// position by one hourly step and value it. With a liquidity index in the
// observation (AaveScan) and without (the APY compounds), and with the
// market's size (own impact priced).
func BenchmarkAccrue(b *testing.B) {
	for _, tc := range []struct {
		name   string
		fields map[adapters.Field]float64
	}{
		{"lending", map[adapters.Field]float64{adapters.FieldAPY: 0.035, adapters.FieldUtilization: 0.85}},
		{"lending-index", map[adapters.Field]float64{adapters.FieldIndex: 1.0181, adapters.FieldAPY: 0.035}},
		// The market's size is known: the position's own supply moves
		// the utilization it earns at (the AaveScan files' case).
		{"lending-own", map[adapters.Field]float64{adapters.FieldIndex: 1.0181, adapters.FieldAPY: 0.035, adapters.FieldUtilization: 0.85,
			adapters.FieldSupply: 5e5, adapters.FieldBorrows: 4.25e5}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			testenv.AccrueSteps(b, "aave-v3/weth", testenv.Env(t0, tc.fields))
		})
	}
}

// BenchmarkAccrueOnly is Accrue alone: it must not allocate.
func BenchmarkAccrueOnly(b *testing.B) {
	a, err := adapters.Open(adapters.Builtin(), "aave-v3/weth")
	if err != nil {
		b.Fatal(err)
	}
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.035})
	pos, _, _ := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("1234.5678")))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		env.Time = env.Time.Add(time.Hour)
		a.Accrue(&pos, env)
	}
}

func TestDriver_AccrueAllocs(t *testing.T) {
	a, err := adapters.Open(adapters.Builtin(), "aave-v3/weth")
	if err != nil {
		t.Fatal(err)
	}
	for _, fields := range []map[adapters.Field]float64{
		{adapters.FieldAPY: 0.035},
		{adapters.FieldIndex: 1.02, adapters.FieldUtilization: 0.9},
		{adapters.FieldUtilization: 0.9},
		{adapters.FieldIndex: 1.02, adapters.FieldAPY: 0.03, adapters.FieldSupply: 100, adapters.FieldBorrows: 85}, // own impact
		{adapters.FieldAPY: 0.03, adapters.FieldTVL: 2e5, adapters.FieldBaseUSD: 2000},                             // utilization inverted
	} {
		env := testenv.Env(t0, fields)
		pos, _, _ := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("10")))
		allocs := testing.AllocsPerRun(100, func() {
			env.Time = env.Time.Add(time.Hour)
			a.Accrue(&pos, env)
		})
		if allocs != 0 {
			t.Errorf("Accrue with %v allocates %g times per step, want 0", fields, allocs)
		}
	}
}
