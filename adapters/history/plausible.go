package history

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// Plausibility. adapters.CheckValue rejects what is physically impossible
// (a negative TVL, a utilization above 1); the checks here reject what is
// possible in principle but has never happened, and which a file in the
// wrong unit produces: an APY read as percent twice (x100), a rate or an
// index left in wei or ray (x1e18, x1e27), a percent read as a fraction
// (/100), a date a thousand years away. Every bound is documented in
// docs/data.md with the real data it was set against.
//
// A batch that breaks them is refused (Write, CheckBatch errors of kind
// IssueImplausible) unless Batch.AllowImplausible is set, when they are
// warnings and the rows are stored; DB.Check reports the same points in
// stored history.

// The plausible time range of an observation. No DeFi market existed before
// Ethereum's mainnet launch; 2100 leaves room for synthetic futures.
var (
	MinTime = time.Date(2015, 7, 30, 0, 0, 0, 0, time.UTC) // Ethereum mainnet (Frontier) launch
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// IssueImplausible is a value, a pair of values in one row, or a step
// between rows outside the plausible bounds.
const IssueImplausible = "implausible"

// CheckTime says why t is not a plausible observation time, or "".
func CheckTime(t time.Time) string {
	if t.Before(MinTime) {
		return fmt.Sprintf("%s is before %s (Ethereum's launch): a time in the wrong unit?", fmtTime(t), MinTime.Format("2006-01-02"))
	}
	if !t.Before(MaxTime) {
		return fmt.Sprintf("%s is after %s: a time in the wrong unit?", fmtTime(t), MaxTime.Format("2006-01-02"))
	}
	return ""
}

func fmtTime(t time.Time) string {
	if y := t.Year(); y < 0 || y > 9999 {
		return fmt.Sprintf("a time in year %d", y)
	}
	return t.UTC().Format(time.RFC3339)
}

// span is a plausible range [lo, hi].
type span struct{ lo, hi float64 }

func (s span) has(v float64) bool { return v >= s.lo && v <= s.hi }

// Per-base bounds: the USD price of one unit, and the most base units that
// a market's size (supply, balances, exit liquidity) can plausibly hold:
// more than all the ETH (about 120M) or BTC (21M) in existence, or more
// than a trillion dollars, is a unit error.
var (
	baseUSD = map[adapters.Asset]span{
		adapters.ETH: {50, 50_000},       // ETH traded above $80 since 2017 (low Dec 2018), peak ~$4,950
		adapters.BTC: {1_000, 1_000_000}, // BTC above $3,000 since 2017
		adapters.USD: {0.5, 2},           // stablecoins; USDC's March 2023 low was $0.87
	}
	baseUnits = map[adapters.Asset]float64{
		adapters.ETH: 1.5e8,
		adapters.BTC: 2.1e7,
		adapters.USD: 1e12,
	}
	// Volume per day of one pool, in base units: no pool has traded $30B in
	// a day (Uniswap v3's largest pools peak at a few $B).
	baseVolume = map[adapters.Asset]float64{
		adapters.ETH: 1e7,
		adapters.BTC: 5e5,
		adapters.USD: 3e10,
	}
)

const maxTVL = 1e12 // USD: more than any protocol has held

// fieldSpan is the plausible range of field f in market m (m may be the
// zero Market when the batch does not describe it), and whether there is
// one beyond adapters.CheckValue's.
func fieldSpan(m *adapters.Market, f adapters.Field) (span, bool) {
	staking := m.Kind == adapters.LST || m.Kind == adapters.LRT
	switch f {
	case adapters.FieldAPY:
		if staking {
			return span{-0.5, 1}, true // no staking yield has exceeded 100% a year
		}
		return span{-1, 10}, true // 1000%
	case adapters.FieldRewardAPY:
		if staking {
			return span{-0.5, 1}, true
		}
		return span{-1, 10}, true
	case adapters.FieldBorrowAPY:
		return span{0, 10}, true
	case adapters.FieldExchangeRate:
		return span{0.5, 5}, true // a token worth less than half or more than 5 of its base
	case adapters.FieldPrice:
		switch {
		case staking:
			return span{0.5, 5}, true
		case m.Kind == adapters.AMM && m.Params["price_inverted"] != 0:
			s, ok := baseUSD[m.Base]
			return s, ok
		case m.Kind == adapters.AMM && m.Protocol == "curve":
			return span{0.5, 2}, true // a stableswap pool's coins trade near their peg
		}
	case adapters.FieldIndex, adapters.FieldBorrowIndex:
		return span{0.5, 10}, true // starts at 1; ten times would take 47 years at 5%
	case adapters.FieldCoin0Price, adapters.FieldCoin1Price, adapters.FieldCoin2Price:
		if m.Kind == adapters.AMM && m.Base == adapters.USD {
			return span{0.5, 2}, true // a USD pool's coins trade near their dollar (USDC's low: 0.88)
		}
	case adapters.FieldBaseUSD:
		s, ok := baseUSD[m.Base]
		return s, ok
	case adapters.FieldTVL:
		return span{0, maxTVL}, true
	case adapters.FieldSupply, adapters.FieldBorrows, adapters.FieldExitLiquidity,
		adapters.FieldBalance0, adapters.FieldBalance1, adapters.FieldBalance2:
		if n, ok := baseUnits[m.Base]; ok {
			return span{0, n}, true
		}
	case adapters.FieldVolume:
		if n, ok := baseVolume[m.Base]; ok {
			return span{0, n}, true
		}
	case adapters.FieldFeeTier:
		return span{0, 0.1}, true // Uniswap's highest tier is 1%, Balancer's cap 10%
	case adapters.FieldWithdrawalDays:
		return span{0, 365}, true
	case adapters.FieldGasPrice:
		return span{0, 10_000}, true
	}
	return span{}, false
}

// medianSpan bounds the median of a field over a series of at least
// minMedianRows observations: a staking APY whose median is below 0.5% is a
// percent read as a fraction twice (Lido's lowest was 2.5%); a field whose
// typical level the market's catalog entry documents (levelParam, with its
// source) within levelRatio of that level.
func medianSpan(m *adapters.Market, f adapters.Field) (span, bool) {
	if (m.Kind == adapters.LST || m.Kind == adapters.LRT) && f == adapters.FieldAPY {
		return span{0.005, 0.5}, true
	}
	if name := levelParam(f); name != "" {
		if v := m.Params[name]; v > 0 {
			return span{v / levelRatio, v * levelRatio}, true
		}
	}
	return span{}, false
}

// levelParam is the market parameter that documents field f's typical
// level, or "". A series whose median is far from its market's documented
// level is in another unit: the median of a whole file moves by exactly
// its unit error (x100, /100), while a real market's median over any
// stretch of time stays within levelRatio of its documented one (monthly
// medians: Lido's TVL 0.26-2.0 times its 2022-2025 median, the Uniswap v3
// WETH/USDT pool's volume 0.31-4.4 times its 2024-2025 median).
func levelParam(f adapters.Field) string {
	switch f {
	case adapters.FieldTVL:
		return "typical_tvl"
	case adapters.FieldVolume:
		return "typical_volume"
	}
	return ""
}

// levelRatio is how far from its documented level a market's median may
// be: a factor of 10 either way lies between the factors a market moves
// by (above) and the smallest unit error (100).
const levelRatio = 10

// The free liquidity of a lending market (exit_liquidity) against supply
// minus borrows observed within freePairGap of it (another file's
// snapshot: DefiLlama's midnight against Messari's 23:xx): the median
// ratio of at least minMedianRows pairs must be within freeSpan. DefiLlama's
// Aave v3 USDC tvlUsd over Messari's deposits minus borrows: median 1.01
// over 1,012 days, 1st-99th percentile 0.63-5.7 (the snapshots' times
// differ; single days reach 0.006 and 26). A file in another unit moves
// the median by its factor (x100, /100).
var freeSpan = span{0.1, 10}

const freePairGap = 24 * 3600

const minMedianRows = 10

// Step bounds between consecutive observations of a field, at most
// maxStepGap apart. Rates that accrue (exchange rates, indexes) and prices
// never move by more than stepRatio in one step; sizes (TVL, supply,
// balances) may, but not up (or down) by spikeRatio from both neighbours
// (a single row in the wrong unit).
const (
	maxStepGap = 31 * 24 * 3600
	spikeRatio = 20
)

func stepRatio(f adapters.Field) float64 {
	switch f {
	case adapters.FieldExchangeRate, adapters.FieldIndex, adapters.FieldBorrowIndex:
		return 1.5
	case adapters.FieldPrice, adapters.FieldBaseUSD, adapters.FieldCoin0Price, adapters.FieldCoin1Price, adapters.FieldCoin2Price:
		return 3
	}
	return 0
}

// spiky says whether f is a size checked for one-row spikes. Exit
// liquidity is not: free lending liquidity really does fall 100-fold for a
// day and come back (Aave USDC, 30 July 2023: $30M, $196k, $18M).
func spiky(f adapters.Field) bool {
	switch f {
	case adapters.FieldTVL, adapters.FieldSupply, adapters.FieldBorrows,
		adapters.FieldBalance0, adapters.FieldBalance1, adapters.FieldBalance2:
		return true
	}
	return false
}

// Row consistency bounds: ratios between fields of one observation.
var (
	pegSpan      = span{0.5, 2}    // price / exchange_rate
	supplySpan   = span{0.25, 4}   // lending apy / (borrow_apy x utilization): reserve factors and supply curves, Compound's up to 1.7
	utilSpan     = span{0.9, 1.1}  // utilization / (borrows / supply)
	sizeUSDSpan  = span{0.8, 1.25} // lending tvl / (supply x base_usd): the same money counted twice
	poolUSDSpan  = span{0.9, 1.1}  // AMM tvl / (the pool's balances valued in base x base_usd); 1 in the Curve files
	minCrossSize = 1e-7            // below this product, rounding dominates and the ratio is not checked
)

// checkRow returns what is implausible about one observation of market m.
func checkRow(m *adapters.Market, o *adapters.Observation) []string {
	var out []string
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if !o.Set.Has(f) {
			continue
		}
		v := o.Values[f]
		if s, ok := fieldSpan(m, f); ok && !s.has(v) {
			out = append(out, fmt.Sprintf("%s %g is outside the plausible range [%g, %g]%s", f, v, s.lo, s.hi, unitHint(v, s)))
		}
	}
	get := o.Get
	if p, ok := get(adapters.FieldPrice); ok && m.Kind != adapters.AMM {
		if r, ok2 := get(adapters.FieldExchangeRate); ok2 && r > 0 && !pegSpan.has(p/r) {
			out = append(out, fmt.Sprintf("peg (price %g / exchange_rate %g = %.4g) is outside [%g, %g]", p, r, p/r, pegSpan.lo, pegSpan.hi))
		}
	}
	if m.Kind == adapters.Lending {
		apy, ok1 := get(adapters.FieldAPY)
		b, ok2 := get(adapters.FieldBorrowAPY)
		u, ok3 := get(adapters.FieldUtilization)
		if ok1 && ok2 && ok3 && b*u > minCrossSize && apy > minCrossSize {
			if r := apy / (b * u); !supplySpan.has(r) {
				out = append(out, fmt.Sprintf("supply apy %g is %.3g times borrow_apy %g x utilization %g (plausible: %g to %g)", apy, r, b, u, supplySpan.lo, supplySpan.hi))
			}
		}
		s, ok4 := get(adapters.FieldSupply)
		bo, ok5 := get(adapters.FieldBorrows)
		if ok3 && ok4 && ok5 && s > 0 && u > 0.01 {
			if r := u / (bo / s); !utilSpan.has(r) {
				out = append(out, fmt.Sprintf("utilization %g disagrees with borrows / supply = %g", u, bo/s))
			}
		}
		if tvl, ok := get(adapters.FieldTVL); ok && ok4 && s > 0 {
			if usd, ok := usdPer(m, o); ok && tvl > 0 {
				if r := tvl / (s * usd); !sizeUSDSpan.has(r) {
					out = append(out, fmt.Sprintf("tvl %g USD is %.3g times supply %g x %g USD", tvl, r, s, usd))
				}
			}
		}
	}
	if m.Kind == adapters.AMM {
		if tvl, ok := get(adapters.FieldTVL); ok && tvl > 0 {
			sum, n := 0.0, 0
			for _, f := range []adapters.Field{adapters.FieldBalance0, adapters.FieldBalance1, adapters.FieldBalance2} {
				if v, ok := get(f); ok {
					sum += v
					n++
				}
			}
			// Balances are in base units at the coins' own rates (docs:
			// Observations and units); the TVL values them at market
			// prices, which stay within a few percent of those rates
			// (stETH's 2022 low 0.93).
			if usd, ok := usdPer(m, o); ok && n >= 2 && sum > 0 {
				if r := tvl / (sum * usd); !poolUSDSpan.has(r) {
					out = append(out, fmt.Sprintf("tvl %g USD is %.3g times the pool's balances (%g base units x %g USD)", tvl, r, sum, usd))
				}
			}
		}
	}
	return out
}

