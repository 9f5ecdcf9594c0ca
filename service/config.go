package service

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/internal/timefmt"
	"github.com/yieldvault/yieldvault/internal/yamlx"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// Defaults of the configuration.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultLeaseTTL      = 15 * time.Second
	DefaultWriteDeadline = 5 * time.Second
	DefaultExitCheck     = "*/15 * * * *"
	DefaultRebalance     = "@daily"
	DefaultHarvest       = "@weekly"
	DefaultLookback      = 30 * 24 * time.Hour
	DefaultGasPrice      = 10.0
	DefaultSourceBytes   = 8 << 20
	DefaultSourceTime    = 10 * time.Second
	DefaultMaxBodyBytes  = 64 << 10
	minTokenLen          = 16
)

// File is the service configuration as written in YAML. Every key is
// optional except vaults; unknown keys are errors. Relative paths are
// relative to the configuration file's folder.
type File struct {
	// Listen is the HTTP address; loopback only unless AllowNonLoopback.
	Listen           string `yaml:"listen"`
	AllowNonLoopback bool   `yaml:"allow_non_loopback"`
	// Token says where the API bearer token is read from: an environment
	// variable's name or a file's path, never the token itself.
	Token TokenFile `yaml:"token"`
	// StateDB is the service's own database: a SQLite file (created when
	// missing), or a PostgreSQL URL (postgres://USER@HOST:PORT/DB?...)
	// that several instances share.
	StateDB string `yaml:"state_db"`
	// HistoryDB is the market history database; empty means a private
	// in-memory copy of the embedded default history.
	HistoryDB string `yaml:"history_db"`
	// Catalog is an extra YAML file of protocol profiles and markets.
	Catalog string `yaml:"catalog"`
	// Durability is "full" (fsync at every commit, the default) or
	// "normal" (WAL with synchronous=NORMAL: a process crash loses
	// nothing, a power loss may lose the last commits).
	Durability string `yaml:"durability"`
	// Replay runs the service on a simulated clock instead of wall time.
	Replay *ReplayFile `yaml:"replay"`
	// Lease configures the single-writer lease.
	Lease LeaseFile `yaml:"lease"`
	// MaxBodyBytes bounds request bodies (default 64 KiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// WriteDeadline bounds every write transaction of the state database
	// (default 5s): waiting for the write lock and the transaction itself.
	// A process whose write stays open past 1.5 times it exits (watchdog).
	WriteDeadline string `yaml:"write_deadline"`
	// Sources import new market observations on a schedule.
	Sources []SourceFile `yaml:"sources"`
	// Vaults are the vaults the service runs.
	Vaults []VaultFile `yaml:"vaults"`
	// Execution says how decisions reach the chain (docs/operations.md,
	// Executors): paper (default) or propose, the vaults' addresses and
	// the allowlist.
	Execution *execution.File `yaml:"execution"`
	// Alerts sends the risk monitors' alerts to webhooks.
	Alerts AlertsFile `yaml:"alerts"`
}

// TokenFile names where the API token comes from (exactly one of Env and
// File).
type TokenFile struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
	// Optional lets the service start without a token when the variable
	// is unset or empty (state-changing endpoints then answer 401).
	Optional bool `yaml:"optional"`
}

// ReplayFile configures the simulated clock: it starts at Start and
// advances Speed simulated seconds per wall second, stopping at Until
// when set. A restarted service resumes from the last tick it processed.
type ReplayFile struct {
	Start string  `yaml:"start"`
	Speed float64 `yaml:"speed"`
	Until string  `yaml:"until"`
}

// LeaseFile configures the lease that lets one process of several act.
type LeaseFile struct {
	// Holder identifies this process; keep it stable across restarts of
	// the same deployment slot (a restart then takes its own lease back at
	// once) and distinct between processes. Default: host name and pid.
	Holder string `yaml:"holder"`
	// TTL is how long a lease lasts without renewal (default 15s); it is
	// renewed every TTL/3.
	TTL string `yaml:"ttl"`
}

