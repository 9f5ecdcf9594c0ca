package backtest

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The charts of report.html are inline SVG built here as plain values
// (coordinates already formatted) and rendered by the report's
// html/template, which escapes every label.

// Chart element IDs in report.html.
const (
	ChartEquity      = "chart-equity"
	ChartDrawdown    = "chart-drawdown"
	ChartAllocation  = "chart-allocation"
	ChartAttribution = "chart-attribution"
)

// ChartIDs are the IDs of the four charts every report holds.
var ChartIDs = []string{ChartEquity, ChartDrawdown, ChartAllocation, ChartAttribution}

// palette colours markets by their position in the universe (Tableau 10,
// then a second set); idle is grey.
var palette = []string{
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
	"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
}

const (
	colorIdle     = "#bab0ac"
	colorStrategy = "#1f2d4d"
	colorPos      = "#59a14f"
	colorNeg      = "#e15759"
)

func marketColor(i int) string { return distinctColor(i) }

type svgChart struct {
	ID, Title string
	W, H      int
	Grid      []svgLine
	Labels    []svgText
	Areas     []svgPoly
	Lines     []svgPoly
	Bars      []svgBar
	Legend    []svgLegend
	// Marks are vertical markers (risk monitors firing) with a tooltip.
	Marks []svgMark
	Empty string // shown instead of the plot when there is nothing to draw
}

type svgMark struct{ X, Y1, Y2, Color, Title string }

type svgLine struct{ X1, Y1, X2, Y2, Class string }

type svgText struct{ X, Y, Anchor, Class, Text string }

type svgPoly struct {
	Points, Color, Width, Dash, Title string
	// Opacity of a line ("" draws it opaque): benchmarks are faded
	// behind the strategy.
	Opacity string
}

type svgBar struct {
	X, Y, W, H, Color, Title string
}

type svgLegend struct {
	X, Y, TX, TY, Color, Label string
}

// frame is a chart's plot area and scales.
type frame struct {
	w, h                   float64 // whole chart
	left, right, top, plot float64 // margins; plot is the plot area's height
	x0, x1, y0, y1         float64 // data ranges
}

func (f *frame) px(x float64) float64 {
	if f.x1 == f.x0 {
		return f.left
	}
	return f.left + (x-f.x0)/(f.x1-f.x0)*(f.w-f.left-f.right)
}

func (f *frame) py(y float64) float64 {
	if f.y1 == f.y0 {
		return f.top + f.plot/2
	}
	return f.top + (f.y1-y)/(f.y1-f.y0)*f.plot
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (f *frame) points(xs, ys []float64) string {
	var b strings.Builder
	b.Grow(len(xs) * 12)
	for i := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(coord(f.px(xs[i])))
		b.WriteByte(',')
		b.WriteString(coord(f.py(ys[i])))
	}
	return b.String()
}

// niceTicks returns about n round values (1, 2 or 5 x 10^k apart: the
// one nearest to (hi - lo) / n) spanning [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, best := mag, math.Inf(1)
	for _, m := range []float64{1, 2, 5, 10} {
		if d := math.Abs(math.Log(m * mag / raw)); d < best {
			step, best = m*mag, d
		}
	}
	var out []float64
	for k := math.Ceil(lo/step - 1e-9); k <= math.Floor(hi/step+1e-9) && len(out) <= 4*n; k++ {
		out = append(out, k*step)
	}
	return out
}

