package strategies

import (
	stdcmp "cmp"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

// testState builds a State over built-in markets with an observation each
// (TVL in USD when tvl > 0).
func testState(t testing.TB, ids []string, tvl []float64) *State {
	t.Helper()
	cat := adapters.Builtin()
	st := &State{NAV: fixed.NewFromInt(1000), BaseUSD: 1}
	for i, id := range ids {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		ms := MarketState{Market: m, Row: 0}
		ms.Obs.Put(adapters.FieldAPY, 0.03)
		if tvl != nil && tvl[i] > 0 {
			ms.Obs.Put(adapters.FieldTVL, tvl[i])
		}
		st.Markets = append(st.Markets, ms)
	}
	return st
}

var approx = cmpopts.EquateApprox(0, 1e-12)

func TestProjector_Project(t *testing.T) {
	lsts := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth"}
	tests := []struct {
		name    string
		ids     []string
		tvl     []float64
		c       Constraints
		desired []float64
		want    []float64
		reasons []string
	}{
		{
			name:    "no caps fills the budget in proportion",
			ids:     lsts,
			c:       Constraints{Idle: 0.1},
			desired: []float64{4, 3, 2, 1},
			want:    []float64{0.36, 0.27, 0.18, 0.09},
			reasons: []string{"", "", "", ""},
		},
		{
			// 4:3:2:1 of 0.98: steth hits 0.35 (at 0.875 of its share);
			// the lrt pair hits 0.3 when the level reaches 1; reth takes
			// the rest, 0.98 - 0.35 - 0.3 = 0.33.
			name:    "a market cap and a kind cap bind, the excess flows to reth",
			ids:     lsts,
			c:       Constraints{Idle: 0.02, MaxWeight: 0.35, MaxKind: map[adapters.Kind]float64{adapters.LRT: 0.3}},
			desired: []float64{4, 3, 2, 1},
			want:    []float64{0.35, 0.33, 0.2, 0.1},
			reasons: []string{"capped by max_weight = 0.35", "", "capped by max_kind.lrt = 0.3", "capped by max_kind.lrt = 0.3"},
		},
		{
			// Equal desire; lrt capped at 0.4 and, nested inside it,
			// avs:eigenda at 0.3 (both LRTs carry it) and renzo at 0.1.
			// Level rises: renzo stops at 0.1 (protocol cap), weeth goes on
			// until eigenda's 0.3 is full at weeth = 0.2; the LSTs split
			// the remaining 1 - 0.3 = 0.7.
			name: "nested kind, tag and protocol caps",
			ids:  lsts,
			c: Constraints{MaxKind: map[adapters.Kind]float64{adapters.LRT: 0.4},
				MaxTag: map[string]float64{"avs:eigenda": 0.3}, MaxProtocol: map[string]float64{"renzo": 0.1}},
			desired: []float64{1, 1, 1, 1},
			want:    []float64{0.35, 0.35, 0.2, 0.1},
			reasons: []string{"", "", "capped by max_tag.avs:eigenda = 0.3", "capped by max_protocol.renzo = 0.1, max_tag.avs:eigenda = 0.3"},
		},
		{
			name:    "everything capped leaves the rest idle",
			ids:     lsts,
			c:       Constraints{MaxWeight: 0.1},
			desired: []float64{5, 1, 1, 0},
			want:    []float64{0.1, 0.1, 0.1, 0},
			reasons: []string{"capped by max_weight = 0.1", "capped by max_weight = 0.1", "capped by max_weight = 0.1", ""},
		},
		{
			name:    "a zero cap zeroes a wanted market",
			ids:     lsts,
			c:       Constraints{MaxKind: map[adapters.Kind]float64{adapters.LRT: 0}},
			desired: []float64{1, 1, 1, 1},
			want:    []float64{0.5, 0.5, 0, 0},
			reasons: []string{"", "", "no room: max_kind.lrt = 0 full", "no room: max_kind.lrt = 0 full"},
		},
		{
			// NAV 1000 USD; 1% of 20000 TVL is 200 USD = 0.2 of NAV.
			name:    "max share of TVL caps a small market; unknown TVL is not capped",
			ids:     []string{"aave-v3/usdc", "compound-v3/usdc", "morpho/usdc"},
			tvl:     []float64{20000, 1e9, 0},
			c:       Constraints{MaxShareOfTVL: 0.01},
			desired: []float64{1, 1, 1},
			want:    []float64{0.2, 0.4, 0.4},
			reasons: []string{"capped by max_share_of_tvl = 0.01", "", "tvl unknown: max_share_of_tvl not applied"},
		},
		{
			// 0.6:0.3:0.1 of 1 with min 0.15: weeth's 0.1 is dropped and
			// the rest re-projected: 2/3 and 1/3.
			name:    "min weight drops a small position",
			ids:     lsts[:3],
			c:       Constraints{MinWeight: 0.15},
			desired: []float64{6, 3, 1},
			want:    []float64{2.0 / 3, 1.0 / 3, 0},
			reasons: []string{"", "", "below min_weight = 0.15"},
		},
		{
			name:    "all zero desire stays idle",
			ids:     lsts[:2],
			c:       Constraints{Idle: 0.05},
			desired: []float64{0, 0},
			want:    []float64{0, 0},
			reasons: []string{"", ""},
		},
		{
			name:    "idle of 1 places nothing",
			ids:     lsts[:2],
			c:       Constraints{Idle: 1},
			desired: []float64{1, 2},
			want:    []float64{0, 0},
			reasons: []string{"no room: the investable share 0 is spent", "no room: the investable share 0 is spent"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := testState(t, tt.ids, tt.tvl)
			got, err := tt.c.Project(st, tt.desired)
			if err != nil {
				t.Fatalf("Project: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Weights, approx); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.reasons, got.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if s := SumWeights(got.Weights) + got.Idle; math.Abs(s-1) > 1e-12 {
				t.Errorf("weights + idle = %.17g, want 1", s)
			}
			again, err := tt.c.Project(st, got.Weights)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.Weights, again.Weights); diff != "" || again.Idle != got.Idle {
				t.Errorf("Project is not idempotent (-once +twice):\n%s idle %v vs %v", diff, got.Idle, again.Idle)
			}
		})
	}
}

func TestProjector_ProjectErrors(t *testing.T) {
	st := testState(t, []string{"lido/steth", "rocketpool/reth"}, nil)
	other := testState(t, []string{"lido/steth", "coinbase/cbeth"}, nil)
	p, err := NewProjector(Constraints{}, st.MarketList())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		st      *State
		desired []float64
	}{
		{"negative", st, []float64{1, -1}},
		{"NaN", st, []float64{math.NaN(), 1}},
		{"Inf", st, []float64{math.Inf(1), 1}},
		{"short", st, []float64{1}},
		{"other markets", other, []float64{1, 1}},
		{"nil state", nil, []float64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Project(tt.st, tt.desired)
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("Project(%v) error = %v, want kind %v", tt.desired, err, adapters.KindInvalid)
			}
		})
	}
}

