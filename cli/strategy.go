package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all" // every market kind's driver
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/internal/timefmt"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

func newValidateCmd(a *app) *cobra.Command {
	var universe, params []string
	cmd := &cobra.Command{
		Use:   "validate FILE|go:NAME...",
		Short: "Check strategy files and Go strategies",
		Long: "Load and type-check each strategy file, or build each registered Go strategy (go:NAME, with\n" +
			"--universe and --param). Prints a one-line summary per good strategy; for a bad file, every\n" +
			"error with file:line:column. Exits 1 when any is bad.",
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			bad := 0
			for _, f := range files {
				var u, p []string
				if goRef(f) {
					u, p = parseUniverse(universe), params
				}
				s, err := a.loadStrategy(f, cat, u, p)
				if err != nil {
					bad++
					var list rules.ErrorList
					if errors.As(err, &list) {
						for _, e := range list {
							fmt.Fprintln(a.stderr, userMessage(e))
						}
					} else {
						fmt.Fprintln(a.stderr, userMessage(err))
					}
					continue
				}
				fmt.Fprintf(a.stdout, "%s: ok: %s (%s), %d markets, rebalance %q, %d params\n",
					f, s.Name(), s.Base(), len(s.Universe()), s.RebalanceSpec(), len(s.Params()))
				if s.gos != nil {
					params := s.Params()
					for _, p := range strategies.ParamsOf(s.gos.Name) {
						fmt.Fprintf(a.stdout, "  param %s = %s (%s; %s .. %s)\n", p.Name, p.Format(params[p.Name]), p.Doc, p.Format(p.Min), p.Format(p.Max))
					}
				}
			}
			if bad > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d strategies are invalid", bad, len(files))}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&universe, "universe", nil, "markets of a Go strategy (go:NAME), comma separated (default: its own)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "a Go strategy's parameter k=v (repeatable; durations as 14d)")
	return cmd
}

// defaultLookback is loaded before --at when a strategy does not say how
// much history its windows read.
const defaultLookback = 30 * 24 * time.Hour

func newPlanCmd(a *app) *cobra.Command {
	var file, at, capital string
	var explain bool
	var params, universe []string
	var asJSON bool
	var gasAsset float64
	cmd := &cobra.Command{
		Use:   "plan -s FILE|go:NAME [--at TIME] [--capital X]",
		Short: "Run one decision of a strategy and explain it; nothing is executed",
		Long: "Plan once at --at (default: the end of the history) for a vault holding --capital of\n" +
			"its base asset, all idle, and print the target weight and the reason for each market\n" +
			"with the names each rule read.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("plan needs -s FILE")
			}
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			s, err := a.loadStrategy(file, cat, parseUniverse(universe), params)
			if err != nil {
				return err
			}
			cat = s.Catalog()
			cap, err := parseCapital(capital)
			if err != nil {
				return err
			}
			if cap.Sign() == 0 {
				cap = defaultCapital(s.Base())
			}
			ctx := cmd.Context()
			db, err := a.openDB(ctx, false)
			if err != nil {
				return err
			}
			defer db.Close()
			var legs map[string][]string
			if s.rules != nil {
				legs = loopLegs(s.rules.Markets())
			}
			when, err := planTime(ctx, db, s.Universe(), legs, at)
			if err != nil {
				return err
			}
			lb := defaultLookback
			if l := s.Lookback(); l > 0 {
				lb = l
			}
			if math.IsNaN(gasAsset) || gasAsset < 0 || gasAsset > 1e12 {
				return usagef("--gas-asset-price %g is not within [0, 1e12]", gasAsset)
			}
			st, notes, err := planState(ctx, db, cat, s, when, lb, cap, vault.Gas{Price: backtest.DefaultGasPrice, AssetPrice: gasAsset})
			if err != nil {
				return err
			}
			target, err := s.s().Plan(ctx, st)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					Strategy string             `json:"strategy"`
					Time     time.Time          `json:"time"`
					Capital  decimal.Decimal    `json:"capital"`
					Target   strategies.Target  `json:"target"`
					Params   map[string]float64 `json:"params"`
					Notes    []string           `json:"notes,omitempty"`
				}{s.Name(), when, cap, target, st.Params, notes})
			}
			var inputs func(i int, reads []string) []string
			if explain && s.rules != nil {
				inputs = func(i int, reads []string) []string { return s.rules.Inputs(st, i, reads) }
			}
			for _, al := range target.Allocations {
				for i := range st.Markets {
					if st.Markets[i].Market.ID != al.Market || s.rules == nil {
						continue
					}
					if miss := s.rules.Missing(st, i, al.Reads); len(miss) > 0 {
						notes = append(notes, fmt.Sprintf("%s: the rules read %s, which its data does not have: read as 0",
							al.Market, strings.Join(miss, ", ")))
					}
				}
			}
			printTarget(a, s.Name(), when, cap, st, target, inputs)
			for _, n := range notes {
				fmt.Fprintf(a.stdout, "note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "strategy", "s", "", "strategy file, or go:NAME for a registered Go strategy")
	cmd.Flags().StringArrayVar(&universe, "universe", nil, "markets of a Go strategy (go:NAME), comma separated (default: its own)")
	cmd.Flags().StringVar(&at, "at", "", "decision time (default: the last time every market has data)")
	cmd.Flags().StringVar(&capital, "capital", "", "vault capital in the base asset (default: "+defaultCapitals+")")
	cmd.Flags().StringArrayVar(&params, "param", nil, "override a strategy parameter k=v (repeatable; a Go strategy's durations as 14d)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&explain, "explain", false, "print the value of every input each market's rules read (peg=0.9987 tvl=1.7e10 ...)")
	cmd.Flags().Float64Var(&gasAsset, "gas-asset-price", 0, "one ETH in the base asset for gas costs where the data has no ETH price (default: 1 ETH, 3000 USD, 0.05 BTC)")
	return cmd
}

func parseParams(kvs []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--param %q is not k=v", kv)
		}
		f, err := parseNumberParam(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = f
	}
	return out, nil
}

// parseNumberParam parses a rules file's parameter value: a number.
func parseNumberParam(k, v string) (float64, error) {
	// The whole value must be a number: Sscanf("%g") took "0.98:0.995" or
	// "0.9x" as 0.9 and silently dropped the rest.
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, usagef("--param %s: %q is not a number", k, v)
	}
	return f, nil
}

