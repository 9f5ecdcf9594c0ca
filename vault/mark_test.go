package vault

import (
	"math"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestMarkAt_FeesDue: two identical vaults with management and
// performance fees, their capital in a market growing 30% a year. At each
// of a few times one is brought to the time without charging fees (Bring)
// and marked at its exact positions' value; the other is brought to the
// time charging them (Accrue). The mark counts the fees due as charged:
// its share price, supply and total assets agree with the charged vault's
// within 1e-12, and marking changed nothing of the first vault's books.
func TestMarkAt_FeesDue(t *testing.T) {
	open := func() *Vault {
		cfg := plainConfig()
		cfg.ManagementFee, cfg.PerformanceFee = 0.02, 0.2
		v := newTestVault(t, cfg, map[string]*fake{"f/a": {apy: 0.3}})
		must(v.Deposit(t0, "u", d("100")))(t)
		allocate(t, v, map[string]float64{"f/a": 0.9})
		return v
	}
	marked, charged := open(), open()
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }
	for _, dt := range []time.Duration{time.Hour, 30 * time.Hour, 40 * 24 * time.Hour, Year} {
		at := t0.Add(dt)
		must(marked.Bring(at))(t)
		mustOK(t, charged.Accrue(at))
		ledger := marked.Ledger().Len()
		positions := marked.GrossAssets().Sub(marked.Idle()).InexactFloat64()
		m := marked.MarkAt(at, positions)
		if marked.Ledger().Len() != ledger {
			t.Fatalf("at %s: MarkAt booked", dt)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"share price", m.PricePerShare, charged.PricePerShare().InexactFloat64()},
			{"supply", m.Supply, charged.TotalSupply().InexactFloat64()},
			{"total assets", m.TotalAssets, charged.TotalAssets().InexactFloat64()},
			{"NAV", m.NAV, charged.GrossAssets().InexactFloat64()},
		} {
			if r := rel(c.got, c.want); r > 1e-12 {
				t.Errorf("after %s: marked %s %v, charged vault's %v (%.3g apart)", dt, c.name, c.got, c.want, r)
			}
		}
		if fees, _ := feeSums(charged); fees.Sign() <= 0 {
			t.Fatalf("after %s: the charged vault charged no management fee", dt)
		}
		// The marked vault charges what is due at its next operation.
		mustOK(t, marked.Accrue(at))
		if got, want := marked.PricePerShare(), charged.PricePerShare(); !got.Equal(want) {
			t.Errorf("after %s: charged after marking, share price %s, want %s", dt, got, want)
		}
	}
}

// TestVault_Quiet: a vault is quiet while its queued claim is not ready,
// and not once it is (Claim pays it at the step).
func TestVault_Quiet(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/q": {maxExit: 1, queue: true, delay: 48 * time.Hour}})
	must(v.Deposit(t0, "u", d("10")))(t)
	allocate(t, v, map[string]float64{"f/q": 1})
	if !v.Quiet(t0) {
		t.Fatal("a vault holding a position and nothing queued is not quiet")
	}
	at := t0.Add(time.Hour)
	_, _, err := v.Rebalance(at, time.Time{}, TriggerManual, target(map[string]float64{}))
	mustOK(t, err)
	if p, _ := v.Position("f/q"); len(p.Claims) == 0 {
		t.Fatal("selling 10 with 1 of exit liquidity queued nothing")
	}
	if !v.Quiet(at.Add(time.Hour)) {
		t.Error("a vault whose queued claim is not ready is not quiet")
	}
	if v.Quiet(at.Add(49 * time.Hour)) {
		t.Error("a vault whose queued claim is ready is quiet")
	}
}

// TestChainGrowth: a growth that starts where the carried one ends is
// multiplied into it while the position has not been brought past the
// carried one's start; otherwise the new growth replaces it.
func TestChainGrowth(t *testing.T) {
	g1 := adapters.Growth{From: 100, To: 200, APY: 0.1, Factor: 1.001}
	g2 := adapters.Growth{From: 200, To: 300, APY: 0.2, Factor: 1.002}
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	if got, want := chainGrowth(g1, g2, at(100)), (adapters.Growth{From: 100, To: 300, APY: 0.2, Factor: 1.001 * 1.002}); got != want {
		t.Errorf("position at 100: %+v, want %+v", got, want)
	}
	for _, c := range []struct {
		name string
		cur  adapters.Growth
		last time.Time
	}{
		{"position brought to 200", g1, at(200)},
		{"position behind the chain", g1, at(50)},
		{"a gap between the growths", adapters.Growth{From: 50, To: 150, Factor: 1.001}, at(50)},
		{"nothing carried", adapters.Growth{}, at(200)},
		{"position never opened", g1, time.Time{}},
	} {
		if got := chainGrowth(c.cur, g2, c.last); got != g2 {
			t.Errorf("%s: %+v, want the new growth %+v", c.name, got, g2)
		}
	}
	if got := chainGrowth(g1, adapters.Growth{}, at(100)); got != (adapters.Growth{}) {
		t.Errorf("a step without a growth: %+v, want none", got)
	}
}
