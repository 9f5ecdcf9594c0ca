package lst_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// BenchmarkAccrue measures one position-step of a backtest: Accrue of one
// rETH position to the next hourly observation, then Value at rate
// pricing. Two workloads: the observation carries the exchange rate (as
// the rETH and Compound oracle files do), or only an APY to compound.
func BenchmarkAccrue(b *testing.B) {
	for _, w := range []struct {
		name string
		rate bool
	}{{"lst", true}, {"lst-apy", false}} {
		b.Run(w.name, func(b *testing.B) {
			a := testenv.Open(b, nil, "rocketpool/reth")
			t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			env := adapters.Env{Time: t0}
			env.Obs.Put(adapters.FieldAPY, 0.03)
			env.Obs.Put(adapters.FieldExchangeRate, 1.1)
			pos, _, err := a.Deposit(a.NewPosition(), &env, fixed.RequireFromString("123.456"))
			if err != nil {
				b.Fatal(err)
			}
			if !w.rate {
				env.Obs = adapters.Observation{}
				env.Obs.Put(adapters.FieldAPY, 0.03)
			}
			var sink decimal.Decimal
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				env.Time = env.Time.Add(time.Hour)
				env.Obs.Time = env.Time
				if w.rate {
					env.Obs.Values[adapters.FieldExchangeRate] = 1.1 + float64(i)*1e-9
				}
				a.Accrue(&pos, &env)
				sink = a.Value(&pos, &env, adapters.PriceRate)
			}
			b.StopTimer()
			if sink.Sign() <= 0 {
				b.Fatalf("value %s", sink)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "position-steps/s")
		})
	}
}
