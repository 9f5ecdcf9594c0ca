package vault

import (
	"fmt"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// benchVault is a vault of 1000 ETH spread over 50 markets built on the
// built-in LST, LRT and lending profiles, with deep exit liquidity.
func benchVault(b *testing.B) (*Vault, [2]strategies.Target) {
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
	// Two targets that move weight between the even and the odd markets.
	var tg [2]strategies.Target
	for k := range tg {
		w := map[string]float64{}
		for i, id := range v.Markets() {
			w[id] = 0.012
			if i%2 == k {
				w[id] = 0.026
			}
		}
		tg[k] = target(w)
	}
	if _, _, err := v.Rebalance(t0, time.Time{}, TriggerManual, tg[0]); err != nil {
		b.Fatal(err)
	}
	return v, tg
}

// BenchmarkRebalance measures one rebalance of a vault across 50 markets:
// the decision (50 quotes, drift, gain and cost, funding and order
// sizing) plus its execution (25 sells and 25 buys through the adapters,
// ledger entries, the NAV identity). The adapters-only case makes the
// same 50 quotes, 25 withdrawals and 25 deposits straight on the
// adapters: the floor the vault's own work sits on.
//
// Each iteration measures one rebalance of a steady-state vault: the
// ledger's entries are dropped after each (the service restores a vault
// with an empty ledger for every action and persists the entries; a
// backtest's ledger grows, but by what one rebalance adds, not by every
// earlier iteration's). Without it the ledger grew by 50 entries per
// iteration, and the garbage collector's marking of that ever larger live
// heap (every entry holds six big.Ints) was a large part of the figure.
func BenchmarkRebalance(b *testing.B) {
	b.Run("vault", func(b *testing.B) {
		v, tg := benchVault(b)
		at := t0
		orders := 0
		b.ReportAllocs()
		b.ResetTimer()
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
		b.StopTimer()
		b.ReportMetric(float64(orders)/float64(b.N), "orders/op")
		if orders == 0 {
			b.Fatal("no orders")
		}
	})
	b.Run("adapters-only", func(b *testing.B) {
		v, _ := benchVault(b)
		amt := d("7.5")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for k, s := range v.markets {
				if _, err := s.ad.Quote(&s.env, amt); err != nil {
					b.Fatal(err)
				}
				if k%2 == 0 {
					if _, _, err := s.ad.Withdraw(s.pos, &s.env, adapters.Withdrawal{Amount: d("5"), Mode: adapters.ExitInstant}); err != nil {
						b.Fatal(err)
					}
				} else if _, _, err := s.ad.Deposit(s.pos, &s.env, amt); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
