package backtest

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

// Files of a Monte Carlo run folder.
const (
	MCPathsFile = "paths.csv"
)

// MCSettings are the inputs of a study, recorded in its summary.json.
type MCSettings struct {
	Strategy     string             `json:"strategy"`
	StrategyFile string             `json:"strategy_file,omitempty"`
	Params       map[string]float64 `json:"params,omitempty"`
	Scenario     string             `json:"scenario"`
	SlashScope   string             `json:"slash_scope,omitempty"`
	Rates        synth.EventRates   `json:"rates"`
	From         time.Time          `json:"from"`
	To           time.Time          `json:"to"`
	GenStep      string             `json:"generator_step"`
	Step         string             `json:"step"`
	Capital      string             `json:"capital"`
	Pricing      string             `json:"pricing"`
	Paths        int                `json:"paths"`
	Seed         uint64             `json:"seed"`
	// Borrows: the universe holds a market that borrows (a loop), so
	// prob_liquidation is defined.
	Borrows bool `json:"borrows,omitempty"`
}

// Settings returns the study's settings (StrategyFile is the caller's).
func (res *MCResult) Settings() MCSettings {
	if res.settings != nil {
		return *res.settings
	}
	ms := res.Spec
	sp := &ms.Spec
	rates := synth.ScenarioRates(ms.Scenario)
	if ms.Rates != nil {
		rates = *ms.Rates
	}
	scen := ms.Scenario
	if scen == "" {
		scen = "calm"
	}
	gen := ms.GenStep
	if gen == 0 {
		gen = time.Hour
	}
	step := "data"
	if sp.Step > 0 {
		step = sp.Step.String()
	}
	return MCSettings{Strategy: sp.Strategy.Name(), Params: sp.Params, Scenario: scen, SlashScope: ms.SlashScope, Rates: rates,
		From: sp.From.UTC(), To: sp.To.UTC(), GenStep: gen.String(), Step: step, Capital: sp.Capital.String(),
		Pricing: sp.Pricing.String(), Paths: ms.Paths, Seed: ms.Seed, Borrows: res.borrows}
}

// mcQuant is Quantiles in summary.json.
type mcQuant struct {
	P5   float64 `json:"p5"`
	P25  float64 `json:"p25"`
	P50  float64 `json:"p50"`
	P75  float64 `json:"p75"`
	P95  float64 `json:"p95"`
	Mean float64 `json:"mean"`
}

func jq(q Quantiles) mcQuant { return mcQuant{q.P5, q.P25, q.P50, q.P75, q.P95, q.Mean} }

