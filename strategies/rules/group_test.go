package rules

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// groupState: two LSTs, four EigenLayer LRTs and one Symbiotic LRT, with
// APYs chosen so that each group has a clear best.
func groupState(t testing.TB) (*strategies.State, map[string]float64) {
	cat := adapters.Builtin()
	apy := map[string]float64{
		"lido/steth": 0.030, "rocketpool/reth": 0.028,
		"etherfi/weeth": 0.036, "renzo/ezeth": 0.041, "kelp/rseth": 0.041, "puffer/pufeth": 0.033,
		"symbiotic/wsteth": 0.039,
	}
	var ms []strategies.MarketState
	for _, id := range groupUniverse {
		ms = append(ms, marketState(t, cat, id, obs(-1, fAPY, apy[id], fRate, 1, fPrice, 1, fTVL, 1e9)))
	}
	return newState(adapters.ETH, ms...), apy
}

var groupUniverse = []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth", "kelp/rseth", "puffer/pufeth", "symbiotic/wsteth"}

const groupHead = `name: grouped
base: ETH
universe: [lido/steth, rocketpool/reth, etherfi/weeth, renzo/ezeth, kelp/rseth, puffer/pufeth, symbiotic/wsteth]
`

// rankIn is the competition rank (1 + the number of strictly better
// values) of id among ids, computed here without the package.
func rankIn(apy map[string]float64, id string, ids []string) int {
	r := 1
	for _, o := range ids {
		if apy[o] > apy[id] {
			r++
		}
	}
	return r
}

func TestGroupFunctions_Plan(t *testing.T) {
	st, apy := groupState(t)
	cat := adapters.Builtin()
	kindOf := func(id string) string { m, _ := cat.Market(id); return string(m.Kind) }
	layerOf := func(id string) string {
		m, _ := cat.Market(id)
		return strategies.GroupOf(&m, "layer")
	}
	members := func(key func(string) string, id string) []string {
		var out []string
		for _, o := range groupUniverse {
			if key(o) == key(id) {
				out = append(out, o)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		weight string
		want   func(id string) float64 // un-normalised weight
	}{
		{
			// "The best LST plus the best LRT of each layer."
			name:   "rank per kind and per layer",
			weight: `kind == "lst" ? (rank(score, "kind") == 1 ? 1.0 : 0.0) : (rank(score, "layer") == 1 ? 1.0 : 0.0)`,
			want: func(id string) float64 {
				if kindOf(id) == "lst" {
					if rankIn(apy, id, members(kindOf, id)) == 1 {
						return 1
					}
					return 0
				}
				if rankIn(apy, id, members(layerOf, id)) == 1 {
					return 1
				}
				return 0
			},
		},
		{
			name:   "score over the group's best and its mean",
			weight: `score / group_max(score, "kind") + group_avg(apy, "kind") * 0 + 1 / group_count("kind")`,
			want: func(id string) float64 {
				g := members(kindOf, id)
				hi := 0.0
				for _, o := range g {
					hi = math.Max(hi, apy[o])
				}
				return apy[id]/hi + 1/float64(len(g))
			},
		},
		{
			name:   "whole universe: share of the sum, only the top three",
			weight: `rank(score) <= 3 ? score / group_sum(score) : 0.0`,
			want: func(id string) float64 {
				if rankIn(apy, id, groupUniverse) > 3 {
					return 0
				}
				sum := 0.0
				for _, o := range groupUniverse {
					sum += apy[o]
				}
				return apy[id] / sum
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, groupHead+"rules:\n  score: apy\n  weight: '"+tc.weight+"'\n")
			got, err := s.Plan(context.Background(), st)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			total := 0.0
			for _, id := range groupUniverse {
				total += tc.want(id)
			}
			for i, a := range got.Allocations {
				want := tc.want(groupUniverse[i]) / total
				if math.Abs(a.Weight-want) > 1e-12 {
					t.Errorf("%s: weight %v, want %v (reason %q)", a.Market, a.Weight, want, a.Reason)
				}
				if !strings.Contains(a.Reason, "score ") || !strings.Contains(a.Reason, ", weight ") {
					t.Errorf("%s: reason %q, want the score and the weight", a.Market, a.Reason)
				}
			}
		})
	}
}

// Ties share a rank, and ineligible markets take no part in the groups.
func TestGroupFunctions_TiesAndEligibility(t *testing.T) {
	st, _ := groupState(t)
	// renzo and kelp tie at 0.041; symbiotic is made ineligible.
	s := mustLoad(t, groupHead+"rules:\n  eligible: 'id != \"symbiotic/wsteth\"'\n  score: apy\n  weight: 'rank(score, \"kind\") == 1 ? group_count(\"kind\") : 0.0'\n")
	got, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	w := map[string]float64{}
	for _, a := range got.Allocations {
		w[a.Market] = a.Weight
		if a.Market == "kelp/rseth" && !strings.Contains(a.Reason, `(rank(score, "kind")=1, group_count("kind")=4)`) {
			t.Errorf("kelp/rseth reason %q, want the group values it read", a.Reason)
		}
	}
	// LSTs: lido is rank 1 of 2 (weight 2); LRTs: renzo and kelp share rank
	// 1 of 4 eligible LRTs (weight 4 each). Total 10.
	want := map[string]float64{"lido/steth": 0.2, "renzo/ezeth": 0.4, "kelp/rseth": 0.4}
	ids := make([]string, 0, len(w))
	for id := range w {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if math.Abs(w[id]-want[id]) > 1e-12 {
			t.Errorf("%s: weight %v, want %v", id, w[id], want[id])
		}
	}
}

func TestGroupFunctions_LoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		want  string
	}{
		{"in score", `{ score: 'rank(apy, "kind")' }`, "available in rules.weight only"},
		{"in eligible", `{ eligible: 'group_max(apy) > 0', score: apy }`, "available in rules.weight only"},
		{"unknown group tag", `{ score: apy, weight: 'rank(score, "layr")' }`, `no market of the universe has a layr: tag`},
		{"group with a colon", `{ score: apy, weight: 'rank(score, "layer:eigenlayer")' }`, "without the colon"},
		{"not a number", `{ score: apy, weight: 'rank(kind, "kind")' }`, `"kind" is not score or a per-market number`},
		{"misspelt name", `{ score: apy, weight: 'rank(scor, "kind")' }`, `did you mean "score"`},
		{"group not a literal", `{ score: apy, weight: 'rank(score, kind)' }`, "must be a string literal"},
		{"too many arguments", `{ score: apy, weight: 'rank(score, "kind", 1)' }`, "takes a per-market number and an optional group"},
		{"misspelt function", `{ score: apy, weight: 'rnak(score, "kind")' }`, `did you mean "rank"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("test.yaml", []byte(groupHead+"rules: "+tc.rules+"\n"), nil)
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("Load error = %v, want an invalid-input error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error = %q, want it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "test.yaml:") {
				t.Errorf("Load error = %q, want the file and place", err)
			}
		})
	}
}
