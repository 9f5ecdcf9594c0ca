package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// runFlags are the flags backtest and sweep share.
type runFlags struct {
	file     string
	universe []string // --universe of a Go strategy
	from, to string
	capital  string
	step     string
	pricing  string
	riskFree float64
	out      string
	// gasAsset is one ETH in the base for gas costs where the data has no
	// ETH price; gasMarket an ETH market loaded with the universe whose
	// base_usd gives that price.
	gasAsset  float64
	gasMarket string
	// minGain is --min-gain-over-cost ("" keeps the strategy's or the
	// vault's default).
	minGain string
	// monitors is --monitors: a risk monitors file ("": the built-ins).
	monitors string
	// exactSteps is --exact-steps (backtest.Spec.ExactSteps).
	exactSteps bool
}

func (f *runFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.file, "strategy", "s", "", "strategy file (YAML), or go:NAME for a registered Go strategy")
	cmd.Flags().StringArrayVar(&f.universe, "universe", nil, "markets of a Go strategy (go:NAME), comma separated (default: its own)")
	cmd.Flags().StringVar(&f.from, "from", "", "start of the run (RFC3339 or YYYY-MM-DD; default: the start of the data)")
	cmd.Flags().StringVar(&f.to, "to", "", "end of the run (default: the end of the data)")
	cmd.Flags().StringVar(&f.capital, "capital", "", "the investor's deposit at the start, in the base asset (default: "+defaultCapitals+")")
	cmd.Flags().StringVar(&f.step, "step", "", "simulated step (1h, 6h, 1d, ...; default: the data's own timestamps)")
	cmd.Flags().StringVar(&f.pricing, "pricing", "rate", "value positions at the protocols' exchange rates (rate) or at market prices (market)")
	cmd.Flags().BoolVar(&f.exactSteps, "exact-steps", false, "record every step at the vault's exact figures (default: steps where the vault books nothing at its mark, to 15 significant digits; much faster)")
	cmd.Flags().Float64Var(&f.riskFree, "risk-free", 0, "annual risk-free rate of Sharpe and Sortino, a fraction (0.04 = 4%)")
	cmd.Flags().StringVar(&f.out, "out", "runs", "folder that receives the run folders")
	cmd.Flags().Float64Var(&f.gasAsset, "gas-asset-price", 0, "one ETH in the base asset for gas costs where the data has no ETH price (default: 1 ETH, 3000 USD, 0.05 BTC)")
	cmd.Flags().StringVar(&f.minGain, "min-gain-over-cost", "", "a buy must expect to earn this multiple of its cost over the holding horizon (default: the strategy's rebalance.min_gain_over_cost, else 3; 0 turns the test off)")
	cmd.Flags().StringVar(&f.gasMarket, "gas-asset-market", "", "an ETH market loaded with the universe (not traded) whose base_usd prices gas for a USD or BTC vault")
	cmd.Flags().StringVar(&f.monitors, "monitors", "", "risk monitors file: the keys of a service vault's monitors section (builtin; rules with name, when, action, severity); default: the built-in monitors, alert only")
}

// runSetup is what a backtest or a sweep loads before running: the
// strategy, the data (loaded once) and the settings every run shares.
type runSetup struct {
	strategy *strat
	fileData []byte
	catalog  []byte
	spec     backtest.Spec // Strategy and Params are set per run
	key      backtest.RunKey
	out      string
}

// parseRunStep parses --step: empty or "data" for the data's own
// timestamps, else a positive duration (parseStep: 1h, 6h, 1d).
func parseRunStep(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "data" {
		return 0, nil
	}
	d, err := parseStep(s)
	if err != nil {
		return 0, usagef("--%v", err)
	}
	return d, nil
}