func TestConstraints_Validate(t *testing.T) {
	tests := []struct {
		name string
		c    Constraints
		keys []string // want problem keys; nil for valid
	}{
		{"zero", Constraints{}, nil},
		{"full", Constraints{Idle: 0.02, MaxWeight: 0.35, MinWeight: 0.01, MaxKind: map[adapters.Kind]float64{"lrt": 0.4},
			MaxProtocol: map[string]float64{"lido": 0.5}, MaxTag: map[string]float64{"layer:eigenlayer": 0.3}, MaxShareOfTVL: 0.01}, nil},
		{"out of range", Constraints{Idle: -0.1, MaxWeight: 1.5, MaxShareOfTVL: math.NaN()}, []string{"idle", "max_weight", "max_share_of_tvl"}},
		{"min above max", Constraints{MaxWeight: 0.1, MinWeight: 0.2}, []string{"min_weight"}},
		{"min above investable", Constraints{Idle: 0.9, MinWeight: 0.2}, []string{"min_weight"}},
		{"bad keys", Constraints{MaxKind: map[adapters.Kind]float64{"lsd": 0.1, "lst": 2},
			MaxProtocol: map[string]float64{"a/b": 0.1}, MaxTag: map[string]float64{"eigenlayer": 0.1, "avs:x": math.Inf(1)}},
			[]string{"max_kind.lsd", "max_kind.lst", "max_protocol.a/b", "max_tag.avs:x", "max_tag.eigenlayer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			for _, p := range tt.c.Problems() {
				keys = append(keys, p.Key)
			}
			if diff := cmp.Diff(tt.keys, keys); diff != "" {
				t.Errorf("problem keys (-want +got):\n%s", diff)
			}
			err := tt.c.Validate()
			if (err != nil) != (tt.keys != nil) {
				t.Fatalf("Validate() = %v, want error %v", err, tt.keys != nil)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("Validate() = %v, want kind invalid", err)
			}
			var ce *ConstraintError
			if !errors.As(err, &ce) || ce.Key != tt.keys[0] {
				t.Errorf("errors.As ConstraintError = %v, want key %q", ce, tt.keys[0])
			}
		})
	}
}

