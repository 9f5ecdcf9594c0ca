package vault

import (
	"fmt"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/strategies"
)

// benchVault is a vault of 1000 ETH spread over 50 markets built on the
// built-in LST, LRT and lending profiles, with deep exit liquidity, and
// two targets that alternate: weight(i, k) is market i's weight in
// target k.
func benchVault(b *testing.B, weight func(i, k int) float64) (*Vault, [2]strategies.Target) {
	cat := adapters.Builtin()
	protos := []struct {
		proto string
		kind  adapters.Kind
	}{{"lido", adapters.LST}, {"rocketpool", adapters.LST}, {"etherfi", adapters.LRT}, {"aave-v3", adapters.Lending}}
	var ads []*adapters.Adapter
	for i := 0; i < 50; i++ {
		p := protos[i%len(protos)]
		id := fmt.Sprintf("%s/bench-%02d", p.proto, i)
		if err := cat.AddMarket(adapters.Market{ID: id, Kind: p.kind, Base: adapters.ETH}); err != nil {
			b.Fatal(err)
		}
		a, err := adapters.Open(cat, id)
		if err != nil {
			b.Fatal(err)
		}
		ads = append(ads, a)
	}
	cfg := DefaultConfig("bench", adapters.ETH)
	cfg.Rebalance.MinGainOverCost = 0 // trade every market: the full path
	v, err := New(cfg, ads, t0)
	if err != nil {
		b.Fatal(err)
	}
	for i, id := range v.Markets() {
		var o adapters.Observation
		o.Time = t0
		o.Put(adapters.FieldAPY, 0.02+0.001*float64(i))
		o.Put(adapters.FieldExitLiquidity, 1e7)
		if v.Adapter(id).Market().Kind == adapters.Lending {
			o.Put(adapters.FieldUtilization, 0.7)
		}
		if err := v.Observe(id, o); err != nil {
			b.Fatal(err)
		}
	}
	if err := v.SetGas(5, 1); err != nil {
		b.Fatal(err)
	}
	if _, err := v.Deposit(t0, "u", d("1000")); err != nil {
		b.Fatal(err)
	}
	var tg [2]strategies.Target
	for k := range tg {
		w := map[string]float64{}
		for i, id := range v.Markets() {
			w[id] = weight(i, k)
		}
		tg[k] = target(w)
	}
	if _, _, err := v.Rebalance(t0, time.Time{}, TriggerManual, tg[0]); err != nil {
		b.Fatal(err)
	}
	return v, tg
}

// everyMarket moves weight between the even and the odd markets: every
// market trades at every rebalance (the worst case).
func everyMarket(i, k int) float64 {
	if i%2 == k {
		return 0.026
	}
	return 0.012
}

// fewMarkets moves weight among the first five markets only; the other
// 45 stay at their target, their drift below the minimum trade (the
// typical rebalance: every market considered, about five orders).
func fewMarkets(i, k int) float64 {
	switch {
	case i >= 5:
		return 0.019
	case i%2 == k:
		return 0.026
	}
	return 0.012
}

// BenchmarkRebalance measures one rebalance of a vault across 50 markets:
// the decision (50 quotes, drift, gain and cost, funding and order
// sizing) plus its execution (the sells and buys through the adapters,
// ledger entries, the NAV identity), with MinGainOverCost 0 so that every
// move is funded.
//
//   - vault: the worst case, all 50 markets trade (25 sells, 25 buys);
//   - vault-typical: the 50 markets are considered and quoted, five of
//     them trade, the other 45 are rejected below the minimum trade;
//   - adapters-only: the same 50 quotes, 25 withdrawals and 25 deposits
//     straight on the adapters, the floor the worst case sits on.
//
// Each iteration measures one rebalance of a steady-state vault: the
// ledger's entries are dropped after each (the service restores a vault
// with an empty ledger for every action and persists the entries; a
// backtest's ledger grows, but by what one rebalance adds, not by every
// earlier iteration's). Without it the ledger grew by 50 entries per
// iteration, and the garbage collector's marking of that ever larger live
// heap (every entry holds six big.Ints) was a large part of the figure.
//
// cpu-ns/op is the process's CPU time (user + system, getrusage) per
// iteration, garbage collection included: with -cpu 1 it is the cost of
// a rebalance on one core, which ns/op (wall time) overstates on a
// machine shared with other work.
func BenchmarkRebalance(b *testing.B) {
	run := func(weight func(i, k int) float64) func(b *testing.B) {
		return func(b *testing.B) {
			v, tg := benchVault(b, weight)
			at := t0
			orders := 0
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				at = at.Add(time.Hour)
				dec, err := v.Decide(at, at, TriggerSchedule, tg[(i+1)%2])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Execute(at, dec); err != nil {
					b.Fatal(err)
				}
				orders += len(dec.Orders)
				v.ledger.truncate()
			}
			cpu := cpuTime() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(orders)/float64(b.N), "orders/op")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
			if orders == 0 {
				b.Fatal("no orders")
			}
		}
	}
	b.Run("vault", run(everyMarket))
	b.Run("vault-typical", run(fewMarkets))
	b.Run("adapters-only", func(b *testing.B) {
		v, _ := benchVault(b, everyMarket)
		amt := fixed.RequireFromString("7.5")
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			for k, s := range v.markets {
				if _, err := s.ad.Quote(s.env(), amt); err != nil {
					b.Fatal(err)
				}
				if k%2 == 0 {
					if _, _, err := s.ad.Withdraw(s.pos, s.env(), adapters.Withdrawal{Amount: fixed.FromDec(d("5")), Mode: adapters.ExitInstant}); err != nil {
						b.Fatal(err)
					}
				} else if _, _, err := s.ad.Deposit(s.pos, s.env(), amt); err != nil {
					b.Fatal(err)
				}
			}
		}
		if cpu := cpuTime() - cpu0; cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	})
}
