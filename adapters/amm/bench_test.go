package amm_test

import (
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
)

var benchPools = []struct {
	name, market string
	fields       map[adapters.Field]float64
}{
	{"amm", "uniswap-v3/weth-usdt", map[adapters.Field]float64{
		adapters.FieldPrice: 0.0004, adapters.FieldVolume: 20000, adapters.FieldTVL: 4e8, adapters.FieldBaseUSD: 2500}},
	{"amm-range", "uniswap-v3/weth-usdt-range", map[adapters.Field]float64{
		adapters.FieldPrice: 0.0004, adapters.FieldVolume: 20000, adapters.FieldTVL: 4e8, adapters.FieldBaseUSD: 2500}},
	{"amm-stableswap", "curve/steth-eth", map[adapters.Field]float64{
		adapters.FieldBalance0: 225886.985932, adapters.FieldBalance1: 591886.730514, adapters.FieldAPY: 0.01}},
}

// BenchmarkAccrue/amm is the backtest hot path: accrue one LP position by
// one hourly step and value it (a full-range Uniswap position with volume
// fees; also a concentrated range and a Curve stableswap pool, whose value
// solves the invariant each step).
func BenchmarkAccrue(b *testing.B) {
	for _, tc := range benchPools {
		b.Run(tc.name, func(b *testing.B) {
			testenv.AccrueSteps(b, tc.market, testenv.Env(t0, tc.fields))
		})
	}
}

func TestDriver_AccrueAllocs(t *testing.T) {
	for _, tc := range benchPools {
		a := testenv.Open(t, nil, tc.market)
		env := testenv.Env(t0, tc.fields)
		pos, _ := deposit(t, a, env, "10")
		allocs := testing.AllocsPerRun(100, func() {
			env.Time = env.Time.Add(time.Hour)
			a.Accrue(&pos, env)
		})
		if allocs != 0 {
			t.Errorf("%s: Accrue allocates %g times per step, want 0", tc.market, allocs)
		}
	}
}