var ethMarkets = sync.OnceValue(func() []adapters.Market {
	var pool []adapters.Market
	for _, m := range adapters.Builtin().Markets() {
		if m.Base == adapters.ETH {
			pool = append(pool, m)
		}
	}
	return pool
})

// randomProblem draws a universe of ETH markets, overlapping caps and a
// desired vector with zeros and wide ranges.
func randomProblem(rng *rand.Rand) (*State, Constraints, []float64) {
	pool := slices.Clone(ethMarkets())
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	n := 1 + rng.IntN(len(pool))
	st := &State{NAV: fixed.NewFromInt(int64(1 + rng.IntN(100000))), BaseUSD: 3000}
	desired := make([]float64, n)
	for i, m := range pool[:n] {
		ms := MarketState{Market: m, Row: 0}
		if rng.IntN(3) > 0 {
			ms.Obs.Put(adapters.FieldTVL, math.Pow(10, 5+4*rng.Float64()))
		}
		st.Markets = append(st.Markets, ms)
		switch rng.IntN(5) {
		case 0:
		case 1:
			desired[i] = math.Pow(10, -100+200*rng.Float64())
		default:
			desired[i] = rng.Float64()
		}
	}
	c := Constraints{}
	frac := func() float64 {
		if rng.IntN(8) == 0 {
			return 0
		}
		return rng.Float64()
	}
	if rng.IntN(2) == 0 {
		c.Idle = rng.Float64() * 0.3
	}
	if rng.IntN(2) == 0 {
		c.MaxWeight = 0.01 + rng.Float64()*0.5
	}
	if rng.IntN(4) == 0 {
		c.MinWeight = rng.Float64() * 0.05
		if c.MaxWeight > 0 {
			c.MinWeight = math.Min(c.MinWeight, c.MaxWeight)
		}
	}
	if rng.IntN(3) == 0 {
		c.MaxShareOfTVL = rng.Float64() * 0.05
	}
	c.MaxKind = map[adapters.Kind]float64{}
	for _, k := range adapters.Kinds {
		if rng.IntN(2) == 0 {
			c.MaxKind[k] = frac()
		}
	}
	c.MaxProtocol = map[string]float64{}
	for _, p := range []string{"lido", "etherfi", "aave-v3", "curve", "renzo"} {
		if rng.IntN(2) == 0 {
			c.MaxProtocol[p] = frac()
		}
	}
	c.MaxTag = map[string]float64{}
	for _, tag := range []string{"layer:eigenlayer", "avs:eigenda", "oracle:chainlink", "oracle:lido", "kind:lst"} {
		if rng.IntN(2) == 0 {
			c.MaxTag[tag] = frac()
		}
	}
	return st, c, desired
}

func TestProjector_ProjectProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const runs = 2000
	for run := range runs {
		st, c, desired := randomProblem(rng)
		p, err := NewProjector(c, st.MarketList())
		if err != nil {
			t.Fatalf("run %d: NewProjector: %v", run, err)
		}
		got, err := p.Project(st, desired)
		if err != nil {
			t.Fatalf("run %d: Project: %v", run, err)
		}
		tg := got.Target(nil)
		// Exact: no cap exceeded under the package's own summation.
		if err := c.Check(st, &tg, 0); err != nil && !strings.Contains(err.Error(), "differ from 1") {
			t.Fatalf("run %d: %v\nconstraints %+v\ndesired %v\ngot %v", run, err, c, desired, got.Weights)
		}
		if err := c.Check(st, &tg, 1e-12); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for i, w := range got.Weights {
			if w > 0 && desired[i] == 0 {
				t.Fatalf("run %d: market %d got %g with no desire", run, i, w)
			}
		}
		again, err := p.Project(st, got.Weights)
		if err != nil {
			t.Fatalf("run %d: second Project: %v", run, err)
		}
		for i := range got.Weights {
			if math.Float64bits(again.Weights[i]) != math.Float64bits(got.Weights[i]) {
				t.Fatalf("run %d: not idempotent at %d: %.17g then %.17g", run, i, got.Weights[i], again.Weights[i])
			}
		}
		if again.Idle != got.Idle {
			t.Fatalf("run %d: idle %.17g then %.17g", run, got.Idle, again.Idle)
		}
		// Greedy over a random order: within every cap, and a fixed point.
		order := rng.Perm(len(desired))[:rng.IntN(len(desired)+1)]
		gr, err := p.Greedy(st, order)
		if err != nil {
			t.Fatalf("run %d: Greedy: %v", run, err)
		}
		gt := gr.Target(nil)
		if err := c.Check(st, &gt, 1e-12); err != nil {
			t.Fatalf("run %d: Greedy: %v", run, err)
		}
		if gp, err := p.Project(st, gr.Weights); err != nil {
			t.Fatal(err)
		} else if !slices.Equal(gp.Weights, gr.Weights) {
			t.Fatalf("run %d: Greedy %v is not a fixed point of Project: %v", run, gr.Weights, gp.Weights)
		}
		// Scale invariance: the desired vector's scale does not matter.
		scaled := make([]float64, len(desired))
		for i := range desired {
			scaled[i] = desired[i] * 8
		}
		if s, err := p.Project(st, scaled); err != nil {
			t.Fatal(err)
		} else if diff := cmp.Diff(got.Weights, s.Weights, approx); diff != "" {
			t.Fatalf("run %d: scaling the desired weights changed the result:\n%s", run, diff)
		}
	}
}