// setup validates the shared flags, loads the strategy with params
// applied (nil for a sweep) and the universe's history.
func (a *app) setup(ctx context.Context, f *runFlags, params []string) (*runSetup, error) {
	if f.file == "" {
		return nil, usagef("-s FILE (a strategy file, or go:NAME) is required")
	}
	capital, err := parseCapital(f.capital)
	if err != nil {
		return nil, err
	}
	step, err := parseRunStep(f.step)
	if err != nil {
		return nil, err
	}
	pricing, err := adapters.ParsePricing(f.pricing)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--pricing: %w", err)}
	}
	if math.IsNaN(f.riskFree) || math.IsInf(f.riskFree, 0) || f.riskFree <= -1 || f.riskFree > 1 {
		return nil, usagef("--risk-free %g is not a rate between -1 and 1 (0.04 = 4%%)", f.riskFree)
	}
	var from, to time.Time
	if f.from != "" {
		if from, err = parseTime(f.from); err != nil {
			return nil, err
		}
	}
	if f.to != "" {
		if to, err = parseTime(f.to); err != nil {
			return nil, err
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, adapters.E("backtest", adapters.KindInvalid, "empty range: --from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if f.out == "" {
		return nil, usagef("--out must name a folder")
	}
	var minGain *float64
	if f.minGain != "" {
		x, err := strconv.ParseFloat(strings.TrimSpace(f.minGain), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return nil, usagef("--min-gain-over-cost %q is not a number >= 0", f.minGain)
		}
		minGain = &x
	}
	if math.IsNaN(f.gasAsset) || f.gasAsset < 0 || f.gasAsset > 1e12 {
		return nil, usagef("--gas-asset-price %g is not within [0, 1e12]", f.gasAsset)
	}
	cat, err := a.catalog()
	if err != nil {
		return nil, err
	}
	var catBytes []byte
	if a.catalogFile != "" {
		if catBytes, err = os.ReadFile(a.catalogFile); err != nil {
			return nil, adapters.E("backtest", adapters.KindNotFound, "%v", err)
		}
	}
	s, err := a.loadStrategy(f.file, cat, parseUniverse(f.universe), params)
	if err != nil {
		return nil, err
	}
	fileData := s.data
	if cf := s.CatalogFile(); cf != "" { // the strategy's own catalog is part of the run's inputs
		b, err := os.ReadFile(cf)
		if err != nil {
			return nil, adapters.E("backtest", adapters.KindNotFound, "%v", err)
		}
		catBytes = append(append(catBytes, 0), b...)
	}
	cat = s.Catalog()
	if capital.Sign() == 0 {
		capital = defaultCapital(s.Base())
	}
	lookback := backtest.DefaultLookback
	if l := s.Lookback(); l > 0 {
		lookback = l
	}
	db, err := a.openDB(ctx, false)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	load := s.Universe()
	if f.gasMarket != "" {
		m, err := cat.Market(f.gasMarket)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--gas-asset-market: %w", err)}
		}
		if m.Base != adapters.ETH {
			return nil, usagef("--gas-asset-market %s is a %s market, not an ETH one", m.ID, m.Base)
		}
		if !slices.Contains(load, m.ID) {
			load = append(slices.Clip(load), m.ID)
		}
	}
	monitors, monBytes, err := backtestMonitors(f.monitors, s, cat)
	if err != nil {
		return nil, err
	}
	w, err := backtest.LoadUniverse(ctx, db, load, from, to, lookback)
	if err != nil {
		return nil, err
	}
	stored := backtest.StoredRanges(ctx, db, load)
	rs := &runSetup{strategy: s, fileData: fileData, catalog: catBytes, out: f.out}
	rs.spec = backtest.Spec{
		Universe: s.Universe(), Catalog: cat, Data: w, Lookback: lookback, From: from, To: to, Step: step,
		Capital: capital, Pricing: pricing, RiskFree: f.riskFree, Source: a.dbName(), GasAssetPrice: f.gasAsset,
		DataRanges: stored, MinGainOverCost: minGain, Monitors: monitors, ExactSteps: f.exactSteps,
	}
	rs.key = backtest.RunKey{
		Strategy: s.Name(), File: fileData, Catalog: catBytes, From: from, To: to, Step: step,
		Capital: capital, Pricing: pricing.String(), RiskFree: f.riskFree, Source: a.dbName(), GasAssetPrice: f.gasAsset,
		Data: backtest.DataFingerprint(w), MinGainOverCost: minGain, Monitors: monBytes, ExactSteps: f.exactSteps,
	}
	return rs, nil
}

// specFor is the setup's Spec for one strategy (with its params applied).
func (rs *runSetup) specFor(s *strat) backtest.Spec {
	sp := rs.spec
	sp.Strategy, sp.Params = s.s(), s.Params()
	return sp
}

