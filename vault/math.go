package vault

import (
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Year is the length of the year fees and APYs are annualised over: 365
// days, as in the adapters.
const Year = 365 * 24 * time.Hour

// ppsScale is the number of decimal places a price per share (and the
// high-water mark) is kept at. A share price is a ratio, not an amount:
// 36 places keep shares x price per share exact to far below one unit for
// any realistic supply.
const ppsScale = 36

var (
	// unit is the smallest amount: 1e-18 of the base asset (or of a share).
	unit = decimal.New(1, -adapters.Scale)
	zero = decimal.Zero
	one  = decimal.NewFromInt(1)
)

// mulDivDown returns floor(a*b/c) at adapters.Scale places. a, b >= 0 and
// c > 0. The product is exact and the division is QuoRem's, so the result
// is the exact floor, never a rounded quotient.
func mulDivDown(a, b, c decimal.Decimal) decimal.Decimal {
	return nm(a).MulDivDown(nm(b), nm(c)).Dec() // decimal's QuoRem quotient
}

// mulDivUp returns ceil(a*b/c) at adapters.Scale places (a, b >= 0, c > 0).
func mulDivUp(a, b, c decimal.Decimal) decimal.Decimal {
	q, r := a.Mul(b).QuoRem(c, adapters.Scale)
	if r.Sign() != 0 {
		q = q.Add(unit)
	}
	return q
}

// floorScale rounds a non-negative value down to adapters.Scale places.
func floorScale(d decimal.Decimal) decimal.Decimal {
	if d.Sign() < 0 {
		q, r := d.QuoRem(one, adapters.Scale)
		if r.Sign() != 0 {
			q = q.Sub(unit)
		}
		return q
	}
	return d.Truncate(adapters.Scale)
}

// onScale reports whether d has no more than adapters.Scale decimal places.
func onScale(d decimal.Decimal) bool { return d.Equal(d.Truncate(adapters.Scale)) }

// frac converts a fraction (a fee rate, a max loss) to a decimal, exactly
// as written in decimal form (0.02 is 0.02, not its binary neighbour).
func frac(f float64) decimal.Decimal {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return zero
	}
	return decimal.NewFromFloat(f)
}

// durationFrac returns num/den of two durations as an exact decimal ratio
// of nanoseconds (the caller divides).
func nanos(d time.Duration) decimal.Decimal { return decimal.NewFromInt(int64(d)) }

// nanosN is nm(nanos(d)) without a decimal.
func nanosN(d time.Duration) num { return fixed.NewFromInt(int64(d)) }

// maxDec returns the larger of a and b.
func maxDec(a, b decimal.Decimal) decimal.Decimal {
	if fixed.Cmp(a, b) >= 0 {
		return a
	}
	return b
}

// minDec returns the smaller of a and b.
func minDec(a, b decimal.Decimal) decimal.Decimal {
	if fixed.Cmp(a, b) <= 0 {
		return a
	}
	return b
}

// f64 converts a decimal to float64 for rates, weights and expression
// variables, within a couple of ulps and without allocating
// (fixed.ToFloat).
func f64(d decimal.Decimal) float64 { return fixed.ToFloat(d) }

// num is fixed.Num: the decision's and the execution's arithmetic,
// which gives the decimals decimal's own would (same coefficient and
// exponent) on 128-bit words when they fit.
type num = fixed.Num

// nm converts a decimal to a num.
func nm(d decimal.Decimal) num { return fixed.FromDec(d) }

// floorWeight is floorScale(n x weightDec(w)) on a num.
func floorWeight(n num, w float64) num {
	return n.MulNewFloor(int64(math.Round(w*1e15)), 15)
}

// weightDec converts a weight (a fraction in [0, 1]) to a decimal at 15
// places, the precision float weights carry.
func weightDec(w float64) decimal.Decimal {
	return decimal.New(int64(math.Round(w*1e15)), -15)
}
