package rules

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// fuzzState is a State over a loaded strategy's universe with a short
// history per market, so that windows have rows to read.
func fuzzState(t testing.TB, s *Strategy) *strategies.State {
	cat := adapters.Builtin()
	var ms []strategies.MarketState
	for i, id := range s.Universe() {
		k := float64(i + 1)
		ms = append(ms, marketState(t, cat, id,
			obs(-48, fAPY, 0.01*k, fTVL, 1e8, fRate, 1, fPrice, 1, fUtil, 0.5),
			obs(-24, fAPY, 0.02*k, fRew, 0.01, fTVL, 2e8, fRate, 1.01, fPrice, 1.0, fUSD, 3000),
			obs(-1, fAPY, 0.03, fTVL, 0, fRate, 1.02, fPrice, 0.98, fUtil, 0.9),
			obs(2, fAPY, 900, fTVL, 1, fRate, 1, fPrice, 0.1),
		))
	}
	return newState(s.Base(), ms...)
}

// exercise plans and asks the schedules; errors are fine, panics and
// invalid targets are not.
func exercise(t *testing.T, s *Strategy) {
	st := fuzzState(t, s)
	tg, err := s.Plan(context.Background(), st)
	if err == nil {
		c := s.Constraints()
		if cerr := c.Check(st, &tg, 1e-9); cerr != nil {
			t.Fatalf("Plan gave a target that breaks the constraints: %v", cerr)
		}
	} else if k := adapters.KindOf(err); k != adapters.KindInvalid {
		t.Fatalf("Plan error %v has kind %v, want %v", err, k, adapters.KindInvalid)
	}
	v := strategies.VaultVars{NAV: 100, Drift: 0.1, GainAPY: 0.01, CostAPY: 0.001, PendingRewards: 1, HarvestCost: 0.01,
		GasPrice: 10, Now: time.Date(2024, 6, 1, 3, 0, 0, 0, time.UTC)}
	if _, _, err := s.ShouldRebalance(v); err != nil && !errors.Is(err, adapters.ErrInvalid) {
		t.Fatalf("ShouldRebalance error %v is not KindInvalid", err)
	}
	if _, _, err := s.ShouldHarvest(v); err != nil && !errors.Is(err, adapters.ErrInvalid) {
		t.Fatalf("ShouldHarvest error %v is not KindInvalid", err)
	}
}

func checkLoadErr(t *testing.T, err error) {
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("Load error %v is not a non-empty ErrorList", err)
	}
	for _, e := range list {
		if e.Pos == "" {
			t.Fatalf("error without a position: %v", e)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(okHead + "rules: { score: apy }\n"))
	f.Add([]byte(`name: x
base: ETH
universe: [lido/steth, etherfi/weeth, curve/steth-eth]
params: { min_peg: 0.99 }
rules:
  eligible: peg >= params.min_peg && has_tag("kind:lst")
  score: avg(net_apy, "7d") - stddev(apy, "3d")
  weight: max(score, 0.0)
allocation: { method: top_k, k: 2, then: equal }
constraints: { idle: 0.05, max_weight: 0.5, max_tag: { "layer:eigenlayer": 0.2 } }
rebalance: { every: "@every 6h", when: "drift > 0.02" }
harvest: { every: "@daily" }
exit: { when: 'change(tvl, "1d") < -0.5' }
`))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("rules: {score: }\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("base: ETH\nuniverse: [lido/steth]\nrules: {score: '1/0'}\nallocation: {method: inverse_volatility, lookback: 2d}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load("fuzz.yaml", data, nil)
		if err != nil {
			checkLoadErr(t, err)
			return
		}
		exercise(t, s)
	})
}

// exprTemplate places a fuzzed expression in one of the rules of a fixed
// file.
func exprTemplate(which uint8, src string) []byte {
	q, _ := json.Marshal(src) // a JSON string is a YAML double-quoted scalar
	rules := map[uint8]string{
		0: "rules: { eligible: " + string(q) + ", score: apy }\n",
		1: "rules: { score: " + string(q) + " }\n",
		2: "rules: { score: apy, weight: " + string(q) + " }\n",
		3: "rules: { score: apy }\nexit: { when: " + string(q) + " }\n",
		4: "rules: { score: apy }\nrebalance: { when: " + string(q) + " }\n",
		5: "rules: { score: apy }\nharvest: { when: " + string(q) + " }\n",
	}[which%6]
	return []byte("base: ETH\nuniverse: [lido/steth, rocketpool/reth, aave-v3/weth]\nparams: { a: 1, b: 0 }\n" + rules)
}

func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		"apy", "peg >= params.a", `avg(apy, "7d") / stddev(apy, "1d")`, "1 / params.b", "score * 2",
		`has_tag("layer:eigenlayer") ? 1 : 0`, "drift > 0.05 || gain_apy > 3 * cost_apy", "now.Hour() < 12",
		`min(peg, "24h") < 0.97`, "let x = apy; x * x", `all(tags, # startsWith "p")`, "tags[7]",
		"1..1000000", `map(1..100, # * apy)[99]`, `id matches "("`, "int(tvl) % int(peg - 1)",
		`max(0.0, 1 - peg)`, `change(tvl, "1d")`, "-(-(-apy))", `$env`, "__w[0]",
	} {
		for w := uint8(0); w < 6; w++ {
			f.Add(w, s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, src string) {
		s, err := Load("expr.yaml", exprTemplate(which, src), nil)
		if err != nil {
			checkLoadErr(t, err)
			return
		}
		exercise(t, s)
	})
}
