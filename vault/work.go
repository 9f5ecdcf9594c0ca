package vault

import (
	"slices"
	"strconv"
)

// work is the memory a rebalance computes in and reuses from one to the
// next: the decision's target weights, candidates, funding pairs and
// sizes, and the execution's list of buys. Nothing a Decision or a Result
// holds points into it (orders, rejections and inputs are made fresh for
// each decision), and only the vault's own goroutine uses it, as for
// every other part of a Vault. Between rebalances it holds the last
// one's candidates (their quotes and reasons) until the next overwrites
// them.
type work struct {
	tw      []float64
	flags   []uint8
	cands   []candidate
	opts    []*candidate
	buys    []*candidate
	bs      []*candidate
	kept    []string
	size    []num
	left    []num
	capLeft []num
	ys, xs  []num
	pairs   []pair
	instant []bool
	xbuys   []int // Execute: the indexes of the buy orders
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

// sortStable is sort.SliceStable(s, less) without its allocations: the
// same algorithm (insertion sort of blocks of 20, then symmetric merges)
// asking the same questions, so the same order whatever less answers.
func sortStable(s []*candidate, less func(a, b *candidate) bool) {
	slices.SortStableFunc(s, func(a, b *candidate) int {
		if less(a, b) {
			return -1
		}
		return 0 // the algorithm only asks whether cmp < 0
	})
}

// appendWeightReason appends fmt.Sprintf("weight %.4f <rel> target
// %.4f", w, t) to b.
func appendWeightReason(b []byte, w float64, rel string, t float64) []byte {
	b = append(b, "weight "...)
	b = strconv.AppendFloat(b, w, 'f', 4, 64)
	b = append(b, ' ')
	b = append(b, rel...)
	b = append(b, " target "...)
	return strconv.AppendFloat(b, t, 'f', 4, 64)
}
