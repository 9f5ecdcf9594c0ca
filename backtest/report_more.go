package backtest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// The report's further charts (beside ChartIDs).
const (
	ChartCosts = "chart-costs" // cumulative gas, slippage and fees
	ChartAPY   = "chart-apy"   // each market's observed APY
	ChartPeg   = "chart-peg"   // each staking token's peg (price / exchange rate)
	// Loop markets only.
	ChartLeverage    = "chart-leverage"    // each loop's leverage
	ChartHealth      = "chart-health"      // each loop's health factor, with its liquidations
	ChartLiquidation = "chart-liquidation" // each loop's distance to liquidation
)

// MarketCurve is one market's observed APY and peg over the run, sampled
// for the report's charts (at most MarketCurvePoints rows of the run's
// range; NaN where the row does not observe the field).
type MarketCurve struct {
	Market string
	Times  []int64
	APY    []float64
	Peg    []float64
}

// MarketCurvePoints bounds the rows sampled per market for the report.
const MarketCurvePoints = 600

// marketCurves samples each market's APY and peg over [from, to]: every
// k-th row so that at most MarketCurvePoints remain.
//
// A peg is drawn for LSTs and LRTs only, by adapters.Peg (the formula
// the adapters value with): a rebasing token's price is its peg, a
// value-accruing token's peg is price / exchange rate. Where the peg is
// unknown (no price; a value-accruing token's row without an observed
// rate, or with a rate read from its price, as cbETH's) the row has no
// peg (NaN, a break in its line): cbETH's 1.077 per ETH is its rate times
// its peg, not a 7.7% premium. A pool's or a lending market's price is
// not a peg, and they draw none.
func marketCurves(ms []*market, from, to int64) []MarketCurve {
	out := make([]MarketCurve, 0, len(ms))
	for _, m := range ms {
		s := m.ser
		mc := MarketCurve{Market: m.id}
		kind := m.ad.Market().Kind
		staking := kind == adapters.LST || kind == adapters.LRT
		basis := adapters.PegBasisOf(kind, m.ad.Profile() != nil && m.ad.Profile().IsRebasing())
		rateDerived := s.Derived.Has(adapters.FieldExchangeRate)
		lo := max(0, s.Index(from))
		hi := s.Index(to)
		if hi < lo || s.Len() == 0 {
			out = append(out, mc)
			continue
		}
		stride := max(1, (hi-lo+1)/MarketCurvePoints)
		apy, price, rate := s.Cols[adapters.FieldAPY], s.Cols[adapters.FieldPrice], s.Cols[adapters.FieldExchangeRate]
		np := (hi-lo)/stride + 1
		mc.Times, mc.APY, mc.Peg = make([]int64, 0, np), make([]float64, 0, np), make([]float64, 0, np)
		for r := lo; r <= hi; r += stride {
			mc.Times = append(mc.Times, s.Times[r])
			a, p := math.NaN(), math.NaN()
			if apy != nil && s.Set[r].Has(adapters.FieldAPY) {
				a = apy[r]
			}
			if staking && price != nil {
				rr, rok := 0.0, false
				if rate != nil {
					rr, rok = rate[r], s.Set[r].Has(adapters.FieldExchangeRate) && !rateDerived
				}
				if v, known := adapters.Peg(price[r], s.Set[r].Has(adapters.FieldPrice), rr, rok, basis); known {
					p = v
				}
			}
			mc.APY, mc.Peg = append(mc.APY, a), append(mc.Peg, p)
		}
		out = append(out, mc)
	}
	return out
}

// distinctColor is the i-th of as many distinct colours as needed: the
// palette, then hues spread by the golden angle.
func distinctColor(i int) string {
	if i < len(palette) {
		return palette[i]
	}
	h := math.Mod(float64(i-len(palette))*137.508+15, 360)
	return fmt.Sprintf("hsl(%.0f, 55%%, 45%%)", h)
}