// SourceFile is one market data source: a watched Folder or a URL.
type SourceFile struct {
	Name string `yaml:"name"`
	// Every is the refresh schedule (cron spec, UTC).
	Every  string `yaml:"every"`
	Folder string `yaml:"folder"`
	URL    string `yaml:"url"`
	// Market is the market of single-market formats (DefiLlama JSON).
	Market string `yaml:"market"`
	// Mapping is a column mapping file for generic CSV files.
	Mapping string `yaml:"mapping"`
	// Timeout and MaxBytes bound a URL fetch (default 10s and 8 MiB).
	Timeout  string `yaml:"timeout"`
	MaxBytes int64  `yaml:"max_bytes"`
}

// VaultFile is one vault.
type VaultFile struct {
	ID string `yaml:"id"`
	// Strategy is a strategy file, or go:NAME for a Go strategy
	// registered in the binary (strategies.Register).
	Strategy string `yaml:"strategy"`
	// Universe and Params are a Go strategy's markets (default: its own)
	// and parameters (numbers, or durations like 14d where the strategy
	// declares one); a strategy file sets its own.
	Universe []string          `yaml:"universe"`
	Params   map[string]string `yaml:"params"`
	// Base must match the strategy's base asset when given.
	Base string `yaml:"base"`
	// Deposit is the starting deposit (base units, a decimal string or
	// number) made by Depositor when the vault is created.
	Deposit   string `yaml:"deposit"`
	Depositor string `yaml:"depositor"`
	// DepositLimit caps the vault's total assets (base units); deposits
	// beyond it are refused. Default and ceiling: MaxAmount (10^15).
	DepositLimit string `yaml:"deposit_limit"`
	// Pricing is "rate" (default) or "market".
	Pricing string   `yaml:"pricing"`
	Fees    FeesFile `yaml:"fees"`
	// Staleness is the age of market data beyond which the vault does not
	// rebalance (default: no limit). Go durations plus "d" for days.
	Staleness string `yaml:"staleness"`
	// Rebalance, Harvest and ExitCheck override the strategy's schedules.
	Rebalance string `yaml:"rebalance"`
	Harvest   string `yaml:"harvest"`
	ExitCheck string `yaml:"exit_check"`
	// GasPrice (gwei) is used when the data carries none (default 10).
	GasPrice float64 `yaml:"gas_price"`
	// GasAssetPrice is one ETH in the vault's base asset, for gas costs,
	// used when the history cannot tell (it has no ETH market's base_usd
	// next to one of the vault's base). Default: vault.DefaultGasAssetPrice
	// (1 ETH, 3000 USD, 0.05 BTC).
	GasAssetPrice float64 `yaml:"gas_asset_price"`
	// GasAssetMarket is an ETH market whose base_usd, over the vault's
	// own markets' base_usd, prices gas for a USD or BTC vault: it is
	// loaded from the history with the vault's universe (it is not
	// traded). Empty: only the universe's own data.
	GasAssetMarket string `yaml:"gas_asset_market"`
	// IdleFloor and MaxLoss override the vault defaults (fractions).
	IdleFloor *float64 `yaml:"idle_floor"`
	MaxLoss   *float64 `yaml:"max_loss"`
	// Lookback is checked and kept (30d, or the Go strategy's own): the
	// service reads every stored row of the universe, so it cuts no
	// window of the strategy or the monitors short.
	Lookback string `yaml:"lookback"`
	// Monitors are the vault's risk monitors (the built-ins by default).
	Monitors monitor.File `yaml:"monitors"`
}

// FeesFile sets a vault's fees. Absent values mean no fee.
type FeesFile struct {
	Management   float64 `yaml:"management"`
	Performance  float64 `yaml:"performance"`
	Recipient    string  `yaml:"recipient"`
	ProfitUnlock string  `yaml:"profit_unlock"`
}