// tickLabel formats a tick with as many decimals as its step needs.
func tickLabel(v, step float64, pct bool) string {
	if pct {
		v, step = v*100, step*100
	}
	dec := 0
	if step > 0 && step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	if dec > 8 {
		dec = 8
	}
	if math.Abs(v) < step*1e-9 {
		v = 0
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if pct {
		s += "%"
	}
	return s
}

// axes adds the y grid with labels and about six date labels on x.
func (f *frame) axes(c *svgChart, pct bool) {
	ticks := niceTicks(f.y0, f.y1, 5)
	step := 0.0
	if len(ticks) > 1 {
		step = ticks[1] - ticks[0]
	}
	for _, t := range ticks {
		y := coord(f.py(t))
		c.Grid = append(c.Grid, svgLine{coord(f.left), y, coord(f.w - f.right), y, "grid"})
		c.Labels = append(c.Labels, svgText{coord(f.left - 6), coord(f.py(t) + 4), "end", "tick", tickLabel(t, step, pct)})
	}
	bottom := f.top + f.plot
	c.Grid = append(c.Grid, svgLine{coord(f.left), coord(bottom), coord(f.w - f.right), coord(bottom), "axis"})
	const n = 6
	layout := "2006-01-02"
	if f.x1-f.x0 < 5*86400 {
		layout = "01-02 15:04"
	}
	for i := 0; i < n; i++ {
		x := f.x0 + (f.x1-f.x0)*float64(i)/float64(n-1)
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case n - 1:
			anchor = "end"
		}
		c.Labels = append(c.Labels, svgText{coord(f.px(x)), coord(bottom + 16), anchor, "tick", time.Unix(int64(x), 0).UTC().Format(layout)})
		if f.x1 == f.x0 {
			break
		}
	}
}

// legend lays out items in rows of three below the plot and returns the
// height they take.
func (f *frame) legend(c *svgChart, labels, colors []string) float64 {
	const perRow, rowH = 3, 18.0
	colW := (f.w - f.left - f.right) / perRow
	y0 := f.top + f.plot + 34
	for i, l := range labels {
		x := f.left + float64(i%perRow)*colW
		y := y0 + float64(i/perRow)*rowH
		c.Legend = append(c.Legend, svgLegend{coord(x), coord(y - 9), coord(x + 16), coord(y), colors[i], l})
	}
	rows := (len(labels) + perRow - 1) / perRow
	return float64(rows) * rowH
}

// downsample reduces a curve to at most max points: the curve is cut into
// max/2 buckets of consecutive points and each keeps its lowest and
// highest point (in time order), so peaks and troughs survive. The first
// and last points are always kept.
func downsample(xs, ys []float64, max int) ([]float64, []float64) {
	n := len(xs)
	if max < 4 {
		max = 4
	}
	if n <= max {
		return xs, ys
	}
	buckets := max/2 - 1
	ox, oy := make([]float64, 0, max), make([]float64, 0, max)
	ox, oy = append(ox, xs[0]), append(oy, ys[0])
	for b := 0; b < buckets; b++ {
		lo := 1 + b*(n-2)/buckets
		hi := 1 + (b+1)*(n-2)/buckets
		if lo >= hi {
			continue
		}
		mi, ma := lo, lo
		for i := lo; i < hi; i++ {
			if ys[i] < ys[mi] {
				mi = i
			}
			if ys[i] > ys[ma] {
				ma = i
			}
		}
		first, second := mi, ma
		if ma < mi {
			first, second = ma, mi
		}
		ox, oy = append(ox, xs[first]), append(oy, ys[first])
		if second != first {
			ox, oy = append(ox, xs[second]), append(oy, ys[second])
		}
	}
	ox, oy = append(ox, xs[n-1]), append(oy, ys[n-1])
	return ox, oy
}

// strideIndex returns at most max step indices spread evenly over n,
// always including the first and the last.
func strideIndex(n, max int) []int {
	if n == 0 {
		return nil
	}
	if max < 2 {
		max = 2
	}
	if n <= max {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, max)
	for k := 0; k < max; k++ {
		out = append(out, int(int64(k)*int64(n-1)/int64(max-1)))
	}
	return out
}

// curve is one named line of the equity chart.
type curve struct {
	name, color, width, dash string
	xs, ys                   []float64
}

func newFrame(w, h float64) *frame {
	return &frame{w: w, h: h, left: 72, right: 24, top: 16, plot: h}
}

