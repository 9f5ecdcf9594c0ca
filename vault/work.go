package vault

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"
)

// work is the memory a rebalance computes in and reuses from one to the
// next: the decision's target weights, candidates, funding pairs and
// sizes, and the execution's list of buys. Nothing a Decision or a Result
// holds is ever written again by it (orders and rejections are made fresh
// for each decision; its inputs are taken from a block, inputBlock, whose
// handed-out part is never reused: the block's unused rest, which the
// vault keeps, shares only its array with them), and
// only the vault's own goroutine uses it, as for every other part of a
// Vault. Between rebalances it holds the last
// one's candidates (their quotes and reasons) until the next overwrites
// them.
type work struct {
	tw        []float64
	flags     []uint8
	cands     []candidate
	inputs    inputBlock // decision: the market inputs of the decisions
	opts      []*candidate
	buys      []*candidate
	bs        []*candidate
	size      []num
	left      []num
	capLeft   []num
	ys, xs    []num
	pairs     []pair
	exits     []srcExit
	pre       []float64 // fund: the sources' exit costs summed up to each
	gains     []float64
	entry     []float64 // fund: the buys' entry costs pro rata
	hasX      []bool    // fund: the buys funded by the pairs kept
	instant   []bool
	keys      []apyKey     // sortByAPY
	sorted    []*candidate // sortByAPY
	xbuys     []int        // Execute: the indexes of the buy orders
	txt       texts        // decide, Harvest: the rejections' and reasons' texts
	harvested []Harvested  // Harvest: the markets harvested
	last      []byte       // fund: the full move's gain test, as its rejections print it
	gainMid   gainMid      // appendGainTest's middle text
	// orderIdx is the market index of each order of the last decision,
	// Execute's first guess for an order's market (checked against the
	// order's market ID, so any decision executes correctly).
	orderIdx []int
}

// texts collects the rejections and reasons of one decision (the skips
// of one harvest) while it is planned: their texts are appended to one
// buffer, and finish makes them strings all at once, sharing one string's
// bytes (a decision that does not trade rejects most of its markets:
// one allocation for all their texts, not one each). A text is built by
// appending to open's buffer and recorded by reject or reason.
type texts struct {
	buf   []byte
	items []textItem
	nRej  int // the rejections among items
}

// textItem is a text of texts ending at end in the buffer: a rejection
// of market, or a reason.
type textItem struct {
	market string
	end    int
	reason bool
}

// open returns the buffer to append the next text to.
func (t *texts) open() []byte { return t.buf }

// reject records a rejection of market; b is open's buffer with its text
// appended.
func (t *texts) reject(market string, b []byte) {
	t.buf = b
	t.items = append(t.items, textItem{market: market, end: len(b)})
	t.nRej++
}

// rejectString is reject of a text already made.
func (t *texts) rejectString(market, text string) { t.reject(market, append(t.open(), text...)) }

// reason records a reason; b is open's buffer with its text appended.
func (t *texts) reason(b []byte) {
	t.buf = b
	t.items = append(t.items, textItem{end: len(b), reason: true})
}

// finish appends the recorded rejections to rej and the reasons to
// reasons, in the order they were recorded, and empties t. The lists
// grow once, to their length (reasons with room for one more: a
// rebalance condition's).
func (t *texts) finish(rej []Rejection, reasons []string) ([]Rejection, []string) {
	if len(t.items) == 0 {
		return rej, reasons
	}
	all := string(t.buf)
	if t.nRej > 0 {
		rej = slices.Grow(rej, t.nRej)
	}
	if n := len(t.items) - t.nRej; n > 0 {
		reasons = slices.Grow(reasons, n+1)
	}
	start := 0
	for _, it := range t.items {
		s := all[start:it.end]
		start = it.end
		if it.reason {
			reasons = append(reasons, s)
		} else {
			rej = append(rej, Rejection{Market: it.market, Reason: s})
		}
	}
	t.reset()
	return rej, reasons
}

// reset empties t.
func (t *texts) reset() {
	clear(t.items) // the markets' strings
	t.buf, t.items, t.nRej = t.buf[:0], t.items[:0], 0
}

// gainMid is appendGainTest's text between the gain and the cost, "
// over <horizon> below <k> x ", for the horizon and k it was made with
// (the vault's configuration: made once, not at every decision).
type gainMid struct {
	horizon time.Duration
	k       float64
	text    []byte
}

// of returns the text for horizon and k.
func (g *gainMid) of(horizon time.Duration, k float64) []byte {
	if g.text == nil || g.horizon != horizon || math.Float64bits(g.k) != math.Float64bits(k) {
		m := append(g.text[:0], " over "...)
		m = append(m, horizon.String()...)
		m = append(m, " below "...)
		m = strconv.AppendFloat(m, k, 'g', -1, 64)
		g.horizon, g.k, g.text = horizon, k, append(m, " x "...)
	}
	return g.text
}

