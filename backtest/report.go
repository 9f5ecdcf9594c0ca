package backtest

import (
	_ "embed"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/internal/timefmt"
	"github.com/yieldvault/yieldvault/vault"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": formatPct,
	"pctn": func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return formatPct(v)
	},
	"num":     formatValue,
	"dec":     formatDec,
	"date":    func(t time.Time) string { return formatDateTime(t) },
	"ratio":   func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
	"outcome": func(d vault.Decision) string { return Outcome(&d) },
	"orders":  FormatOrders,
	"reject":  FormatRejected,
	"join":    strings.Join,
}).Parse(reportTemplate))

// ReportOptions tune report.html.
type ReportOptions struct {
	// MaxPoints bounds the points of the strategy's lines in the charts
	// (default 1500); benchmark lines and the allocation chart's bands
	// get a third of it.
	MaxPoints int
	// Decisions is how many of the last decisions the report lists
	// (default 50).
	Decisions int
}

type reportRow struct {
	Name          string
	H             Headline
	Note          string
	NotInvestable string
	Main          bool
	// Excess is the strategy's total return minus this benchmark's.
	Excess string
}

type reportKV struct{ Key, Value string }

type reportData struct {
	R          *Result
	Base       string
	Rows       []reportRow
	Charts     []svgChart
	Params     []reportKV
	Settings   []reportKV
	Decisions  []vault.Decision
	DecisionsN int
	Skipped    int
	// Requested is the range asked for when the run was clipped to the
	// data; IssueCounts the data issues by kind ("gap 3, late_start 1").
	Requested   string
	IssueCounts string
	// Months are the monthly returns; Trades the last fills with their
	// costs (TradesN in all).
	Months     []monthRow
	BenchNames []string
	Trades     []tradeRow
	TradesN    int
	// MonitorEvents are the first risk-monitor changes the report lists
	// (MonitorSkipped when monitors.csv has more).
	MonitorEvents  []MonitorEvent
	MonitorSkipped bool
}

// WriteReport writes report.html: one self-contained HTML file (inline CSS
// and SVG, no script, no external reference) with the headline metrics of
// the strategy and its benchmarks side by side, four charts (equity
// against the benchmarks, drawdown, allocation over time, attribution),
// the trading and cost metrics, per-market statistics, the parameters and
// settings, the data range and issues, the events applied, and the last
// decisions with their reasons.
func WriteReport(w io.Writer, r *Result, o ReportOptions) error {
	if o.MaxPoints <= 0 {
		o.MaxPoints = 1500
	}
	if o.Decisions <= 0 {
		o.Decisions = 50
	}
	d := reportData{R: r, Base: baseName(r)}
	d.Rows = append(d.Rows, reportRow{Name: "strategy " + r.Settings.Strategy, H: r.Metrics.Headline, Main: true})
	for _, b := range r.Benchmarks {
		name := b.Name
		if !b.From.IsZero() {
			name += " (from " + formatDateTime(b.From) + ")"
		}
		d.Rows = append(d.Rows, reportRow{Name: name, H: b.Metrics, Note: b.Note, NotInvestable: b.NotInvestable,
			Excess: excess(r.Metrics.Headline, b)})
	}
	d.Charts = []svgChart{
		equityChart(r, o.MaxPoints),
		drawdownChart(r, o.MaxPoints),
		allocationChart(r, o.MaxPoints/3),
		attributionChart(r),
		costChart(r, o.MaxPoints/3),
	}
	d.Charts = append(d.Charts, marketCharts(r, o.MaxPoints/3)...)
	d.Charts = append(d.Charts, loopCharts(r, o.MaxPoints/3)...)
	d.Months = monthlyReturns(r)
	d.BenchNames = benchNames(r)
	d.Trades, d.TradesN = trades(r, o.Decisions)
	names := make([]string, 0, len(r.Settings.Params))
	for k := range r.Settings.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		d.Params = append(d.Params, reportKV{k, strconv.FormatFloat(r.Settings.Params[k], 'g', -1, 64)})
	}
	d.Settings = settingsKV(r)
	if s := &r.Settings; !s.RequestedFrom.IsZero() || !s.RequestedTo.IsZero() {
		f, t := s.From, s.To
		if !s.RequestedFrom.IsZero() {
			f = s.RequestedFrom
		}
		if !s.RequestedTo.IsZero() {
			t = s.RequestedTo
		}
		d.Requested = formatDateTime(f) + " to " + formatDateTime(t)
	}
	d.IssueCounts = IssueCounts(r.DataIssues)
	d.MonitorEvents = r.MonitorEvents
	if len(d.MonitorEvents) > o.Decisions*4 {
		d.MonitorEvents, d.MonitorSkipped = d.MonitorEvents[:o.Decisions*4], true
	}
	n := len(r.Decisions)
	first := max(0, n-o.Decisions)
	d.DecisionsN, d.Skipped = n, first
	for i := n - 1; i >= first; i-- { // newest first
		d.Decisions = append(d.Decisions, r.Decisions[i])
	}
	return reportTmpl.Execute(w, d)
}