// equityChart draws the strategy's equity against each benchmark.
func equityChart(r *Result, maxPoints int) svgChart {
	c := svgChart{ID: ChartEquity, Title: "Equity against the benchmarks (" + baseName(r) + ")", W: 960}
	if len(r.Steps) == 0 {
		c.Empty, c.H = "no steps", 60
		return c
	}
	xs := make([]float64, len(r.Steps))
	for i := range r.Steps {
		xs[i] = float64(r.Steps[i].Time.Unix())
	}
	curves := []curve{{"strategy " + r.Settings.Strategy, colorStrategy, "2.2", "", xs, equityValues(r)}}
	for i, b := range r.Benchmarks {
		if len(b.Curve) == 0 {
			continue
		}
		n := min(len(b.Curve), len(xs))
		bx, by := xs[:n:n], b.Curve[:n:n]
		dash := ""
		switch b.Kind {
		case BenchEqualWeight:
			dash = "6 3"
		case BenchBestSingle:
			dash = "1 3"
		}
		if b.NotInvestable != "" {
			continue // flat at the capital: nothing to compare with
		}
		curves = append(curves, curve{b.Name, benchColor(r, b, i), "1.2", dash, bx, by})
	}
	f := newFrame(960, 300)
	f.x0, f.x1 = xs[0], xs[len(xs)-1]
	f.y0, f.y1 = math.Inf(1), math.Inf(-1)
	for i := range curves {
		cv := &curves[i]
		pts := maxPoints
		if i > 0 {
			pts = max(maxPoints/3, 4) // benchmarks are smooth: fewer points keep their shape
		}
		cv.xs, cv.ys = downsample(cv.xs, cv.ys, pts)
		for _, y := range cv.ys {
			f.y0, f.y1 = math.Min(f.y0, y), math.Max(f.y1, y)
		}
	}
	pad := (f.y1 - f.y0) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(f.y1)*0.01, 1e-9)
	}
	f.y0, f.y1 = f.y0-pad, f.y1+pad
	f.axes(&c, false)
	names, colors := make([]string, len(curves)), make([]string, len(curves))
	// Benchmarks first, the strategy last: on top.
	for i := len(curves) - 1; i >= 0; i-- {
		cv := curves[i]
		title := cv.name + ": " + formatValue(cv.ys[0]) + " to " + formatValue(cv.ys[len(cv.ys)-1])
		op := "0.6"
		if i == 0 {
			op = "1"
		}
		c.Lines = append(c.Lines, svgPoly{f.points(cv.xs, cv.ys), cv.color, cv.width, cv.dash, title, op})
	}
	for i, cv := range curves {
		names[i], colors[i] = cv.name, cv.color
	}
	if c.Marks = monitorMarks(r, f); len(c.Marks) > 0 {
		names, colors = append(names, "risk monitor fired"), append(colors, colorMonitor)
	}
	lh := f.legend(&c, names, colors)
	c.H = int(f.top + f.plot + 34 + lh)
	return c
}

// benchColor colours a hold benchmark like its market and the others
// from the end of the palette.
//
// Every curve gets its own colour: a hold its market's, equal weight and
// best single colours after the markets' (best single is drawn dotted,
// over the hold it repeats).
func benchColor(r *Result, b Benchmark, i int) string {
	if b.Kind == "hold" && len(b.Markets) == 1 {
		for j, m := range r.Data.Markets {
			if m == b.Markets[0] {
				return marketColor(j)
			}
		}
	}
	return distinctColor(len(r.Data.Markets) + i)
}

