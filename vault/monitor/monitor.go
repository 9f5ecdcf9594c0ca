// Package monitor is the risk monitors' model, shared by the service and
// the backtest: the configuration section (built-ins with the basis of
// each threshold, a vault's own rules), their compilation by the strategy
// language's compiler (strategies/rules), their evaluation on a vault
// over its market history, the firing episodes (which started, which
// resolved) and the bindings to an action: alert, pause, or exit the
// markets concerned (Breach, through the vault's Runner).
//
// The service evaluates a vault's monitors in every rebalance and exit
// check; the backtest at every step of its simulated clock. Both call
// Eval on the same vault and window, so the same data fires the same
// monitors at the same times.
package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// File is a vault's risk monitors in a configuration: the service's
// vaults[].monitors, the backtest's --monitors file.
type File struct {
	// Builtin turns the built-in monitors (Builtin) on or off (default
	// on). They alert only; bind one to an action by listing it under
	// rules with the same name and an action.
	Builtin *bool `yaml:"builtin"`
	// Rules are the vault's own monitors.
	Rules []Rule `yaml:"rules"`
}

// Rule is one risk monitor: a per-market condition in the strategy
// language (docs/strategy-language.md: every market name and window
// function an exit rule may read), evaluated on every market of the
// vault's universe.
type Rule struct {
	Name string `yaml:"name"`
	// When is the condition; the monitor fires for each market it holds
	// for. A built-in monitor's name with no when keeps its condition.
	When string `yaml:"when"`
	// Action is alert (default: log, metric, API, webhooks; a row of the
	// backtest's monitors.csv), pause (the vault stops trading) or exit
	// (the markets it fires for are exited at once and not bought while it
	// fires).
	Action string `yaml:"action"`
	// Severity is warning (default) or critical; a label of the alert.
	Severity string `yaml:"severity"`
}

// Actions a monitor is bound to.
const (
	Alert = "alert"
	Pause = "pause"
	Exit  = "exit"
)

