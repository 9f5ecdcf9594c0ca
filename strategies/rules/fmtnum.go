package rules

import "math"

// pow10tab[k+22] is 10^k for k in [-22, 22]: exact for k >= 0, correctly
// rounded for k < 0, the values math.Pow(10, k) returns (a test checks).
var pow10tab = func() (t [45]float64) {
	for k := 0; k <= 22; k++ {
		t[22+k] = math.Pow(10, float64(k))
		t[22-k] = math.Pow(10, float64(-k))
	}
	return t
}()

// appendRounded is appendNumRef for finite non-zero v with |v| in
// [1e-17, 1e6) and not within a relative 1e-9 of a power of ten; ok is
// false otherwise.
//
// appendNumRef computes exp = floor(log10 |v|), m = round(v x 10^(5-exp))
// and prints the shortest representation of r = m / 10^(5-exp). Here exp
// comes from a table (away from powers of ten math.Log10 cannot round
// across an integer), the scale is the same exact power of ten, and the
// shortest representation of r is the decimal
// m x 10^(exp-5) itself: r is that decimal correctly rounded, and any
// other decimal of as few digits lies at least 1e-7 x |r| away, far
// outside r's rounding interval. So the digits of m, without trailing
// zeros, are formatted as strconv's 'g' with precision -1 would.
func appendRounded(b []byte, v float64) ([]byte, bool) {
	a := math.Abs(v)
	if !(a >= 1e-17 && a < 1e28) {
		return b, false
	}
	// floor(log10 a) from the binary exponent, then corrected.
	_, e2 := math.Frexp(a)
	exp := int(math.Floor(float64(e2-1) * 0.30102999566398120))
	for exp+1 <= 22 && exp+1 >= -22 && a >= pow10tab[exp+1+22] {
		exp++
	}
	for exp <= 22 && exp >= -22 && a < pow10tab[exp+22] {
		exp--
	}
	if exp < -17 || exp > 21 || a < pow10tab[exp+22]*(1+1e-9) || a > pow10tab[exp+1+22]*(1-1e-9) {
		return b, false
	}
	k := 5 - exp
	if k < 0 || k > 22 {
		// A negative k divides by an inexact power of ten: r is then not
		// the decimal correctly rounded.
		return b, false
	}
	scale := pow10tab[k+22]
	m := math.Round(v * scale)
	r := m / scale
	if math.IsInf(r, 0) || math.IsNaN(r) || r == 0 {
		return b, false
	}
	mi := int64(math.Abs(m))
	if mi < 100000 || mi > 1000000 {
		return b, false
	}
	// Digits of m without trailing zeros; dp is the decimal point's
	// position: value = 0.d1d2... x 10^dp.
	var dig [8]byte
	nd := 0
	for x := mi; x > 0; x /= 10 {
		dig[nd] = byte('0' + x%10)
		nd++
	}
	for i, j := 0, nd-1; i < j; i, j = i+1, j-1 {
		dig[i], dig[j] = dig[j], dig[i]
	}
	dp := nd + exp - 5
	for nd > 1 && dig[nd-1] == '0' {
		nd--
	}
	if v < 0 {
		b = append(b, '-')
	}
	if x := dp - 1; x < -4 || x >= 6 {
		// %e: d.ddddde±XX
		b = append(b, dig[0])
		if nd > 1 {
			b = append(b, '.')
			b = append(b, dig[1:nd]...)
		}
		b = append(b, 'e')
		if x < 0 {
			b = append(b, '-')
			x = -x
		} else {
			b = append(b, '+')
		}
		if x < 10 {
			b = append(b, '0', byte('0'+x))
		} else if x < 100 {
			b = append(b, byte('0'+x/10), byte('0'+x%10))
		} else {
			b = append(b, byte('0'+x/100), byte('0'+x/10%10), byte('0'+x%10))
		}
		return b, true
	}
	// %f
	switch {
	case dp <= 0:
		b = append(b, '0', '.')
		for range -dp {
			b = append(b, '0')
		}
		b = append(b, dig[:nd]...)
	case dp >= nd:
		b = append(b, dig[:nd]...)
		for range dp - nd {
			b = append(b, '0')
		}
	default:
		b = append(b, dig[:dp]...)
		b = append(b, '.')
		b = append(b, dig[dp:nd]...)
	}
	return b, true
}
