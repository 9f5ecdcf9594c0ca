package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/internal/timefmt"
)

// version is set at build time with -ldflags "-X github.com/yieldvault/yieldvault/cli.version=v1.2.3";
// otherwise it comes from the module's build information.
var version = ""

// app is what every command shares: streams, global flags and the clock.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dbPath      string // --db; empty means the embedded default history
	catalogFile string // --catalog: extra profiles and markets
	now         func() time.Time
}

// Environment variables that give the common flags their defaults.
const (
	EnvDB      = "YIELDVAULT_DB"      // --db
	EnvCatalog = "YIELDVAULT_CATALOG" // --catalog
)

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newRoot(a *app) *cobra.Command {
	if a.now == nil {
		a.now = func() time.Time { return time.Now().UTC() }
	}
	root := &cobra.Command{
		Use:           "yieldvault",
		Short:         "Yield-optimizing vaults: market history, strategies, backtests and a rebalancing service",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("yieldvault {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.PersistentFlags().StringVar(&a.dbPath, "db", os.Getenv(EnvDB), "market history database (default: $"+EnvDB+", else the embedded synthetic history)")
	root.PersistentFlags().StringVar(&a.catalogFile, "catalog", os.Getenv(EnvCatalog), "YAML file of extra protocol profiles and markets (default: $"+EnvCatalog+")")
	root.AddCommand(
		newVersionCmd(a),
		newMarketsCmd(a),
		newDataCmd(a),
		newValidateCmd(a),
		newPlanCmd(a),
		newServeCmd(a),
		newBacktestCmd(a),
		newSweepCmd(a),
		newMonteCarloCmd(a),
		newWalkForwardCmd(a),
		newMergeCmd(a),
	)
	registerCompletions(a, root)
	return root
}

// args wraps a cobra.PositionalArgs so that its errors are usage errors.
func args(f cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := f(cmd, a); err != nil {
			return &usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}

// Stdin is the file name that reads standard input where a file is
// expected (-s -, data import -).
const Stdin = "-"

// readInput reads a file the user named, or standard input for "-"; name
// is what errors call it ("stdin" for "-").
func (a *app) readInput(path string) (data []byte, name string, err error) {
	if path == Stdin {
		if a.stdin == nil {
			return nil, "stdin", adapters.E("read", adapters.KindInvalid, "no standard input to read")
		}
		b, err := io.ReadAll(io.LimitReader(a.stdin, 64<<20))
		if err != nil {
			return nil, "stdin", adapters.E("read", adapters.KindOther, "stdin: %v", err)
		}
		return b, "stdin", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, path, adapters.E("read", adapters.KindNotFound, "%s: %v", path, err)
	}
	return b, path, nil
}

// catalog returns the built-in catalog plus the --catalog file, plus the
// markets stored in --db that neither describes (a market imported with
// a catalog is known to the commands that read its database, as long as
// its protocol profile is).
func (a *app) catalog() (*adapters.Catalog, error) {
	c := adapters.Builtin()
	if a.catalogFile != "" {
		if err := c.LoadFile(a.catalogFile); err != nil {
			return nil, err
		}
	}
	if a.dbPath != "" {
		if _, err := os.Stat(a.dbPath); err == nil {
			ctx := context.Background()
			if db, err := history.Open(ctx, a.dbPath, history.WithClock(a.now)); err == nil {
				if infos, err := db.Markets(ctx); err == nil {
					for _, in := range infos {
						if _, err := c.Market(in.Market.ID); err != nil {
							_ = c.AddMarket(in.Market) // unknown protocol: the market stays unknown
						}
					}
				}
				db.Close()
			}
		}
	}
	return c, nil
}

// openDB opens --db, or the embedded default history when --db is empty.
// create allows a missing file to be created (imports, synth).
func (a *app) openDB(ctx context.Context, create bool) (*history.DB, error) {
	if a.dbPath == "" {
		return synth.OpenDefault(ctx)
	}
	if !create {
		if _, err := os.Stat(a.dbPath); err != nil {
			return nil, adapters.E("open", adapters.KindNotFound, "database %s: %v", a.dbPath, errors.Unwrap(err))
		}
	}
	opts := []history.Option{history.WithClock(a.now)}
	if a.catalogFile != "" {
		// Load reads which user-defined staking tokens accrue value.
		c := adapters.Builtin()
		if err := c.LoadFile(a.catalogFile); err != nil {
			return nil, err
		}
		opts = append(opts, history.WithCatalog(c))
	}
	return history.Open(ctx, a.dbPath, opts...)
}

// dbName names the history in output.
func (a *app) dbName() string {
	if a.dbPath == "" {
		return "embedded default history"
	}
	return a.dbPath
}

func (a *app) isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termWidth is stdout's width when it is a terminal (COLUMNS when set),
// else 100.
func (a *app) termWidth() int {
	if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 40 {
			return w
		}
	}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 40 {
		return c
	}
	return 100
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseTime accepts RFC3339, a date (2006-01-02) or "2006-01-02 15:04".
func parseTime(s string) (time.Time, error) {
	if t, ok := timefmt.Parse(s); ok {
		return t, nil
	}
	return time.Time{}, usagef("time %q is not RFC3339 or YYYY-MM-DD", s)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionLine is the version with the VCS commit and the Go version the
// binary was built with (from its build information): "v1.2.3 (commit
// 0123abcd, go1.26.0)".
func versionLine() string {
	commit, gov, dirty := "unknown", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		gov = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				commit = s.Value[:12]
			}
			if s.Key == "vcs.modified" && s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if commit != "unknown" {
		commit += dirty
	}
	return fmt.Sprintf("%s (commit %s, %s)", buildVersion(), commit, gov)
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "yieldvault %s\n", versionLine())
			return nil
		},
	}
}

// defaultCapitals describes defaultCapital for flag help.
const defaultCapitals = "100 ETH, 5 BTC or 1,000,000 USD by the strategy's base"

// defaultCapital is the capital a backtest or a plan starts with when
// --capital is not given: a size at which mainnet gas is a realistic share
// of the trades (a 100 USD vault would spend most of itself on gas).
func defaultCapital(base adapters.Asset) decimal.Decimal {
	switch base {
	case adapters.BTC:
		return decimal.NewFromInt(5)
	case adapters.USD:
		return decimal.NewFromInt(1_000_000)
	}
	return decimal.NewFromInt(100)
}

// parseCapital parses --capital; "" gives zero, meaning "the default for
// the strategy's base".
func parseCapital(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Zero, nil
	}
	c, err := decimal.NewFromString(s)
	if err != nil || c.Sign() <= 0 {
		return decimal.Zero, usagef("--capital %q is not a positive number", s)
	}
	return c, nil
}