// Monitor is a compiled risk monitor.
type Monitor struct {
	Name     string `json:"name"`
	When     string `json:"when"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
	// Basis says where a built-in monitor's threshold comes from.
	Basis string `json:"basis,omitempty"`
	cond  *rules.Strategy
	// check is a built-in monitor written in Go (events, which rules
	// cannot read), evaluated instead of cond.
	check func(st *strategies.State, w *adapters.Window) []string
	// value is the deciding comparison's left side (a name or window
	// call rules.Strategy.Inputs reads) and threshold its number, when
	// the condition ends in one (Measure).
	value     string
	threshold string
}

// EventMonitor is the built-in monitor on slash and pause events: the
// seeds' advice to watch slashing and to assume a breach until proven
// otherwise. It fires on every market of the universe that is paused now
// or had a slash or pause event within EventWindow, on every market that
// shares a layer:, avs: or operator: tag with a market hit, and on every
// market carrying an event's scope tag (the operator or AVS it names).
const EventMonitor = "slash-or-pause"

// EventWindow is how long a slash or pause keeps EventMonitor firing.
const EventWindow = 14 * 24 * time.Hour

// EventWhen is EventMonitor's condition in words.
const EventWhen = "a slash or pause event within 14 days (or paused now) on the market, on a market sharing its layer, AVS or operator tag, or on the event's scope tag"

// Builtin are the monitors every vault has unless builtin is false, each
// with the basis of its threshold (Basis). They alert only. A monitor
// whose markets do not apply (a peg rule on a lending-only vault) simply
// never fires. EventMonitor is built in too (in Go).
var Builtin = []Rule{
	{Name: "peg-below", When: `(kind == "lst" || kind == "lrt") && avg(peg, "6h") < 0.98`, Severity: "critical"},
	{Name: "tvl-drop", When: `change(tvl, "24h") < -0.2`, Severity: "critical"},
	{Name: "utilization-high", When: `kind == "lending" && utilization > 0.95`, Severity: "warning"},
	{Name: "withdrawal-queue-long", When: `(kind == "lst" || kind == "lrt") && exit_days > 14`, Severity: "warning"},
	{Name: "exit-liquidity-thin", When: `(kind == "lst" || kind == "lrt") && exit_liquidity > 0 && exit_impact > 0.02`, Severity: "warning"},
	{Name: "exit-liquidity-falling", When: `holding > 0 && (kind == "lst" || kind == "lrt") && change(exit_liquidity, "7d") < -0.5`, Severity: "warning"},
	{Name: "exit-time-rising", When: `holding > 0 && (kind == "lst" || kind == "lrt") && change(withdrawal_days, "7d") > 0.5`, Severity: "warning"},
	{Name: "health-factor-low", When: `health_factor < 1.075`, Severity: "critical"},
	{Name: "oracle-gap", When: `holding > 0 && oracle_gap < -0.02`, Severity: "critical"},
	{Name: "data-stale", When: `holding > 0 && data_age > 72`, Severity: "critical"},
}

// basis is the basis of each built-in monitor's threshold.
var basis = map[string]string{
	EventMonitor: "14 days is EigenLayer's withdrawal escrow since its slashing upgrade of 2025-04-17 (builtin profile escrow_days, EigenLayer docs): stake of the same operator set can still be slashed for that long after it starts to leave. A judgement beyond that: the seeds say to assume a breach until proven otherwise.",
	"peg-below": "stETH/ETH (shared/data/steth-usd-coingecko-hourly, PROVENANCE.md): median 0.9937 over 2021-2023; daily means 0.976 on 2022-05-13 (UST collapse), 0.961 on 2022-06-10, minimum 0.9306 on 2022-06-18. " +
		"0.98 over a 6-hour average stays quiet at the median and fires on both 2022 episodes; the average smooths the thin early-2021 feed's single-hour outliers.",
	"tvl-drop": "Lido stETH's TVL in USD (DefiLlama, shared/data/lido-steth-apy-defillama-daily, 2022-05 to 2025-11) never fell 20% in a day: 0 of 1,253 daily changes, worst -16.6% (2022-06-13, the Celsius freeze; 2022-11-08/09, FTX), sd 3.7%, 1st percentile -9.6%; " +
		"a 20% fall within 24 hours is beyond every day of that file, and the seeds' advice is to assume a breach when TVL drops suddenly. tvl is in USD, so an ETH crash moves it too: ETH itself fell 20.6% on 2021-05-19 and 20.7% on 2022-01-21 (shared/data/steth-usd-coingecko-hourly, last price of each UTC day), days that would fire it on every ETH market; the files have no token counts to tell outflows from price.",
	"utilization-high": "Aave v3 WETH's interest rate kink is at 90% utilization (builtin profile irm_optimal, Aave address book and governance), and Compound v3 USDC's at 90-95% (comet configuration.json): " +
		"above 95% a lender's free liquidity is under 5% of supply and a withdrawal may have to wait for repayments.",
	"withdrawal-queue-long": "the built-in profiles' withdrawal_days run from 3 (Lido: typically 1-5 days, stake.lido.fi/withdrawals) to 14 (Puffer's two-step withdrawal) in normal times; more than 14 days is longer than any of them: the exit route is congested. " +
		"It reads the vault's own exit time (exit_days): only a market it holds more of than the instant-exit depth (the adapters refuse an instant exit above it) has to wait for the queue.",
	"health-factor-low": "a loop's health factor (collateral at the oracle's price x liquidation threshold / debt; +Inf without debt) below 1.075 leaves a margin (liquidation_drop = 1 - 1/1.075 = 6.98%) smaller than stETH's deepest depeg, 0.9306 of ETH on 2022-06-18 (shared/data/steth-usd-coingecko-hourly; the builtin Lido profile's depeg_risk 0.07): " +
		"a repeat, priced by an oracle that follows the market, would liquidate it (Aave: at health factor < 1, half the debt above 0.95; Morpho: the whole debt). Aave's e-mode wstETH and weETH oracles follow the exchange rate, so there it falls with the debt's interest and a slash.",
	"oracle-gap": "oracle_gap is a loop's collateral's market price over the lending protocol's oracle price of it, less 1; the built-in loops' oracles follow the exchange rate (Aave's CAPO feeds, Morpho's wstETH oracle: profile oracle_market_price 0), so a discount liquidates nothing and health-factor-low stays quiet while an unwind sells the collateral at the market, losing about leverage x the discount of the equity. " +
		"-2% is the margin between the built-in Aave e-mode loops' LTV and liquidation threshold (93%/95%, 93.5%/95.5%: a loop borrowed to its LTV is liquidated by a 2.1% fall of the oracle's price), so a discount that deep would liquidate it under an oracle that followed the market; at the e-mode's 14x (1 / (1 - 0.93)) it costs 28% of the equity. " +
		"The real wstETH and weETH DEX prices against Aave's oracle (shared/data/lst-lrt-market-vs-aave-oracle-hourly, 2024-05 to 2025-09) stayed within 0.34% and 0.52% below it, the widest on the 2024-08-05 crash; stETH's June 2022 low, 0.9306 of ETH (shared/data/steth-usd-coingecko-hourly), was 6.9% below.",
	"data-stale": "data_age is the hours since the market's latest row (the history forward-fills fields within rows, never rows: a source that stopped leaves the latest row where it stopped). 72 hours is history.GapFactor (3, the gap of data check and of the backtest's data issues) times 24 hours, the step of the daily files, the slowest regular cadence among the real sources " +
		"(shared/data/README.md: DefiLlama, Messari and AaveScan daily; CoinGecko, Compound's oracle and GeckoTerminal hourly; the Curve pool snapshots about 12-hourly): a daily market's latest row is normally under a day old plus its publisher's lag, so 72 hours is three missed rows. " +
		"On hourly data it is 72 missed rows: an hourly-fed vault tightens it (data_age > 6). Only held markets: the vault's staleness limit keeps it from buying on stale data.",
	"exit-liquidity-falling": "the Curve ETH/stETH pool's ETH side is stETH's instant-exit depth (lido/steth's observed exit_liquidity; shared/data/curve-steth-pool-snapshots-2022, 387 snapshots about 12-hourly, 2022-07-29 to 2023-01-12). Over 7 days it moved by a median +1.2% and fell at most 29.5% before November 2022 (2022-09-06, the pre-Merge drawdown); in the FTX week it fell from 582,158 ETH (2022-11-06) to 245,779 (2022-11-09) while the stETH side grew, the pool filling with stETH: -58.5% over 7 days. " +
		"A fall of more than half within 7 days fires on 4 of the 387 snapshots, 2022-11-09 to 2022-11-11, and on no other: at half the depth the price impact of the same sale (holding / (depth + holding)) about doubles. Only held markets: it is the vault's way out that thins.",
	"exit-time-rising": "withdrawal_days is the exit through the protocol's queue; the one lengthening the data holds is EigenLayer's withdrawal escrow, 7 -> 14 days on 2025-04-17 (+100% within a day: the builtin restaked profiles' escrow_days, EigenLayer's slashing upgrade), which a rise of more than 50% within 7 days catches. " +
		"No file in shared/data observes a queue's time (the histories carry the profiles' dated values), so the threshold is a judgement: a live source of Lido's queue, which runs 1-5 days in normal times (stake.lido.fi/withdrawals), would swing more than 50% without a crisis, and a vault fed one should raise it. Only held markets: it is the vault's own exit that lengthens.",
	"exit-liquidity-thin": "exit_impact is the price impact of selling the vault's whole holding at once into the instant-exit depth, holding / (depth + holding) (constant-product depth, docs/adapters.md, Instant exit). " +
		"2% is the loss the peg monitor's 0.98 stands for: above it, an emergency exit costs more than the depeg a vault would flee. A market without depth (exit_liquidity 0: restaked positions) leaves only through its queue, which withdrawal-queue-long watches.",
}

// Basis is the basis of a built-in monitor's threshold ("" for others).
func Basis(name string) string { return basis[name] }

// BuiltinWhen is a built-in monitor's condition ("" for others).
func BuiltinWhen(name string) string {
	for _, b := range Builtin {
		if b.Name == name {
			return b.When
		}
	}
	if name == EventMonitor {
		return EventWhen
	}
	return ""
}

// Error is a configuration error at a field of the monitors section:
// Field is relative to it ("rules[2].when", "" for the section itself).
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Compiler compiles monitors. Conditions are compiled once per
// (universe, base, condition) and shared by the vaults that have them:
// their window caches hold columns over the whole history.
type Compiler struct {
	// Catalog supplies the markets and profiles (nil: adapters.Builtin()).
	Catalog *adapters.Catalog
	conds   map[string]*rules.Strategy
}

// Compile checks a vault's monitors (the built-ins unless turned off,
// overridden by the vault's rules of the same name, then the vault's own)
// and compiles their conditions over the universe. Errors are *Error
// naming the field.
func (c *Compiler) Compile(f File, universe []string, base adapters.Asset) ([]Monitor, error) {
	errf := func(field, format string, args ...any) error {
		return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var list []Rule
	if f.Builtin == nil || *f.Builtin {
		list = append(list, Builtin...)
		list = append(list, Rule{Name: EventMonitor, When: EventWhen, Severity: "critical"})
	}
	seen := map[string]int{}
	for i := range list {
		seen[list[i].Name] = i
	}
	ruleAt := map[string]int{}
	for i, r := range f.Rules {
		rp := fmt.Sprintf("rules[%d]", i)
		if !nameRE.MatchString(r.Name) {
			return nil, errf(rp+".name", "monitor name %q must be lower-case letters, digits, '.', '_' or '-'", r.Name)
		}
		if _, dup := ruleAt[r.Name]; dup {
			return nil, errf(rp+".name", "monitor %q is listed twice", r.Name)
		}
		ruleAt[r.Name] = i
		if j, ok := seen[r.Name]; ok {
			b := list[j]
			if r.When == "" {
				r.When = b.When
			}
			if r.Severity == "" {
				r.Severity = b.Severity
			}
			list[j] = r
			continue
		}
		if strings.TrimSpace(r.When) == "" {
			return nil, errf(rp, "monitor %q needs when: a condition on a market (peg < 0.98)", r.Name)
		}
		seen[r.Name] = len(list)
		list = append(list, r)
	}
	var out []Monitor
	for _, r := range list {
		rp := ""
		if i, ok := ruleAt[r.Name]; ok {
			rp = fmt.Sprintf("rules[%d]", i)
		}
		at := func(field string) string {
			if rp == "" {
				return ""
			}
			return rp + "." + field
		}
		m := Monitor{Name: r.Name, When: r.When, Action: r.Action, Severity: r.Severity, Basis: basis[r.Name]}
		if _, own := ruleAt[r.Name]; own && r.When != BuiltinWhen(r.Name) {
			m.Basis = ""
		}
		if m.Action == "" {
			m.Action = Alert
		}
		if m.Severity == "" {
			m.Severity = "warning"
		}
		if !slices.Contains([]string{Alert, Pause, Exit}, m.Action) {
			return nil, errf(at("action"), "monitor %q: action %q is not alert, pause or exit", r.Name, r.Action)
		}
		if m.Severity != "warning" && m.Severity != "critical" {
			return nil, errf(at("severity"), "monitor %q: severity %q is not warning or critical", r.Name, r.Severity)
		}
		if r.Name == EventMonitor {
			if r.When != EventWhen {
				return nil, errf(at("when"), "monitor %s is built in (events): it takes an action and a severity, not when", EventMonitor)
			}
			m.Basis, m.check = basis[EventMonitor], eventCheck
			out = append(out, m)
			continue
		}
		key := strings.Join(universe, ",") + "\x00" + string(base) + "\x00" + m.When
		cond := c.conds[key]
		if cond == nil {
			var err error
			if cond, err = compile(m, universe, base, c.Catalog); err != nil {
				return nil, errf(at("when"), "monitor %q: %s", r.Name, err)
			}
			if c.conds == nil {
				c.conds = map[string]*rules.Strategy{}
			}
			c.conds[key] = cond
		}
		m.cond = cond
		m.value, m.threshold = deciding(m.When)
		out = append(out, m)
	}
	return out, nil
}

// compile compiles a monitor's condition with the strategy language's
// compiler, as the exit rule of a strategy over the vault's universe:
// every market name, window function and check of an exit rule applies,
// and it is evaluated by the same code (rules.Strategy.ExitCheck).
func compile(m Monitor, universe []string, base adapters.Asset, cat *adapters.Catalog) (*rules.Strategy, error) {
	doc := map[string]any{
		"name": "monitor " + m.Name, "base": string(base), "universe": universe,
		"rules": map[string]string{"eligible": "false", "score": "0", "weight": "0"},
		"exit":  map[string]string{"when": m.When},
	}
	js, err := json.Marshal(doc) // JSON is YAML
	if err != nil {
		return nil, err
	}
	s, err := rules.Load("monitor "+m.Name, js, cat)
	if err != nil {
		msg := err.Error()
		// The position is in the generated document, not the user's
		// file: keep the message, which quotes the expression.
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "monitor ") {
			msg = msg[i+2:]
		}
		return nil, fmt.Errorf("when %q: %s", m.When, strings.TrimPrefix(strings.ReplaceAll(msg, "exit.when: ", ""), "exit.when "))
	}
	return s, nil
}

// Firing is a monitor that holds for some markets.
type Firing struct {
	Monitor string    `json:"monitor"`
	Action  string    `json:"action"`
	Markets []string  `json:"markets"`
	Since   time.Time `json:"since"` // (simulated) time it started firing
	// Notified is the time of its last alert (it started, or fired on
	// other markets).
	Notified time.Time `json:"notified"`
	When     string    `json:"when"`
	// Severity and Basis as configured.
	Severity string `json:"severity"`
	Basis    string `json:"basis,omitempty"`
}

// Eval evaluates the monitors ms on the vault v, observed at its time,
// over the window w (its rows up to the vault's time), and returns those
// that fire. The vault's positions are in the State the conditions read
// (weight, holding, exit_days).
func Eval(ctx context.Context, ms []Monitor, v *vault.Vault, w *adapters.Window) ([]Firing, error) {
	var e Evaluator
	return e.Eval(ctx, ms, v, w)
}

// Evaluator evaluates monitors step after step (the backtest): it keeps
// the vault's State between calls, and Measure reads the last one.
type Evaluator struct {
	// Prepare, when set, completes the State with the history instead of
	// vault.PrepareState over the window (the backtest's cursors, which
	// give the same rows without a search).
	Prepare func(*strategies.State)
	r       vault.Runner
	w       *adapters.Window
	st      *strategies.State
	conds   []*rules.Strategy // scratch: the conditions of the last Eval
	set     *rules.ExitSet    // the conditions checked together, made again when they change
}

// Eval is the package's Eval, on the Evaluator's State.
func (e *Evaluator) Eval(ctx context.Context, ms []Monitor, v *vault.Vault, w *adapters.Window) ([]Firing, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if e.w != w || e.r.Vault != v || e.r.Prepare == nil {
		e.w, e.r.Vault, e.r.Prepare = w, v, e.Prepare
		if e.r.Prepare == nil {
			e.r.Prepare = func(st *strategies.State) { vault.PrepareState(st, w, nil) }
		}
	}
	e.st = e.r.State()
	// The conditions at once (rules.ExitSet): each market's names
	// are filled once for all of them.
	e.conds = e.conds[:0]
	for i := range ms {
		if ms[i].check == nil {
			e.conds = append(e.conds, ms[i].cond)
		}
	}
	if e.set == nil || !e.set.Of(e.conds) {
		e.set = rules.NewExitSet(e.conds)
	}
	fired, err := e.set.Check(ctx, e.st)
	if err != nil {
		for i := range ms { // name the monitor that failed
			if ms[i].check == nil {
				if _, err1 := ms[i].cond.ExitCheck(ctx, e.st); err1 != nil {
					return nil, fmt.Errorf("monitor %s: %w", ms[i].Name, err1)
				}
			}
		}
		return nil, fmt.Errorf("monitors: %w", err)
	}
	var out []Firing
	k := 0
	for i := range ms {
		m := &ms[i]
		var markets []string
		if m.check != nil {
			markets = m.check(e.st, w)
		} else {
			markets = fired[k]
			k++
		}
		if len(markets) > 0 {
			out = append(out, Firing{Monitor: m.Name, Action: m.Action, Markets: markets, When: m.When, Severity: m.Severity, Basis: m.Basis})
		}
	}
	return out, nil
}

// Measure is what a monitor measured on a market in the last Eval: the
// value of its condition's deciding comparison (the last of its top-level
// && chain, when it compares a name or window call with a number) and the
// number. Both are "" when the condition has no such comparison (an
// event, a condition of another shape).
func (e *Evaluator) Measure(m *Monitor, market string) (value, threshold string) {
	if m.cond == nil || m.value == "" || e.st == nil {
		return "", ""
	}
	for i := range e.st.Markets {
		if e.st.Markets[i].Market.ID != market {
			continue
		}
		for _, in := range m.cond.Inputs(e.st, i, []string{m.value}) {
			if val, ok := strings.CutPrefix(in, m.value+"="); ok {
				return val, m.threshold
			}
		}
	}
	return "", m.threshold
}