// TestProjector_ProjectWaterFilling checks against an independent
// reference: with only per-market caps, the result is min(level x d_i,
// cap) for the level that spends the budget (found by bisection), or
// every market at its cap.
func TestProjector_ProjectWaterFilling(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for run := range 500 {
		st, _, desired := randomProblem(rng)
		c := Constraints{MaxWeight: 0.02 + rng.Float64()*0.5, Idle: rng.Float64() * 0.2}
		got, err := c.Project(st, desired)
		if err != nil {
			t.Fatal(err)
		}
		sum := SumWeights(desired)
		if sum == 0 {
			continue
		}
		budget := 1 - c.Idle
		at := func(level float64) []float64 {
			w := make([]float64, len(desired))
			for i, d := range desired {
				w[i] = math.Min(level*d/sum, c.MaxWeight)
			}
			return w
		}
		lo, hi := 1e-10, 1e300
		for range 200 {
			mid := math.Sqrt(lo) * math.Sqrt(hi)
			if SumWeights(at(mid)) > budget {
				hi = mid
			} else {
				lo = mid
			}
		}
		want := at(lo)
		if diff := cmp.Diff(want, got.Weights, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Fatalf("run %d (desired %v, max %g, idle %g) (-want +got):\n%s", run, desired, c.MaxWeight, c.Idle, diff)
		}
	}
}

func TestProjector_Greedy(t *testing.T) {
	ids := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth"}
	st := testState(t, ids, nil)
	c := Constraints{Idle: 0.1, MaxWeight: 0.4, MaxKind: map[adapters.Kind]float64{adapters.LRT: 0.25}, MinWeight: 0.05}
	p, err := NewProjector(c, st.MarketList())
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Greedy(st, []int{2, 0, 3, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.4, 0.25, 0.25, 0}
	if diff := cmp.Diff(want, got.Weights, approx); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	wantR := []string{"capped by max_weight = 0.4", "", "capped by max_kind.lrt = 0.25", "no room: max_kind.lrt = 0.25 full"}
	if diff := cmp.Diff(wantR, got.Reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	again, err := p.Project(st, got.Weights)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.Weights, again.Weights); diff != "" {
		t.Errorf("Greedy result is not a fixed point of Project:\n%s", diff)
	}
	if _, err := p.Greedy(st, []int{4}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Greedy(out of range) = %v, want kind invalid", err)
	}
}

func TestSumWeights(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.1, 0.2, 0.3}, 0.6},
		{[]float64{1, 1e-16, 1e-16, 1e-16, 1e-16, -1}, 4e-16},
	}
	for _, tt := range tests {
		if got := SumWeights(tt.in); math.Abs(got-tt.want) > 1e-30 {
			t.Errorf("SumWeights(%v) = %.17g, want %.17g", tt.in, got, tt.want)
		}
	}
}