// drawdownChart draws the equity curve's drawdown as an area below zero.
func drawdownChart(r *Result, maxPoints int) svgChart {
	c := svgChart{ID: ChartDrawdown, Title: "Drawdown from the running peak", W: 960}
	if len(r.Steps) == 0 {
		c.Empty, c.H = "no steps", 60
		return c
	}
	xs := make([]float64, len(r.Steps))
	for i := range r.Steps {
		xs[i] = float64(r.Steps[i].Time.Unix())
	}
	dd := Drawdowns(equityValues(r))
	ys := make([]float64, len(dd))
	for i, d := range dd {
		ys[i] = -d
	}
	xs, ys = downsample(xs, ys, maxPoints)
	f := newFrame(960, 180)
	f.x0, f.x1 = xs[0], xs[len(xs)-1]
	f.y1 = 0
	for _, y := range ys {
		f.y0 = math.Min(f.y0, y)
	}
	if f.y0 == 0 {
		f.y0 = -0.001
	}
	f.y0 *= 1.08
	f.axes(&c, true)
	ax := append([]float64{xs[0]}, xs...)
	ay := append([]float64{0}, ys...)
	ax, ay = append(ax, xs[len(xs)-1]), append(ay, 0)
	mdd := 0.0
	for _, d := range dd {
		mdd = math.Max(mdd, d)
	}
	c.Areas = append(c.Areas, svgPoly{Points: f.points(ax, ay), Color: colorNeg, Title: "max drawdown " + formatPct(mdd)})
	c.H = int(f.top + f.plot + 26)
	return c
}

// allocationChart stacks each market's share of NAV and idle's.
func allocationChart(r *Result, maxPoints int) svgChart {
	c := svgChart{ID: ChartAllocation, Title: "Allocation over time (share of NAV)", W: 960}
	if len(r.Steps) == 0 {
		c.Empty, c.H = "no steps", 60
		return c
	}
	idx := strideIndex(len(r.Steps), maxPoints)
	n := len(idx)
	xs := make([]float64, n)
	nm := len(r.Data.Markets)
	shares := make([][]float64, nm+1) // markets then idle
	for k := range shares {
		shares[k] = make([]float64, n)
	}
	for j, i := range idx {
		s := &r.Steps[i]
		xs[j] = float64(s.Time.Unix())
		nav := s.NAV.Float()
		if nav <= 0 {
			continue
		}
		for m := 0; m < nm && m < len(s.Values); m++ {
			shares[m][j] = math.Max(0, s.Values[m]/nav)
		}
		shares[nm][j] = math.Max(0, s.Idle.InexactFloat64()/nav)
	}
	f := newFrame(960, 260)
	f.x0, f.x1 = xs[0], xs[len(xs)-1]
	f.y0, f.y1 = 0, 1
	lower := make([]float64, n)
	var names, colors []string
	for k := 0; k <= nm; k++ {
		used := false
		for _, v := range shares[k] {
			if v > 0 {
				used = true
				break
			}
		}
		if !used {
			continue
		}
		name, color := "idle", colorIdle
		if k < nm {
			name, color = r.Data.Markets[k], marketColor(k)
		}
		upper := make([]float64, n)
		avg := 0.0
		for j := range upper {
			upper[j] = math.Min(1, lower[j]+shares[k][j])
			avg += shares[k][j]
		}
		px := make([]float64, 0, 2*n)
		py := make([]float64, 0, 2*n)
		px, py = append(px, xs...), append(py, upper...)
		for j := n - 1; j >= 0; j-- {
			px, py = append(px, xs[j]), append(py, lower[j])
		}
		c.Areas = append(c.Areas, svgPoly{Points: f.points(px, py), Color: color,
			Title: name + ": average " + formatPct(avg/float64(n)) + " of NAV"})
		names, colors = append(names, name), append(colors, color)
		lower = upper
	}
	f.axes(&c, true)
	lh := f.legend(&c, names, colors)
	c.H = int(f.top + f.plot + 34 + lh)
	return c
}

