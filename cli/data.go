package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

func newDataCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Market history: import, list, check, synthesize, export",
	}
	cmd.AddCommand(newDataImportCmd(a), newDataListCmd(a), newDataCheckCmd(a), newDataSynthCmd(a), newDataExportCmd(a))
	return cmd
}

// progress returns a progress callback drawing a bar on stderr when stderr
// is a terminal, and a function that finishes the bar.
func (a *app) progress(desc string) (func(read, total int64), func()) {
	return a.progressOf(desc, true)
}

// progressOf is progress counting bytes, or items (rows) when bytes is
// false.
func (a *app) progressOf(desc string, bytes bool) (func(read, total int64), func()) {
	if !a.isTerminal(a.stderr) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	update := func(read, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(a.stderr),
				progressbar.OptionSetDescription(desc),
				progressbar.OptionShowBytes(bytes),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		_ = bar.Set64(read)
	}
	return update, func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}
}

func newDataImportCmd(a *app) *cobra.Command {
	var market, mappingFile, format string
	var specs []string
	var verbose, allowImplausible bool
	cmd := &cobra.Command{
		Use:   "import FILE|DIR...",
		Short: "Import market history files into --db",
		Long: `Import files into the history database named by --db (created when missing).

Recognised without options: every dataset in ../shared/data (a folder imports all of it),
the project's native CSV (data export --format csv). A DefiLlama chart JSON needs --market.
Any other CSV needs a column mapping: --mapping FILE (YAML) or --market ID with --col specs:

  yieldvault data import --db h.db --market aave-v3/usdc \
      --col time=date:date --col apy=Y_Aave_APY:percent --col utilization=X_Aave_Utilization file.csv

Each file is imported in one transaction: a bad file (NaN, out-of-range value, conflicting
duplicate rows, a date before 2015-07-30 or after 2100) is reported with file:line and leaves
the database as it was. So is an implausible one: a value no market has shown (an APY above
1000%, an exchange rate below 0.5, an index x1e18) or inconsistent with its row or its
neighbours, which is what a file in the wrong unit gives; --allow-implausible stores such
values with a warning (data check keeps reporting them). Importing the same file again adds
no rows.`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, paths []string) error {
			if a.dbPath == "" {
				return usagef("data import needs --db FILE (the embedded history is read-only)")
			}
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			opts := importers.Options{Catalog: cat, Market: market, Format: importers.Format(format)}
			switch {
			case mappingFile != "" && len(specs) > 0:
				return usagef("use either --mapping or --col, not both")
			case mappingFile != "":
				m, err := importers.LoadMapping(mappingFile)
				if err != nil {
					return err
				}
				opts.Mapping = m
			case len(specs) > 0:
				if market == "" {
					return usagef("--col needs --market")
				}
				m, err := importers.MappingFromSpecs(market, specs)
				if err != nil {
					return &usageError{err}
				}
				opts.Mapping = m
			}
			ctx := cmd.Context()
			db, err := a.openDB(ctx, true)
			if err != nil {
				return err
			}
			defer db.Close()
			failed := 0
			// Markets written, and the warnings printed: after the
			// imports, what only the merged history shows (a field of one
			// file against another's) is checked and printed once.
			var touched []string
			warned := map[string]bool{}
			for _, path := range paths {
				batches, err := a.importPath(cmd, path, opts)
				if err != nil {
					fmt.Fprintln(a.stderr, userMessage(err))
					failed++
					continue
				}
				for _, b := range batches {
					b.AllowImplausible = allowImplausible
					res, err := db.Write(ctx, b)
					if err != nil {
						fmt.Fprintln(a.stderr, userMessage(err))
						failed++
						continue
					}
					fmt.Fprintf(a.stdout, "%s: %d rows (%d new, %d updated, %d unchanged), %d events, %d markets [%s]\n",
						b.Source, len(b.Rows), res.Inserted, res.Updated, res.Unchanged, res.Events, res.Markets, b.Format)
					printWarnings(a.stderr, res.Warnings, verbose)
					for _, is := range res.Warnings {
						warned[is.Market+"\x00"+is.Msg] = true
					}
					for _, n := range b.Notes {
						fmt.Fprintf(a.stdout, "  note: %s\n", n)
					}
					touched = appendMarkets(touched, b)
				}
			}
			if len(touched) > 0 {
				issues, err := db.Check(ctx, touched)
				if err != nil {
					return err
				}
				var merged []history.Issue
				for _, is := range issues {
					if is.Kind == history.IssueImplausible && !warned[is.Market+"\x00"+is.Msg] {
						is.Severity = history.SeverityWarning
						merged = append(merged, is)
					}
				}
				if len(merged) > 0 {
					fmt.Fprintf(a.stderr, "the stored history after this import (data check reports it too):\n")
					printWarnings(a.stderr, merged, verbose)
				}
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of the inputs failed to import; the database holds the others", failed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&market, "market", "", "market ID for single-market formats (DefiLlama JSON, a --col mapping)")
	cmd.Flags().StringVar(&mappingFile, "mapping", "", "YAML column mapping for a generic CSV")
	cmd.Flags().StringArrayVar(&specs, "col", nil, "column mapping FIELD=COLUMN[:UNIT] (repeatable; time=COLUMN:UNIT names the time column)")
	cmd.Flags().StringVar(&format, "format", "", "force an importer instead of detecting one")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every warning (gaps, reordered rows), not only the first few")
	cmd.Flags().BoolVar(&allowImplausible, "allow-implausible", false, "store values outside the plausible bounds (docs/data.md) with a warning instead of refusing the file")
	return cmd
}

// maxWarnings is how many import warnings are printed per file without -v.
const maxWarnings = 3

// appendMarkets adds the markets b writes rows for to ids, once each.
func appendMarkets(ids []string, b *history.Batch) []string {
	for i := range b.Rows {
		if id := b.Rows[i].Market; !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func printWarnings(w io.Writer, warns []history.Issue, all bool) {
	for i, is := range warns {
		if !all && i == maxWarnings {
			fmt.Fprintf(w, "  ... and %d more warnings (-v prints them; data check reports gaps)\n", len(warns)-i)
			return
		}
		fmt.Fprintf(w, "  %s\n", is)
	}
}

func (a *app) importPath(cmd *cobra.Command, path string, opts importers.Options) ([]*history.Batch, error) {
	if path == Stdin {
		data, name, err := a.readInput(path)
		if err != nil {
			return nil, err
		}
		format := opts.Format
		if format == "" && opts.Mapping != nil {
			format = importers.FormatCSV
		}
		if format == "" {
			// Sniff as a CSV unless it opens like JSON.
			guess := "stdin.csv"
			if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
				guess = "stdin.json"
			}
			if format, err = importers.DetectBytes(guess, data); err != nil {
				return nil, err
			}
		}
		b, err := importers.ImportReader(cmd.Context(), name, bytes.NewReader(data), format, opts)
		if err != nil {
			return nil, err
		}
		return []*history.Batch{b}, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, adapters.E("data import", adapters.KindNotFound, "%s: %v", path, err)
	}
	update, finish := a.progress("importing " + path)
	defer finish()
	opts.Progress = update
	if st.IsDir() {
		opts.OnSkip = func(p, reason string) { fmt.Fprintf(a.stdout, "%s: skipped (%s)\n", p, reason) }
		return importers.ImportDir(cmd.Context(), path, opts)
	}
	b, err := importers.ImportFile(cmd.Context(), path, opts)
	if err != nil {
		return nil, err
	}
	return []*history.Batch{b}, nil
}

type marketInfoJSON struct {
	ID       string         `json:"id"`
	Kind     adapters.Kind  `json:"kind"`
	Base     adapters.Asset `json:"base"`
	Protocol string         `json:"protocol"`
	First    *time.Time     `json:"first,omitempty"`
	Last     *time.Time     `json:"last,omitempty"`
	Rows     int            `json:"rows"`
	Step     string         `json:"step,omitempty"`
	Fields   []string       `json:"fields"`
	Events   int            `json:"events"`
}

func fieldNames(s adapters.FieldSet) []string {
	out := []string{}
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if s.Has(f) {
			out = append(out, f.String())
		}
	}
	return out
}

func fmtStep(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}

func newDataListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the markets in the history with their ranges and row counts",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := a.openDB(ctx, false)
			if err != nil {
				return err
			}
			defer db.Close()
			infos, err := db.Markets(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]marketInfoJSON, 0, len(infos))
				for _, in := range infos {
					j := marketInfoJSON{ID: in.Market.ID, Kind: in.Market.Kind, Base: in.Market.Base, Protocol: in.Market.Protocol,
						Rows: in.Rows, Fields: fieldNames(in.Fields), Events: in.Events}
					if in.Rows > 0 {
						f, l := in.First, in.Last
						j.First, j.Last, j.Step = &f, &l, fmtStep(in.Step)
					}
					out = append(out, j)
				}
				return writeJSON(a.stdout, out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MARKET\tKIND\tBASE\tFROM\tTO\tSTEP\tROWS\tEVENTS\tFIELDS")
			total := 0
			for _, in := range infos {
				from, to := "-", "-"
				if in.Rows > 0 {
					from, to = in.First.Format("2006-01-02 15:04"), in.Last.Format("2006-01-02 15:04")
				}
				total += in.Rows
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", in.Market.ID, in.Market.Kind, in.Market.Base,
					from, to, fmtStep(in.Step), in.Rows, in.Events, strings.Join(fieldNames(in.Fields), ","))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "\n%d markets, %d observations in %s\n", len(infos), total, a.dbName())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDataCheckCmd(a *app) *cobra.Command {
	var markets []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Report gaps, duplicates and out-of-range values in the history",
		Long:  "Check the history. Exits 1 when any issue of severity error is found.",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := a.openDB(ctx, false)
			if err != nil {
				return err
			}
			defer db.Close()
			issues, err := db.Check(ctx, markets)
			if err != nil {
				return err
			}
			errs := 0
			for _, is := range issues {
				if is.Severity == history.SeverityError {
					errs++
				}
			}
			if asJSON {
				type issueJSON struct {
					Severity string     `json:"severity"`
					Market   string     `json:"market"`
					Pos      string     `json:"pos,omitempty"`
					Time     *time.Time `json:"time,omitempty"`
					Kind     string     `json:"kind"`
					Msg      string     `json:"msg"`
				}
				out := make([]issueJSON, 0, len(issues))
				for _, is := range issues {
					j := issueJSON{Severity: is.Severity.String(), Market: is.Market, Pos: is.Pos, Kind: is.Kind, Msg: is.Msg}
					if !is.Time.IsZero() {
						t := is.Time
						j.Time = &t
					}
					out = append(out, j)
				}
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else {
				for _, is := range issues {
					fmt.Fprintln(a.stdout, is)
				}
				fmt.Fprintf(a.stdout, "%d issues (%d errors) in %s\n", len(issues), errs, a.dbName())
			}
			if errs > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&markets, "market", nil, "check only this market (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDataSynthCmd(a *app) *cobra.Command {
	var scenario, from, to, step string
	var seed uint64
	var markets []string
	var list bool
	var slashScope string
	var slashSize float64
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "Generate a synthetic market history into --db",
		Long:  "Generate a seeded, deterministic synthetic history for the built-in markets.\n\nScenarios:\n" + scenarioHelp(),
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				fmt.Fprint(a.stdout, scenarioHelp())
				return nil
			}
			if a.dbPath == "" {
				return usagef("data synth needs --db FILE")
			}
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			if (slashScope != "" || slashSize != 0) && scenario != "correlated-slash" {
				return usagef("--slash-scope and --slash-size apply to --scenario correlated-slash, not %q", scenario)
			}
			if !(slashSize >= 0 && slashSize <= 1) {
				return usagef("--slash-size %g must be a fraction in (0, 1]", slashSize)
			}
			cfg := synth.Config{Scenario: scenario, Seed: seed, Catalog: cat, SlashScope: slashScope, SlashSize: slashSize}
			if cfg.From, err = parseTime(from); err != nil {
				return err
			}
			if cfg.To, err = parseTime(to); err != nil {
				return err
			}
			if cfg.Step, err = parseStep(step); err != nil {
				return err
			}
			for _, id := range markets {
				m, err := cat.Market(id)
				if err != nil {
					return err
				}
				cfg.Markets = append(cfg.Markets, m)
			}
			start := time.Now()
			update, finish := a.progressOf("generating", false)
			if update != nil {
				cfg.Progress = func(done, total int) { update(int64(done), int64(total)) }
			}
			b, err := synth.Generate(cfg)
			finish()
			if err != nil {
				return err
			}
			generated := time.Since(start)
			ctx := cmd.Context()
			db, err := a.openDB(ctx, true)
			if err != nil {
				return err
			}
			defer db.Close()
			start = time.Now()
			res, err := db.Write(ctx, b)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %d rows (%d new, %d updated, %d unchanged), %d events, %d markets into %s (generated in %s, stored in %s)\n",
				b.Source, len(b.Rows), res.Inserted, res.Updated, res.Unchanged, res.Events, res.Markets, a.dbPath,
				generated.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			for _, n := range b.Notes {
				fmt.Fprintf(a.stdout, "note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "calm", "scenario name (see --list)")
	cmd.Flags().StringVar(&from, "from", "2024-01-01", "first timestamp (RFC3339 or YYYY-MM-DD)")
	cmd.Flags().StringVar(&to, "to", "2025-01-01", "last timestamp")
	cmd.Flags().StringVar(&step, "step", "1h", "time between rows (Go duration, or Nd for days)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	cmd.Flags().StringArrayVar(&markets, "market", nil, "generate only this market (repeatable; default every built-in market)")
	cmd.Flags().BoolVar(&list, "list", false, "list the scenarios and exit")
	cmd.Flags().StringVar(&slashScope, "slash-scope", "", "correlated-slash: the risk tag slashed (operator:..., avs:..., layer:..., protocol:...; default the operator tag most markets share)")
	cmd.Flags().Float64Var(&slashSize, "slash-size", 0, "correlated-slash: the share of each hit market's stake slashed, in (0, 1] (default a seeded 0.5-2% per market)")
	return cmd
}

func scenarioHelp() string {
	var b strings.Builder
	for _, s := range synth.Scenarios() {
		fmt.Fprintf(&b, "  %-18s %s\n", s.Name, s.Doc)
	}
	return b.String()
}

// parseStep parses a Go duration or a whole number of days ("7d").
func parseStep(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var d int
		if _, err := fmt.Sscanf(n, "%d", &d); err == nil && d > 0 && fmt.Sprint(d) == n {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("step %q is not a positive duration (1h, 6h, 1d)", s)
	}
	return d, nil
}

func newDataExportCmd(a *app) *cobra.Command {
	var market, from, to, format string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write one market's history to stdout as CSV or JSON",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if market == "" {
				return usagef("data export needs --market ID")
			}
			if format != "csv" && format != "json" {
				return usagef("--format must be csv or json, not %q", format)
			}
			lo, hi := time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			var err error
			if from != "" {
				if lo, err = parseTime(from); err != nil {
					return err
				}
			}
			if to != "" {
				if hi, err = parseTime(to); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			db, err := a.openDB(ctx, false)
			if err != nil {
				return err
			}
			defer db.Close()
			w, err := db.Load(ctx, []string{market}, lo, hi)
			if err != nil {
				return err
			}
			return exportSeries(a.stdout, w.Series[0], format)
		},
	}
	cmd.Flags().StringVar(&market, "market", "", "market ID")
	cmd.Flags().StringVar(&from, "from", "", "first time (default: the start of the history)")
	cmd.Flags().StringVar(&to, "to", "", "last time (default: the end of the history)")
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json")
	return cmd
}

func exportSeries(w io.Writer, s *adapters.Series, format string) error {
	return history.ExportSeries(w, s, format)
}
