package backtest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// relDiff is |a-b| / max(|a|, |b|, 1e-300).
func relDiff(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-300)
}

// runMarkedAndExact runs sp with its quiet steps recorded at the vault's
// mark (the default) and with every step exact (Spec.ExactSteps).
func runMarkedAndExact(t *testing.T, sp Spec) (marked, exact *Result) {
	t.Helper()
	ctx := context.Background()
	marked, err := Run(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	sp.ExactSteps = true
	if exact, err = Run(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if len(marked.Steps) != len(exact.Steps) {
		t.Fatalf("%d steps marked, %d exact", len(marked.Steps), len(exact.Steps))
	}
	if exact.Data.MarkedSteps != 0 {
		t.Errorf("%d steps marked with ExactSteps", exact.Data.MarkedSteps)
	}
	return marked, exact
}

// worstStep is the largest relative difference between two runs' steps
// (NAV, equity, share price, idle, and each position's value when
// positions), and where.
func worstStep(t *testing.T, marked, exact *Result, positions bool) (worst float64, at int, what string) {
	t.Helper()
	fl := func(d decimal.Decimal) float64 { return d.InexactFloat64() }
	check := func(k int, name string, a, b float64) {
		if d := relDiff(a, b); d > worst {
			worst, at, what = d, k, name
		}
	}
	for k := range marked.Steps {
		m, x := &marked.Steps[k], &exact.Steps[k]
		if !m.Time.Equal(x.Time) {
			t.Fatalf("step %d at %s, exact at %s", k, m.Time, x.Time)
		}
		check(k, "NAV", fl(m.NAV.Decimal()), fl(x.NAV.Decimal()))
		check(k, "equity", fl(m.Equity.Decimal()), fl(x.Equity.Decimal()))
		check(k, "share price", fl(m.PricePerShare.Decimal()), fl(x.PricePerShare.Decimal()))
		check(k, "idle", fl(m.Idle), fl(x.Idle))
		for i := range m.Values {
			if !positions {
				break
			}
			if (m.Values[i] == 0) != (x.Values[i] == 0) {
				t.Fatalf("step %d market %d: marked value %g, exact %g", k, i, m.Values[i], x.Values[i])
			}
			check(k, "a position's value", m.Values[i], x.Values[i])
		}
	}
	return worst, at, what
}

// isRestaking reports whether a W1 market is one of its restaking tokens
// (ether.fi, Kelp), whose rewards accrue on the position's value.
func isRestaking(id string) bool {
	return strings.HasPrefix(id, "etherfi/") || strings.HasPrefix(id, "kelp/")
}

// noRewardsSpec is W1's spec over its markets without restaking rewards
// (its staking tokens and lending markets), at pricing, on data w (nil:
// the fixture's).
func noRewardsSpec(t *testing.T, f *w1Fixture, pricing adapters.Pricing, w *adapters.Window) Spec {
	t.Helper()
	var ids []string
	for _, id := range f.ids {
		if !isRestaking(id) {
			ids = append(ids, id)
		}
	}
	s, err := rules.Load("w1.yaml", []byte(w1Source(ids)), f.cat)
	if err != nil {
		t.Fatal(err)
	}
	sp := f.spec()
	sp.Strategy, sp.Pricing = s, pricing
	if w != nil {
		sp.Data = w
	}
	return sp
}

// checkMarked checks that over 2/3 of a run's steps were marked (W1
// books something every 6 hours) and that every step agrees with the
// exact run's within 1e-12.
func checkMarked(t *testing.T, marked, exact *Result) {
	t.Helper()
	worst, at, what := worstStep(t, marked, exact, true)
	t.Logf("%d of %d steps marked; worst relative difference %.3g (%s at step %d)", marked.Data.MarkedSteps, len(marked.Steps), worst, what, at)
	if marked.Data.MarkedSteps < len(marked.Steps)*2/3 {
		t.Errorf("%d of %d steps marked, want over 2/3", marked.Data.MarkedSteps, len(marked.Steps))
	}
	if worst > 1e-12 {
		t.Errorf("a marked step differs from the exact run's by %.3g (%s at step %d), want within 1e-12", worst, what, at)
	}
}

// TestMarks_W1NoRewards runs W1 over its markets without restaking
// rewards, marked and exact, and checks that most steps were marked and
// that every step's figures agree within 1e-12: a mark is float64
// arithmetic on the same units and rates, and a lending position brought
// to a step once instead of at every step takes the same growths
// multiplied in another order, so the two runs take the same decisions
// and book the same amounts.
func TestMarks_W1NoRewards(t *testing.T) {
	marked, exact := runMarkedAndExact(t, noRewardsSpec(t, w1Data(t), adapters.PriceRate, nil))
	checkMarked(t, marked, exact)
	// The same entries, but for the vault's one-unit rounding entries
	// (where the last digit of a sale fell differently).
	ml, xl := unrounded(marked.Ledger), unrounded(exact.Ledger)
	if len(ml) != len(xl) {
		t.Fatalf("%d ledger entries, exact run %d", len(ml), len(xl))
	}
	for i := range ml {
		a, b := ml[i].Amount.InexactFloat64(), xl[i].Amount.InexactFloat64()
		if ml[i].Type != xl[i].Type || ml[i].Market != xl[i].Market || relDiff(a, b) > 1e-12 {
			t.Errorf("ledger entry %d: %s %s %v, exact run %s %s %v", i, ml[i].Type, ml[i].Market, a, xl[i].Type, xl[i].Market, b)
		}
	}
}

// TestMarks_W1NoRewardsMarket is TestMarks_W1NoRewards at market
// pricing: its staking tokens (value-accruing, rate and price observed at
// every row) marked along their price.
func TestMarks_W1NoRewardsMarket(t *testing.T) {
	marked, exact := runMarkedAndExact(t, noRewardsSpec(t, w1Data(t), adapters.PriceMarket, nil))
	checkMarked(t, marked, exact)
}

// TestMarks_W1Events is TestMarks_W1NoRewards with events: a 10% slash
// of a staking token between two steps, a bad debt of 5% at a lending
// market on a step, a pause and unpause of another. The steps where an
// event was applied are recorded exactly, the others at the mark, and
// every step agrees with the exact run's within 1e-12.
func TestMarks_W1Events(t *testing.T) {
	f := w1Data(t)
	w := *f.window
	w.Series = nil
	for _, s := range f.window.Series {
		id := s.Market.ID
		c := *s
		c.Events = nil
		switch id {
		case "rocketpool/w1-00":
			c.Events = []adapters.Event{{Time: w1Start.Add(1000*time.Hour + 30*time.Minute), Market: id, Type: adapters.EventSlash, Size: 0.1}}
		case "aave-v3/w1-05":
			c.Events = []adapters.Event{{Time: w1Start.Add(5003 * time.Hour), Market: id, Type: adapters.EventBadDebt, Size: 0.05}}
		case "spark/w1-06":
			c.Events = []adapters.Event{
				{Time: w1Start.Add(7001 * time.Hour), Market: id, Type: adapters.EventPause},
				{Time: w1Start.Add(7100 * time.Hour), Market: id, Type: adapters.EventUnpause},
			}
		}
		w.Series = append(w.Series, &c)
	}
	marked, exact := runMarkedAndExact(t, noRewardsSpec(t, f, adapters.PriceRate, &w))
	if len(marked.Events) != 4 || len(exact.Events) != 4 {
		t.Fatalf("%d events applied, exact run %d, want 4", len(marked.Events), len(exact.Events))
	}
	checkMarked(t, marked, exact)
}

// TestMarks_W1Rewards runs the whole W1, marked and exact. Its restaking
// tokens accrue rewards on the position's value at the start of each
// accrual, linearly in time: brought to a step only where the vault acts
// (every 6 hours), a position accrues them on its value 6 hours back, not
// an hour back, which its exchange rate's growth over the hours between
// (about 4% a year: 3e-5 over 6 hours) bounds. Each harvest's rewards
// are within 1e-4 of the exact run's, and every step's NAV, equity and
// share price within 1e-6 (the rebalances that follow size their trades
// on the harvests, so the positions' values part by more).
func TestMarks_W1Rewards(t *testing.T) {
	f := w1Data(t)
	marked, exact := runMarkedAndExact(t, f.spec())
	if len(marked.Harvests) != len(exact.Harvests) {
		t.Fatalf("%d harvests, exact run %d", len(marked.Harvests), len(exact.Harvests))
	}
	worstR, n := 0.0, 0
	for i := range marked.Harvests {
		m, x := marked.Harvests[i].Markets, exact.Harvests[i].Markets
		if len(m) != len(x) {
			t.Fatalf("harvest %d: %d markets, exact run %d", i, len(m), len(x))
		}
		for j := range m {
			if m[j].Market != x[j].Market {
				t.Fatalf("harvest %d: %s, exact run %s", i, m[j].Market, x[j].Market)
			}
			worstR = math.Max(worstR, relDiff(m[j].Rewards.InexactFloat64(), x[j].Rewards.InexactFloat64()))
			n++
		}
	}
	if n == 0 {
		t.Fatal("no rewards harvested")
	}
	worst, at, what := worstStep(t, marked, exact, false)
	t.Logf("%d of %d steps marked; %d harvests, rewards within %.3g; worst step difference %.3g (%s at step %d)",
		marked.Data.MarkedSteps, len(marked.Steps), n, worstR, worst, what, at)
	if worstR > 1e-4 {
		t.Errorf("harvested rewards differ from the exact run's by %.3g, want within 1e-4", worstR)
	}
	if worst > 1e-6 {
		t.Errorf("a step differs from the exact run's by %.3g (%s at step %d), want within 1e-6", worst, what, at)
	}
}

// unrounded is the ledger without the vault's rounding entries.
func unrounded(l []vault.Entry) []vault.Entry {
	var out []vault.Entry
	for _, e := range l {
		if e.Reason != "rounding" {
			out = append(out, e)
		}
	}
	return out
}