// IssueCounts counts data issues by kind, kinds sorted: "gap 12,
// late_start 1" ("" when there are none).
func IssueCounts(issues []DataIssue) string {
	n := map[string]int{}
	var kinds []string
	for _, d := range issues {
		if n[d.Kind] == 0 {
			kinds = append(kinds, d.Kind)
		}
		n[d.Kind]++
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = k + " " + strconv.Itoa(n[k])
	}
	return strings.Join(parts, ", ")
}

func settingsKV(r *Result) []reportKV {
	s := &r.Settings
	v := &s.Vault
	kv := []reportKV{
		{"strategy", s.Strategy},
		{"strategy file", s.StrategyFile},
		{"universe", strings.Join(s.Universe, ", ")},
		{"run", formatDateTime(s.From) + " to " + formatDateTime(s.To)},
		{"step", s.Step},
		{"look-back", s.Lookback},
		{"capital", s.Capital.String() + " " + baseName(r)},
		{"pricing", s.Pricing},
		{"gas price (where the data has none)", formatValue(s.GasPrice) + " gwei"},
		{"risk-free rate", formatPct(s.RiskFree)},
		{"data source", s.Source},
		{"vault idle floor", formatPct(v.IdleFloor)},
		{"management fee", formatPct(v.ManagementFee) + " a year"},
		{"performance fee", formatPct(v.PerformanceFee)},
		{"profit unlock", timefmt.Duration(v.ProfitUnlock)},
		{"min trade", v.Rebalance.MinTrade.String()},
		{"min gain over cost", formatValue(v.Rebalance.MinGainOverCost)},
		{"max gas price", formatValue(v.Rebalance.MaxGasPrice)},
		{"max slippage", formatPct(v.Rebalance.MaxSlippage)},
		{"compound harvests", strconv.FormatBool(v.CompoundHarvest)},
	}
	out := kv[:0]
	for _, e := range kv {
		if e.Value != "" {
			out = append(out, e)
		}
	}
	return out
}

func formatPct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
}

// formatValue writes a float with 6 significant digits.
func formatValue(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// formatAmount writes an amount for reading: 4 significant digits with a
// thousand, million or billion suffix ("603.8M", "12.35K", "0.004512").
func formatAmount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	a := math.Abs(v)
	for _, u := range []struct {
		div float64
		sfx string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}} {
		if a >= u.div {
			return strconv.FormatFloat(v/u.div, 'g', 4, 64) + u.sfx
		}
	}
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func formatSigned(v float64) string {
	s := formatValue(v)
	if v > 0 {
		s = "+" + s
	}
	return s
}

// formatDec writes a decimal rounded to 6 places.
func formatDec(d decimal.Decimal) string { return d.Round(6).String() }

func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04")
}