// loopLegs maps each loop market of ms to its collateral and debt legs,
// whose history composes its own.
func loopLegs(ms []adapters.Market) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		if m.Legs != nil {
			out[m.ID] = []string{m.Legs.Collateral, m.Legs.Debt}
		}
	}
	return out
}

// planTime resolves --at; without it, the latest time at which every
// market of the universe has an observation (a loop market the database
// does not store: each of its legs, in legs).
func planTime(ctx context.Context, db *history.DB, universe []string, legs map[string][]string, at string) (time.Time, error) {
	if at != "" {
		return parseTime(at)
	}
	infos, err := db.Markets(ctx)
	if err != nil {
		return time.Time{}, err
	}
	last := map[string]time.Time{}
	for _, in := range infos {
		if in.Rows > 0 {
			last[in.Market.ID] = in.Last
		}
	}
	var ids []string
	for _, id := range universe {
		if _, ok := last[id]; !ok && len(legs[id]) > 0 {
			ids = append(ids, legs[id]...)
			continue
		}
		ids = append(ids, id)
	}
	var t time.Time
	for i, id := range ids {
		l, ok := last[id]
		if !ok {
			return time.Time{}, adapters.E("plan", adapters.KindNotFound, "market %s has no history in the database", id)
		}
		if i == 0 || l.Before(t) {
			t = l
		}
	}
	return t, nil
}