// lineChart draws curves (NaN values break a line into segments that are
// drawn as one polyline per finite run) on one frame.
func lineChart(id, title string, curves []curve, pct bool, maxPoints int) svgChart {
	c := svgChart{ID: id, Title: title, W: 960}
	f := newFrame(960, 220)
	f.x0, f.y0 = math.Inf(1), math.Inf(1)
	f.x1, f.y1 = math.Inf(-1), math.Inf(-1)
	type seg struct {
		cv     *curve
		xs, ys []float64
	}
	var segs []seg
	for i := range curves {
		cv := &curves[i]
		start := -1
		flush := func(end int) {
			if start >= 0 && end > start {
				xs, ys := downsample(cv.xs[start:end], cv.ys[start:end], maxPoints)
				segs = append(segs, seg{cv, xs, ys})
			}
			start = -1
		}
		for k, y := range cv.ys {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				flush(k)
				continue
			}
			if start < 0 {
				start = k
			}
		}
		flush(len(cv.ys))
	}
	for _, s := range segs {
		for k := range s.xs {
			f.x0, f.x1 = math.Min(f.x0, s.xs[k]), math.Max(f.x1, s.xs[k])
			f.y0, f.y1 = math.Min(f.y0, s.ys[k]), math.Max(f.y1, s.ys[k])
		}
	}
	if len(segs) == 0 {
		c.Empty, c.H = "no data", 60
		return c
	}
	pad := (f.y1 - f.y0) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(f.y1)*0.01, 1e-9)
	}
	f.y0, f.y1 = f.y0-pad, f.y1+pad
	f.axes(&c, pct)
	for _, s := range segs {
		c.Lines = append(c.Lines, svgPoly{Points: f.points(s.xs, s.ys), Color: s.cv.color, Width: s.cv.width, Dash: s.cv.dash,
			Title: s.cv.name, Opacity: "1"})
	}
	var names, colors []string
	for _, cv := range curves {
		names, colors = append(names, cv.name), append(colors, cv.color)
	}
	lh := f.legend(&c, names, colors)
	c.H = int(f.top + f.plot + 34 + lh)
	return c
}

// costChart draws the cumulative gas, slippage and protocol fees of the
// ledger over the run.
func costChart(r *Result, maxPoints int) svgChart {
	var xs, gas, slip, fee []float64
	var g, s, f float64
	if len(r.Steps) > 0 {
		xs = append(xs, float64(r.Steps[0].Time.Unix()))
		gas, slip, fee = append(gas, 0), append(slip, 0), append(fee, 0)
	}
	for i := range r.Ledger {
		e := &r.Ledger[i]
		if e.Gas.IsZero() && e.Slippage.IsZero() && e.Fee.IsZero() {
			continue
		}
		g += e.Gas.InexactFloat64()
		s += e.Slippage.InexactFloat64()
		f += e.Fee.InexactFloat64()
		xs = append(xs, float64(e.Time.Unix()))
		gas, slip, fee = append(gas, g), append(slip, s), append(fee, f)
	}
	if n := len(r.Steps); n > 0 {
		xs = append(xs, float64(r.Steps[n-1].Time.Unix()))
		gas, slip, fee = append(gas, g), append(slip, s), append(fee, f)
	}
	base := baseName(r)
	return lineChart(ChartCosts, "Cumulative costs ("+base+"): gas, slippage (negative is a gain), protocol fees", []curve{
		{"gas", "#4e79a7", "1.6", "", xs, gas},
		{"slippage", "#f28e2b", "1.6", "", xs, slip},
		{"protocol fees", "#b07aa1", "1.6", "", xs, fee},
	}, false, maxPoints)
}

// marketCharts draws each market's APY and peg over the run.
func marketCharts(r *Result, maxPoints int) []svgChart {
	var apy, peg []curve
	for i, mc := range r.MarketCurves {
		xs := make([]float64, len(mc.Times))
		for k, t := range mc.Times {
			xs[k] = float64(t)
		}
		apy = append(apy, curve{mc.Market, distinctColor(i), "1.3", "", xs, mc.APY})
		if slices.ContainsFunc(mc.Peg, func(v float64) bool { return !math.IsNaN(v) }) {
			peg = append(peg, curve{mc.Market, distinctColor(i), "1.3", "", xs, mc.Peg})
		}
	}
	return []svgChart{
		lineChart(ChartAPY, "Each market's observed APY", apy, true, maxPoints),
		lineChart(ChartPeg, "Each staking token's peg (market price / exchange rate; blank where the data has no exchange rate)", peg, false, maxPoints),
	}
}

// monthRow is one month of the monthly returns table.
type monthRow struct {
	Month  string
	Return float64
	Bench  []float64 // per benchmark, in Result.Benchmarks order
}

// monthlyReturns is the equity curve's return in each calendar month
// (UTC): the last equity of the month over the last of the month before
// (the start for the first month); the benchmarks' likewise.
func monthlyReturns(r *Result) []monthRow {
	if len(r.Steps) == 0 {
		return nil
	}
	eq := equityValues(r)
	var out []monthRow
	prevK := 0
	for k := range r.Steps {
		last := k == len(r.Steps)-1
		if !last && sameMonth(r.Steps[k].Time, r.Steps[k+1].Time) {
			continue
		}
		row := monthRow{Month: r.Steps[k].Time.UTC().Format("2006-01"), Return: ratioChange(eq[prevK], eq[k])}
		for _, b := range r.Benchmarks {
			v := math.NaN()
			if b.NotInvestable == "" && k < len(b.Curve) {
				v = ratioChange(b.Curve[prevK], b.Curve[k])
			}
			row.Bench = append(row.Bench, v)
		}
		out = append(out, row)
		prevK = k
	}
	return out
}

func sameMonth(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.Month() == b.Month()
}

func ratioChange(a, b float64) float64 {
	if !(a > 0) {
		return math.NaN()
	}
	return b/a - 1
}

