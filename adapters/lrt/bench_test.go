package lrt_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// BenchmarkAccrue measures one position-step of a backtest on an rsETH
// position: Accrue to the next hourly observation (exchange rate and
// reward APY, so restaking rewards accrue every step), then Value at rate
// pricing. (It ran on ezETH until Renzo's rewards moved into its rate,
// rewards_in_rate; rsETH pays them out as ezETH did.)
func BenchmarkAccrue(b *testing.B) {
	b.Run("lrt", func(b *testing.B) {
		a := testenv.Open(b, nil, "kelp/rseth")
		env := adapters.Env{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		env.Obs.Put(adapters.FieldExchangeRate, 1.01)
		env.Obs.Put(adapters.FieldRewardAPY, 0.02)
		pos, _, err := a.Deposit(a.NewPosition(), &env, fixed.RequireFromString("123.456"))
		if err != nil {
			b.Fatal(err)
		}
		var sink decimal.Decimal
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			env.Time = env.Time.Add(time.Hour)
			env.Obs.Time = env.Time
			env.Obs.Values[adapters.FieldExchangeRate] = 1.01 + float64(i)*1e-9
			a.Accrue(&pos, &env)
			sink = a.Value(&pos, &env, adapters.PriceRate)
		}
		b.StopTimer()
		if sink.Sign() <= 0 || pos.Rewards.Sign() <= 0 {
			b.Fatalf("value %s, rewards %s", sink, pos.Rewards)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "position-steps/s")
	})
}
