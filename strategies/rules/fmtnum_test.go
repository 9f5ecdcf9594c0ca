package rules

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPow10Tab(t *testing.T) {
	for k := -22; k <= 22; k++ {
		if got, want := pow10tab[k+22], math.Pow(10, float64(k)); got != want {
			t.Errorf("pow10tab[%d] = %g, want math.Pow(10, %d) = %g", k, got, k, want)
		}
	}
}

// TestAppendNum_MatchesRef compares the fast formatting with the
// definition on values of every magnitude, values near powers of ten and
// values that round to one.
func TestAppendNum_MatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var vals []float64
	for k := -30; k <= 30; k++ {
		p := math.Pow(10, float64(k))
		for _, f := range []float64{1, 1 + 1e-12, 1 - 1e-12, 1 + 1e-8, 1 - 1e-8, 0.9999995, 0.99999949, 0.9999996, 1.0000005, 1.234565, 9.999995, 9.9999949} {
			vals = append(vals, p*f, -p*f)
		}
	}
	for range 500000 {
		vals = append(vals, math.Float64frombits(rng.Uint64()))
		vals = append(vals, (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(50)-25)))
		vals = append(vals, math.Round(rng.Float64()*1e7)/math.Pow(10, float64(rng.IntN(30))))
	}
	var got, want []byte
	for _, v := range vals {
		got = appendNum(got[:0], v)
		want = appendNumRef(want[:0], v)
		if string(got) != string(want) {
			t.Fatalf("appendNum(%.17g) = %s, want %s", v, got, want)
		}
	}
}

func FuzzAppendNum(f *testing.F) {
	for _, v := range []float64{0, 0.03, 0.0729678123, 1.19228e+06, 5e7, 123456789, 9.9999995, 1e-5} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if got, want := appendNum(nil, v), appendNumRef(nil, v); string(got) != string(want) {
			t.Fatalf("appendNum(%.17g) = %s, want %s", v, got, want)
		}
	})
}