// MonteCarloJSON is the study's summary.json: its settings, the
// distribution's figures and its warnings. The same study gives the same
// bytes.
func MonteCarloJSON(res *MCResult, file string) ([]byte, error) {
	st := res.Settings()
	st.StrategyFile = filepath.ToSlash(file)
	s := &res.Summary
	v := struct {
		Settings        MCSettings `json:"settings"`
		Paths           int        `json:"paths"`
		Failed          int        `json:"failed"`
		APY             mcQuant    `json:"apy"`
		MaxDrawdown     mcQuant    `json:"max_drawdown"`
		EndValue        mcQuant    `json:"end_value"`
		VaR95           float64    `json:"var_95"`
		CVaR95          float64    `json:"cvar_95"`
		ProbLoss        float64    `json:"prob_loss"`
		ProbQueueExit   float64    `json:"prob_queue_exit"`
		ProbLiquidation *float64   `json:"prob_liquidation"`
		Warnings        []string   `json:"warnings"`
	}{st, s.Paths, s.Failed, jq(s.APY), jq(s.MaxDrawdown), jq(s.EndValue), s.VaR95, s.CVaR95, s.ProbLoss, s.ProbQueueExit,
		s.ProbLiquidation, res.Warnings}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, adapters.Wrap("backtest.MonteCarloJSON", adapters.KindInvalid, err)
	}
	return append(b, '\n'), nil
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteMCPathsCSV writes paths.csv: one row per path in index order.
func WriteMCPathsCSV(w io.Writer, res *MCResult) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"path", "seed", "apy", "total_return", "max_drawdown", "end_value", "loss", "queue_exit", "liquidated", "slashes", "depegs", "pauses", "error"}); err != nil {
		return err
	}
	for _, p := range res.Paths {
		rec := []string{strconv.Itoa(p.Index), strconv.FormatUint(p.Seed, 10), g(p.APY), g(p.TotalReturn), g(p.MaxDrawdown), g(p.EndValue),
			strconv.FormatBool(p.Loss), strconv.FormatBool(p.QueueExit), strconv.FormatBool(p.Liquidated), strconv.Itoa(p.Slashes), strconv.Itoa(p.Depegs), strconv.Itoa(p.Pauses), p.Err}
		if p.Err != "" {
			rec = []string{strconv.Itoa(p.Index), strconv.FormatUint(p.Seed, 10), "", "", "", "", "", "", "", "", "", "", p.Err}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteMonteCarlo writes a study's folder: paths.csv, report.html and,
// last, summary.json (each through a temporary file).
func WriteMonteCarlo(dir, file string, res *MCResult) error {
	const op = "backtest.WriteMonteCarlo"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := os.Remove(filepath.Join(dir, SummaryFile)); err != nil && !os.IsNotExist(err) {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	summary, err := MonteCarloJSON(res, file)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{MCPathsFile, func(w io.Writer) error { return WriteMCPathsCSV(w, res) }},
		{ReportFile, func(w io.Writer) error { return WriteMCReport(w, res) }},
		{SummaryFile, func(w io.Writer) error { _, err := w.Write(summary); return err }},
	} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return adapters.Wrap(op, adapters.KindOther, err)
		}
	}
	return nil
}

//go:embed montecarlo.html.tmpl
var mcTemplate string

var mcTmpl = template.Must(template.Must(reportTmpl.Clone()).New("montecarlo").Parse(mcTemplate))