// BenchmarkProject projects 50 markets under a per-market cap, an idle
// floor, a max share of TVL, two kind caps, a protocol cap and two
// overlapping tag caps.
func BenchmarkProject(b *testing.B) {
	cat := adapters.Builtin()
	var pool []adapters.Market
	for _, m := range cat.Markets() {
		if m.Base == adapters.ETH {
			pool = append(pool, m)
		}
	}
	st := &State{NAV: fixed.NewFromInt(5000), BaseUSD: 3000}
	rng := rand.New(rand.NewPCG(3, 4))
	desired := make([]float64, 50)
	for i := range 50 {
		m := pool[i%len(pool)]
		m.ID = m.Protocol + "/bench" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		ms := MarketState{Market: m, Row: 0}
		ms.Obs.Put(adapters.FieldTVL, math.Pow(10, 6+3*rng.Float64()))
		st.Markets = append(st.Markets, ms)
		desired[i] = rng.Float64()
	}
	c := Constraints{Idle: 0.02, MaxWeight: 0.05, MaxShareOfTVL: 0.05,
		MaxKind:     map[adapters.Kind]float64{adapters.LRT: 0.3, adapters.AMM: 0.15},
		MaxProtocol: map[string]float64{"lido": 0.25},
		MaxTag:      map[string]float64{"layer:eigenlayer": 0.25, "avs:eigenda": 0.2}}
	p, err := NewProjector(c, st.MarketList())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Project(st, desired); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzProject feeds arbitrary desired weights and caps (decoded from
// bytes, including NaN, infinities, negatives and subnormals) to the
// projection: it never panics; bad input gives an error of kind invalid;
// good input gives weights within every cap.
func FuzzProject(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add(make([]byte, 80))
	f.Add([]byte("\x7f\xf8\x00\x00\x00\x00\x00\x01\xff\xf0\x00\x00\x00\x00\x00\x00"))
	ids := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth", "aave-v3/weth", "curve/steth-eth"}
	st := testState(f, ids, []float64{1e6, 0, 5e7, 1e9, 2e8, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() float64 {
			if len(data) < 8 {
				return 0
			}
			v := math.Float64frombits(binary.LittleEndian.Uint64(data))
			data = data[8:]
			return v
		}
		c := Constraints{Idle: next(), MaxWeight: next(), MinWeight: next(), MaxShareOfTVL: next(),
			MaxKind: map[adapters.Kind]float64{adapters.LRT: next()}, MaxTag: map[string]float64{"protocol:lido": next()}}
		desired := make([]float64, len(ids))
		for i := range desired {
			desired[i] = next()
		}
		p, err := NewProjector(c, st.MarketList())
		if err != nil {
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("NewProjector error %v is not of kind invalid", err)
			}
			return
		}
		got, err := p.Project(st, desired)
		if err != nil {
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("Project error %v is not of kind invalid", err)
			}
			return
		}
		tg := got.Target(nil)
		if err := c.Check(st, &tg, 1e-12); err != nil {
			t.Fatalf("desired %v, constraints %+v: %v", desired, c, err)
		}
	})
}

// TestLevelOrder checks fill's level order against its definition, the
// markets with a positive rate sorted by level with slices.SortFunc and
// cmp.Compare from index order: read from the lowest up, stopping at
// every position, with distinct levels, equal ones, infinities and NaNs,
// and markets left out (rate 0).
func TestLevelOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	special := []float64{math.Inf(1), math.NaN(), 0, 0.5}
	for c := 0; c < 2000; c++ {
		n := 1 + rng.IntN(40)
		rate, key := make([]float64, n), make([]float64, n)
		for i := range key {
			if rng.IntN(5) > 0 {
				rate[i] = rng.Float64() + 0.01
			}
			switch r := rng.IntN(10); {
			case c%3 == 0 && r < 3:
				key[i] = special[rng.IntN(len(special))]
			case c%3 == 1:
				key[i] = float64(rng.IntN(n)) // equal levels
			default:
				key[i] = rng.Float64()
			}
		}
		var want []int
		for i, r := range rate {
			if r > 0 {
				want = append(want, i)
			}
		}
		slices.SortFunc(want, func(a, b int) int { return stdcmp.Compare(key[a], key[b]) })
		stop := rng.IntN(len(want) + 1)
		var o levelOrder
		o.reset(rate, key)
		if o.len() != len(want) {
			t.Fatalf("case %d: %d markets, want %d", c, o.len(), len(want))
		}
		for k := 0; k < stop; k++ {
			if got := o.at(k); got != want[k] {
				t.Fatalf("case %d (levels %v, rates %v): position %d is market %d, want %d (order %v)", c, key, rate, k, got, want[k], want)
			}
		}
	}
}
