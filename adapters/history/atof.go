package history

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// parseFloat is strconv.ParseFloat(string(s), 64) with a faster path for the plain
// decimal numbers of CSV files ("-12.5", "0.0301234567890123", "1e-07"):
// the digits are read in one pass into a 64-bit mantissa and a decimal
// exponent, converted exactly (Clinger's fast path when both are small)
// or by the Eisel-Lemire algorithm (the one strconv uses) over a table of
// 128-bit powers of ten. Anything else (more than 19 significant digits,
// hex, inf, NaN, underscores, exponents beyond the table, the rare inputs
// Eisel-Lemire cannot decide, malformed text) goes to strconv.ParseFloat,
// so results and errors are always strconv's.
func parseFloat(s []byte) (float64, error) {
	if f, n, ok := atofPrefix(s); ok && n == len(s) {
		return f, nil
	}
	return strconv.ParseFloat(string(s), 64)
}

// atofPrefix converts the plain decimal number at the start of s and
// returns it with the number of bytes it takes, or reports false (then
// strconv must decide, on the whole field).
func atofPrefix(s []byte) (float64, int, bool) {
	i, n := 0, len(s)
	neg := false
	if i < n && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	// Digits: leading zeros, then up to 19 significant digits into man
	// (more would overflow it: strconv's turn), with exp counting the
	// digits after the point.
	var man uint64
	exp := 0
	z := i
	for i < n && s[i] == '0' {
		i++
	}
	j := i
	i, man = digitsAt(s, i, man)
	nd := i - j     // significant digits
	digits := i - z // all digits
	if i < n && s[i] == '.' {
		i++
		f := i
		if nd == 0 {
			for i < n && s[i] == '0' {
				i++
			}
			exp = f - i
		}
		j := i
		i, man = digitsAt(s, i, man)
		nd += i - j
		exp -= i - j
		digits += i - f
	}
	if nd > 19 || digits == 0 {
		return 0, 0, false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < n && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		e, k := 0, i
		for ; i < n; i++ {
			c := s[i] - '0'
			if c > 9 {
				break
			}
			if e > 10000 {
				return 0, 0, false
			}
			e = e*10 + int(c)
		}
		if i == k {
			return 0, 0, false // no exponent digits
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if man == 0 {
		if neg {
			return math.Copysign(0, -1), i, true
		}
		return 0, i, true
	}
	// Clinger's fast path: both the mantissa and the power of ten are
	// exact float64s, so one correctly rounded operation gives the answer.
	if man>>53 == 0 && exp >= -22 && exp <= 22 {
		f := float64(man)
		if exp < 0 {
			f /= pow10[-exp]
		} else {
			f *= pow10[exp]
		}
		if neg {
			f = -f
		}
		return f, i, true
	}
	f, ok := eiselLemire64(man, exp, neg)
	return f, i, ok
}

// digitsAt reads the run of decimal digits of s from i into man (man =
// man*10 + digit; it wraps beyond 19 digits, which callers refuse) and
// returns the index after the run. Eight bytes at a time are checked and
// converted with a few 64-bit operations (SWAR): the digits before the
// first non-digit of the eight are taken at once.
func digitsAt(s []byte, i int, man uint64) (int, uint64) {
	for i+8 <= len(s) {
		v := binary.LittleEndian.Uint64(s[i:])
		// A byte is a digit when its high nibble is 3 and adding 6 does
		// not carry into it. Carries run towards later bytes, past the
		// first non-digit, so the lowest marked byte is that first one.
		bad := (v&0xF0F0F0F0F0F0F0F0 ^ 0x3030303030303030) | ((v+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 ^ 0x3030303030303030)
		k := 8
		if bad != 0 {
			k = bits.TrailingZeros64(bad) / 8
			if k == 0 {
				return i, man
			}
		}
		// The k digits, shifted to the top so that the bytes below act
		// as leading zeros (and the bytes at and after the first
		// non-digit, borrows and all, fall off).
		v = (v - 0x3030303030303030) << (64 - 8*k)
		v = v*10 + v>>8 // two-digit numbers in bytes 0, 2, 4, 6
		v = ((v&0x000000FF000000FF)*(100+1000000<<32) + (v>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
		man = man*pow10u[k] + v
		i += k
		if k < 8 {
			return i, man
		}
	}
	for ; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			break
		}
		man = man*10 + uint64(c)
	}
	return i, man
}

var pow10u = [...]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// The table of powers of ten covers 10^minExp10 ... 10^maxExp10: the
// range of the values markets report, with room to spare.
const (
	minExp10 = -64
	maxExp10 = 64
)

// powersOfTen holds, for each e in [minExp10, maxExp10], the 128 most
// significant bits of 10^e, rounded down, as {low, high} words: the
// detailedPowersOfTen table of strconv, computed exactly with math/big
// (at package initialisation, some microseconds) rather than copied.
var powersOfTen = func() *[maxExp10 - minExp10 + 1][2]uint64 {
	var t [maxExp10 - minExp10 + 1][2]uint64
	ten := big.NewInt(10)
	for e := minExp10; e <= maxExp10; e++ {
		p := new(big.Int).Exp(ten, big.NewInt(int64(abs(e))), nil)
		var m *big.Int
		if e >= 0 {
			m = p
		} else {
			// 2^k / 10^-e, with k large enough for 128 bits.
			m = new(big.Int).Lsh(big.NewInt(1), uint(p.BitLen()+128))
			m.Quo(m, p)
		}
		if sh := m.BitLen() - 128; sh > 0 {
			m.Rsh(m, uint(sh))
		} else {
			m.Lsh(m, uint(-sh))
		}
		words := m.Bits()
		var lo, hi uint64
		if bits.UintSize == 64 {
			lo, hi = uint64(words[0]), uint64(words[1])
		} else {
			lo, hi = uint64(words[0])|uint64(words[1])<<32, uint64(words[2])|uint64(words[3])<<32
		}
		t[e-minExp10] = [2]uint64{lo, hi}
	}
	return &t
}()

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// eiselLemire64 is strconv's eiselLemire64 (Go's
// src/internal/strconv/eisel_lemire.go, BSD licence; the algorithm by
// Daniel Lemire, "Number Parsing at a Gigabyte per Second", 2021): man
// times 10^exp10 correctly rounded to a float64, or false when it cannot
// tell (then strconv decides).
func eiselLemire64(man uint64, exp10 int, neg bool) (float64, bool) {
	if exp10 < minExp10 || exp10 > maxExp10 {
		return 0, false
	}
	pow := &powersOfTen[exp10-minExp10]
	// Normalization.
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	const float64ExponentBias = 1023
	retExp2 := uint64(217706*exp10>>16+64+float64ExponentBias) - uint64(clz)
	// Multiplication.
	xHi, xLo := bits.Mul64(man, pow[1])
	// Wider approximation.
	if xHi&0x1FF == 0x1FF && xLo+man < man {
		yHi, yLo := bits.Mul64(man, pow[0])
		mergedHi, mergedLo := xHi, xLo+yHi
		if mergedLo < xLo {
			mergedHi++
		}
		if mergedHi&0x1FF == 0x1FF && mergedLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		xHi, xLo = mergedHi, mergedLo
	}
	// Shifting to 54 bits.
	msb := xHi >> 63
	retMantissa := xHi >> (msb + 9)
	retExp2 -= 1 ^ msb
	// Half-way ambiguity.
	if xLo == 0 && xHi&0x1FF == 0 && retMantissa&3 == 1 {
		return 0, false
	}
	// From 54 to 53 bits.
	retMantissa += retMantissa & 1
	retMantissa >>= 1
	if retMantissa>>53 > 0 {
		retMantissa >>= 1
		retExp2++
	}
	// Zero or underflow (subnormal) and 0x7FF or above (Inf/NaN) are
	// strconv's to handle.
	if retExp2-1 >= 0x7FF-1 {
		return 0, false
	}
	retBits := retExp2<<52 | retMantissa&0x000FFFFFFFFFFFFF
	if neg {
		retBits |= 0x8000000000000000
	}
	return math.Float64frombits(retBits), true
}
