package backtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// The files of a run folder. SummaryFile is written last: its presence
// marks a finished run (sweeps skip the runs that have one).
const (
	SummaryFile   = "summary.json"
	EquityFile    = "equity.csv"
	LedgerFile    = "ledger.csv"
	DecisionsFile = "decisions.csv"
	ReportFile    = "report.html"
)

// RunKey is everything that names a run folder: two runs with equal keys
// compute the same Result, so they share a folder. File is the strategy
// file's bytes (empty for a Go strategy), Catalog the bytes of an extra
// catalog file, Params the strategy's parameters after overrides, Source
// the data's description and Data its fingerprint (DataFingerprint).
// Zero From/To mean the data's own range.
type RunKey struct {
	Strategy string
	File     []byte
	Catalog  []byte
	Params   map[string]float64
	From, To time.Time
	Step     time.Duration
	Capital  decimal.Decimal
	Pricing  string
	RiskFree float64
	GasPrice float64
	// GasAssetPrice is Spec.GasAssetPrice; it enters the hash only when
	// set, so runs without it keep their folders.
	GasAssetPrice float64
	// MinGainOverCost is Spec.MinGainOverCost; it enters the hash only
	// when set.
	MinGainOverCost *float64
	Source          string
	Data            string
	// Monitors is the risk monitors file's bytes (the CLI's --monitors);
	// it enters the hash only when set, so runs with the built-in
	// monitors keep their folders.
	Monitors []byte
	// ExactSteps is Spec.ExactSteps; it enters the hash only when set.
	ExactSteps bool
}

// Hash is the first 8 hex digits of a SHA-256 over a canonical encoding of
// the key (parameters sorted by name, floats in their shortest exact form,
// times in RFC 3339 UTC).
func (k RunKey) Hash() string {
	h := sha256.New()
	field := func(name string, b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write([]byte(name))
		h.Write(n[:])
		h.Write(b)
	}
	field("strategy", []byte(k.Strategy))
	field("file", k.File)
	field("catalog", k.Catalog)
	names := make([]string, 0, len(k.Params))
	for n := range k.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		field("param", []byte(n+"="+strconv.FormatFloat(k.Params[n], 'g', -1, 64)))
	}
	field("from", []byte(timeKey(k.From)))
	field("to", []byte(timeKey(k.To)))
	field("step", []byte(k.Step.String()))
	field("capital", []byte(k.Capital.String()))
	field("pricing", []byte(k.Pricing))
	field("risk_free", []byte(strconv.FormatFloat(k.RiskFree, 'g', -1, 64)))
	field("gas_price", []byte(strconv.FormatFloat(k.GasPrice, 'g', -1, 64)))
	if k.GasAssetPrice != 0 {
		field("gas_asset_price", []byte(strconv.FormatFloat(k.GasAssetPrice, 'g', -1, 64)))
	}
	if k.MinGainOverCost != nil {
		field("min_gain_over_cost", []byte(strconv.FormatFloat(*k.MinGainOverCost, 'g', -1, 64)))
	}
	field("source", []byte(k.Source))
	field("data", []byte(k.Data))
	if len(k.Monitors) > 0 {
		field("monitors", k.Monitors)
	}
	if k.ExactSteps {
		field("exact_steps", []byte("true"))
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Name is the run folder's name: the strategy's name (characters other
// than letters, digits, '.', '_' and '-' replaced by '_') and the key's
// Hash, "lst-lrt-balanced-1a2b3c4d".
func (k RunKey) Name() string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, k.Strategy)
	name = strings.Trim(name, ".")
	if name == "" {
		name = "run"
	}
	return name + "-" + k.Hash()
}

// Dir is the run folder under out: out/Name().
func (k RunKey) Dir(out string) string { return filepath.Join(out, k.Name()) }

// DataFingerprint summarises a loaded window for RunKey.Data: its range
// and, per market, the row count and first and last row times and values.
// It is cheap (no scan of the rows) and changes when the data behind a
// source grows, shrinks or is re-imported with other end values.
func DataFingerprint(w *adapters.Window) string {
	if w == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d %d\n", w.From.Unix(), w.To.Unix())
	for _, s := range w.Series {
		fmt.Fprintf(h, "%s %d", s.Market.ID, s.Len())
		if s.Len() == 0 { // a market with no row in the window (issue 19)
			fmt.Fprintf(h, " %d\n", len(s.Events))
			continue
		}
		for _, i := range []int{0, s.Len() - 1} {
			fmt.Fprintf(h, " %d", s.Times[i])
			for f := range s.Cols {
				if c := s.Cols[f]; c != nil {
					fmt.Fprintf(h, " %x", math.Float64bits(c[i]))
				}
			}
		}
		fmt.Fprintf(h, " %d\n", len(s.Events))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Finished reports whether dir holds a finished run (a summary.json).
func Finished(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, SummaryFile))
	return err == nil && st.Mode().IsRegular()
}