// usdPer is the USD value of one base unit in o: base_usd, or 1 for a USD
// base without it.
func usdPer(m *adapters.Market, o *adapters.Observation) (float64, bool) {
	if v, ok := o.Get(adapters.FieldBaseUSD); ok && v > 0 {
		return v, true
	}
	if m.Base == adapters.USD {
		return 1, true
	}
	return 0, false
}

// unitHint names the unit error a value outside s most likely is.
func unitHint(v float64, s span) string {
	if v <= 0 || s.hi <= 0 {
		return ""
	}
	for _, c := range []struct {
		k    float64
		name string
	}{{1e27, "x1e27 (ray)"}, {1e18, "x1e18 (wei)"}, {1e9, "x1e9 (gwei)"}, {1e6, "x1e6"}, {100, "x100 (a percent read as a fraction?)"}} {
		if v > s.hi && v/c.k >= max(s.lo, s.hi/1000) && v/c.k <= s.hi {
			return ": " + c.name + "?"
		}
		if v < s.lo && v*c.k >= s.lo && v*c.k <= s.hi && c.k <= 100 {
			return ": /100 (a fraction read as a percent?)"
		}
	}
	return ""
}

// plausibility walks one market's rows in time order and reports what is
// implausible about them: each row's values and consistency, each step,
// and the median of each field.
type plausibility struct {
	m      *adapters.Market
	report func(line int, ts int64, msg string)

	prevTS [adapters.NumFields]int64
	prev   [adapters.NumFields]float64
	have   [adapters.NumFields]bool
	// The last step of each spiky field, pending its next neighbour: a
	// value that jumped by spikeRatio from the one before.
	spike     [adapters.NumFields]bool
	spikeLine [adapters.NumFields]int
	spikeTS   [adapters.NumFields]int64
	spikeV    [adapters.NumFields]float64
	spikeUp   [adapters.NumFields]bool

	med [adapters.NumFields][]float64

	// A lending market's last free liquidity and last supply - borrows,
	// waiting for a partner observation within freePairGap (free
	// liquidity against size, freeSpan).
	lastExit, lastFree     float64
	lastExitTS, lastFreeTS int64
	haveExit, haveFree     bool
	freeRatios             []float64
}