// WriteMCReport writes the study's self-contained report.html: the
// figures, histograms of APY and max drawdown, and a fan chart of equity
// (5-95% and 25-75% bands, the median), drawn with the backtest report's
// SVG charts and style.
func WriteMCReport(w io.Writer, res *MCResult) error {
	d := struct {
		S        MCSettings
		M        *MCSummary
		Warnings []string
		Charts   []svgChart
		Liq      string // P(liquidation), or why it is not defined
	}{res.Settings(), &res.Summary, res.Warnings, nil, "n/a (no market of the universe borrows)"}
	if p := res.Summary.ProbLiquidation; p != nil {
		d.Liq = formatPct(*p)
	}
	var apy, dd []float64
	for _, p := range res.Paths {
		if p.Err == "" {
			apy, dd = append(apy, p.APY), append(dd, p.MaxDrawdown)
		}
	}
	d.Charts = []svgChart{fanChart(res), histogram("mc-apy", "APY of the paths", apy), histogram("mc-dd", "Max drawdown of the paths", dd)}
	var b bytes.Buffer
	if err := mcTmpl.ExecuteTemplate(&b, "montecarlo", d); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// fanChart draws the equity quantiles over time.
func fanChart(res *MCResult) svgChart {
	c := svgChart{ID: "mc-fan", Title: "Equity of the paths: median, 25-75% and 5-95% bands", W: 960}
	if len(res.Fan) == 0 || res.Summary.Paths == res.Summary.Failed {
		c.Empty, c.H = "no finished path", 60
		return c
	}
	f := frame{w: 960, left: 70, right: 20, top: 14, plot: 300}
	c.H = int(f.top + f.plot + 60)
	f.x0, f.x1 = float64(res.FanTimes[0].Unix()), float64(res.FanTimes[len(res.FanTimes)-1].Unix())
	f.y0, f.y1 = math.Inf(1), math.Inf(-1)
	for _, q := range res.Fan {
		f.y0, f.y1 = math.Min(f.y0, q[0]), math.Max(f.y1, q[4])
	}
	pad := (f.y1 - f.y0) * 0.05
	if pad == 0 {
		pad = math.Abs(f.y1)*0.01 + 1e-9
	}
	f.y0, f.y1 = f.y0-pad, f.y1+pad
	f.axes(&c, false)
	xs := make([]float64, len(res.FanTimes))
	for i, t := range res.FanTimes {
		xs[i] = float64(t.Unix())
	}
	band := func(lo, hi int, color, title string) {
		var up, down []float64
		for _, q := range res.Fan {
			up, down = append(up, q[hi]), append(down, q[lo])
		}
		rx := make([]float64, 0, 2*len(xs))
		ry := make([]float64, 0, 2*len(xs))
		rx, ry = append(rx, xs...), append(ry, up...)
		for i := len(xs) - 1; i >= 0; i-- {
			rx, ry = append(rx, xs[i]), append(ry, down[i])
		}
		c.Areas = append(c.Areas, svgPoly{Points: f.points(rx, ry), Color: color, Title: title})
	}
	band(0, 4, "#d6dbe6", "5-95% of paths")
	band(1, 3, "#a9b3c9", "25-75% of paths")
	med := make([]float64, len(res.Fan))
	for i, q := range res.Fan {
		med[i] = q[2]
	}
	c.Lines = append(c.Lines, svgPoly{Points: f.points(xs, med), Color: colorStrategy, Width: "2.2", Title: "median"})
	return c
}

// histogram draws the distribution of xs (fractions) in about 30 bins.
func histogram(id, title string, xs []float64) svgChart {
	c := svgChart{ID: id, Title: title, W: 960}
	if len(xs) == 0 {
		c.Empty, c.H = "no finished path", 60
		return c
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if hi == lo {
		lo, hi = lo-0.0005, hi+0.0005
	}
	const bins = 30
	counts := make([]int, bins)
	for _, x := range xs {
		counts[min(bins-1, int((x-lo)/(hi-lo)*bins))]++
	}
	peak := 0
	for _, n := range counts {
		peak = max(peak, n)
	}
	f := frame{w: 960, left: 70, right: 20, top: 14, plot: 200, x0: lo, x1: hi, y0: 0, y1: float64(peak)}
	c.H = int(f.top + f.plot + 40)
	for _, t := range niceTicks(0, float64(peak), 4) {
		t += 0 // -0 (niceTicks' first tick) prints as "-0"
		y := coord(f.py(t))
		c.Grid = append(c.Grid, svgLine{coord(f.left), y, coord(f.w - f.right), y, "grid"})
		c.Labels = append(c.Labels, svgText{coord(f.left - 6), coord(f.py(t) + 4), "end", "tick", strconv.FormatFloat(t, 'f', 0, 64)})
	}
	bottom := f.top + f.plot
	c.Grid = append(c.Grid, svgLine{coord(f.left), coord(bottom), coord(f.w - f.right), coord(bottom), "axis"})
	ticks := niceTicks(lo, hi, 6)
	step := 0.0
	if len(ticks) > 1 {
		step = ticks[1] - ticks[0]
	}
	for _, t := range ticks {
		c.Labels = append(c.Labels, svgText{coord(f.px(t)), coord(bottom + 16), "middle", "tick", tickLabel(t, step, true)})
	}
	bw := (hi - lo) / bins
	for i, n := range counts {
		if n == 0 {
			continue
		}
		x0, x1 := lo+float64(i)*bw, lo+float64(i+1)*bw
		c.Bars = append(c.Bars, svgBar{X: coord(f.px(x0)), Y: coord(f.py(float64(n))), W: coord(math.Max(f.px(x1)-f.px(x0)-1, 1)),
			H: coord(bottom - f.py(float64(n))), Color: colorStrategy,
			Title: fmt.Sprintf("%s to %s: %d paths", formatPct(x0), formatPct(x1), n)})
	}
	return c
}
