package fixed

import (
	"math"
	"sync/atomic"
)

// memoBits sets a Memo's size: 64 entries.
const memoBits = 6

// Memo remembers the latest conversions of a float64 to a Num by the
// float's bits, in a small table (one entry per hash slot, the latest
// wins): hot paths that convert the same few values again and again (gas
// costs: a decision prices every market at them) convert each once.
// Entries are immutable and replaced atomically, so a Memo is safe for
// concurrent use; Nums are immutable values, shared by the callers that
// get them.
//
// It pays where the conversion is NumFromFloat's (strconv's shortest
// digits, rounded to Scale places); FastNum is cheaper than a lookup.
type Memo struct {
	conv  func(float64) Num
	slots [1 << memoBits]atomic.Pointer[memoEntry]
}

type memoEntry struct {
	x float64
	d Num
}

// NewMemo returns a Memo of conv, which must be a pure function.
func NewMemo(conv func(float64) Num) *Memo { return &Memo{conv: conv} }

// Get returns conv(x), remembered by x's bits.
func (m *Memo) Get(x float64) Num {
	b := math.Float64bits(x)
	// Fibonacci hashing: the top bits of b x 2^64/phi mix every bit of
	// b, where values that differ by a power of two (only in the
	// exponent's bits) collided under a shift-and-xor of the low bits.
	slot := &m.slots[(b*0x9E3779B97F4A7C15)>>(64-memoBits)]
	if e := slot.Load(); e != nil && math.Float64bits(e.x) == b {
		return e.d
	}
	d := m.conv(x)
	slot.Store(&memoEntry{x: x, d: d})
	return d
}