// keyFor is the run key of one strategy (with its params applied).
func (rs *runSetup) keyFor(s *strat) backtest.RunKey {
	k := rs.key
	k.Params = s.Params()
	return k
}

// writeRun completes a result's settings with the strategy file and
// writes its folder.
func writeRun(dir, file string, r *backtest.Result) error {
	r.Settings.StrategyFile = filepath.ToSlash(file)
	return backtest.WriteRun(dir, r)
}

func newBacktestCmd(a *app) *cobra.Command {
	var f runFlags
	var params []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backtest -s FILE|go:NAME [--from T] [--to T] [--capital X] [--param k=v]... [--monitors FILE] [--out DIR]",
		Short: "Replay a strategy over the market history and write a run folder",
		Long: `Run a strategy over the history (--db, default: the embedded synthetic history) on a
simulated clock and write a run folder under --out: summary.json, equity.csv, ledger.csv,
decisions.csv and a self-contained report.html. Prints the metrics of the strategy and of
its benchmarks (hold each market, equal weight, best single market) side by side; the last
line is the run folder's path. With --json, prints summary.json instead.

The vault's risk monitors are evaluated at every step, as the service evaluates them: the
built-in ones alert only (monitors.csv, the summary, the report); --monitors FILE takes the
keys of a service vault's monitors section (builtin, rules) to add monitors, turn the
built-ins off or bind them to pause or exit (docs/backtesting.md, Risk monitors).

The folder's name is the strategy's name and a hash of the strategy file, the parameters,
the settings and the data: the same inputs always write the same folder, byte for byte.
docs/backtesting.md defines every metric.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rs, err := a.setup(ctx, &f, params)
			if err != nil {
				return err
			}
			sp := rs.specFor(rs.strategy)
			update, finish := a.runProgress()
			sp.Progress = update
			res, err := backtest.Run(ctx, sp)
			finish()
			if err != nil {
				return err
			}
			dir := rs.keyFor(rs.strategy).Dir(rs.out)
			if err := writeRun(dir, f.file, res); err != nil {
				return err
			}
			if asJSON {
				b, err := backtest.SummaryJSONWith(res, map[string]any{"run_folder": dir})
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(b)
				return err
			}
			printSummary(a.stdout, res)
			fmt.Fprintln(a.stdout, dir)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&params, "param", nil, "override a strategy parameter k=v (repeatable; a Go strategy's durations as 14d)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print summary.json instead of the table (the run folder is still written)")
	return cmd
}

// backtestMonitors compiles the run's risk monitors over the strategy's
// universe: the file's (monitor.LoadFile, errors at file:line:col), else
// the built-ins alert-only. The file's bytes enter the run key.
func backtestMonitors(file string, s *strat, cat *adapters.Catalog) ([]monitor.Monitor, []byte, error) {
	c := &monitor.Compiler{Catalog: cat}
	if file == "" {
		ms, err := c.Compile(monitor.File{}, s.Universe(), s.Base())
		return ms, nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		kind := adapters.KindInvalid
		if os.IsNotExist(err) {
			kind = adapters.KindNotFound
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, &adapters.Error{Op: "--monitors", Kind: kind, Pos: file, Err: err}
	}
	ms, err := monitor.Parse(file, data, c, s.Universe(), s.Base())
	if err != nil {
		return nil, nil, err
	}
	return ms, append([]byte("monitors\x00"), data...), nil
}

// runProgress returns a backtest progress callback drawing a bar on
// stderr when stderr is a terminal: the simulated date, the NAV, market
// rows (market-steps) a second and the time left.
func (a *app) runProgress() (func(backtest.Progress), func()) {
	if !a.isTerminal(a.stderr) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	update := func(p backtest.Progress) {
		markets := max(1, p.Markets)
		if bar == nil {
			bar = progressbar.NewOptions(p.Steps*markets,
				progressbar.OptionSetWriter(a.stderr),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("rows"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		bar.Describe(fmt.Sprintf("%s NAV %s", p.Time.UTC().Format("2006-01-02"), p.NAV.StringFixed(4)))
		_ = bar.Set(p.Step * markets)
	}
	return update, func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}
}

// printSummary prints the run's metrics and its benchmarks' side by side,
// then the costs and activity.
func printSummary(w io.Writer, r *backtest.Result) {
	s := &r.Settings
	base := string(s.Vault.Base)
	fmt.Fprintf(w, "backtest %s: %s to %s, capital %s %s, %s pricing, step %s\n", s.Strategy,
		s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339), s.Capital, base, s.Pricing, s.Step)
	if !s.RequestedFrom.IsZero() || !s.RequestedTo.IsZero() {
		rf, rt := s.From, s.To
		if !s.RequestedFrom.IsZero() {
			rf = s.RequestedFrom
		}
		if !s.RequestedTo.IsZero() {
			rt = s.RequestedTo
		}
		fmt.Fprintf(w, "range asked: %s to %s, CLIPPED to the data\n", rf.UTC().Format(time.RFC3339), rt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "data: %s, %d markets, %d steps, %d observations, %d gaps forward filled\n",
		s.Source, len(r.Data.Markets), r.Data.Steps, r.Data.Rows, r.Data.Gaps)
	if r.Data.MarkedSteps > 0 {
		fmt.Fprintf(w, "steps: %d of %d recorded at the vault's mark, where it booked nothing (float64, 15 significant digits; --exact-steps records every step exactly)\n",
			r.Data.MarkedSteps, r.Data.Steps)
	}
	printRanges(w, r)
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", m)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CURVE\tEND VALUE\tRETURN\tAPY\tVOLATILITY\tSHARPE\tSORTINO\tMAX DD\tCALMAR\t")
	row := func(name string, h backtest.Headline) {
		fmt.Fprintf(tw, "%s\t%.4f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, h.EndValue, pct(h.TotalReturn), pct(h.APY),
			pct(h.Volatility), ratio(h.Sharpe, h.SharpeDefined()), ratio(h.Sortino, h.SortinoDefined()), pct(h.MaxDrawdown),
			ratio(h.Calmar, h.CalmarDefined()))
	}
	row("strategy", r.Metrics.Headline)
	var notes []string
	for _, b := range r.Benchmarks {
		name := b.Name
		if !b.From.IsZero() {
			name += " (from " + b.From.UTC().Format("2006-01-02") + ")"
		}
		if b.NotInvestable != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t\n", name)
			notes = append(notes, fmt.Sprintf("%s: not investable: %s", b.Name, b.NotInvestable))
			continue
		}
		row(name, b.Metrics)
		if b.Note != "" {
			notes = append(notes, b.Name+": "+b.Note)
		}
	}
	_ = tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	m := &r.Metrics
	fmt.Fprintf(w, "\nprofit %s %s; costs: gas %s, slippage %s, protocol fees %s, vault fees %s\n",
		m.PnL.StringFixed(6), base, m.Gas.StringFixed(6), m.Slippage.StringFixed(6), m.ProtocolFees.StringFixed(6), m.VaultFees.StringFixed(6))
	fmt.Fprintf(w, "activity: %d decisions, %d rebalances, %d exits, %d harvests, %d orders; turnover %.2f (%.2f a year)\n",
		m.Decisions, m.Rebalances, m.Exits, m.Harvests, m.Orders, m.Turnover, m.TurnoverAnnual)
	if m.MaxDrawdown > 0 {
		rec := "not recovered"
		if !m.DrawdownRecovery.IsZero() {
			rec = "recovered " + m.DrawdownRecovery.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(w, "max drawdown %s: peak %s, trough %s, %s\n", pct(m.MaxDrawdown),
			m.DrawdownPeak.UTC().Format("2006-01-02"), m.DrawdownTrough.UTC().Format("2006-01-02"), rec)
	}
	if len(r.DataIssues) > 0 {
		fmt.Fprintf(w, "data issues: %s (each in summary.json and report.html)\n", backtest.IssueCounts(r.DataIssues))
	}
	if len(r.Monitors) > 0 {
		fmt.Fprintf(w, "risk monitors: %s (monitors.csv)\n", backtest.MonitorCounts(r))
	}
}

// printRanges prints each market's data range against the run's.
func printRanges(w io.Writer, r *backtest.Result) {
	for _, m := range r.Data.Ranges {
		var what string
		switch {
		case m.Rows == 0 && m.Stored != nil:
			what = fmt.Sprintf("no rows in the run's range (stored %s .. %s)", day(m.Stored.From), day(m.Stored.To))
		case m.Rows == 0:
			what = "no rows"
		default:
			what = fmt.Sprintf("%s .. %s, %d rows loaded", day(m.First), day(m.Last), m.Rows)
		}
		state := "investable the whole run"
		switch {
		case !m.Investable:
			state = "NOT INVESTABLE in this range"
		case m.InvestableFrom.After(r.Settings.From):
			state = "investable from " + day(m.InvestableFrom)
		}
		fmt.Fprintf(w, "  %-24s %s; %s\n", m.Market, what, state)
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }

// ratio formats a risk ratio with two decimals, "n/a" when it is
// undefined (its risk is below backtest.RatioFloor).
func ratio(v float64, defined bool) string {
	if !defined {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// parseGrid parses sweep --param values "k=a,b,c" into the grid's
// parameters, sorted by name; each value is a number or a range
// MIN:MAX:STEP (expandRange). A name given twice, or a value given twice
// for one name, is a usage error.
// paramGrid parses --param values into a grid for this strategy; an
// unknown parameter name fails before anything runs.
func (l *strat) paramGrid(kvs []string) ([]backtest.Param, error) {
	params, err := parseGrid(kvs, l.parseParam)
	if err != nil {
		return nil, err
	}
	probe := map[string]float64{}
	for _, p := range params {
		probe[p.Name] = p.Values[0]
	}
	if _, err := l.WithParams(probe); err != nil {
		return nil, err
	}
	return params, nil
}

func parseGrid(kvs []string, parse func(k, v string) (float64, error)) ([]backtest.Param, error) {
	seen := map[string]bool{}
	var out []backtest.Param
	for _, kv := range kvs {
		k, vs, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.TrimSpace(vs) == "" {
			return nil, usagef("--param %q is not k=a,b,c", kv)
		}
		if seen[k] {
			return nil, usagef("--param %s given twice", k)
		}
		seen[k] = true
		p := backtest.Param{Name: k}
		dup := map[float64]bool{}
		for _, v := range strings.Split(vs, ",") {
			v = strings.TrimSpace(v)
			vals := []string{v}
			if strings.Contains(v, ":") {
				var err error
				if vals, err = expandRange(k, v); err != nil {
					return nil, err
				}
			}
			for _, s := range vals {
				x, err := parse(k, s)
				if err != nil {
					return nil, err
				}
				if dup[x] {
					return nil, usagef("--param %s: the value %s is given twice", k, s)
				}
				dup[x] = true
				p.Values = append(p.Values, x)
			}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func newSweepCmd(a *app) *cobra.Command {
	var f runFlags
	var grid []string
	var workers int
	var objective string
	var asJSON, summaryOnly bool
	var sf shardFlags
	cmd := &cobra.Command{
		Use:   "sweep -s FILE|go:NAME --param k=a,b,c|k=MIN:MAX:STEP [--param ...]... [-j N] [--objective METRIC] [--summary-only] [--json] [--shard I/N | --shards N] [--out DIR]",
		Short: "Backtest a strategy over a grid of parameters, resumably",
		Long: `Run one backtest per point of the grid (the cartesian product of the --param value lists)
over the same history, loaded once, on -j workers. Each point writes the run folder that
'backtest' would write for its parameters; points whose folder already holds a summary.json
are not run again (resume) and their metrics are read back from it. Prints every point sorted
by --objective: apy (default), sharpe, sortino, total_return, calmar (highest first) or
max_drawdown (lowest first); a point whose objective is an undefined ratio (no risk to divide
by) shows n/a and ranks after every defined one. A failed point is listed with its error and
the sweep exits 1.

A value is a number or an inclusive range MIN:MAX:STEP in exact decimal steps
(min_peg=0.98:0.995:0.005 is 0.98, 0.985, 0.99, 0.995). The table is also written to
sweep.csv in the sweep's folder (--out/sweep-NAME-HASH, its path on the last line). With
--summary-only each point keeps only its summary.json (no CSV files, no report.html); with
--json the table is printed as JSON.

With --shard I/N (or --shards N and the index from $JOB_COMPLETION_INDEX or
$SLURM_ARRAY_TASK_ID) the sweep runs only the points whose grid index is I modulo N, into
--out/sweep-NAME-HASH.shard-I-of-N (their run folders and shard.json, written last); its last
line is that folder. 'yieldvault merge' combines the N folders into what one machine writes.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			defer func() {
				var ee *exitError
				if err != nil && cmd.Context().Err() != nil && !errors.As(err, &ee) {
					err = &exitError{code: ExitInterrupted, err: fmt.Errorf(
						"interrupted before any point finished; run the same command again to resume (finished points are not run again)")}
				}
			}()
			if len(grid) == 0 {
				return usagef("sweep needs at least one --param k=a,b,c")
			}
			// The grid's shape (k=..., ranges) is checked before loading;
			// values are parsed once the strategy's kinds are known.
			n := 0.0
			if _, err := parseGrid(grid, func(string, string) (float64, error) { n++; return n, nil }); err != nil {
				return err
			}
			if _, err := backtest.ObjectiveValue(&backtest.Metrics{}, objective); err != nil {
				return &usageError{fmt.Errorf("--objective: %w", err)}
			}
			if workers < 1 {
				return usagef("-j %d: need at least 1 worker", workers)
			}
			shard, err := sf.resolve()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rs, err := a.setup(ctx, &f, nil)
			if err != nil {
				return err
			}
			params, err := rs.strategy.paramGrid(grid)
			if err != nil {
				return err
			}
			baseParams := rs.strategy.Params()
			root := rs.out // where the points' run folders go
			dirOf := func(point map[string]float64) string {
				k := rs.key
				k.Params = make(map[string]float64, len(baseParams)+len(point))
				for n, v := range baseParams {
					k.Params[n] = v
				}
				for n, v := range point {
					k.Params[n] = v
				}
				return k.Dir(root)
			}
			total := 1
			for _, p := range params {
				total *= len(p.Values)
			}
			names := make([]string, len(params))
			for i, p := range params {
				names[i] = p.Name
			}
			gridSize := total
			var shardDir string
			if shard.Sharded() {
				pts, err := backtest.GridPoints(params)
				if err != nil {
					return err
				}
				all := make([]string, len(pts))
				for i, pt := range pts {
					all[i] = dirOf(pt)
				}
				shardDir = filepath.Join(rs.out, shard.Folder(filepath.Base(sweepDir(rs.out, rs.strategy.Name(), objective, all))))
				if err := backtest.RemoveShardManifest(shardDir); err != nil {
					return err
				}
				root = shardDir
				total = len(shard.Items(len(pts)))
			}
			tick, finish := a.sweepProgress(total)
			runs, err := backtest.Sweep(ctx, backtest.SweepSpec{
				Spec: rs.specFor(rs.strategy),
				WithParams: func(p map[string]float64) (strategies.Strategy, error) {
					s, err := rs.strategy.WithParams(p)
					if err != nil {
						return nil, err
					}
					return s.s(), nil
				},
				Grid:      params,
				Workers:   workers,
				Objective: objective,
				Shard:     shard,
				Done: func(r *backtest.SweepRun) bool {
					// A summary-only folder does not resume a full sweep.
					done := backtest.Complete(dirOf(r.Params)) || (summaryOnly && backtest.Finished(dirOf(r.Params)))
					if done {
						tick()
					}
					return done
				},
				Write: func(r *backtest.SweepRun) error {
					defer tick()
					r.Result.Settings.StrategyFile = filepath.ToSlash(f.file)
					return backtest.WriteRunWith(dirOf(r.Params), r.Result, backtest.WriteOptions{SummaryOnly: summaryOnly})
				},
			})
			finish()
			if err != nil {
				if ctx.Err() != nil {
					done := 0
					pts, _ := backtest.GridPoints(params)
					for _, pt := range pts {
						if backtest.Finished(dirOf(pt)) {
							done++
						}
					}
					return &exitError{code: ExitInterrupted, err: fmt.Errorf(
						"interrupted: %d of %d points are finished in %s; run the same command again to resume (finished points are not run again)",
						done, total, rs.out)}
				}
				return err
			}
			rows := make([]sweepRow, len(runs))
			for i := range runs {
				r := &runs[i]
				row := sweepRow{run: r, dir: dirOf(r.Params), status: "ran"}
				switch {
				case r.Err != "":
					row.status = "failed"
				case r.Skipped:
					row.status = "resumed"
					prev, err := backtest.ReadSummary(row.dir)
					if err != nil {
						return err
					}
					r.Metrics = prev.Metrics
					r.Objective, _ = backtest.ObjectiveValue(&prev.Metrics, objective)
					r.Undefined = !backtest.ObjectiveDefined(&prev.Metrics, objective)
				}
				rows[i] = row
			}
			sortSweep(rows, objective)
			if shard.Sharded() {
				return finishSweepShard(a, cmd, rs, shard, shardDir, objective, names, gridSize, rows)
			}
			points := sweepPoints(rows)
			folders := make([]string, len(rows))
			for i, r := range rows {
				folders[i] = r.dir
			}
			csvPath, err := saveSweepCSV(sweepDir(rs.out, rs.strategy.Name(), objective, folders), points, names)
			if err != nil {
				return adapters.E("sweep", adapters.KindOther, "writing sweep.csv: %v", err)
			}
			failed := 0
			if asJSON {
				for _, p := range points {
					if p.Status == "failed" {
						failed++
					}
				}
				if err := sweepJSON(a.stdout, objective, csvPath, summaryOnly, points); err != nil {
					return err
				}
			} else {
				failed = printSweep(a.stdout, rows, objective, rs.out)
				fmt.Fprintln(a.stdout, csvPath)
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d sweep points failed", failed, len(rows))}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&grid, "param", nil, "a swept parameter and its values k=a,b,c (repeatable)")
	cmd.Flags().IntVarP(&workers, "jobs", "j", runtime.NumCPU(), "runs at once")
	cmd.Flags().StringVar(&objective, "objective", "apy", "metric the table is sorted by: "+strings.Join(backtest.Objectives, ", "))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the table as JSON (sweep.csv and the run folders are still written)")
	cmd.Flags().BoolVar(&summaryOnly, "summary-only", false, "keep each point's summary.json only (no CSV files, no report.html)")
	sf.register(cmd, "grid's points")
	return cmd
}

// sweepRow is one line of the sweep table.
type sweepRow struct {
	run    *backtest.SweepRun
	dir    string
	status string // ran, resumed or failed
}

// sortSweep orders the rows best first by the objective (max_drawdown
// ascending, the others descending; ran and resumed points together),
// then the points whose objective is undefined, failed points last, ties
// by grid index (backtest.LessRun; resumed points are not Skipped here).
func sortSweep(rows []sweepRow, objective string) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := *rows[i].run, *rows[j].run
		a.Skipped, b.Skipped = false, false
		return backtest.LessRun(&a, &b, objective)
	})
}