// Config is a loaded, checked configuration.
type Config struct {
	File             string // the configuration file's path
	Listen           string
	AllowNonLoopback bool
	TokenEnv         string
	TokenFile        string
	TokenOptional    bool
	StateDB          string
	HistoryDB        string
	Catalog          *adapters.Catalog
	SyncNormal       bool
	Replay           *Replay
	LeaseHolder      string
	LeaseTTL         time.Duration
	WriteDeadline    time.Duration
	MaxBodyBytes     int64
	Sources          []SourceSpec
	Vaults           []VaultSpec
	// Execution is the checked execution section (mode paper when the
	// file has none).
	Execution *execution.Config
	Webhooks  []WebhookSpec
}

// Replay is the simulated clock's settings.
type Replay struct {
	Start, Until time.Time
	Speed        float64
}

// SourceSpec is a checked source.
type SourceSpec struct {
	Name     string
	Every    string
	Sched    cron.Schedule
	Folder   string
	URL      string
	Market   string
	Mapping  string
	Timeout  time.Duration
	MaxBytes int64
}

// VaultSpec is a checked vault.
type VaultSpec struct {
	ID string
	// Strategy is a rules file's strategy or a Go strategy (go:NAME);
	// Universe, Base and Params are its markets, base asset and
	// parameters.
	Strategy  strategies.Strategy
	Universe  []string
	Base      adapters.Asset
	Params    map[string]float64
	Deposit   decimal.Decimal
	Depositor string
	Vault     VaultParams
	Staleness time.Duration
	Lookback  time.Duration
	GasPrice  float64
	// GasAssetPrice is one ETH in the base asset where the data has no
	// ETH price (0: vault.DefaultGasAssetPrice).
	GasAssetPrice float64
	// GasAssetMarket is the ETH market loaded with the universe for the
	// gas asset price ("" for none).
	GasAssetMarket string
	// Schedules of the three scheduled actions.
	Rebalance, Harvest, ExitCheck Sched
	// Monitors are the vault's risk monitors, compiled.
	Monitors []monitor.Monitor
}

// VaultParams are the parts of vault.Config the file sets.
type VaultParams struct {
	Base         adapters.Asset
	Pricing      adapters.Pricing
	Management   float64
	Performance  float64
	Recipient    string
	ProfitUnlock time.Duration
	IdleFloor    *float64
	MaxLoss      *float64
	// MinTradeOfNAV is the strategy's rebalance.min_trade (a fraction),
	// applied to DepositForTrade, the starting deposit.
	MinTradeOfNAV float64
	MaxGasPrice   float64
	// MinGainOverCost is the strategy's rebalance.min_gain_over_cost when
	// the file sets it (nil: the vault's default), as in backtests.
	MinGainOverCost *float64
	DepositForTrade decimal.Decimal
	// DepositLimit caps total assets (MaxAmount when the file sets none).
	DepositLimit decimal.Decimal
}

// Sched is a parsed schedule with its spec.
type Sched struct {
	Spec  string
	Sched cron.Schedule
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// LoadConfig reads and checks a configuration file. Every error names the
// file, line and column of the value at fault (KindInvalid; KindNotFound
// for missing files). Strategy files are loaded and cron specs parsed
// here, so a bad one stops the service before it starts.
func LoadConfig(path string) (*Config, error) {
	const op = "service.LoadConfig"
	data, err := os.ReadFile(path)
	if err != nil {
		kind := adapters.KindInvalid
		if os.IsNotExist(err) {
			kind = adapters.KindNotFound
		}
		return nil, &adapters.Error{Op: op, Kind: kind, Pos: path, Err: err}
	}
	return ParseConfig(path, data)
}

// ParseConfig checks a configuration held in data; path names it in
// errors and anchors relative paths.
func ParseConfig(path string, data []byte) (*Config, error) {
	const op = "service.LoadConfig"
	var f File
	if err := yamlx.Decode(path, data, &f); err != nil {
		pe, _ := err.(*yamlx.PosError)
		e := &adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: err}
		if pe != nil {
			e.Pos, e.Err = pe.Pos(), fmt.Errorf("%s", pe.Msg)
		}
		return nil, e
	}
	astFile, _ := yamlx.Parse(data)
	l := &cfgLoader{path: path, dir: filepath.Dir(path), ast: astFile}
	return l.check(&f)
}

