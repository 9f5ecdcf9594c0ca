package backtest

import (
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"unsafe"

	"github.com/shopspring/decimal"
)

// decimalLayout mirrors the memory layout of decimal.Decimal (shopspring
// v1.6: a *big.Int coefficient and an int32 exponent), as
// adapters/internal/staking does. toFloat reads the coefficient through
// it to convert a decimal to float64 without the copies decimal's API
// makes (Coefficient, Rat). layoutOK checks the mirror against the real
// type once; when decimal's layout changes, toFloat takes the copying
// path.
type decimalLayout struct {
	value *big.Int
	exp   int32
}

var layoutOK = func() bool {
	t, l := reflect.TypeOf(decimal.Decimal{}), reflect.TypeOf(decimalLayout{})
	if t.Size() != l.Size() || t.NumField() != 2 {
		return false
	}
	v, e := t.Field(0), t.Field(1)
	return v.Name == "value" && v.Type == reflect.TypeOf((*big.Int)(nil)) && v.Offset == l.Field(0).Offset &&
		e.Name == "exp" && e.Type.Kind() == reflect.Int32 && e.Offset == l.Field(1).Offset
}()

var pow10f = func() (p [23]float64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// toFloat converts a decimal to the nearest float64 within a few ulps
// (the coefficient's nearest float64 scaled by a power of ten), with no
// allocation. Analytics, weights and charts use it; money stays decimal.
func toFloat(d decimal.Decimal) float64 {
	var c *big.Int
	if layoutOK {
		c = (*decimalLayout)(unsafe.Pointer(&d)).value // read only
		if c == nil {
			return 0
		}
	} else {
		c = d.Coefficient()
	}
	var x float64
	switch w := c.Bits(); {
	case len(w) == 1 && bits.UintSize == 64:
		x = float64(uint64(w[0]))
	case len(w) == 2 && bits.UintSize == 64:
		x = float64(uint64(w[1]))*0x1p64 + float64(uint64(w[0])) // two roundings: within 2 ulps
	case c.IsInt64():
		x = float64(c.Int64())
	default:
		x, _ = c.Float64()
	}
	if c.Sign() < 0 && len(c.Bits()) <= 2 && bits.UintSize == 64 {
		x = -x
	}
	e := int(d.Exponent())
	for e < -22 {
		x /= 1e22
		e += 22
	}
	for e > 22 {
		x *= 1e22
		e -= 22
	}
	if e < 0 {
		x /= pow10f[-e]
	} else {
		x *= pow10f[e]
	}
	if math.IsNaN(x) {
		return 0
	}
	return x
}
