package synth

import (
	"math"
	"testing"
)

func TestSig(t *testing.T) {
	tests := []struct {
		v      float64
		digits int
		want   float64
	}{
		{0, 6, 0},
		{1, 6, 1},
		{0.0312345678, 6, 0.0312346},
		{-0.0312345678, 6, -0.0312346},
		{1.15234567890123, 11, 1.1523456789},
		{2345.678, 6, 2345.68},
		{2.65663712e9, 6, 2.65664e9},
		{999999.7, 6, 1e6},
		{0.000123456789, 3, 0.000123},
		{12345678, 2, 12000000},
		{1.5e-30, 2, 1.5e-30}, // beyond the exact powers of ten: strconv path
		{math.Inf(1), 6, math.Inf(1)},
	}
	for _, tt := range tests {
		if got := sig(tt.v, tt.digits); got != tt.want {
			t.Errorf("sig(%v, %d) = %v, want %v", tt.v, tt.digits, got, tt.want)
		}
	}
}

func TestExp(t *testing.T) {
	for _, x := range []float64{-40, -5, -1, -0.5, -1e-9, 0, 1e-9, 0.3, 1, 2.5, 10, 30} {
		got, want := exp(x), math.Exp(x)
		if math.Abs(got-want) > 4e-16*want {
			t.Errorf("exp(%v) = %v, want %v (rel err %g)", x, got, want, math.Abs(got-want)/want)
		}
	}
}

func TestCompound(t *testing.T) {
	tests := []struct{ apy, dt, want float64 }{
		{0.05, 1, 1.05},
		{0.05, 2, 1.1025},
		{0.1, 0.5, math.Sqrt(1.1)},
		{0, 3, 1},
		{-1, 1, 0},
	}
	for _, tt := range tests {
		if got := compound(tt.apy, tt.dt); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("compound(%v, %v) = %v, want %v", tt.apy, tt.dt, got, tt.want)
		}
	}
}

func TestShape_At(t *testing.T) {
	s := shape{{-1, 0}, {0, 0.2}, {2, 0.1}, {4, 0}}
	tests := []struct{ day, want float64 }{
		{-10, 0}, {-1, 0}, {-0.5, 0.1}, {0, 0.2}, {1, 0.15}, {3, 0.05}, {4, 0}, {100, 0},
	}
	for _, tt := range tests {
		if got := s.at(tt.day); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("at(%v) = %v, want %v", tt.day, got, tt.want)
		}
	}
	if got := (shape{}).at(3); got != 0 {
		t.Errorf("empty shape at(3) = %v, want 0", got)
	}
}

func TestLogit(t *testing.T) {
	for _, p := range []float64{0.01, 0.3, 0.5, 0.86, 0.99} {
		if got := logistic(logit(p)); math.Abs(got-p) > 1e-12 {
			t.Errorf("logistic(logit(%v)) = %v", p, got)
		}
	}
}

func TestRNG_Norm(t *testing.T) {
	const n = 200000
	g := newRNG(7, "test")
	var sum, sum2 float64
	for i := 0; i < n; i++ {
		z := g.norm()
		sum += z
		sum2 += z * z
	}
	mean, variance := sum/n, sum2/n-(sum/n)*(sum/n)
	if math.Abs(mean) > 0.01 || math.Abs(variance-1) > 0.015 {
		t.Errorf("normal deviates: mean %v, variance %v; want 0 and 1", mean, variance)
	}
	a, b := newRNG(7, "x"), newRNG(7, "x")
	c := newRNG(7, "y")
	same, differ := true, false
	for i := 0; i < 100; i++ {
		x, y, z := a.norm(), b.norm(), c.norm()
		same = same && x == y
		differ = differ || x != z
	}
	if !same || !differ {
		t.Errorf("streams: same name equal = %v (want true), different name differs = %v (want true)", same, differ)
	}
}

func TestOU_Stationary(t *testing.T) {
	const dt = 1.0 / (365 * 4)
	p := newOU(newRNG(3, "ou"), 0.03, 0.002, 10.0/365, dt)
	const n = 400000
	var sum, sum2 float64
	for i := 0; i < n; i++ {
		p.step()
		sum += p.x
		sum2 += p.x * p.x
	}
	mean := sum / n
	sd := math.Sqrt(sum2/n - mean*mean)
	if math.Abs(mean-0.03) > 0.0002 || math.Abs(sd-0.002) > 0.0002 {
		t.Errorf("OU sample mean %v sd %v, want 0.03 and 0.002", mean, sd)
	}
}
