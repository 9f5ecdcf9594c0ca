package fixed

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestDiv192p10 holds the reciprocal division by 10^k to the hardware
// division (div192) on random and edge dividends for every k.
func TestDiv192p10(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	edge := []uint64{0, 1, 9, 10, 11, 1<<63 - 1, 1 << 63, ^uint64(0), ^uint64(0) - 1}
	word := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return edge[rng.IntN(len(edge))]
		case 1:
			return rng.Uint64() >> rng.UintN(64)
		}
		return rng.Uint64()
	}
	for k := range pow10u64 {
		d := pow10u64[k]
		for _, p := range []uint64{d - 1, d, d + 1, 2*d - 1} {
			edge = append(edge, p)
		}
		for i := 0; i < 200000; i++ {
			w2, w1, w0 := word(), word(), word()
			a2, a1, a0, ar := div192(w2, w1, w0, d)
			b2, b1, b0, br := div192p10(w2, w1, w0, k)
			if a2 != b2 || a1 != b1 || a0 != b0 || ar != br {
				t.Fatalf("%x:%x:%x / 10^%d: got %x:%x:%x rem %x, want %x:%x:%x rem %x", w2, w1, w0, k, b2, b1, b0, br, a2, a1, a0, ar)
			}
		}
		// The largest remainder and quotient digits.
		for _, x1 := range []uint64{0, d - 1, d / 2} {
			for _, x0 := range []uint64{0, ^uint64(0), 1 << 63} {
				if x1 >= d {
					continue
				}
				q, r := p10Div[k].div(x1, x0)
				wq, wr := bits.Div64(x1, x0, d)
				if q != wq || r != wr {
					t.Fatalf("%x:%x / 10^%d: got %x rem %x, want %x rem %x", x1, x0, k, q, r, wq, wr)
				}
			}
		}
	}
}