// planState loads the universe's history from at-lookback to at and
// builds the State a backtest or the service would plan on for a vault
// holding capital, all idle, at at: the vault (backtest.DefaultVaultConfig)
// observes the window at at (vault.ObserveWindow: the latest observation
// of each market, the gas) and its State reads the window
// (vault.PrepareState, with the strategy's parameters).
func planState(ctx context.Context, db *history.DB, cat *adapters.Catalog, s *strat, at time.Time, lookback time.Duration, capital decimal.Decimal, gas vault.Gas) (*strategies.State, []string, error) {
	universe := s.Universe()
	w, err := db.Load(ctx, universe, at.Add(-lookback), at)
	if err != nil {
		return nil, nil, err
	}
	notes := derivedNotes(w)
	ads := make([]*adapters.Adapter, len(universe))
	for i, id := range universe {
		if ads[i], err = adapters.Open(cat, id); err != nil {
			return nil, nil, err
		}
		if ser := w.Get(id); ser == nil || ser.Index(at.Unix()) < 0 {
			where := "the database has no rows for it"
			if r, ok := backtest.StoredRanges(ctx, db, []string{id})[id]; ok {
				where = fmt.Sprintf("its data covers %s .. %s", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
			}
			return nil, nil, adapters.E("plan", adapters.KindNotFound, "--at %s is outside the data of %s: it has no observation in the %s before (%s)",
				at.Format(time.RFC3339), id, timefmt.Duration(lookback), where)
		}
	}
	// A yield the data cannot support (an AMM pool with volume but no size)
	// is quoted as 0: say why.
	for i, id := range universe {
		ser := w.Get(id)
		q, err := ads[i].Quote(&adapters.Env{Time: at, Obs: ser.At(ser.Index(at.Unix()))}, fixed.Num{})
		if err == nil && q.Unknown != "" {
			notes = append(notes, id+": "+q.Unknown+" (counted as 0 in the gain test)")
		}
	}
	v, err := vault.New(backtest.DefaultVaultConfig(s.s(), s.Base(), capital), ads, at)
	if err != nil {
		return nil, nil, err
	}
	if _, err := v.ObserveWindow(w, at, gas); err != nil {
		return nil, nil, err
	}
	if _, err := v.Deposit(at, backtest.Investor, capital); err != nil {
		return nil, nil, err
	}
	st := v.StrategyState()
	vault.PrepareState(st, w, s.Params())
	return st, notes, nil
}

// wrap splits s into lines of at most w characters at spaces (a longer
// word stays whole); it returns at least one line.
func wrap(s string, w int) []string {
	return wrapWords(strings.Fields(s), w)
}

// wrapWords joins words with spaces into lines of at most w characters.
func wrapWords(words []string, w int) []string {
	w = max(w, 20)
	var out []string
	cur := ""
	for _, wd := range words {
		switch {
		case cur == "":
			cur = wd
		case len(cur)+1+len(wd) <= w:
			cur += " " + wd
		default:
			out = append(out, cur)
			cur = wd
		}
	}
	return append(out, cur)
}

// derivedNotes says, per market, which variables the plan reads from
// derived data rather than observations: an APY read from the
// exchange rate's trailing growth where the data has none.
func derivedNotes(w *adapters.Window) []string {
	var notes []string
	for _, ser := range w.Series {
		if ser.Derived.Has(adapters.FieldExchangeRate) {
			notes = append(notes, history.PriceValuedNote(ser.Market.ID))
			continue
		}
		if !ser.Derived.Has(adapters.FieldAPY) {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: apy and net_apy are the trailing %s growth of its exchange rate, annualised: its data has no APY",
			ser.Market.ID, timefmt.Duration(history.RateAPYWindow)))
	}
	return notes
}

// printTarget prints a plan: a table of each market's weight, amount, net
// APY and reason, then per market the names its rules read (with their
// values when inputs is set: plan --explain), wrapped to the terminal's
// width (100 columns when stdout is not a terminal).
func printTarget(a *app, name string, at time.Time, capital decimal.Decimal, st *strategies.State, t strategies.Target, inputs func(i int, reads []string) []string) {
	fmt.Fprintf(a.stdout, "strategy %s at %s, capital %s %s\n\n", name, at.Format(time.RFC3339), capital, st.Base)
	width := a.termWidth()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MARKET\tWEIGHT\tAMOUNT\tNET APY\tREASON")
	capF := capital.InexactFloat64()
	// The reason column gets what the other columns leave of the width.
	reasonW := max(30, width-60)
	for _, al := range t.Allocations {
		ms := st.Market(al.Market)
		apy := 0.0
		if ms != nil {
			apy = strategies.NetAPY(ms)
		}
		lines := wrap(al.Reason, reasonW)
		fmt.Fprintf(tw, "%s\t%6.2f%%\t%.4f\t%6.2f%%\t%s\n", al.Market, al.Weight*100, al.Weight*capF, apy*100, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t\t\t\t%s\n", l)
		}
	}
	lines := wrap(t.Reason, reasonW)
	fmt.Fprintf(tw, "idle\t%6.2f%%\t%.4f\t\t%s\n", t.Idle*100, t.Idle*capF, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(tw, "\t\t\t\t%s\n", l)
	}
	_ = tw.Flush()
	title := "\nreads (plan --explain prints their values):"
	if inputs != nil {
		title = "\ninputs:"
	}
	fmt.Fprintln(a.stdout, title)
	for _, al := range t.Allocations {
		words := al.Reads
		if inputs != nil {
			i := -1
			for j := range st.Markets {
				if st.Markets[j].Market.ID == al.Market {
					i = j
				}
			}
			words = inputs(i, al.Reads)
		}
		if len(words) == 0 {
			continue
		}
		prefix := "  " + al.Market + ": "
		for k, l := range wrapWords(words, width-len(prefix)) {
			if k > 0 {
				prefix = strings.Repeat(" ", len(prefix))
			}
			fmt.Fprintln(a.stdout, prefix+l)
		}
	}
	if len(t.Exit) > 0 {
		ex := append([]string(nil), t.Exit...)
		sort.Strings(ex)
		fmt.Fprintf(a.stdout, "\nexit rule fired for: %s\n", strings.Join(ex, ", "))
	}
}