func newPlausibility(m *adapters.Market, report func(line int, ts int64, msg string)) *plausibility {
	if m == nil {
		m = &adapters.Market{}
	}
	return &plausibility{m: m, report: report}
}

func (p *plausibility) row(line int, ts int64, o *adapters.Observation) {
	for _, msg := range checkRow(p.m, o) {
		p.report(line, ts, msg)
	}
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if !o.Set.Has(f) {
			continue
		}
		v := o.Values[f]
		if _, ok := medianSpan(p.m, f); ok {
			p.med[f] = append(p.med[f], v)
		}
		if p.have[f] && ts-p.prevTS[f] <= maxStepGap {
			p.step(f, line, ts, v)
		} else {
			p.spike[f] = false
		}
		p.have[f], p.prev[f], p.prevTS[f] = true, v, ts
	}
	if p.m.Kind == adapters.Lending {
		p.pairFree(ts, o)
	}
}

// pairFree pairs a lending market's free liquidity with its supply minus
// borrows observed within freePairGap (the same row, or the nearest
// earlier one of the other kind), each observation once.
func (p *plausibility) pairFree(ts int64, o *adapters.Observation) {
	e, okE := o.Get(adapters.FieldExitLiquidity)
	s, okS := o.Get(adapters.FieldSupply)
	b, okB := o.Get(adapters.FieldBorrows)
	okF := okS && okB && s-b > 0
	switch {
	case okE && okF:
		if e > 0 {
			p.freeRatios = append(p.freeRatios, e/(s-b))
		}
		p.haveExit, p.haveFree = false, false
	case okE:
		if e > 0 && p.haveFree && ts-p.lastFreeTS <= freePairGap {
			p.freeRatios = append(p.freeRatios, e/p.lastFree)
			p.haveFree, p.haveExit = false, false
		} else {
			p.lastExit, p.lastExitTS, p.haveExit = e, ts, e > 0
		}
	case okF:
		if p.haveExit && ts-p.lastExitTS <= freePairGap {
			p.freeRatios = append(p.freeRatios, p.lastExit/(s-b))
			p.haveExit, p.haveFree = false, false
		} else {
			p.lastFree, p.lastFreeTS, p.haveFree = s-b, ts, true
		}
	}
}