// attributionChart draws a horizontal bar per market's PnL (and idle, the
// vault fees, the locked profit and the total), right of zero for gains
// and left for losses.
func attributionChart(r *Result) svgChart {
	c := svgChart{ID: ChartAttribution, Title: "Yield attribution (" + baseName(r) + ")", W: 960}
	type bar struct {
		name  string
		v     float64
		color string
	}
	var bars []bar
	a := &r.Attribution
	for _, m := range a.Markets {
		bars = append(bars, bar{m.Market, m.PnL.InexactFloat64(), ""})
	}
	if !a.Idle.IsZero() {
		bars = append(bars, bar{"idle", a.Idle.InexactFloat64(), ""})
	}
	if !a.VaultFees.IsZero() {
		bars = append(bars, bar{"vault fees", -a.VaultFees.InexactFloat64(), ""})
	}
	if !a.Locked.IsZero() {
		bars = append(bars, bar{"locked profit", -a.Locked.InexactFloat64(), ""})
	}
	bars = append(bars, bar{"total", a.Total.InexactFloat64(), colorStrategy})
	const rowH, left = 24.0, 190.0
	f := &frame{w: 960, left: left, right: 110, top: 12, plot: rowH * float64(len(bars))}
	for _, b := range bars {
		f.x0, f.x1 = math.Min(f.x0, b.v), math.Max(f.x1, b.v)
	}
	if f.x0 == f.x1 {
		f.x1 = f.x0 + 1
	}
	zero := f.px(0)
	c.Grid = append(c.Grid, svgLine{coord(zero), coord(f.top - 4), coord(zero), coord(f.top + f.plot + 4), "axis"})
	for i, b := range bars {
		y := f.top + float64(i)*rowH
		x0, x1 := f.px(math.Min(0, b.v)), f.px(math.Max(0, b.v))
		color := b.color
		if color == "" {
			color = colorPos
			if b.v < 0 {
				color = colorNeg
			}
		}
		w := math.Max(x1-x0, 0.5)
		c.Bars = append(c.Bars, svgBar{coord(x0), coord(y + 4), coord(w), coord(rowH - 8), color, b.name + ": " + formatSigned(b.v)})
		c.Labels = append(c.Labels, svgText{coord(left - 10), coord(y + rowH/2 + 4), "end", "label", b.name})
		vx, anchor := x1+6, "start"
		if b.v < 0 {
			vx, anchor = x0-6, "end"
			if vx < left+40 {
				vx, anchor = x1+6, "start"
			}
		}
		c.Labels = append(c.Labels, svgText{coord(vx), coord(y + rowH/2 + 4), anchor, "tick", formatSigned(b.v)})
	}
	c.H = int(f.top + f.plot + 12)
	return c
}

func baseName(r *Result) string {
	if b := string(r.Settings.Vault.Base); b != "" {
		return b
	}
	return "base units"
}

// colorMonitor marks the times a risk monitor started firing.
const colorMonitor = "#c0392b"

// maxMarks bounds the monitor markers of the equity chart.
const maxMarks = 200

// monitorMarks are the equity chart's markers: one per step at which
// monitors started firing, its tooltip naming each with its markets,
// value and threshold.
func monitorMarks(r *Result, f *frame) []svgMark {
	var out []svgMark
	var at time.Time
	var parts []string
	flush := func() {
		if len(parts) == 0 || len(out) >= maxMarks {
			return
		}
		x := coord(f.px(float64(at.Unix())))
		out = append(out, svgMark{X: x, Y1: coord(f.py(f.y1)), Y2: coord(f.py(f.y0)), Color: colorMonitor,
			Title: formatDateTime(at) + ": " + strings.Join(parts, "; ")})
		parts = parts[:0]
	}
	for _, ev := range r.MonitorEvents {
		if ev.Status != "firing" {
			continue
		}
		if !ev.Time.Equal(at) {
			flush()
			at = ev.Time
		}
		p := ev.Monitor + " fires on " + ev.Market
		if ev.Value != "" {
			p += " (" + ev.Value + " against " + ev.Threshold + ")"
		}
		if ev.Action != "alert" {
			p += " -> " + ev.Action
		}
		parts = append(parts, p)
	}
	flush()
	return out
}