type cfgLoader struct {
	path, dir string
	ast       *ast.File
	// monc compiles the monitors: vaults with the same universe share
	// their conditions (and their window caches, which hold columns over
	// the whole history).
	monc *monitor.Compiler
}

// pos returns file:line:col of the node at a YAML path ($.vaults[0].id),
// or the file name when it cannot be found.
func (l *cfgLoader) pos(p string) string {
	if l.ast != nil {
		if yp, err := yaml.PathString(p); err == nil {
			if n, err := yp.FilterFile(l.ast); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return fmt.Sprintf("%s:%d:%d", l.path, tk.Position.Line, tk.Position.Column)
				}
			}
		}
	}
	return l.path
}

func (l *cfgLoader) errf(p string, kind adapters.ErrorKind, format string, args ...any) error {
	return &adapters.Error{Op: "service.LoadConfig", Kind: kind, Pos: l.pos(p), Err: fmt.Errorf(format, args...)}
}

func (l *cfgLoader) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.dir, p)
}

// parseDuration accepts Go durations and whole days ("7d").
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok && !strings.ContainsAny(d, "hmsµn.") {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n >= 0 && fmt.Sprint(n) == d {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 90s, 12h or 7d)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

func parseSched(spec, def string) (Sched, error) {
	if spec == "" {
		spec = def
	}
	s, err := strategies.ParseSchedule(spec)
	if err != nil {
		return Sched{}, err
	}
	return Sched{Spec: spec, Sched: s}, nil
}

func (l *cfgLoader) check(f *File) (*Config, error) {
	c := &Config{File: l.path, Listen: f.Listen, AllowNonLoopback: f.AllowNonLoopback, MaxBodyBytes: f.MaxBodyBytes}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if err := checkListen(c.Listen, c.AllowNonLoopback); err != nil {
		return nil, l.errf("$.listen", adapters.KindInvalid, "%v", err)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes < 0 || c.MaxBodyBytes > 16<<20 {
		return nil, l.errf("$.max_body_bytes", adapters.KindInvalid, "max_body_bytes %d is not within [1, 16 MiB]", c.MaxBodyBytes)
	}
	switch {
	case f.Token.Env != "" && f.Token.File != "":
		return nil, l.errf("$.token", adapters.KindInvalid, "token: set env or file, not both")
	case f.Token.Env != "":
		if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(f.Token.Env) {
			return nil, l.errf("$.token.env", adapters.KindInvalid, "token.env must name an environment variable (the token itself never goes in the file)")
		}
		c.TokenEnv = f.Token.Env
	case f.Token.File != "":
		c.TokenFile = l.abs(f.Token.File)
	}
	c.TokenOptional = f.Token.Optional
	c.StateDB = f.StateDB
	if !IsPostgresURL(f.StateDB) {
		c.StateDB = l.abs(f.StateDB)
	}
	if c.StateDB == "" {
		return nil, l.errf("$", adapters.KindInvalid, "state_db is required: the path of the service's SQLite database, or a postgres:// URL")
	}
	c.HistoryDB = l.abs(f.HistoryDB)
	switch f.Durability {
	case "", "full":
	case "normal":
		c.SyncNormal = true
	default:
		return nil, l.errf("$.durability", adapters.KindInvalid, "durability %q is not full or normal", f.Durability)
	}
	c.Catalog = adapters.Builtin()
	if f.Catalog != "" {
		if err := c.Catalog.LoadFile(l.abs(f.Catalog)); err != nil {
			return nil, l.errf("$.catalog", adapters.KindOf(err), "catalog: %v", err)
		}
	}
	if f.Replay != nil {
		r := &Replay{Speed: f.Replay.Speed}
		var err error
		if r.Start, err = parseTimeValue(f.Replay.Start); err != nil || r.Start.IsZero() {
			return nil, l.errf("$.replay.start", adapters.KindInvalid, "replay.start %q is not an RFC3339 time or a date", f.Replay.Start)
		}
		if f.Replay.Until != "" {
			if r.Until, err = parseTimeValue(f.Replay.Until); err != nil || !r.Until.After(r.Start) {
				return nil, l.errf("$.replay.until", adapters.KindInvalid, "replay.until %q is not a time after replay.start", f.Replay.Until)
			}
		}
		if r.Speed == 0 {
			r.Speed = 1
		}
		if math.IsNaN(r.Speed) || r.Speed <= 0 || r.Speed > 1e9 {
			return nil, l.errf("$.replay.speed", adapters.KindInvalid, "replay.speed %g is not within (0, 1e9]", f.Replay.Speed)
		}
		c.Replay = r
	}
	c.LeaseHolder = f.Lease.Holder
	if c.LeaseHolder == "" {
		host, _ := os.Hostname()
		c.LeaseHolder = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	ttl, err := parseDuration(f.Lease.TTL)
	if err != nil {
		return nil, l.errf("$.lease.ttl", adapters.KindInvalid, "lease.ttl: %v", err)
	}
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	if ttl < 300*time.Millisecond {
		return nil, l.errf("$.lease.ttl", adapters.KindInvalid, "lease.ttl %s is shorter than 300ms", ttl)
	}
	c.LeaseTTL = ttl
	if c.WriteDeadline, err = parseDuration(f.WriteDeadline); err != nil {
		return nil, l.errf("$.write_deadline", adapters.KindInvalid, "write_deadline: %v", err)
	}
	if c.WriteDeadline == 0 {
		c.WriteDeadline = DefaultWriteDeadline
	}
	if c.WriteDeadline < 100*time.Millisecond || c.WriteDeadline > 10*time.Minute {
		return nil, l.errf("$.write_deadline", adapters.KindInvalid, "write_deadline %s is not within [100ms, 10m]", c.WriteDeadline)
	}

	names := map[string]bool{}
	for i, s := range f.Sources {
		p := fmt.Sprintf("$.sources[%d]", i)
		sp := SourceSpec{Name: s.Name, Every: s.Every, Folder: l.abs(s.Folder), URL: s.URL, Market: s.Market, Mapping: l.abs(s.Mapping), MaxBytes: s.MaxBytes}
		if !idRE.MatchString(s.Name) {
			return nil, l.errf(p+".name", adapters.KindInvalid, "source name %q must be lower-case letters, digits, '.', '_' or '-'", s.Name)
		}
		if names["source:"+s.Name] {
			return nil, l.errf(p+".name", adapters.KindInvalid, "source %q is listed twice", s.Name)
		}
		names["source:"+s.Name] = true
		if (s.Folder == "") == (s.URL == "") {
			return nil, l.errf(p, adapters.KindInvalid, "source %q: set exactly one of folder and url", s.Name)
		}
		sc, err := parseSched(s.Every, "")
		if err != nil {
			return nil, l.errf(p+".every", adapters.KindInvalid, "source %q: %v", s.Name, err)
		}
		sp.Sched = sc.Sched
		if s.URL != "" {
			if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
				return nil, l.errf(p+".url", adapters.KindInvalid, "source %q: url must be http:// or https://", s.Name)
			}
			if s.Market == "" {
				return nil, l.errf(p, adapters.KindInvalid, "source %q: a url source serves DefiLlama chart JSON for one market: set market", s.Name)
			}
		}
		if s.Market != "" {
			if _, err := c.Catalog.Market(s.Market); err != nil {
				return nil, l.errf(p+".market", adapters.KindNotFound, "source %q: %v", s.Name, err)
			}
		}
		if sp.Timeout, err = parseDuration(s.Timeout); err != nil {
			return nil, l.errf(p+".timeout", adapters.KindInvalid, "source %q: timeout: %v", s.Name, err)
		}
		if sp.Timeout == 0 {
			sp.Timeout = DefaultSourceTime
		}
		if sp.MaxBytes == 0 {
			sp.MaxBytes = DefaultSourceBytes
		}
		if sp.MaxBytes < 0 || sp.MaxBytes > 1<<30 {
			return nil, l.errf(p+".max_bytes", adapters.KindInvalid, "source %q: max_bytes %d is not within [1, 1 GiB]", s.Name, s.MaxBytes)
		}
		c.Sources = append(c.Sources, sp)
	}

	if len(f.Vaults) == 0 {
		return nil, l.errf("$", adapters.KindInvalid, "no vaults: list at least one under vaults")
	}
	for i, v := range f.Vaults {
		vs, err := l.vault(c, i, v, names)
		if err != nil {
			return nil, err
		}
		c.Vaults = append(c.Vaults, vs)
	}
	ef := f.Execution
	if ef == nil {
		ef = &execution.File{}
	}
	universes := map[string][]string{}
	for _, v := range c.Vaults {
		universes[v.ID] = v.Universe
	}
	ec, err := execution.Check(ef, l.pos, l.abs, universes)
	if err != nil {
		return nil, err
	}
	if ec.Mode != execution.ModePaper {
		// A loop is encoded on chain only by a loop deployment (the
		// built-in aave-v3/wsteth-loop, aave-v3/weeth-loop and morpho/wsteth-weth-loop): a contracts file may map a loop's
		// id to a lending deployment, whose plain supply and withdraw
		// would not borrow or repay. Refused here, not at every rebalance.
		for _, v := range c.Vaults {
			for _, id := range v.Universe {
				m, err := c.Catalog.Market(id)
				if err != nil || m.Legs == nil {
					continue
				}
				if d, err := ec.Book.Deployment(id); err == nil && execution.IsLoop(d.Protocol) {
					continue
				}
				return nil, l.errf("$.execution.mode", adapters.KindInvalid, "vault %s trades %s, a leveraged loop: %s mode encodes only the wstETH loops on Aave v3 and Morpho Blue and the weETH loop on Aave v3 (aave-v3/wsteth-loop, morpho/wsteth-weth-loop, aave-v3/weeth-loop: opening, relevering and unwinding through e-mode, borrow, mint, supply, withdraw, swap and repay calls); run this vault with the paper executor", v.ID, id, ec.Mode)
			}
		}
	}
	c.Execution = ec
	if err := l.webhooks(c, f.Alerts); err != nil {
		return nil, err
	}
	return c, nil
}

// strategy loads a vault's strategy: a rules file, or a registered Go
// strategy (go:NAME) built with the vault's universe and params.
func (l *cfgLoader) strategy(c *Config, p string, v VaultFile, vs *VaultSpec) error {
	name, isGo := strategies.GoName(v.Strategy)
	if !isGo {
		if len(v.Universe) > 0 || len(v.Params) > 0 {
			key := ".universe"
			if len(v.Universe) == 0 {
				key = ".params"
			}
			return l.errf(p+key, adapters.KindInvalid, "vault %q: universe and params are for Go strategies (strategy: go:NAME); the strategy file %s sets its own", v.ID, v.Strategy)
		}
		s, err := rules.LoadFile(l.abs(v.Strategy), c.Catalog)
		if err != nil {
			return l.errf(p+".strategy", adapters.KindOf(err), "vault %q: strategy: %v", v.ID, err)
		}
		vs.Strategy, vs.Universe, vs.Base, vs.Params = s, s.Universe(), s.Base(), s.Params()
		return nil
	}
	if !slices.Contains(strategies.Names(), name) {
		known := strategies.Names()
		for i, n := range known {
			known[i] = strategies.GoPrefix + n
		}
		return l.errf(p+".strategy", adapters.KindNotFound, "vault %q: no Go strategy %q is registered in this binary (registered: %s)", v.ID, name, strings.Join(known, ", "))
	}
	params := map[string]float64{}
	for _, k := range slices.Sorted(maps.Keys(v.Params)) {
		x, err := strategies.ParseParam(name, k, v.Params[k])
		if err != nil {
			return l.errf(p+".params."+k, adapters.KindInvalid, "vault %q: %s", v.ID, causeOf(err))
		}
		params[k] = x
	}
	g, err := strategies.NewGo(name, strategies.Config{Universe: v.Universe, Params: params, Catalog: c.Catalog})
	if err != nil {
		return l.errf(p+".strategy", adapters.KindOf(err), "vault %q: strategy: %s", v.ID, causeOf(err))
	}
	vs.Strategy, vs.Universe, vs.Base, vs.Params = g.Strategy, g.Universe, g.Base, g.Params
	return nil
}

// causeOf is an error's message without its Go operation name.
func causeOf(err error) string {
	var e *adapters.Error
	if errors.As(err, &e) && e.Err != nil && e.Pos == "" {
		return e.Err.Error()
	}
	return err.Error()
}

func (l *cfgLoader) vault(c *Config, i int, v VaultFile, names map[string]bool) (VaultSpec, error) {
	p := fmt.Sprintf("$.vaults[%d]", i)
	vs := VaultSpec{ID: v.ID, Depositor: v.Depositor, GasPrice: v.GasPrice, GasAssetPrice: v.GasAssetPrice}
	if !idRE.MatchString(v.ID) {
		return vs, l.errf(p+".id", adapters.KindInvalid, "vault id %q must be lower-case letters, digits, '.', '_' or '-' (at most 63)", v.ID)
	}
	if names["vault:"+v.ID] {
		return vs, l.errf(p+".id", adapters.KindInvalid, "vault %q is listed twice", v.ID)
	}
	names["vault:"+v.ID] = true
	if v.Strategy == "" {
		return vs, l.errf(p, adapters.KindInvalid, "vault %q: strategy (a strategy file, or go:NAME) is required", v.ID)
	}
	err := l.strategy(c, p, v, &vs)
	if err != nil {
		return vs, err
	}
	vp := VaultParams{Base: vs.Base, Pricing: adapters.PriceRate, Management: v.Fees.Management, Performance: v.Fees.Performance,
		Recipient: v.Fees.Recipient, IdleFloor: v.IdleFloor, MaxLoss: v.MaxLoss}
	if v.Base != "" {
		b, err := adapters.ParseAsset(v.Base)
		if err != nil || b != vs.Base {
			return vs, l.errf(p+".base", adapters.KindInvalid, "vault %q: base %q does not match the strategy's base %s", v.ID, v.Base, vs.Base)
		}
	}
	if v.Pricing != "" {
		if vp.Pricing, err = adapters.ParsePricing(v.Pricing); err != nil {
			return vs, l.errf(p+".pricing", adapters.KindInvalid, "vault %q: %v", v.ID, err)
		}
	}
	if vp.ProfitUnlock, err = parseDuration(v.Fees.ProfitUnlock); err != nil {
		return vs, l.errf(p+".fees.profit_unlock", adapters.KindInvalid, "vault %q: %v", v.ID, err)
	}
	if (vp.Management > 0 || vp.Performance > 0) && vp.Recipient == "" {
		vp.Recipient = "fees"
	}
	vp.DepositLimit = MaxAmount
	if strings.TrimSpace(v.DepositLimit) != "" {
		lim, err := decimal.NewFromString(strings.TrimSpace(v.DepositLimit))
		if err != nil || lim.Sign() <= 0 {
			return vs, l.errf(p+".deposit_limit", adapters.KindInvalid, "vault %q: deposit_limit %q is not a decimal > 0", v.ID, v.DepositLimit)
		}
		if m := checkAmount("deposit_limit", lim, MaxAmount); m != "" {
			return vs, l.errf(p+".deposit_limit", adapters.KindInvalid, "vault %q: %s", v.ID, m)
		}
		vp.DepositLimit = lim
	}
	dep := strings.TrimSpace(v.Deposit)
	if dep == "" {
		dep = "0" // documented default: no starting deposit
	}
	if vs.Deposit, err = decimal.NewFromString(dep); err != nil {
		return vs, l.errf(p+".deposit", adapters.KindInvalid, "vault %q: deposit %q is not a decimal >= 0 with at most 18 places", v.ID, v.Deposit)
	}
	if m := checkAmount("deposit", vs.Deposit, vp.DepositLimit); m != "" {
		return vs, l.errf(p+".deposit", adapters.KindInvalid, "vault %q: %s (deposit_limit)", v.ID, m)
	}
	if vs.Depositor == "" {
		vs.Depositor = "treasury"
	}
	var t strategies.Thresholds
	if th, ok := vs.Strategy.(strategies.Thresholder); ok {
		t = th.Thresholds()
	}
	vp.MinTradeOfNAV, vp.MaxGasPrice, vp.DepositForTrade = t.MinTrade, t.MaxGasPrice, vs.Deposit
	if t.HasMinGainOverCost {
		g := t.MinGainOverCost
		vp.MinGainOverCost = &g
	}
	vs.Vault = vp
	if _, err := vs.VaultConfig(); err != nil {
		return vs, l.errf(p, adapters.KindInvalid, "%v", err)
	}
	if vs.Staleness, err = parseDuration(v.Staleness); err != nil {
		return vs, l.errf(p+".staleness", adapters.KindInvalid, "vault %q: staleness: %v", v.ID, err)
	}
	if vs.Lookback, err = parseDuration(v.Lookback); err != nil {
		return vs, l.errf(p+".lookback", adapters.KindInvalid, "vault %q: lookback: %v", v.ID, err)
	}
	if l, ok := vs.Strategy.(strategies.Lookbacker); ok && vs.Lookback == 0 {
		vs.Lookback = l.Lookback()
	}
	if vs.Lookback == 0 {
		vs.Lookback = DefaultLookback
	}
	if vs.GasPrice == 0 {
		vs.GasPrice = DefaultGasPrice
	}
	if math.IsNaN(vs.GasPrice) || vs.GasPrice < 0 || vs.GasPrice > 1e6 {
		return vs, l.errf(p+".gas_price", adapters.KindInvalid, "vault %q: gas_price %g is not within [0, 1e6]", v.ID, v.GasPrice)
	}
	if math.IsNaN(vs.GasAssetPrice) || vs.GasAssetPrice < 0 || vs.GasAssetPrice > 1e12 {
		return vs, l.errf(p+".gas_asset_price", adapters.KindInvalid, "vault %q: gas_asset_price %g is not within [0, 1e12]", v.ID, v.GasAssetPrice)
	}
	if v.GasAssetMarket != "" {
		m, err := c.Catalog.Market(v.GasAssetMarket)
		if err != nil {
			return vs, l.errf(p+".gas_asset_market", adapters.KindNotFound, "vault %q: gas_asset_market: %v", v.ID, err)
		}
		if m.Base != adapters.ETH {
			return vs, l.errf(p+".gas_asset_market", adapters.KindInvalid, "vault %q: gas_asset_market %s is a %s market, not an ETH one", v.ID, m.ID, m.Base)
		}
		vs.GasAssetMarket = m.ID
	}
	var rdef, hdef string
	if sc, ok := vs.Strategy.(strategies.Scheduled); ok {
		rdef, hdef = sc.RebalanceSchedule().Spec, sc.HarvestSchedule().Spec
	}
	if rdef == "" {
		rdef = DefaultRebalance
	}
	if hdef == "" {
		hdef = DefaultHarvest
	}
	for _, x := range []struct {
		key, spec, def string
		dst            *Sched
	}{{"rebalance", v.Rebalance, rdef, &vs.Rebalance}, {"harvest", v.Harvest, hdef, &vs.Harvest}, {"exit_check", v.ExitCheck, DefaultExitCheck, &vs.ExitCheck}} {
		sc, err := parseSched(x.spec, x.def)
		if err != nil {
			return vs, l.errf(p+"."+x.key, adapters.KindInvalid, "vault %q: %s: %v", v.ID, x.key, err)
		}
		*x.dst = sc
	}
	if err := l.monitors(c, p, &vs, v.Monitors); err != nil {
		return vs, err
	}
	return vs, nil
}

func checkListen(addr string, allow bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen %q is not host:port", addr)
	}
	if port == "" {
		return fmt.Errorf("listen %q has no port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if !allow {
		return fmt.Errorf("listen %q is not a loopback address; set allow_non_loopback: true to expose the API (put TLS in front)", addr)
	}
	return nil
}

func parseTimeValue(s string) (time.Time, error) {
	if t, ok := timefmt.Parse(s); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q is not RFC3339 or YYYY-MM-DD", s)
}