func (p *plausibility) step(f adapters.Field, line int, ts int64, v float64) {
	prev := p.prev[f]
	if k := stepRatio(f); k > 0 && prev > 0 && v > 0 {
		if r := v / prev; r > k || r < 1/k {
			p.report(line, ts, fmt.Sprintf("%s moved from %g to %g (x%.3g) in one step of %s; plausible: within x%g", f, prev, v, r, fmtDur(ts-p.prevTS[f]), k))
		}
		return
	}
	if !spiky(f) {
		return
	}
	if p.spike[f] {
		// The previous value jumped from its predecessor; a jump back the
		// other way makes it a one-row spike.
		sv := p.spikeV[f]
		if v > 0 && ((p.spikeUp[f] && sv/v >= spikeRatio) || (!p.spikeUp[f] && v/sv >= spikeRatio)) {
			p.report(p.spikeLine[f], p.spikeTS[f], fmt.Sprintf("%s %g differs from both neighbouring observations by more than x%d: one row in another unit?", f, sv, spikeRatio))
		}
		p.spike[f] = false
	}
	if prev > 0 && v > 0 && (v/prev >= spikeRatio || prev/v >= spikeRatio) {
		p.spike[f], p.spikeLine[f], p.spikeTS[f], p.spikeV[f], p.spikeUp[f] = true, line, ts, v, v > prev
	}
}