// printSweep prints the sweep table and a closing line and returns the
// number of failed points.
func printSweep(w io.Writer, rows []sweepRow, objective, out string) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RANK\tPARAMS\t%s\tAPY\tRETURN\tSHARPE\tMAX DD\tSTATUS\tRUN\n", strings.ToUpper(objective))
	var ran, resumed, failed int
	for i, r := range rows {
		m := &r.run.Metrics
		switch r.status {
		case "failed":
			failed++
			fmt.Fprintf(tw, "%d\t%s\t\t\t\t\t\tfailed\t%s\n", i+1, r.run.Key, goOp.ReplaceAllString(r.run.Err, ""))
			continue
		case "resumed":
			resumed++
		default:
			ran++
		}
		obj := "n/a"
		if !r.run.Undefined {
			obj = strconv.FormatFloat(r.run.Objective, 'g', 6, 64)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, r.run.Key, obj, pct(m.APY), pct(m.TotalReturn),
			ratio(m.Sharpe, m.SharpeDefined()), pct(m.MaxDrawdown), r.status, filepath.Base(r.dir))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%d points: %d ran, %d resumed, %d failed; run folders in %s\n", len(rows), ran, resumed, failed, out)
	return failed
}

// sweepProgress returns a callback counting finished points on a bar on
// stderr when stderr is a terminal, and a function that clears it.
func (a *app) sweepProgress(total int) (func(), func()) {
	if !a.isTerminal(a.stderr) {
		return func() {}, func() {}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription("sweep"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	var mu sync.Mutex
	return func() {
			mu.Lock()
			_ = bar.Add(1)
			mu.Unlock()
		}, func() {
			_ = bar.Finish()
		}
}