// apyKey is a candidate's APY and its index in the list being sorted.
type apyKey struct {
	apy float64
	k   int
}

// scratch returns (*s)[:n] zeroed, growing *s when it is too short.
func scratch[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	r := (*s)[:n]
	clear(r)
	return r
}

// sortByAPY is sort.SliceStable(cs, less) for less comparing the APYs,
// ascending or (desc) descending, without its allocations and on keys
// without pointers (no write barriers while the collector runs). With a
// NaN among the APYs it runs sort.SliceStable's algorithm (insertion sort
// of blocks of 20, then symmetric merges), which asks the same questions
// of the same APYs and so makes the same permutation.
func (w *work) sortByAPY(cs []*candidate, desc bool) {
	keys := w.keys[:0]
	for k, c := range cs {
		keys = append(keys, apyKey{apy: c.apy, k: k})
	}
	w.keys = keys[:0]
	less := func(a, b apyKey) bool { return (desc && a.apy > b.apy) || (!desc && a.apy < b.apy) }
	nan := false
	for _, key := range keys {
		nan = nan || key.apy != key.apy
	}
	if nan {
		slices.SortStableFunc(keys, func(a, b apyKey) int {
			if less(a, b) {
				return -1
			}
			return 0 // the algorithm only asks whether cmp < 0
		})
	} else {
		// Without NaNs less is a strict weak order, under which every
		// stable sort gives the same permutation: insertion sort, each
		// key placed after the sorted keys it is not less than (found by
		// bisection) with one copy.
		for i := 1; i < len(keys); i++ {
			x := keys[i]
			lo, hi := 0, i
			for lo < hi {
				if m := int(uint(lo+hi) >> 1); less(x, keys[m]) {
					hi = m
				} else {
					lo = m + 1
				}
			}
			copy(keys[lo+1:i+1], keys[lo:i])
			keys[lo] = x
		}
	}
	orig := append(w.sorted[:0], cs...)
	w.sorted = orig[:0]
	for i, key := range keys {
		cs[i] = orig[key.k]
	}
}

// appendWeightReason appends fmt.Sprintf("weight %.4f <rel> target
// %.4f", w, t) to b.
func appendWeightReason(b []byte, w float64, rel string, t float64) []byte {
	b = append(b, "weight "...)
	b = appendFixed4(b, w)
	b = append(b, ' ')
	b = append(b, rel...)
	b = append(b, " target "...)
	return appendFixed4(b, t)
}

// appendFixed4 is strconv.AppendFloat(b, x, 'f', 4, 64): x rounded to
// four decimals, exact ties to even, "-" for a negative sign bit. Below
// 2^32 in magnitude it rounds x's exact binary value on integers
// (mantissa x 10^4, shifted right); other values take strconv.
func appendFixed4(b []byte, x float64) []byte {
	u := math.Float64bits(x)
	neg := u>>63 != 0
	e := int(u>>52) & 0x7ff
	m := u & (1<<52 - 1)
	if e >= 1023+32 { // |x| >= 2^32, infinities and NaNs
		return strconv.AppendFloat(b, x, 'f', 4, 64)
	}
	if e == 0 {
		e = 1 // subnormal: m x 2^-1074
	} else {
		m |= 1 << 52
	}
	// |x| = m x 2^(e-1075), and e-1075 < -20: |x| x 10^4 = (m x 10^4) >> s.
	s := uint(1075 - e)
	hi, lo := bits.Mul64(m, 10000)
	var q uint64
	switch {
	case s >= 128:
		// |x| x 10^4 < 2^67 / 2^128: rounds to zero.
	case s > 64:
		// below 2^3 after the shift: q = hi >> (s-64)
		t := s - 64
		q = hi >> t
		rhi := hi & (1<<t - 1) // remainder: rhi:lo, half: 1 << (s-1) = 1 << (t-1) in the high word
		half := uint64(1) << (t - 1)
		if rhi > half || (rhi == half && (lo != 0 || q&1 != 0)) {
			q++
		}
	case s == 64:
		q = hi
		if lo > 1<<63 || (lo == 1<<63 && q&1 != 0) {
			q++
		}
	default: // 21 <= s < 64
		q = hi<<(64-s) | lo>>s
		r := lo & (1<<s - 1)
		half := uint64(1) << (s - 1)
		if r > half || (r == half && q&1 != 0) {
			q++
		}
	}
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, q/10000, 10)
	f := q % 10000
	return append(b, '.', byte('0'+f/1000), byte('0'+f/100%10), byte('0'+f/10%10), byte('0'+f%10))
}
