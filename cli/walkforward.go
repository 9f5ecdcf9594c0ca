package cli

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/strategies"
)

func newWalkForwardCmd(a *app) *cobra.Command {
	var f runFlags
	var grid []string
	var train, test, objective string
	var workers int
	var sf shardFlags
	cmd := &cobra.Command{
		Use:   "walkforward -s FILE|go:NAME --param k=a,b,c|k=MIN:MAX:STEP... --train 180d --test 30d [--objective METRIC] [--out DIR]",
		Short: "Optimise on rolling training windows, test on the windows that follow, stitch the out-of-sample equity",
		Long: `Walk forward over the history: from --from (default the data's start), sweep the grid over a
training window of --train, choose the best point by --objective (default sharpe; a point whose
ratio is undefined ranks after every defined one), run it on the --test window that follows,
then move both windows on by --test while a whole test window fits before --to. Each test run
starts from the capital in cash; the test windows' equity is stitched into one out-of-sample
curve (each scaled to start where the previous ended).

Prints each window's chosen point with its in-sample (training) and out-of-sample (test) APY and
Sharpe, then the mean in-sample figures against the stitched out-of-sample ones side by side, and
by how much they differ. Writes <out>/wf-NAME-HASH/ with windows.csv, equity.csv (the stitched
curve) and summary.json; the last line is that folder.

With --shard I/N (or --shards N and the index from $JOB_COMPLETION_INDEX or
$SLURM_ARRAY_TASK_ID) only the windows whose index is I modulo N run, into
<out>/wf-NAME-HASH.shard-I-of-N/shard.json (the last line); 'yieldvault merge' stitches the N
folders into the folder one machine writes, byte for byte.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(grid) == 0 {
				return usagef("walkforward needs at least one --param k=a,b,c")
			}
			n := 0.0
			if _, err := parseGrid(grid, func(string, string) (float64, error) { n++; return n, nil }); err != nil {
				return err
			}
			tr, err := parseStep(train)
			if err != nil {
				return usagef("--train: %v", err)
			}
			te, err := parseStep(test)
			if err != nil {
				return usagef("--test: %v", err)
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
			spec := rs.specFor(rs.strategy)
			if spec.From.IsZero() {
				spec.From = spec.Data.From.Add(spec.Lookback)
			}
			if spec.To.IsZero() {
				spec.To = spec.Data.To
			}
			wf := backtest.WalkForwardSpec{
				Sweep: backtest.SweepSpec{Spec: spec, Grid: params, Workers: workers, Objective: objective,
					WithParams: func(p map[string]float64) (strategies.Strategy, error) {
						s, err := rs.strategy.WithParams(p)
						if err != nil {
							return nil, err
						}
						return s.s(), nil
					}},
				Train: tr, Test: te,
			}
			h := sha256.New()
			k := rs.key
			k.Params = rs.strategy.Params()
			fmt.Fprintf(h, "%s\n%s|%s|%s|%s|%s", k.Hash(), strings.Join(grid, ";"), train, test, objective, spec.From.Format(time.RFC3339))
			dir := filepath.Join(rs.out, "wf-"+rs.strategy.Name()+"-"+hex.EncodeToString(h.Sum(nil))[:8])
			if shard.Sharded() {
				return runWFShard(a, cmd, rs, wf, shard, filepath.Join(rs.out, shard.Folder(filepath.Base(dir))))
			}
			res, err := backtest.WalkForward(ctx, wf)
			if err != nil {
				return err
			}
			if err := writeWalkForward(dir, res); err != nil {
				return adapters.E("walkforward", adapters.KindOther, "writing %s: %v", dir, err)
			}
			printWalkForward(a, res)
			fmt.Fprintln(a.stdout, dir)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&grid, "param", nil, "a swept parameter and its values k=a,b,c or k=MIN:MAX:STEP (repeatable)")
	cmd.Flags().StringVar(&train, "train", "180d", "training window (Nd or a Go duration)")
	cmd.Flags().StringVar(&test, "test", "30d", "test window, and the step the windows move by")
	cmd.Flags().StringVar(&objective, "objective", "sharpe", "metric the training sweep chooses by: "+strings.Join(backtest.Objectives, ", "))
	cmd.Flags().IntVarP(&workers, "jobs", "j", runtime.NumCPU(), "training runs at once")
	sf.register(cmd, "windows")
	return cmd
}

// wfDiff is out-of-sample minus in-sample, "n/a" when either is
// undefined.
func wfDiff(oos, is float64, ok bool, f func(float64) string) string {
	if !ok {
		return "n/a"
	}
	return f(oos - is)
}

func printWalkForward(a *app, res *backtest.WFResult) {
	w := a.stdout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TRAIN\tTEST\tCHOSEN\t%s\tIS APY\tOOS APY\tIS SHARPE\tOOS SHARPE\n", strings.ToUpper(res.Objective))
	for _, x := range res.Windows {
		obj := "n/a"
		if !x.Undefined {
			obj = strconv.FormatFloat(x.Objective, 'g', 4, 64)
		}
		fmt.Fprintf(tw, "%s..%s\t..%s\t%s\t%s\t%s\t%s\t%s\t%s\n", day(x.TrainFrom), day(x.TrainTo), day(x.TestTo), x.Chosen, obj,
			pct(x.InSample.APY), pct(x.OutOfSample.APY), ratio(x.InSample.Sharpe, x.InSample.SharpeDefined()),
			ratio(x.OutOfSample.Sharpe, x.OutOfSample.SharpeDefined()))
	}
	_ = tw.Flush()
	is, oos := &res.InSample, &res.OutOfSample
	isSharpe := res.InSampleSharpeDefined > 0
	fmt.Fprintf(w, "\n%-14s %12s %14s %12s\n", "", "IN-SAMPLE", "OUT-OF-SAMPLE", "DIFFERENCE")
	fmt.Fprintf(w, "%-14s %12s %14s %12s\n", "APY", pct(is.APY), pct(oos.APY), pct(oos.APY-is.APY))
	fmt.Fprintf(w, "%-14s %12s %14s %12s\n", "volatility", pct(is.Volatility), pct(oos.Volatility), pct(oos.Volatility-is.Volatility))
	fmt.Fprintf(w, "%-14s %12s %14s %12s\n", "max drawdown", pct(is.MaxDrawdown), pct(oos.MaxDrawdown), pct(oos.MaxDrawdown-is.MaxDrawdown))
	fmt.Fprintf(w, "%-14s %12s %14s %12s\n", "Sharpe", ratio(is.Sharpe, isSharpe), ratio(oos.Sharpe, oos.SharpeDefined()),
		wfDiff(oos.Sharpe, is.Sharpe, isSharpe && oos.SharpeDefined(), func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }))
	fmt.Fprintf(w, "%d windows; in-sample: the mean of the chosen points' training figures (Sharpe over the %d windows where it is defined); out-of-sample: the stitched test windows\n",
		len(res.Windows), res.InSampleSharpeDefined)
}

func writeWalkForward(dir string, res *backtest.WFResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fill func(*csv.Writer) error) error {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		cw := csv.NewWriter(fh)
		if err := fill(cw); err != nil {
			fh.Close()
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			fh.Close()
			return err
		}
		return fh.Close()
	}
	num := func(v float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if err := write("windows.csv", func(cw *csv.Writer) error {
		_ = cw.Write([]string{"train_from", "train_to", "test_to", "chosen", "objective", "is_apy", "oos_apy", "is_sharpe", "oos_sharpe", "is_max_drawdown", "oos_max_drawdown"})
		for _, x := range res.Windows {
			if err := cw.Write([]string{x.TrainFrom.UTC().Format(time.RFC3339), x.TrainTo.UTC().Format(time.RFC3339), x.TestTo.UTC().Format(time.RFC3339),
				x.Chosen, num(x.Objective, !x.Undefined), num(x.InSample.APY, true), num(x.OutOfSample.APY, true),
				num(x.InSample.Sharpe, x.InSample.SharpeDefined()), num(x.OutOfSample.Sharpe, x.OutOfSample.SharpeDefined()),
				num(x.InSample.MaxDrawdown, true), num(x.OutOfSample.MaxDrawdown, true)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := write("equity.csv", func(cw *csv.Writer) error {
		_ = cw.Write([]string{"time", "equity"})
		for i, t := range res.StitchedTimes {
			if err := cw.Write([]string{time.Unix(t, 0).UTC().Format(time.RFC3339), num(res.StitchedValues[i], true)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	opt := func(v float64, ok bool) *float64 {
		if !ok {
			return nil
		}
		return &v
	}
	type fig struct {
		APY         float64  `json:"apy"`
		Volatility  float64  `json:"volatility"`
		MaxDrawdown float64  `json:"max_drawdown"`
		Sharpe      *float64 `json:"sharpe"`
	}
	is, oos := res.InSample, res.OutOfSample
	v := struct {
		Objective   string `json:"objective"`
		Windows     int    `json:"windows"`
		InSample    fig    `json:"in_sample"`
		OutOfSample fig    `json:"out_of_sample"`
		Difference  fig    `json:"difference"`
	}{res.Objective, len(res.Windows),
		fig{is.APY, is.Volatility, is.MaxDrawdown, opt(is.Sharpe, res.InSampleSharpeDefined > 0)},
		fig{oos.APY, oos.Volatility, oos.MaxDrawdown, opt(oos.Sharpe, oos.SharpeDefined())},
		fig{oos.APY - is.APY, oos.Volatility - is.Volatility, oos.MaxDrawdown - is.MaxDrawdown,
			opt(oos.Sharpe-is.Sharpe, res.InSampleSharpeDefined > 0 && oos.SharpeDefined())}}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, backtest.SummaryFile), append(b, '\n'), 0o644)
}
