package lending

import (
	"time"

	"github.com/yieldvault/yieldvault/internal/fmath"
)

// growthFactors sets f[i] to growth(years(secs[i] seconds), apy[i]) for
// every i of apy, to the bit. Each factor is a chain of dependent
// operations (a logarithm, a product, an exponential) whose latency, not
// the processor's throughput, bounds a loop computing one after the
// other: four factors are computed side by side, so that their chains
// overlap, with fmath's copies of math.Log1p and math.Exp (math's
// results to the bit; on amd64 called directly, where math.Exp is an
// assembly function behind an ABI wrapper), the four exponentials in one
// call (fmath.Exp4) whose operations interleave theirs.
func growthFactors(apy []float64, secs []int64, f []float64) {
	n := len(apy)
	secs, f = secs[:n], f[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		l0, l1, l2, l3 := fmath.Log1p(apy[i]), fmath.Log1p(apy[i+1]), fmath.Log1p(apy[i+2]), fmath.Log1p(apy[i+3])
		f[i], f[i+1], f[i+2], f[i+3] = fmath.Exp4(years(time.Duration(secs[i])*time.Second)*l0,
			years(time.Duration(secs[i+1])*time.Second)*l1, years(time.Duration(secs[i+2])*time.Second)*l2,
			years(time.Duration(secs[i+3])*time.Second)*l3)
	}
	for ; i < n; i++ {
		f[i] = growth(years(time.Duration(secs[i])*time.Second), apy[i])
	}
}
