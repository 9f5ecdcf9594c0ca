package vault

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
	"time"
)

func TestAppendFixed4(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 0.03125, 0.09375, 0.15625, -0.03125, 5e-05, 1.5e-4, 2.5e-4, -1e-5,
		0.99995, 0.999949999, 1.00005, 9999.99995, 0.019, 0.026, 0.012, 1e-300, 5e-324, -5e-324, math.SmallestNonzeroFloat64 * 3,
		math.Ldexp(1, 32) - 1e-6, math.Ldexp(1, 32), 1e20, -1e20, math.Inf(1), math.Inf(-1), math.NaN(),
		math.Nextafter(0.00005, 0), math.Nextafter(0.00005, 1), math.Ldexp(1, -20), math.Ldexp(3, -21), 12345.67895}
	// Every exact tie k/2 x 10^-4 that a float holds (k x 625 / 2^5 x 10^-4 ... ): the multiples of 2^-5 up to 2^11.
	for k := 0; k < 1<<16; k++ {
		xs = append(xs, float64(k)/32, -float64(k)/32)
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for range 200000 {
		xs = append(xs, rng.Float64(), rng.Float64()*math.Pow(10, float64(rng.IntN(14)-6)), -rng.Float64()*100,
			math.Float64frombits(rng.Uint64()), float64(rng.IntN(2000000))/10000+float64(rng.IntN(3)-1)*1e-17)
	}
	for _, x := range xs {
		if got, want := string(appendFixed4(nil, x)), strconv.FormatFloat(x, 'f', 4, 64); got != want {
			t.Fatalf("appendFixed4(%v (bits %#x)) = %q, want %q", x, math.Float64bits(x), got, want)
		}
	}
}

func TestPlanner_AppendGainTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	var w work // shared: its middle text follows the horizon and k
	for trial := range 2000 {
		v := &Vault{cfg: plainConfig()}
		if trial%2 == 1 {
			v.cfg.Rebalance.Horizon = time.Duration(rng.Int64N(int64(400 * 24 * time.Hour)))
		}
		p := &planner{v: v, w: &w, k: []float64{0, 1, 2.5, 3, rng.Float64() * 10}[trial%5]}
		gain := []float64{0, math.Inf(1), math.NaN(), -rng.Float64(), rng.Float64() * math.Pow(10, float64(rng.IntN(20)-10))}[trial%5]
		got := string(append(p.appendGainTest([]byte("buy"), gain, "entry cost "), "0.0021"...))
		want := fmt.Sprintf("buy: expected gain %.6g over %s below %g x entry cost %s", gain, v.cfg.horizon(), p.k, "0.0021")
		if got != want {
			t.Fatalf("appendGainTest = %q, want %q", got, want)
		}
	}
}

func TestTexts_Finish(t *testing.T) {
	var x texts
	for round := range 3 { // reused: each round starts empty
		x.rejectString("a", "first")
		x.reason(append(x.open(), "reason one"...))
		x.reject("b", append(append(x.open(), "second "...), strconv.Itoa(round)...))
		x.reason(append(x.open(), "reason two"...))
		x.rejectString("*", "")
		rej, reasons := x.finish(nil, []string{"strategy: kept"})
		wantRej := []Rejection{{"a", "first"}, {"b", "second " + strconv.Itoa(round)}, {"*", ""}}
		wantReasons := []string{"strategy: kept", "reason one", "reason two"}
		if fmt.Sprint(rej) != fmt.Sprint(wantRej) || fmt.Sprint(reasons) != fmt.Sprint(wantReasons) {
			t.Fatalf("round %d: finish = %q, %q; want %q, %q", round, rej, reasons, wantRej, wantReasons)
		}
	}
	if rej, reasons := x.finish(nil, nil); rej != nil || reasons != nil {
		t.Errorf("finish with nothing recorded = %q, %q; want nil lists", rej, reasons)
	}
}

func TestWork_SortByAPY(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	var w work
	for n := range 60 {
		for _, desc := range []bool{false, true} {
			for trial := range 20 {
				cs := make([]*candidate, n)
				for k := range cs {
					cs[k] = &candidate{i: k, apy: float64(rng.IntN(6)) / 100}
					if trial%5 == 4 && rng.IntN(4) == 0 {
						cs[k].apy = math.NaN()
					}
				}
				want := append([]*candidate(nil), cs...)
				sort.SliceStable(want, func(a, b int) bool {
					if desc {
						return want[a].apy > want[b].apy
					}
					return want[a].apy < want[b].apy
				})
				w.sortByAPY(cs, desc)
				for k := range cs {
					if cs[k] != want[k] {
						t.Fatalf("n %d desc %v trial %d: position %d holds candidate %d, sort.SliceStable %d", n, desc, trial, k, cs[k].i, want[k].i)
					}
				}
			}
		}
	}
}