// ReadSummary reads a finished run's summary.json back into a Result (the
// curves, ledger and decisions are not in it).
func ReadSummary(dir string) (*Result, error) {
	const op = "backtest.ReadSummary"
	path := filepath.Join(dir, SummaryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, adapters.E(op, adapters.KindNotFound, "%s: no finished run", dir)
		}
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "%s: %v", path, err)
	}
	return &r, nil
}

// WriteRun writes a run folder: equity.csv, ledger.csv, decisions.csv,
// monitors.csv (when the run evaluated risk monitors), report.html and,
// last, summary.json. Each file is written to a
// temporary file in dir and renamed into place, so a reader never sees a
// partial file and a folder with a summary.json holds a complete run.
func WriteRun(dir string, r *Result) error {
	return WriteRunWith(dir, r, WriteOptions{})
}

// WriteOptions selects what WriteRunWith writes.
type WriteOptions struct {
	// SummaryOnly writes summary.json alone: no CSV files and no
	// report.html (a sweep's --summary-only).
	SummaryOnly bool
}

// Complete reports whether dir holds a finished run with every file
// WriteRun writes (a summary-only folder is Finished, not Complete).
func Complete(dir string) bool {
	if !Finished(dir) {
		return false
	}
	for _, f := range []string{EquityFile, LedgerFile, DecisionsFile, ReportFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// WriteRunWith is WriteRun with options.
func WriteRunWith(dir string, r *Result, opt WriteOptions) error {
	const op = "backtest.WriteRun"
	if r == nil {
		return adapters.E(op, adapters.KindInvalid, "nil result")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	// A rerun into a finished folder first removes its marker, so that a
	// crash part way leaves an unfinished folder, not a mixed one.
	if err := os.Remove(filepath.Join(dir, SummaryFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	summary, err := SummaryJSON(r)
	if err != nil {
		return err
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{EquityFile, func(w io.Writer) error { return WriteEquityCSV(w, r) }},
		{LedgerFile, func(w io.Writer) error { return WriteLedgerCSV(w, r) }},
		{DecisionsFile, func(w io.Writer) error { return WriteDecisionsCSV(w, r) }},
		{ReportFile, func(w io.Writer) error { return WriteReport(w, r, ReportOptions{}) }},
		{SummaryFile, func(w io.Writer) error { _, err := w.Write(summary); return err }},
	}
	if len(r.Monitors) > 0 { // before report.html and summary.json
		files = slices.Insert(files, 3, struct {
			name  string
			write func(io.Writer) error
		}{MonitorsFile, func(w io.Writer) error { return WriteMonitorsCSV(w, r) }})
	}
	if opt.SummaryOnly {
		files = files[len(files)-1:]
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return adapters.Wrap(op, adapters.KindOther, err)
		}
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same folder,
// synced and renamed over path.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err = write(bw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SummaryJSON is the run's summary.json: the JSON of the Result (settings
// with every parameter, the data range and source, metrics, per-market
// statistics, attribution, benchmarks, data issues, events) in a canonical
// form: object keys sorted at every level, two-space indentation, every
// non-integer number written with 15 significant digits (strconv 'g'
// format, so that float noise in the last bits does not change the
// bytes), decimals as exact strings. It holds no wall-clock time: the same
// run gives the same bytes.
func SummaryJSON(r *Result) ([]byte, error) {
	return SummaryJSONWith(r, nil)
}

// SummaryJSONWith is SummaryJSON with extra top-level keys (the CLI's
// --json adds the run folder); a key of the summary's own is not
// replaced.
func SummaryJSONWith(r *Result, extra map[string]any) ([]byte, error) {
	const op = "backtest.SummaryJSON"
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "encoding the result: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "re-reading the result: %v", err)
	}
	nullUndefinedRatios(v)
	if top, ok := v.(map[string]any); ok {
		for k, x := range extra {
			if _, own := top[k]; !own {
				top[k] = x
			}
		}
	}
	var b bytes.Buffer
	if err := writeCanonical(&b, v, ""); err != nil {
		return nil, adapters.Wrap(op, adapters.KindInvalid, err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// undefinedRatios are the risk ratios of a Headline and the risk each
// divides by: a ratio whose risk is below RatioFloor is undefined.
var undefinedRatios = [...]struct{ ratio, risk string }{
	{"sharpe", "volatility"}, {"sortino", "downside_deviation"}, {"calmar", "max_drawdown"},
}

// nullUndefinedRatios writes undefined ratios as null in a decoded
// summary: every object with a ratio and its risk (a Headline's
// encoding), at any depth. A reader sees "undefined", not a ratio of 0.
func nullUndefinedRatios(v any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			nullUndefinedRatios(e)
		}
	case map[string]any:
		for _, p := range undefinedRatios {
			if _, ok := x[p.ratio]; !ok {
				continue
			}
			if n, ok := x[p.risk].(json.Number); ok {
				if f, err := n.Float64(); err == nil && f < RatioFloor {
					x[p.ratio] = nil
				}
			}
		}
		for _, e := range x {
			nullUndefinedRatios(e)
		}
	}
}

func writeCanonical(b *bytes.Buffer, v any, indent string) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		s, err := canonicalNumber(x)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case string:
		enc, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(enc)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[\n")
		in := indent + "  "
		for i, e := range x {
			b.WriteString(in)
			if err := writeCanonical(b, e, in); err != nil {
				return err
			}
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{\n")
		in := indent + "  "
		for i, k := range keys {
			kb, _ := json.Marshal(k)
			b.WriteString(in)
			b.Write(kb)
			b.WriteString(": ")
			if err := writeCanonical(b, x[k], in); err != nil {
				return err
			}
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	default:
		return fmt.Errorf("unexpected JSON value %T", v)
	}
	return nil
}

// canonicalNumber keeps integers as they are and writes other numbers
// with 15 significant digits.
func canonicalNumber(n json.Number) (string, error) {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		return s, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("number %s: %v", s, err)
	}
	return formatFloat(f), nil
}

// formatFloat is the fixed float format of every output file: 15
// significant digits, shortest form ('g'), "0" for zero and negative zero.
func formatFloat(f float64) string {
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Drawdowns returns 1 - V_i / max(V_0..V_i) for each value of a curve (0
// while the curve is at its running maximum or the maximum is <= 0).
func Drawdowns(values []float64) []float64 {
	out := make([]float64, len(values))
	peak := math.Inf(-1)
	for i, v := range values {
		if v > peak {
			peak = v
		}
		if peak > 0 {
			out[i] = math.Max(0, 1-v/peak)
		}
	}
	return out
}

// equityValues returns the strategy's equity curve as float64.
func equityValues(r *Result) []float64 {
	out := make([]float64, len(r.Steps))
	for i := range r.Steps {
		out[i] = r.Steps[i].Equity.Float()
	}
	return out
}

// WriteEquityCSV writes equity.csv: one row per step with the columns
//
//	time, nav, equity, pps, idle, costs, drawdown,
//	value:<market> for each market of the universe,
//	leverage:<market>, health_factor:<market>, liquidation_drop:<market>
//	for each loop market (empty while nothing is held; health factor
//	empty without debt),
//	bench:<name> for each benchmark's value at the step
//
// Decimals are exact; floats have 15 significant digits; drawdown is the
// equity curve's drawdown from its running peak (a fraction).
func WriteEquityCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	head := []string{"time", "nav", "equity", "pps", "idle", "costs", "drawdown"}
	for _, m := range r.Data.Markets {
		head = append(head, "value:"+m)
	}
	for _, m := range r.LoopMarkets {
		head = append(head, "leverage:"+m, "health_factor:"+m, "liquidation_drop:"+m)
	}
	for _, b := range r.Benchmarks {
		head = append(head, "bench:"+b.Name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	dd := Drawdowns(equityValues(r))
	row := make([]string, 0, len(head))
	for i := range r.Steps {
		s := &r.Steps[i]
		row = append(row[:0], formatTime(s.Time), s.NAV.String(), s.Equity.String(), s.PricePerShare.String(),
			s.Idle.String(), s.Costs.String(), formatFloat(dd[i]))
		for j := range r.Data.Markets {
			v := 0.0
			if j < len(s.Values) {
				v = s.Values[j]
			}
			row = append(row, formatFloat(v))
		}
		for j := range r.LoopMarkets {
			var p LoopPoint
			if j < len(s.Loops) {
				p = s.Loops[j]
			}
			lev, hf, drop := "", "", ""
			if p.Leverage > 0 {
				lev, drop = formatFloat(p.Leverage), formatFloat(p.LiquidationDrop)
				if p.HealthFactor > 0 {
					hf = formatFloat(p.HealthFactor)
				}
			}
			row = append(row, lev, hf, drop)
		}
		for _, b := range r.Benchmarks {
			v := ""
			if i < len(b.Curve) {
				v = formatFloat(b.Curve[i])
			}
			row = append(row, v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteLedgerCSV writes ledger.csv: every ledger entry in sequence order,
// with the columns seq, time, tick, type, user, market, amount, shares,
// gas, slippage, fee, cost (gas + slippage + fee), idle_delta (the change
// to idle) and reason.
func WriteLedgerCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"seq", "time", "tick", "type", "user", "market", "amount", "shares",
		"gas", "slippage", "fee", "cost", "idle_delta", "reason"}); err != nil {
		return err
	}
	for i := range r.Ledger {
		e := &r.Ledger[i]
		if err := cw.Write([]string{strconv.FormatUint(e.Seq, 10), formatTime(e.Time), formatTime(e.Tick),
			string(e.Type), e.User, e.Market, e.Amount.String(), e.Shares.String(), e.Gas.String(),
			e.Slippage.String(), e.Fee.String(), e.Cost().String(), e.IdleDelta().String(), e.Reason}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// previewFloat formats a decision's gain or cost, empty for a preview
// (the condition turned it down before they were computed).
func previewFloat(in *vault.Inputs, x float64) string {
	if in.Preview {
		return ""
	}
	return formatFloat(x)
}

// Decision outcomes (the outcome column of decisions.csv): the vault's
// vocabulary, shared with the service's decision log and metrics.
const (
	OutcomeTraded   = vault.OutcomeTraded
	OutcomeSkipped  = vault.OutcomeSkipped
	OutcomeRejected = vault.OutcomeRejected
	OutcomeOnTarget = vault.OutcomeOnTarget
)

// Outcome classifies a decision: traded, skipped, rejected or on_target
// (vault.Decision.Outcome).
func Outcome(d *vault.Decision) string { return d.Outcome() }

// FormatOrders is the orders of a decision in one line
// (vault.FormatOrders): "sell lido/steth 12.5 (instant, est. cost 0.01):
// reason; buy ...".
func FormatOrders(os []vault.Order) string { return vault.FormatOrders(os) }

// FormatRejected is the rejections of a decision in one line, sorted by
// market (vault.FormatRejected).
func FormatRejected(rs []vault.Rejection) string { return vault.FormatRejected(rs) }

// WriteDecisionsCSV writes decisions.csv: every rebalance decision in time
// order with the columns time, tick, trigger, outcome (Outcome), nav,
// idle, idle_target, gas_price, drift, gain_apy, cost_apy (empty for a
// decision its condition turned down on the drift alone: Inputs.Preview), n_orders,
// orders (FormatOrders), est_costs, reasons ("; "-joined) and rejected
// (FormatRejected: every trade considered and not made, with its reason).
func WriteDecisionsCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"time", "tick", "trigger", "outcome", "nav", "idle", "idle_target", "gas_price",
		"drift", "gain_apy", "cost_apy", "n_orders", "orders", "est_costs", "reasons", "rejected"}); err != nil {
		return err
	}
	for i := range r.Decisions {
		d := &r.Decisions[i]
		in := &d.Inputs
		if err := cw.Write([]string{formatTime(d.Time), formatTime(d.Tick), string(d.Trigger), Outcome(d),
			in.NAV.String(), in.Idle.String(), formatFloat(in.IdleTarget), formatFloat(in.GasPrice),
			formatFloat(in.Drift), previewFloat(in, in.GainAPY), previewFloat(in, in.CostAPY),
			strconv.Itoa(len(d.Orders)), FormatOrders(d.Orders), d.Costs.String(),
			strings.Join(d.Reasons, "; "), FormatRejected(d.Rejected)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
