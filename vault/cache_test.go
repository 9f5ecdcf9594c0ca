package vault

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// TestDecMemo_Of checks that the memo gives Num.Dec's decimal (the same
// coefficient and exponent) for values seen lately, evicted and never
// seen, and that a hit builds nothing.
func TestDecMemo_Of(t *testing.T) {
	var c decMemo
	var xs []num
	for i := range 3 * decMemoSize {
		xs = append(xs, fixed.FromDec(decimal.New(int64(1000+37*i), -int32(i%19))))
	}
	// The same value at another exponent is another key.
	xs = append(xs, fixed.FromDec(decimal.New(10000, -1)), fixed.FromDec(decimal.New(1000, 0)))
	for round := range 3 {
		for k, x := range xs {
			// Each value twice in a row (a hit), then again after others.
			for range 2 {
				got, want := c.of(x), x.Dec()
				if got.Exponent() != want.Exponent() || got.Cmp(want) != 0 {
					t.Fatalf("round %d, value %d: of(%s) = %s (exp %d), want exp %d", round, k, x, got, got.Exponent(), want.Exponent())
				}
			}
		}
	}
	x := xs[len(xs)-1]
	c.of(x)
	if n := testing.AllocsPerRun(100, func() { c.of(x) }); n != 0 {
		t.Errorf("a hit allocates %v times, want 0", n)
	}
	if got := fmt.Sprint(c.of(num{})); got != "0" {
		t.Errorf("of(0) = %s, want 0", got)
	}
}
