package strategies

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
)

// seriesState builds a state whose markets carry APY series: one row per
// hour ending at the state's time, plus one row an hour after it.
func seriesState(t testing.TB, apys [][]float64) *State {
	t.Helper()
	ids := []string{"lido/steth", "rocketpool/reth", "coinbase/cbeth", "etherfi/weeth"}[:len(apys)]
	st := testState(t, ids, nil)
	st.Time = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, ys := range apys {
		s := &adapters.Series{Market: st.Markets[i].Market}
		for k, y := range append(ys, 50) { // the extra row is in the future
			s.Times = append(s.Times, st.Time.Unix()+int64(k-len(ys)+1)*3600)
			s.Set = append(s.Set, adapters.FieldSet(0).With(adapters.FieldAPY))
			s.Cols[adapters.FieldAPY] = append(s.Cols[adapters.FieldAPY], y)
		}
		st.Markets[i].Series = s
		st.Markets[i].Row = len(ys) - 1
		if len(ys) == 0 {
			st.Markets[i].Row = -1
		}
	}
	return st
}

func TestAllocate(t *testing.T) {
	c := func(eligible bool, score, weight float64) Candidate {
		return Candidate{Eligible: eligible, Score: score, Weight: weight}
	}
	flat := [][]float64{{0.03}, {0.03}, {0.03}, {0.03}}
	tests := []struct {
		name   string
		apys   [][]float64
		opt    AllocOptions
		cands  []Candidate
		want   []float64
		notes  []string
		errKnd error
	}{
		{
			name:  "proportional",
			apys:  flat,
			opt:   AllocOptions{Method: Proportional},
			cands: []Candidate{c(true, 0, 3), c(true, 0, 1), c(false, 0, 100), c(true, 0, 0)},
			want:  []float64{0.75, 0.25, 0, 0},
			notes: []string{"", "", "", ""},
		},
		{
			name:  "equal",
			apys:  flat,
			opt:   AllocOptions{Method: Equal},
			cands: []Candidate{c(true, 0, 0), c(false, 0, 0), c(true, 0, 0), c(true, 0, 0)},
			want:  []float64{1.0 / 3, 0, 1.0 / 3, 1.0 / 3},
			notes: []string{"", "", "", ""},
		},
		{
			name:  "top 2 proportional, ties to the earlier market",
			apys:  flat,
			opt:   AllocOptions{Method: TopK, K: 2},
			cands: []Candidate{c(true, 1, 1), c(true, 3, 3), c(true, 1, 5), c(false, 9, 1)},
			want:  []float64{0.25, 0.75, 0, 0},
			notes: []string{"rank 2 of 3", "rank 1 of 3", "rank 3 of 3: outside the top 2", ""},
		},
		{
			name:  "top 2 equal",
			apys:  flat,
			opt:   AllocOptions{Method: TopK, K: 2, Then: Equal},
			cands: []Candidate{c(true, 1, 0), c(true, 3, 0), c(true, 2, 0), c(true, 0, 0)},
			want:  []float64{0, 0.5, 0.5, 0},
			notes: []string{"rank 3 of 4: outside the top 2", "rank 1 of 4", "rank 2 of 4", "rank 4 of 4: outside the top 2"},
		},
		{
			// sample stddevs 0.02/sqrt(2) and 0.04/sqrt(2): weights 2:1. The third market has one
			// observation in the window; the future row (apy 50) is unseen.
			name:  "inverse volatility",
			apys:  [][]float64{{0.01, 0.03}, {0.02, 0.06}, {0.03}},
			opt:   AllocOptions{Method: InverseVolatility, Lookback: 3 * time.Hour},
			cands: []Candidate{c(true, 0, 0), c(true, 0, 0), c(true, 0, 0)},
			want:  []float64{2.0 / 3, 1.0 / 3, 0},
			notes: []string{"apy volatility 0.01414 over 3h0m0s (2 obs)", "apy volatility 0.02828 over 3h0m0s (2 obs)",
				"too few observations of apy in 3h0m0s to measure volatility (1)"},
		},
		{
			name:  "nothing eligible",
			apys:  flat,
			opt:   AllocOptions{Method: Proportional},
			cands: []Candidate{c(false, 0, 1), c(false, 0, 1), c(false, 0, 1), c(false, 0, 1)},
			want:  []float64{0, 0, 0, 0},
			notes: []string{"", "", "", ""},
		},
		{name: "negative weight", apys: flat, opt: AllocOptions{Method: Proportional},
			cands: []Candidate{c(true, 0, -1), c(true, 0, 1), c(true, 0, 1), c(true, 0, 1)}, errKnd: adapters.ErrInvalid},
		{name: "NaN weight", apys: flat, opt: AllocOptions{Method: Proportional},
			cands: []Candidate{c(true, 0, math.NaN()), c(true, 0, 1), c(true, 0, 1), c(true, 0, 1)}, errKnd: adapters.ErrInvalid},
		{name: "infinite score", apys: flat, opt: AllocOptions{Method: TopK, K: 1},
			cands: []Candidate{c(true, math.Inf(1), 1), c(true, 0, 1), c(true, 0, 1), c(true, 0, 1)}, errKnd: adapters.ErrInvalid},
		{name: "k of 0", apys: flat, opt: AllocOptions{Method: TopK},
			cands: []Candidate{c(true, 0, 1), c(true, 0, 1), c(true, 0, 1), c(true, 0, 1)}, errKnd: adapters.ErrInvalid},
		{name: "unknown method", apys: flat, opt: AllocOptions{Method: "softmax"},
			cands: []Candidate{c(true, 0, 1), c(true, 0, 1), c(true, 0, 1), c(true, 0, 1)}, errKnd: adapters.ErrInvalid},
		{name: "wrong count", apys: flat, opt: AllocOptions{Method: Equal},
			cands: []Candidate{c(true, 0, 1)}, errKnd: adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := seriesState(t, tt.apys)
			got, notes, err := Allocate(st, tt.opt, tt.cands)
			if tt.errKnd != nil {
				if !errors.Is(err, tt.errKnd) {
					t.Fatalf("Allocate error = %v, want kind %v", err, tt.errKnd)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVolatility(t *testing.T) {
	st := seriesState(t, [][]float64{{0.01, 0.02, 0.03, 0.04}})
	ms := &st.Markets[0]
	tests := []struct {
		name     string
		at       time.Time
		lookback time.Duration
		wantSD   float64
		wantN    int
	}{
		{"whole window", st.Time, 4 * time.Hour, math.Sqrt(0.0005 / 3), 4},
		{"last two", st.Time, 2 * time.Hour, math.Sqrt(0.00005), 2},
		{"window end before the series", st.Time.Add(-10 * time.Hour), time.Hour, 0, 0},
		// at after the state's time: ms.Row still bounds the rows read, so
		// the future row (apy 50) stays invisible.
		{"row bounds the future", st.Time.Add(5 * time.Hour), 10 * time.Hour, math.Sqrt(0.0005 / 3), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, n := Volatility(ms, adapters.FieldAPY, tt.at, tt.lookback)
			if n != tt.wantN || math.Abs(sd-tt.wantSD) > 1e-15 {
				t.Errorf("Volatility = (%g, %d), want (%g, %d)", sd, n, tt.wantSD, tt.wantN)
			}
		})
	}
}

func TestParseMethod(t *testing.T) {
	for _, m := range Methods {
		if got, err := ParseMethod(string(m)); err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMethod("Top_K"); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("ParseMethod(Top_K) error = %v, want kind invalid", err)
	}
}

func TestNetAPY(t *testing.T) {
	cat := adapters.Builtin()
	etherfi, err := cat.Profile("etherfi")
	if err != nil {
		t.Fatal(err)
	}
	haircut := etherfi.ParamOr("reward_haircut", 0)
	restaking := etherfi.ParamOr("restaking_apy", 0)
	tests := []struct {
		name    string
		profile *adapters.Profile
		row     int
		obs     map[adapters.Field]float64
		want    float64
	}{
		{"apy only", nil, 0, map[adapters.Field]float64{adapters.FieldAPY: 0.03}, 0.03},
		{"observed reward after haircut", etherfi, 0, map[adapters.Field]float64{adapters.FieldAPY: 0.03, adapters.FieldRewardAPY: 0.02}, 0.03 + 0.02*(1-haircut)},
		{"profile restaking apy when reward unobserved", etherfi, 0, map[adapters.Field]float64{adapters.FieldAPY: 0.03}, 0.03 + restaking*(1-haircut)},
		{"no observation", etherfi, -1, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := &MarketState{Profile: tt.profile, Row: tt.row}
			for f, v := range tt.obs {
				ms.Obs.Put(f, v)
			}
			if got := NetAPY(ms); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("NetAPY = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

// TestAllocate_TopKPerGroup: top_k per kind keeps the best k of each
// kind; per a tag prefix, of each value of that tag.
func TestAllocate_TopKPerGroup(t *testing.T) {
	ids := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth", "aave-v3/weth"}
	st := testState(t, ids, nil)
	cands := []Candidate{
		{Eligible: true, Score: 0.03, Weight: 1}, // lst
		{Eligible: true, Score: 0.04, Weight: 1}, // lst, best of its kind
		{Eligible: true, Score: 0.05, Weight: 1}, // lrt, best overall
		{Eligible: true, Score: 0.045, Weight: 1},
		{Eligible: true, Score: 0.01, Weight: 1}, // lending, alone in its kind
	}
	w, notes, err := Allocate(st, AllocOptions{Method: TopK, K: 1, Then: Equal, Per: "kind"}, cands)
	if err != nil {
		t.Fatal(err)
	}
	third := 1.0 / 3
	want := []float64{0, third, third, 0, third}
	for i := range want {
		if math.Abs(w[i]-want[i]) > 1e-12 {
			t.Errorf("%s: weight %v, want %v (notes %q)", ids[i], w[i], want[i], notes[i])
		}
	}
	if notes[0] != "rank 2 of 2 in kind lst: outside the top 1" || notes[4] != "rank 1 of 1 in kind lending" {
		t.Errorf("notes %q", notes)
	}
	// Without per: the single best.
	w, _, err = Allocate(st, AllocOptions{Method: TopK, K: 1, Then: Equal}, cands)
	if err != nil || w[2] != 1 {
		t.Errorf("top 1 overall: %v, %v; want all in etherfi/weeth", w, err)
	}
	// Per a tag prefix: etherfi/weeth and renzo/ezeth share layer:eigenlayer.
	if got, want := GroupOf(&st.Markets[2].Market, "layer"), GroupOf(&st.Markets[3].Market, "layer"); got != want || got == "none" {
		t.Errorf("layer groups %q and %q, want the same restaking layer", got, want)
	}
	if _, _, err := Allocate(st, AllocOptions{Method: Equal, Per: "kind"}, cands); err == nil {
		t.Error("per with equal: want an error")
	}
}