// done reports the medians; line is where the series starts.
func (p *plausibility) done(line int) {
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		vs := p.med[f]
		if len(vs) < minMedianRows {
			continue
		}
		s, _ := medianSpan(p.m, f)
		slices.Sort(vs)
		// A median of exactly 0 is a market without that yield (restaked
		// ETH on Karak earns rewards only); a small positive one is a unit
		// error.
		if med := vs[len(vs)/2]; med != 0 && !s.has(med) {
			why := ""
			if name := levelParam(f); name != "" && p.m.Params[name] > 0 {
				why = fmt.Sprintf(" (within x%d of the market's documented level %s = %g", levelRatio, name, p.m.Params[name])
				if src := p.m.Sources[name]; src != "" {
					why += ": " + src
				}
				why += ")"
			}
			p.report(line, 0, fmt.Sprintf("the median %s of %d observations is %g, outside the plausible [%g, %g]%s%s", f, len(vs), med, s.lo, s.hi, why, unitHint(med, s)))
		}
	}
	if rs := p.freeRatios; len(rs) >= minMedianRows {
		slices.Sort(rs)
		if med := rs[len(rs)/2]; !freeSpan.has(med) {
			p.report(line, 0, fmt.Sprintf("exit_liquidity is %.3g times supply - borrows observed within a day (the median of %d pairs; plausible: %g to %g): one of the files in another unit?", med, len(rs), freeSpan.lo, freeSpan.hi))
		}
	}
}

// fmtDur formats a duration in seconds without overflow: days past a day.
func fmtDur(sec int64) string {
	if sec >= 86400 || sec <= -86400 {
		d := float64(sec) / 86400
		if math.Abs(d) >= 10 {
			return fmt.Sprintf("%.0fd", d)
		}
		return fmt.Sprintf("%.1fd", d)
	}
	return (time.Duration(sec) * time.Second).String()
}
