package fixed

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// floorRef is the vault's floorScale, the rounding SubMulFloor stands for.
func floorRef(d decimal.Decimal) decimal.Decimal {
	if d.Sign() < 0 {
		q, r := d.QuoRem(decimal.NewFromInt(1), Scale)
		if r.Sign() != 0 {
			q = q.Sub(decimal.New(1, -Scale))
		}
		return q
	}
	return d.Truncate(Scale)
}

// sharePrices are prices per share as the vault keeps them (36 places)
// and values around the fast path's limits.
func sharePrices(rng *rand.Rand, n int) []decimal.Decimal {
	out := []decimal.Decimal{
		decimal.Zero, decimal.New(1, 0), decimal.New(1, -36), decimal.New(1, -37), decimal.New(15, -1), decimal.New(-3, -36),
		decimal.New(1, 1), decimal.RequireFromString("0.000000001000000000000000000000000001"),
		decimal.NewFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)), -36),
		decimal.NewFromBigInt(new(big.Int).Lsh(big.NewInt(1), 128), -36),
	}
	xs := numAmounts(rng, n)
	for range n {
		a, s := xs[rng.IntN(len(xs))], xs[rng.IntN(len(xs))]
		if s.Sign() != 0 {
			out = append(out, a.Abs().Add(decimal.New(1, -Scale)).DivRound(s.Abs(), 36))
		}
	}
	return out
}

func TestSubMulFloor(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		xs := numAmounts(rng, 6)
		hs := sharePrices(rng, 30)
		for _, a := range xs {
			for _, h := range hs {
				for _, s := range xs {
					want := floorRef(a.Sub(h.Mul(s)))
					check(t, "SubMulFloor("+a.String()+", "+h.String()+", "+s.String()+")", SubMulFloor(FromDec(a), h, FromDec(s)), want)
				}
			}
		}
	})
}

// TestSubMulFloor_SharePrice checks the vault's case: the mark at the
// price per share of the same assets and supply gives no profit, one
// unit more gives it.
func TestSubMulFloor_SharePrice(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	xs := numAmounts(rng, 40)
	for range 2000 {
		ta, s := xs[rng.IntN(len(xs))].Abs(), xs[rng.IntN(len(xs))].Abs().Add(decimal.New(1, -Scale))
		a := ta.Add(decimal.New(1, -Scale))
		h := a.DivRound(s, 36)
		for _, d := range []decimal.Decimal{decimal.Zero, decimal.New(1, -Scale), decimal.New(-1, -Scale), decimal.New(7, -3)} {
			a := a.Add(d)
			check(t, "SubMulFloor("+a.String()+", "+h.String()+", "+s.String()+")", SubMulFloor(FromDec(a), h, FromDec(s)), floorRef(a.Sub(h.Mul(s))))
		}
	}
}

// TestSubMulFloorWide: a Wide, made from a decimal (WideOf) or by
// DivRoundWide, gives SubMulFloor's results on its words; DivRoundWide's
// decimal is DivRoundDec's.
func TestSubMulFloorWide(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(37, 38))
		xs := numAmounts(rng, 6)
		hs := sharePrices(rng, 30)
		for _, a := range xs {
			for _, b := range xs {
				if b.Sign() != 0 {
					w, want := FromDec(a).DivRoundWide(FromDec(b), 36), FromDec(a).DivRoundDec(FromDec(b), 36)
					if !sameValue(w.Dec(), want) || w.Dec().Exponent() != want.Exponent() {
						t.Fatalf("DivRoundWide(%s, %s) = %s (exp %d), want %s (exp %d)", a, b, w.Dec(), w.Dec().Exponent(), want, want.Exponent())
					}
					hs = append(hs, w.Dec())
				}
			}
		}
		for _, a := range xs {
			for _, h := range hs {
				for _, s := range xs {
					want := floorRef(a.Sub(h.Mul(s)))
					name := "SubMulFloorWide(" + a.String() + ", " + h.String() + ", " + s.String() + ")"
					check(t, name, SubMulFloorWide(FromDec(a), WideOf(h), FromDec(s)), want)
					if b := FromDec(s).Add(FromDec(decimal.New(1, -Scale))); b.Sign() > 0 && a.Sign() >= 0 {
						w := FromDec(a).DivRoundWide(b, 36)
						check(t, "SubMulFloorWide at DivRoundWide's", SubMulFloorWide(FromDec(a), w, FromDec(s)), floorRef(a.Sub(w.Dec().Mul(s))))
					}
				}
			}
		}
	})
}

