package lending

import "time"

// growthFactors sets f[i] to growth(years(secs[i] seconds), apy[i]) for
// every i of apy, to the bit. Each factor is a chain of dependent
// operations (a logarithm, a product, an exponential) whose latency, not
// the processor's throughput, bounds a loop computing one after the
// other; where the platform has Go copies of the standard library's own
// operations for both functions (fastGrowth: log1pOf and expOf), four
// factors are computed side by side and their chains overlap.
func growthFactors(apy []float64, secs []int64, f []float64) {
	n := len(apy)
	secs, f = secs[:n], f[:n]
	i := 0
	if fastGrowth {
		for ; i+4 <= n; i += 4 {
			l0, l1, l2, l3 := log1pOf(apy[i]), log1pOf(apy[i+1]), log1pOf(apy[i+2]), log1pOf(apy[i+3])
			f[i] = expOf(years(time.Duration(secs[i])*time.Second) * l0)
			f[i+1] = expOf(years(time.Duration(secs[i+1])*time.Second) * l1)
			f[i+2] = expOf(years(time.Duration(secs[i+2])*time.Second) * l2)
			f[i+3] = expOf(years(time.Duration(secs[i+3])*time.Second) * l3)
		}
	}
	for ; i < n; i++ {
		f[i] = growth(years(time.Duration(secs[i])*time.Second), apy[i])
	}
}
