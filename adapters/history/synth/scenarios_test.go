package synth

import (
	"errors"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	irm "github.com/yieldvault/yieldvault/adapters/lending"
)

func TestScenarios(t *testing.T) {
	want := []string{"calm", "default", "steth-2022", "ezeth-2024", "correlated-slash", "utilization-spike", "weth-borrow-spike", "usdc-2023"}
	var got []string
	for _, s := range Scenarios() {
		got = append(got, s.Name)
		if len(s.Doc) < 40 {
			t.Errorf("scenario %s: doc %q is too short to explain it", s.Name, s.Doc)
		}
		if s.Name != "calm" && s.Date.IsZero() {
			t.Errorf("scenario %s has no default date", s.Name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Scenarios() names (-want +got):\n%s", diff)
	}
}

// lowest returns the row of a market with the lowest value of fn within
// [from, to].
func lowest(t *testing.T, b *history.Batch, id string, from, to time.Time, fn func(history.Row) float64) (history.Row, float64) {
	t.Helper()
	var best history.Row
	low := math.Inf(1)
	for _, r := range rowsOf(b, id) {
		if r.Obs.Time.Before(from) || r.Obs.Time.After(to) {
			continue
		}
		if v := fn(r); v < low {
			best, low = r, v
		}
	}
	if math.IsInf(low, 1) {
		t.Fatalf("%s: no rows in [%s, %s]", id, from, to)
	}
	return best, low
}

// peg is a row's peg (adapters.Peg) at its market's basis in the built-in
// catalog.
func peg(r history.Row) float64 {
	cat := adapters.Builtin()
	basis := adapters.PegPrice
	if m, err := cat.Market(r.Market); err == nil {
		if p, err := cat.ProfileFor(m); err == nil {
			basis = p.PegBasis()
		}
	}
	v, _ := r.Obs.Peg(basis)
	return v
}

func field(f adapters.Field) func(history.Row) float64 {
	return func(r history.Row) float64 { return r.Obs.Value(f, math.NaN()) }
}

func share(coin adapters.Field) func(history.Row) float64 {
	return func(r history.Row) float64 {
		b0, b1 := r.Obs.Value(adapters.FieldBalance0, 0), r.Obs.Value(adapters.FieldBalance1, 0)
		return r.Obs.Value(coin, 0) / (b0 + b1 + r.Obs.Value(adapters.FieldBalance2, 0))
	}
}

func neg(fn func(history.Row) float64) func(history.Row) float64 {
	return func(r history.Row) float64 { return -fn(r) }
}

func profileParam(t *testing.T, id, name string) float64 {
	t.Helper()
	cat := adapters.Builtin()
	m, err := cat.Market(id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.ProfileFor(m)
	if err != nil {
		t.Fatal(err)
	}
	return p.ParamOr(name, math.NaN())
}

func eventsOf(b *history.Batch, typ adapters.EventType) []adapters.Event {
	var out []adapters.Event
	for _, e := range b.Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func TestScenario_Steth2022(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		b, err := Generate(Config{Scenario: "steth-2022", From: date("2022-03-01T00:00:00Z"), To: date("2023-01-31T00:00:00Z"), Step: 6 * time.Hour, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		june, july := date("2022-06-01T00:00:00Z"), date("2022-07-01T00:00:00Z")
		for _, id := range []string{"lido/steth", "lido/wsteth", "curve/steth-eth"} {
			pegOf := peg
			if id == "curve/steth-eth" { // the pool's price is stETH in ETH
				pegOf = field(adapters.FieldPrice)
			}
			r, low := lowest(t, b, id, date("2022-03-01T00:00:00Z"), date("2023-01-31T00:00:00Z"), pegOf)
			if low < 0.92 || low > 0.94 || r.Obs.Time.Before(june) || !r.Obs.Time.Before(july) {
				t.Errorf("seed %d %s: lowest peg %v at %s, want within [0.92, 0.94] in June 2022", seed, id, low, r.Obs.Time)
			}
			if _, low := lowest(t, b, id, date("2022-11-01T00:00:00Z"), date("2023-01-31T00:00:00Z"), pegOf); low <= 0.99 {
				t.Errorf("seed %d %s: peg %v after 2022-11-01, want recovered above 0.99", seed, id, low)
			}
			if _, low := lowest(t, b, id, date("2022-03-01T00:00:00Z"), date("2022-05-01T00:00:00Z"), pegOf); low < 0.995 {
				t.Errorf("seed %d %s: peg %v before May 2022, want calm (>= 0.995)", seed, id, low)
			}
		}
		// Curve ETH/stETH fills with stETH (coin 1) to about 80%, then rebalances.
		_, negMax := lowest(t, b, "curve/steth-eth", june, july, neg(share(adapters.FieldBalance1)))
		if peak := -negMax; peak < 0.75 || peak > 0.86 {
			t.Errorf("seed %d: Curve stETH share peaks at %v in June 2022, want about 0.8", seed, peak)
		}
		_, negLate := lowest(t, b, "curve/steth-eth", date("2023-01-01T00:00:00Z"), date("2023-01-31T00:00:00Z"), neg(share(adapters.FieldBalance1)))
		if late := -negLate; late > 0.68 {
			t.Errorf("seed %d: Curve stETH share still %v in January 2023, want rebalancing below 0.68", seed, late)
		}
		// Exit liquidity dries.
		def := profileParam(t, "lido/steth", "exit_liquidity")
		if _, low := lowest(t, b, "lido/steth", june, july, field(adapters.FieldExitLiquidity)); low > 0.4*def {
			t.Errorf("seed %d: lido/steth exit liquidity bottoms at %v in June 2022, want below 40%% of the usual %v", seed, low, def)
		}
		var lows []string
		for _, e := range eventsOf(b, adapters.EventDepeg) {
			if e.Size > 0.06 {
				lows = append(lows, e.Market)
			}
		}
		if diff := cmp.Diff([]string{"curve/steth-eth", "eigenlayer/steth", "lido/steth", "lido/wsteth", "symbiotic/wsteth"}, lows); diff != "" {
			t.Errorf("seed %d: markets with a depeg event at the low (-want +got):\n%s", seed, diff)
		}
	}
}

func TestScenario_Ezeth2024(t *testing.T) {
	b := gen1(t, "ezeth-2024", "2024-04-01T00:00:00Z", "2024-05-15T00:00:00Z", time.Hour)
	shock := date("2024-04-24T00:00:00Z")
	r, low := lowest(t, b, "renzo/ezeth", shock.Add(-48*time.Hour), shock.Add(48*time.Hour), peg)
	if low < 0.75 || low > 0.85 {
		t.Errorf("renzo/ezeth lowest peg %v at %s, want within [0.75, 0.85]", low, r.Obs.Time)
	}
	if _, low := lowest(t, b, "renzo/ezeth", date("2024-04-01T00:00:00Z"), shock.Add(-24*time.Hour), peg); low < 0.985 {
		t.Errorf("renzo/ezeth peg %v before the shock, want calm", low)
	}
	if _, low := lowest(t, b, "renzo/ezeth", shock.Add(7*24*time.Hour), date("2024-05-15T00:00:00Z"), peg); low < 0.985 {
		t.Errorf("renzo/ezeth peg %v a week after the shock, want recovered", low)
	}
	def := profileParam(t, "renzo/ezeth", "exit_liquidity")
	for _, at := range []time.Time{shock, shock.Add(24 * time.Hour)} {
		if _, v := lowest(t, b, "renzo/ezeth", at, at, field(adapters.FieldExitLiquidity)); v > 0.06*def {
			t.Errorf("renzo/ezeth exit liquidity %v at %s, want near zero (usual %v)", v, at, def)
		}
	}
	if _, low := lowest(t, b, "lido/steth", date("2024-04-01T00:00:00Z"), date("2024-05-15T00:00:00Z"), peg); low < 0.99 {
		t.Errorf("lido/steth peg %v: the ezETH shock should not touch stETH", low)
	}
	want := []adapters.Event{{Time: shock, Market: "renzo/ezeth", Type: adapters.EventDepeg, Size: 0.2, Note: "synthetic: ezETH depeg of April 2024"}}
	if diff := cmp.Diff(want, b.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestScenario_CorrelatedSlash(t *testing.T) {
	t.Run("builtin", func(t *testing.T) {
		b := gen1(t, "correlated-slash", "2025-03-01T00:00:00Z", "2025-06-01T00:00:00Z", 6*time.Hour)
		slashes := eventsOf(b, adapters.EventSlash)
		var hit, want []string
		for _, e := range slashes {
			hit = append(hit, e.Market)
			if e.Scope != slashes[0].Scope {
				t.Errorf("slash on %s has scope %q, want the shared %q", e.Market, e.Scope, slashes[0].Scope)
			}
			if e.Size < 0.005 || e.Size > 0.02 || !e.Time.Equal(date("2025-04-17T00:00:00Z")) {
				t.Errorf("slash %+v: want size in [0.005, 0.02] on 2025-04-17", e)
			}
		}
		scope := slashes[0].Scope
		for _, m := range b.Markets {
			if (m.Kind == adapters.LST || m.Kind == adapters.LRT) && m.HasTag(scope) {
				want = append(want, m.ID)
			}
		}
		if len(want) < 2 {
			t.Fatalf("scope %q is carried by %v: want a tag shared by several markets", scope, want)
		}
		if diff := cmp.Diff(want, hit); diff != "" {
			t.Errorf("slashed markets (-want +got):\n%s", diff)
		}
		for _, e := range slashes {
			rows := rowsOf(b, e.Market)
			var before, after history.Row
			for i, r := range rows {
				if r.Obs.Time.Equal(e.Time) {
					before, after = rows[i], rows[i+1]
				}
			}
			// The loss is an event, not baked into the rate.
			if before.Obs.Set.Has(adapters.FieldExchangeRate) && val(t, after, adapters.FieldExchangeRate) < val(t, before, adapters.FieldExchangeRate) {
				t.Errorf("%s: exchange rate fell across the slash; the event carries the loss", e.Market)
			}
			if _, low := lowest(t, b, e.Market, e.Time, e.Time.Add(48*time.Hour), peg); low > 1-2*e.Size {
				t.Errorf("%s: peg only fell to %v after a %v slash, want a market reaction below %v", e.Market, low, e.Size, 1-2*e.Size)
			}
			if _, low := lowest(t, b, e.Market, e.Time.Add(8*24*time.Hour), date("2025-06-01T00:00:00Z"), peg); low < 0.985 {
				t.Errorf("%s: peg %v more than a week after the slash, want the panic faded", e.Market, low)
			}
		}
	})
	t.Run("scope and size set", func(t *testing.T) {
		from, to := date("2025-04-01T00:00:00Z"), date("2025-05-01T00:00:00Z")
		b, err := Generate(Config{Scenario: "correlated-slash", From: from, To: to, Step: 6 * time.Hour, Seed: 5, SlashScope: "protocol:lido", SlashSize: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range eventsOf(b, adapters.EventSlash) {
			if e.Scope != "protocol:lido" || e.Size != 0.05 {
				t.Errorf("slash %+v, want scope protocol:lido, size 0.05", e)
			}
			got = append(got, e.Market)
		}
		want := []string{"eigenlayer/steth", "kelp/rseth", "lido/steth", "lido/wsteth", "puffer/pufeth", "symbiotic/wsteth"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("markets a Lido slash reaches (-want +got):\n%s", diff)
		}
		if _, err := Generate(Config{Scenario: "correlated-slash", From: from, To: to, Step: 6 * time.Hour, SlashSize: 1.5}); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("slash size 1.5: error %v, want kind %v", err, adapters.KindInvalid)
		}
	})
	t.Run("shared operator tag", func(t *testing.T) {
		cat := adapters.Builtin()
		var ms []adapters.Market
		for _, id := range []string{"lido/steth", "etherfi/weeth", "renzo/ezeth", "rocketpool/reth"} {
			m, err := cat.Market(id)
			if err != nil {
				t.Fatal(err)
			}
			if id != "rocketpool/reth" {
				m.Tags = append(m.Tags, "operator:p2p")
			}
			ms = append(ms, m)
		}
		b, err := Generate(Config{Scenario: "correlated-slash", From: date("2025-04-01T00:00:00Z"), To: date("2025-05-01T00:00:00Z"), Step: 6 * time.Hour, Seed: 5, Markets: ms})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range eventsOf(b, adapters.EventSlash) {
			if e.Scope != "operator:p2p" {
				t.Errorf("slash on %s scoped %q, want operator:p2p", e.Market, e.Scope)
			}
			got = append(got, e.Market)
		}
		if diff := cmp.Diff([]string{"etherfi/weeth", "lido/steth", "renzo/ezeth"}, got); diff != "" {
			t.Errorf("slashed markets (-want +got):\n%s", diff)
		}
		// LRTs pause and unpause; the LST does not.
		var paused []string
		for _, e := range eventsOf(b, adapters.EventPause) {
			paused = append(paused, e.Market)
		}
		sort.Strings(paused)
		if diff := cmp.Diff([]string{"etherfi/weeth", "renzo/ezeth"}, paused); diff != "" {
			t.Errorf("paused markets (-want +got):\n%s", diff)
		}
		if n, m := len(eventsOf(b, adapters.EventPause)), len(eventsOf(b, adapters.EventUnpause)); n != m {
			t.Errorf("%d pauses but %d unpauses", n, m)
		}
	})
}

func TestScenario_UtilizationSpike(t *testing.T) {
	b := gen1(t, "utilization-spike", "2024-07-15T00:00:00Z", "2024-09-01T00:00:00Z", 6*time.Hour)
	shock := date("2024-08-05T00:00:00Z")
	cat := adapters.Builtin()
	for _, m := range marketsOf(b, adapters.Lending) {
		p, _ := cat.ProfileFor(m)
		rates, err := irm.RatesFromProfile(p)
		if err != nil {
			t.Fatal(err)
		}
		model := rates.At(time.Date(2024, 8, 5, 0, 0, 0, 0, time.UTC))
		kink := model.Borrow(p.ParamOr("irm_optimal", p.ParamOr("comet_borrow_kink", 0)))
		r, negU := lowest(t, b, m.ID, shock.Add(-24*time.Hour), shock.Add(48*time.Hour), neg(field(adapters.FieldUtilization)))
		if u := -negU; u < 0.98 {
			t.Errorf("%s: utilization peaks at %v, want >= 0.98", m.ID, u)
		}
		if got := val(t, r, adapters.FieldBorrowAPY); got <= kink {
			t.Errorf("%s: borrow APY %v at the spike, want above the kink rate %v", m.ID, got, kink)
		}
		if got, supply := val(t, r, adapters.FieldExitLiquidity), val(t, r, adapters.FieldSupply); got > 0.02*supply {
			t.Errorf("%s: exit liquidity %v at the spike, want collapsed below 2%% of supply %v", m.ID, got, supply)
		}
		if _, negLate := lowest(t, b, m.ID, shock.Add(8*24*time.Hour), date("2024-09-01T00:00:00Z"), neg(field(adapters.FieldUtilization))); -negLate > 0.975 {
			t.Errorf("%s: utilization %v more than a week later, want recovered", m.ID, -negLate)
		}
	}
}

// TestScenario_WethBorrowSpike: Aave v3's WETH reserve borrows at the
// 22.64% AaveScan sampled on 2024-07-05 (its curve at the utilization of
// that day, computed here from the profile's kinked model) for 60 days,
// and recovers within a week after; no other lending market moves.
func TestScenario_WethBorrowSpike(t *testing.T) {
	b := gen1(t, "weth-borrow-spike", "2024-06-01T00:00:00Z", "2024-10-01T00:00:00Z", 6*time.Hour)
	shock := date("2024-07-05T00:00:00Z")
	p, _ := adapters.Builtin().ProfileFor(mustMarket(t, "aave-v3/weth"))
	want := BorrowAPY(0.9249, p.ParamOr("irm_base", 0), p.ParamOr("irm_slope1", 0), p.ParamOr("irm_slope2", 0), p.ParamOr("irm_optimal", 0))
	if math.Abs(want-0.2264354521967009) > 0.002 {
		t.Fatalf("the WETH curve at u 0.9249 borrows at %v, not the 22.64%% AaveScan sampled on 2024-07-05", want)
	}
	for _, r := range rowsOf(b, "aave-v3/weth") {
		at := r.Obs.Time
		got := val(t, r, adapters.FieldBorrowAPY)
		switch {
		case !at.Before(shock) && !at.After(shock.Add(60*24*time.Hour)):
			if math.Abs(got-want) > 1e-5 {
				t.Fatalf("%s: borrow APY %v during the spike, want %v", at, got, want)
			}
		case at.After(shock.Add(68 * 24 * time.Hour)):
			if got > 0.06 {
				t.Fatalf("%s: borrow APY %v after the spike, want recovered", at, got)
			}
		}
	}
	for _, m := range marketsOf(b, adapters.Lending) {
		if m.ID == "aave-v3/weth" {
			continue
		}
		if _, negU := lowest(t, b, m.ID, shock, shock.Add(60*24*time.Hour), neg(field(adapters.FieldUtilization))); -negU > 0.97 {
			t.Errorf("%s: utilization %v during the WETH spike, want untouched", m.ID, -negU)
		}
	}
}

func mustMarket(t *testing.T, id string) adapters.Market {
	t.Helper()
	m, err := adapters.Builtin().Market(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScenario_USDC2023(t *testing.T) {
	b := gen1(t, "usdc-2023", "2023-02-01T00:00:00Z", "2023-04-01T00:00:00Z", time.Hour)
	shock := date("2023-03-11T00:00:00Z")
	var usdc []string
	for _, m := range b.Markets {
		if m.Base == adapters.USD && (strings.HasSuffix(m.ID, "/usdc") || m.ID == "curve/3pool") {
			usdc = append(usdc, m.ID)
		}
	}
	for _, id := range usdc {
		r, low := lowest(t, b, id, date("2023-02-01T00:00:00Z"), date("2023-04-01T00:00:00Z"), field(adapters.FieldPrice))
		if low < 0.86 || low > 0.90 || r.Obs.Time.Before(shock) || !r.Obs.Time.Before(shock.Add(24*time.Hour)) {
			t.Errorf("%s: lowest USDC price %v at %s, want about 0.88 on 2023-03-11", id, low, r.Obs.Time)
		}
		if _, low := lowest(t, b, id, shock.Add(4*24*time.Hour), date("2023-04-01T00:00:00Z"), field(adapters.FieldPrice)); low < 0.995 {
			t.Errorf("%s: price %v from 2023-03-15, want recovered", id, low)
		}
	}
	if _, low := lowest(t, b, "aave-v3/usdt", date("2023-02-01T00:00:00Z"), date("2023-04-01T00:00:00Z"), field(adapters.FieldPrice)); low < 0.995 {
		t.Errorf("aave-v3/usdt price %v: USDT should hold its peg", low)
	}
	_, negMax := lowest(t, b, "curve/3pool", shock, shock.Add(48*time.Hour), neg(share(adapters.FieldBalance1)))
	if peak := -negMax; peak < 0.45 || peak > 0.56 {
		t.Errorf("3pool USDC share peaks at %v, want about half", peak)
	}
	var got []string
	for _, e := range eventsOf(b, adapters.EventDepeg) {
		got = append(got, e.Market)
	}
	if diff := cmp.Diff(usdc, got); diff != "" {
		t.Errorf("depeg events (-want +got):\n%s", diff)
	}
}

func TestScenario_Default(t *testing.T) {
	b := gen1(t, "default", "2024-07-01T00:00:00Z", "2024-09-01T00:00:00Z", 6*time.Hour)
	_, low := lowest(t, b, "kelp/rseth", date("2024-08-04T00:00:00Z"), date("2024-08-07T00:00:00Z"), peg)
	if low < 0.97 || low > 0.99 {
		t.Errorf("kelp/rseth peg low %v, want a mild 1-3%% discount", low)
	}
	for _, id := range []string{"lido/steth", "renzo/ezeth", "aave-v3/usdc"} {
		pf := peg
		if id == "aave-v3/usdc" {
			pf = field(adapters.FieldPrice)
		}
		if _, low := lowest(t, b, id, date("2024-07-01T00:00:00Z"), date("2024-09-01T00:00:00Z"), pf); low < 0.99 {
			t.Errorf("%s: peg %v, want calm", id, low)
		}
	}
	if len(b.Events) != 1 || b.Events[0].Market != "kelp/rseth" || b.Events[0].Type != adapters.EventDepeg {
		t.Errorf("events %+v, want one rsETH depeg", b.Events)
	}
}

// A scenario whose default date is outside the range places its shock a
// third of the way in, on the step grid.
func TestScenario_Placement(t *testing.T) {
	from, to := date("2023-01-01T00:00:00Z"), date("2023-04-01T00:00:00Z")
	b, err := Generate(Config{Scenario: "ezeth-2024", From: from, To: to, Step: 6 * time.Hour, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	third := from.Add(to.Sub(from) / 3)
	want := from.Add(to.Sub(from) / 3 / (6 * time.Hour) * 6 * time.Hour) // onto the grid
	if d := third.Sub(want); d < -3*time.Hour || d > 3*time.Hour {
		t.Fatalf("test setup: grid point %s is not the nearest to %s", want, third)
	}
	r, low := lowest(t, b, "renzo/ezeth", from, to, peg)
	if !r.Obs.Time.Equal(want) || low > 0.85 {
		t.Errorf("lowest ezETH peg %v at %s, want the shock at %s", low, r.Obs.Time, want)
	}
	if len(b.Events) != 1 || !b.Events[0].Time.Equal(want) {
		t.Errorf("events %+v, want one at %s", b.Events, want)
	}
}