func TestNum_DivRoundDec(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(35, 36))
		xs := numAmounts(rng, 10)
		for _, a := range xs {
			for _, b := range xs {
				if b.Sign() == 0 {
					continue
				}
				for _, p := range []int32{0, 1, 17, 18, 19, 35, 36} {
					want := a.DivRound(b, p)
					if got := FromDec(a).DivRoundDec(FromDec(b), p); !sameValue(got, want) || got.Exponent() != want.Exponent() {
						t.Fatalf("DivRoundDec(%s, %s, %d) = %s (exp %d), want %s (exp %d)", a, b, p, got, got.Exponent(), want, want.Exponent())
					}
				}
			}
		}
	})
}

func TestWide_FastPathsAllocate(t *testing.T) {
	a := FromDec(decimal.RequireFromString("1000.000000000000000001"))
	s := FromDec(decimal.RequireFromString("999.5"))
	h := a.DivRoundDec(s, 36)
	hw := a.DivRoundWide(s, 36)
	for _, tc := range []struct {
		name string
		f    func()
		want float64
	}{
		{"SubMulFloor", func() { a = a.Add(SubMulFloor(a, h, s)) }, 1},                 // the words of decimal's copy of h's coefficient (over 64 bits)
		{"SubMulFloorWide", func() { a = a.Add(SubMulFloorWide(a, WideOf(h), s)) }, 1}, // WideOf reads them once
		{"SubMulFloorWide", func() { a = a.Add(SubMulFloorWide(a, hw, s)) }, 0},
		{"DivRoundDec", func() { h = a.DivRoundDec(s, 36) }, 2}, // the result: its big.Int and words
		{"DivRoundWide", func() { hw = a.DivRoundWide(s, 36) }, 2},
	} {
		if got := testing.AllocsPerRun(20, tc.f); got != tc.want {
			t.Errorf("%s: %v allocations, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzWide(f *testing.F) {
	f.Add(int64(1), uint64(0), int8(-18), int64(0), uint64(1e18), int8(-36), int64(5), uint64(3), int8(-18), uint8(36))
	f.Add(int64(0), uint64(1<<63), int8(-18), int64(1), uint64(0), int8(-30), int64(0), uint64(7), int8(0), uint8(18))
	f.Fuzz(func(t *testing.T, ahi int64, alo uint64, aexp int8, hhi int64, hlo uint64, hexp int8, shi int64, slo uint64, sexp int8, p uint8) {
		a, s := fuzzDec(ahi, alo, aexp), fuzzDec(shi, slo, sexp)
		var hc big.Int
		hc.SetInt64(hhi)
		hc.Lsh(&hc, 64)
		hc.Add(&hc, new(big.Int).SetUint64(hlo))
		h := decimal.NewFromBigInt(&hc, int32(hexp%40))
		check(t, "SubMulFloor", SubMulFloor(FromDec(a), h, FromDec(s)), floorRef(a.Sub(h.Mul(s))))
		check(t, "SubMulFloorWide", SubMulFloorWide(FromDec(a), WideOf(h), FromDec(s)), floorRef(a.Sub(h.Mul(s))))
		if s.Sign() != 0 {
			places := int32(p % 37)
			want := a.DivRound(s, places)
			if got := FromDec(a).DivRoundDec(FromDec(s), places); !sameValue(got, want) || got.Exponent() != want.Exponent() {
				t.Fatalf("DivRoundDec(%s, %s, %d) = %s (exp %d), want %s (exp %d)", a, s, places, got, got.Exponent(), want, want.Exponent())
			}
		}
	})
}