// tradeRow is one fill of the trades list.
type tradeRow struct {
	Time, Side, Market, Amount, Costs, Reason string
}

// trades lists the ledger's fills (buys, sells, queued exits), newest
// first, at most n, with their costs in words.
func trades(r *Result, n int) ([]tradeRow, int) {
	var out []tradeRow
	total := 0
	for i := len(r.Ledger) - 1; i >= 0; i-- {
		e := &r.Ledger[i]
		if e.Type != vault.EntryBuy && e.Type != vault.EntrySell && e.Type != vault.EntryQueue {
			continue
		}
		total++
		if len(out) >= n {
			continue
		}
		out = append(out, tradeRow{Time: formatDateTime(e.Time), Side: string(e.Type), Market: e.Market,
			Amount: formatAmount(e.Amount.InexactFloat64()), Costs: FormatCosts(e.Gas, e.Slippage, e.Fee), Reason: e.Reason})
	}
	return out, total
}

// FormatCosts writes an order's costs for reading, with 3 significant
// digits: "gas 0.0344, slippage -0.0576 (a gain), fee 0.001"; zero
// parts are left out ("none" when all are zero).
func FormatCosts(gas, slippage, fee decimal.Decimal) string {
	var parts []string
	add := func(name string, d decimal.Decimal) {
		if d.IsZero() {
			return
		}
		s := name + " " + sig(d.InexactFloat64(), 3)
		if d.Sign() < 0 {
			s += " (a gain)"
		}
		parts = append(parts, s)
	}
	add("gas", gas)
	add("slippage", slippage)
	add("fee", fee)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// sig writes v with n significant digits, without an exponent for
// everyday magnitudes.
func sig(v float64, n int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	a := math.Abs(v)
	if a >= 1e-4 && a < 1e9 {
		digits := n - 1 - int(math.Floor(math.Log10(a)))
		if digits < 0 {
			digits = 0
		}
		return strconv.FormatFloat(v, 'f', digits, 64)
	}
	return strconv.FormatFloat(v, 'g', n, 64)
}

// excess is the strategy's total return minus a benchmark's, signed, or
// "" for a benchmark that was not investable.
func excess(strategy Headline, b Benchmark) string {
	if b.NotInvestable != "" {
		return ""
	}
	d := strategy.TotalReturn - b.Metrics.TotalReturn
	s := strconv.FormatFloat(d*100, 'f', 2, 64) + " pp"
	if d > 0 {
		s = "+" + s
	}
	return s
}

// benchNames is the benchmarks' names, for the monthly table's head.
func benchNames(r *Result) []string {
	out := make([]string, len(r.Benchmarks))
	for i, b := range r.Benchmarks {
		out[i] = b.Name
	}
	return out
}

// loopCharts draws each loop market's leverage, health factor and
// distance to liquidation over the run, with the steps where the
// protocol liquidated it (none when the universe has no loop).
func loopCharts(r *Result, maxPoints int) []svgChart {
	if len(r.LoopMarkets) == 0 {
		return nil
	}
	xs := make([]float64, len(r.Steps))
	for k := range r.Steps {
		xs[k] = float64(r.Steps[k].Time.Unix())
	}
	var lev, hf, drop []curve
	for j, m := range r.LoopMarkets {
		l, h, d := make([]float64, len(r.Steps)), make([]float64, len(r.Steps)), make([]float64, len(r.Steps))
		for k := range r.Steps {
			l[k], h[k], d[k] = math.NaN(), math.NaN(), math.NaN()
			if j < len(r.Steps[k].Loops) {
				if p := r.Steps[k].Loops[j]; p.Leverage > 0 {
					l[k], d[k] = p.Leverage, p.LiquidationDrop
					if p.HealthFactor > 0 {
						h[k] = p.HealthFactor
					}
				}
			}
		}
		lev = append(lev, curve{m, distinctColor(j), "1.4", "", xs, l})
		hf = append(hf, curve{m, distinctColor(j), "1.4", "", xs, h})
		drop = append(drop, curve{m, distinctColor(j), "1.4", "", xs, d})
	}
	hfc := lineChart(ChartHealth, "Each loop's health factor (collateral at the oracle's price x LLTV / debt; liquidated below 1)", hf, false, maxPoints)
	for i := range r.Ledger {
		if e := &r.Ledger[i]; e.Type == vault.EntryLiquidation {
			hfc.Title += "; liquidated " + e.Time.UTC().Format("2006-01-02 15:04") + " (" + e.Market + ", " + formatDec(e.Amount) + " lost)"
		}
	}
	return []svgChart{
		lineChart(ChartLeverage, "Each loop's leverage (collateral / equity)", lev, false, maxPoints),
		hfc,
		lineChart(ChartLiquidation, "Each loop's distance to liquidation (the fall of the collateral's oracle price that liquidates it)", drop, true, maxPoints),
	}
}
