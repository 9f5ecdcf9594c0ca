package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/backtest"
)

func newMonteCarloCmd(a *app) *cobra.Command {
	var (
		file, scenario, slashScope, from, to, capital, pricing, step, out string
		params                                                            []string
		paths, workers                                                    int
		seed                                                              uint64
		asJSON                                                            bool
		sf                                                                shardFlags
	)
	cmd := &cobra.Command{
		Use:   "montecarlo -s FILE|go:NAME --scenario NAME --paths N [--seed S] [--workers W] [--from T] [--to T] [--out DIR]",
		Short: "Run a strategy over N seeded synthetic paths of a scenario and report the distribution",
		Long: `Generate N histories of a synthetic scenario (the calibrated generator of 'data synth',
with random slash, depeg, utilization-spike and pause events at the scenario's rates on top
of its own shock; docs/research.md lists the rates and their sources), run the strategy over
each through the backtest, and write a run folder under --out: summary.json (quantiles of APY,
max drawdown and end value, VaR and CVaR 95% of the final value, the probabilities of a loss
and of an exit through a withdrawal queue; of a liquidation: n/a, the vault does not borrow),
paths.csv (one row per path) and report.html (histograms and a fan chart of equity).

Path i is generated from a seed mixed from --seed and i: the same command writes the same
bytes whatever --workers. The last line printed is the run folder.

With --shard I/N (or --shards N and the index from $JOB_COMPLETION_INDEX or
$SLURM_ARRAY_TASK_ID) the study runs only the paths whose index is I modulo N, into
--out/mc-NAME-HASH.shard-I-of-N/shard.json (the last line); 'yieldvault merge' combines the N
folders into the run folder one machine writes, byte for byte.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("-s FILE (a strategy file, or go:NAME) is required")
			}
			if paths < 1 || paths > 1_000_000 {
				return usagef("--paths %d must be between 1 and 1000000", paths)
			}
			if workers < 1 {
				return usagef("--workers %d: need at least 1", workers)
			}
			shard, err := sf.resolve()
			if err != nil {
				return err
			}
			known := false
			for _, s := range synth.Scenarios() {
				known = known || s.Name == scenario
			}
			if !known {
				var names []string
				for _, s := range synth.Scenarios() {
					names = append(names, s.Name)
				}
				return usagef("--scenario %q is not a scenario (valid: %s)", scenario, strings.Join(names, ", "))
			}
			f, err := parseTime(from)
			if err != nil {
				return err
			}
			t, err := parseTime(to)
			if err != nil {
				return err
			}
			if !f.Before(t) {
				return usagef("empty range: --from %s is not before --to %s", f.Format(time.RFC3339), t.Format(time.RFC3339))
			}
			capDec, err := parseCapital(capital)
			if err != nil {
				return err
			}
			pr, err := adapters.ParsePricing(pricing)
			if err != nil {
				return &usageError{fmt.Errorf("--pricing: %w", err)}
			}
			st, err := parseRunStep(step)
			if err != nil {
				return err
			}
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			s, err := a.loadStrategy(file, cat, nil, params)
			if err != nil {
				return err
			}
			if capDec.Sign() == 0 {
				capDec = defaultCapital(s.Base())
			}
			lookback := backtest.DefaultLookback
			if l := s.Lookback(); l > 0 {
				lookback = l
			}
			ms := backtest.MonteCarloSpec{
				Spec: backtest.Spec{Strategy: s.s(), Params: s.Params(), Universe: s.Universe(), Catalog: s.Catalog(), Lookback: lookback,
					From: f, To: t, Step: st, Capital: capDec, Pricing: pr, Source: "synthetic " + scenario},
				Scenario: scenario, SlashScope: slashScope, Paths: paths, Seed: seed, Workers: workers,
			}
			ms.Shard = shard
			var shardDir string
			if shard.Sharded() {
				pre := (&backtest.MCResult{Spec: &ms}).Settings()
				shardDir = filepath.Join(out, shard.Folder(filepath.Base(mcDir(out, s, file, pre))))
				if err := backtest.RemoveShardManifest(shardDir); err != nil {
					return err
				}
			}
			tick, finish := a.sweepProgress(len(shard.Items(paths)))
			ms.Progress = func(int) { tick() }
			res, err := backtest.MonteCarlo(cmd.Context(), ms)
			finish()
			if err != nil {
				return err
			}
			if shard.Sharded() {
				return finishMCShard(a, cmd, s, file, shard, shardDir, res)
			}
			dir := mcDir(out, s, file, res.Settings())
			if err := backtest.WriteMonteCarlo(dir, file, res); err != nil {
				return err
			}
			if asJSON {
				b, err := os.ReadFile(filepath.Join(dir, backtest.SummaryFile))
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(b)
				return err
			}
			printMonteCarlo(a, res)
			fmt.Fprintln(a.stdout, dir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "strategy", "s", "", "strategy file (YAML), or go:NAME for a registered Go strategy")
	cmd.Flags().StringArrayVar(&params, "param", nil, "override a strategy parameter k=v (repeatable)")
	cmd.Flags().StringVar(&scenario, "scenario", "default", "synthetic scenario (yieldvault data synth --list)")
	cmd.Flags().StringVar(&slashScope, "slash-scope", "", "the operator: or avs: tag random slashes hit (default: one of the universe's, drawn per slash)")
	cmd.Flags().IntVar(&paths, "paths", 100, "number of paths")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "the study's seed (path i uses a seed mixed from it and i)")
	cmd.Flags().IntVar(&workers, "workers", runtime.NumCPU(), "paths run at once (the results do not depend on it)")
	cmd.Flags().StringVar(&from, "from", "2024-01-01", "start of each path")
	cmd.Flags().StringVar(&to, "to", "2025-01-01", "end of each path")
	cmd.Flags().StringVar(&capital, "capital", "", "the investor's deposit at the start (default: "+defaultCapitals+")")
	cmd.Flags().StringVar(&pricing, "pricing", "rate", "value positions at the protocols' exchange rates (rate) or at market prices (market)")
	cmd.Flags().StringVar(&step, "step", "", "simulated step (default: the generator's, 1h)")
	cmd.Flags().StringVar(&out, "out", "runs", "folder that receives the run folder")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print summary.json instead of the table (the run folder is still written)")
	sf.register(cmd, "paths")
	return cmd
}

// mcDir is the study's folder: "mc-" + the strategy's name + a hash of
// the strategy file, its catalog and every setting.
func mcDir(out string, s *strat, file string, st backtest.MCSettings) string {
	h := sha256.New()
	h.Write(s.data)
	h.Write([]byte{0})
	if cf := s.CatalogFile(); cf != "" {
		b, _ := os.ReadFile(cf)
		h.Write(b)
	}
	names := make([]string, 0, len(st.Params))
	for k := range st.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(h, "\nparam %s=%v", k, st.Params[k])
	}
	fmt.Fprintf(h, "\n%s|%s|%+v|%d|%d|%s|%s|%s|%s|%d|%d|%s", st.Scenario, st.SlashScope, st.Rates, st.From.Unix(), st.To.Unix(),
		st.GenStep, st.Step, st.Capital, st.Pricing, st.Paths, st.Seed, filepath.ToSlash(file))
	return filepath.Join(out, "mc-"+s.Name()+"-"+hex.EncodeToString(h.Sum(nil))[:8])
}

func printMonteCarlo(a *app, res *backtest.MCResult) {
	w := a.stdout
	st, m := res.Settings(), &res.Summary
	fmt.Fprintf(w, "montecarlo %s under %s: %d paths (seed %d), %s to %s, capital %s, %s pricing\n", st.Strategy, st.Scenario, st.Paths, st.Seed,
		st.From.Format("2006-01-02"), st.To.Format("2006-01-02"), st.Capital, st.Pricing)
	for _, x := range res.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", x)
	}
	fmt.Fprintf(w, "\n%-14s %9s %9s %9s %9s %9s %9s\n", "", "5%", "25%", "MEDIAN", "75%", "95%", "MEAN")
	q := func(name string, x backtest.Quantiles, f func(float64) string) {
		fmt.Fprintf(w, "%-14s %9s %9s %9s %9s %9s %9s\n", name, f(x.P5), f(x.P25), f(x.P50), f(x.P75), f(x.P95), f(x.Mean))
	}
	val := func(v float64) string { return fmt.Sprintf("%.4f", v) }
	q("APY", m.APY, pct)
	q("max drawdown", m.MaxDrawdown, pct)
	q("end value", m.EndValue, val)
	fmt.Fprintf(w, "\nVaR 95%% %s, CVaR 95%% %s (loss of the final value, base asset); P(loss) %s, P(queue exit) %s, P(liquidation) n/a\n",
		val(m.VaR95), val(m.CVaR95), pct(m.ProbLoss), pct(m.ProbQueueExit))
	if m.Failed > 0 {
		fmt.Fprintf(w, "%d of %d paths failed (see paths.csv)\n", m.Failed, m.Paths)
	}
}
