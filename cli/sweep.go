package cli

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// maxRangeValues bounds the values one range of --param expands to.
const maxRangeValues = 10000

// expandRange expands one --param range MIN:MAX:STEP of parameter k into
// its values as decimal strings: MIN, MIN+STEP, ... up to MAX inclusive,
// computed in exact decimal arithmetic (0.98:0.995:0.005 is 0.98, 0.985,
// 0.99, 0.995, never 0.9949999). STEP must be > 0, MIN <= MAX and MAX -
// MIN a whole number of steps; each is a usage error naming the flag.
func expandRange(k, r string) ([]string, error) {
	parts := strings.Split(r, ":")
	if len(parts) != 3 {
		return nil, usagef("--param %s: range %q is not MIN:MAX:STEP", k, r)
	}
	var d [3]decimal.Decimal
	for i, p := range parts {
		x, err := decimal.NewFromString(strings.TrimSpace(p))
		if err != nil {
			return nil, usagef("--param %s: range %q: %q is not a decimal number (MIN:MAX:STEP)", k, r, strings.TrimSpace(p))
		}
		d[i] = x
	}
	lo, hi, step := d[0], d[1], d[2]
	switch {
	case step.Sign() <= 0:
		return nil, usagef("--param %s: range %q: the step %s must be greater than 0", k, r, step)
	case lo.Cmp(hi) > 0:
		return nil, usagef("--param %s: range %q: the start %s is above the end %s", k, r, lo, hi)
	}
	span := hi.Sub(lo)
	if !span.Mod(step).IsZero() {
		last := lo.Add(span.Div(step).Floor().Mul(step))
		return nil, usagef("--param %s: range %q: steps of %s from %s do not reach %s (the last would be %s)", k, r, step, lo, hi, last)
	}
	n := span.Div(step).IntPart() + 1
	if n > maxRangeValues {
		return nil, usagef("--param %s: range %q has %d values, more than %d", k, r, n, maxRangeValues)
	}
	out := make([]string, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, lo.Add(step.Mul(decimal.NewFromInt(i))).String())
	}
	return out, nil
}

// sweepPoint is one point of a sweep in sweep.csv and --json: its rank,
// parameters, status, metrics (an undefined ratio is null in JSON and
// empty in the CSV) and run folder.
type sweepPoint struct {
	Rank        int                `json:"rank"`
	Key         string             `json:"key"`
	Params      map[string]float64 `json:"params"`
	Status      string             `json:"status"`
	Objective   *float64           `json:"objective"`
	APY         *float64           `json:"apy"`
	TotalReturn *float64           `json:"total_return"`
	Volatility  *float64           `json:"volatility"`
	Sharpe      *float64           `json:"sharpe"`
	Sortino     *float64           `json:"sortino"`
	MaxDrawdown *float64           `json:"max_drawdown"`
	Calmar      *float64           `json:"calmar"`
	EndValue    *float64           `json:"end_value"`
	RunFolder   string             `json:"run_folder"`
	Error       string             `json:"error,omitempty"`
}

func fptr(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

// sweepPoints turns sorted rows into points, ranks from 1.
func sweepPoints(rows []sweepRow) []sweepPoint {
	out := make([]sweepPoint, len(rows))
	for i, r := range rows {
		m := &r.run.Metrics
		p := sweepPoint{Rank: i + 1, Key: r.run.Key, Params: r.run.Params, Status: r.status, RunFolder: r.dir}
		if r.status == "failed" {
			p.Error = goOp.ReplaceAllString(r.run.Err, "")
		} else {
			p.Objective = fptr(r.run.Objective, !r.run.Undefined)
			p.APY, p.TotalReturn, p.Volatility = fptr(m.APY, true), fptr(m.TotalReturn, true), fptr(m.Volatility, true)
			p.Sharpe, p.Sortino = fptr(m.Sharpe, m.SharpeDefined()), fptr(m.Sortino, m.SortinoDefined())
			p.MaxDrawdown, p.Calmar = fptr(m.MaxDrawdown, true), fptr(m.Calmar, m.CalmarDefined())
			p.EndValue = fptr(m.EndValue, true)
		}
		out[i] = p
	}
	return out
}

// sweepDir is the sweep's own folder under out: "sweep-" + the strategy's
// name + a hash of the objective and of every point's run folder (which
// already hashes the file, the parameters, the settings and the data).
func sweepDir(out, strategy, objective string, folders []string) string {
	fs := append([]string(nil), folders...)
	sort.Strings(fs)
	h := sha256.New()
	fmt.Fprintf(h, "sweep\nobjective %s\n", objective)
	for _, f := range fs {
		fmt.Fprintf(h, "%s\n", filepath.Base(f))
	}
	return filepath.Join(out, "sweep-"+strategy+"-"+hex.EncodeToString(h.Sum(nil))[:8])
}

// writeSweepCSV writes sweep.csv: one row per point in rank order with
// the columns rank, key, one column per swept parameter (sorted by name),
// status, objective, the headline metrics, run_folder (relative to the
// sweep's --out) and error. Undefined values are empty cells.
func writeSweepCSV(w io.Writer, points []sweepPoint, names []string) error {
	cw := csv.NewWriter(w)
	head := append([]string{"rank", "key"}, names...)
	head = append(head, "status", "objective", "apy", "total_return", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "end_value", "run_folder", "error")
	if err := cw.Write(head); err != nil {
		return err
	}
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for _, p := range points {
		rec := []string{strconv.Itoa(p.Rank), p.Key}
		for _, n := range names {
			rec = append(rec, strconv.FormatFloat(p.Params[n], 'g', -1, 64))
		}
		rec = append(rec, p.Status, num(p.Objective), num(p.APY), num(p.TotalReturn), num(p.Volatility), num(p.Sharpe),
			num(p.Sortino), num(p.MaxDrawdown), num(p.Calmar), num(p.EndValue), filepath.Base(p.RunFolder), p.Error)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// saveSweepCSV writes dir/sweep.csv through a temporary file.
func saveSweepCSV(dir string, points []sweepPoint, names []string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "sweep.csv")
	tmp, err := os.CreateTemp(dir, ".sweep.csv.tmp*")
	if err != nil {
		return "", err
	}
	if err := writeSweepCSV(tmp, points, names); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// sweepJSON is the --json output of a sweep.
func sweepJSON(w io.Writer, objective, csvPath string, summaryOnly bool, points []sweepPoint) error {
	v := struct {
		Objective   string       `json:"objective"`
		SummaryOnly bool         `json:"summary_only"`
		SweepCSV    string       `json:"sweep_csv"`
		Points      []sweepPoint `json:"points"`
	}{objective, summaryOnly, csvPath, points}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
