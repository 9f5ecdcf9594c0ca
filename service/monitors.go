package service

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// MonitorsFile is a vault's risk monitors in the configuration.
type MonitorsFile struct {
	// Builtin turns the built-in monitors (BuiltinMonitors) on or off
	// (default on). They alert only; bind one to an action by listing it
	// under rules with the same name and an action.
	Builtin *bool `yaml:"builtin"`
	// Rules are the vault's own monitors.
	Rules []MonitorFile `yaml:"rules"`
}

// MonitorFile is one risk monitor: a per-market condition in the
// strategy language (docs/strategy-language.md: every market name and
// window function an exit rule may read), evaluated on every market of
// the vault's universe.
type MonitorFile struct {
	Name string `yaml:"name"`
	// When is the condition; the monitor fires for each market it holds
	// for. A built-in monitor's name with no when keeps its condition.
	When string `yaml:"when"`
	// Action is alert (default: log, metric, API, webhooks), pause (the
	// vault stops trading, as POST /pause) or exit (the markets it fires
	// for are exited at once and not bought while it fires).
	Action string `yaml:"action"`
	// Severity is warning (default) or critical; a label of the alert.
	Severity string `yaml:"severity"`
}

// Monitor actions.
const (
	MonitorAlert = "alert"
	MonitorPause = "pause"
	MonitorExit  = "exit"
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

const eventWhen = "a slash or pause event within 14 days (or paused now) on the market, on a market sharing its layer, AVS or operator tag, or on the event's scope tag"

// BuiltinMonitors are the monitors every vault has unless
// monitors.builtin is false, each with the basis of its threshold. They
// alert only. A monitor whose markets do not apply (a peg rule on a
// lending-only vault) simply never fires.
var BuiltinMonitors = []MonitorFile{
	{Name: "peg-below", When: `(kind == "lst" || kind == "lrt") && avg(peg, "6h") < 0.98`, Severity: "critical"},
	{Name: "tvl-drop", When: `change(tvl, "24h") < -0.2`, Severity: "critical"},
	{Name: "utilization-high", When: `kind == "lending" && utilization > 0.95`, Severity: "warning"},
	{Name: "withdrawal-queue-long", When: `(kind == "lst" || kind == "lrt") && withdrawal_days > 14`, Severity: "warning"},
}

// builtinBasis is the basis of each built-in monitor's threshold.
var builtinBasis = map[string]string{
	EventMonitor: "14 days is EigenLayer's withdrawal escrow since its slashing upgrade of 2025-04-17 (builtin profile escrow_days, EigenLayer docs): stake of the same operator set can still be slashed for that long after it starts to leave. A judgement beyond that: the seeds say to assume a breach until proven otherwise.",
	"peg-below": "stETH/ETH (shared/data/steth-usd-coingecko-hourly, PROVENANCE.md): median 0.9937 over 2021-2023; daily means 0.976 on 2022-05-13 (UST collapse), 0.961 on 2022-06-10, minimum 0.9306 on 2022-06-18. " +
		"0.98 over a 6-hour average stays quiet at the median and fires on both 2022 episodes; the average smooths the thin early-2021 feed's single-hour outliers.",
	"tvl-drop": "a judgement, not measured: the seeds' advice is to assume a breach when TVL drops suddenly. No dataset here shows a 20% fall of a built-in market's TVL within 24 hours outside an incident " +
		"(the Curve stETH pool went from 1.35B to 0.7-1.0B USD over months in 2022, shared/data/curve-steth-pool-snapshots-2022).",
	"utilization-high": "Aave v3 WETH's interest rate kink is at 90% utilization (builtin profile irm_optimal, Aave address book and governance), and Compound v3 USDC's at 90-95% (comet configuration.json): " +
		"above 95% a lender's free liquidity is under 5% of supply and a withdrawal may have to wait for repayments.",
	"withdrawal-queue-long": "the built-in profiles' withdrawal_days run from 3 (Lido: typically 1-5 days, stake.lido.fi/withdrawals) to 14 (Puffer's two-step withdrawal) in normal times; more than 14 days is longer than any of them: the exit route is congested.",
}

var monitorNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// monitors checks a vault's monitors: the built-ins (unless turned off),
// overridden by the vault's rules of the same name, then the vault's own.
func (l *cfgLoader) monitors(c *Config, p string, vs *VaultSpec, f MonitorsFile) error {
	var list []MonitorFile
	if f.Builtin == nil || *f.Builtin {
		list = append(list, BuiltinMonitors...)
		list = append(list, MonitorFile{Name: EventMonitor, When: eventWhen, Severity: "critical"})
	}
	seen := map[string]int{}
	for i := range list {
		seen[list[i].Name] = i
	}
	ruleAt := map[string]int{}
	for i, r := range f.Rules {
		rp := fmt.Sprintf("%s.monitors.rules[%d]", p, i)
		if !monitorNameRE.MatchString(r.Name) {
			return l.errf(rp+".name", adapters.KindInvalid, "vault %q: monitor name %q must be lower-case letters, digits, '.', '_' or '-'", vs.ID, r.Name)
		}
		if _, dup := ruleAt[r.Name]; dup {
			return l.errf(rp+".name", adapters.KindInvalid, "vault %q: monitor %q is listed twice", vs.ID, r.Name)
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
			return l.errf(rp, adapters.KindInvalid, "vault %q: monitor %q needs when: a condition on a market (peg < 0.98)", vs.ID, r.Name)
		}
		seen[r.Name] = len(list)
		list = append(list, r)
	}
	for _, r := range list {
		rp := p + ".monitors"
		if i, ok := ruleAt[r.Name]; ok {
			rp = fmt.Sprintf("%s.monitors.rules[%d]", p, i)
		}
		m := Monitor{Name: r.Name, When: r.When, Action: r.Action, Severity: r.Severity, Basis: builtinBasis[r.Name]}
		if _, own := ruleAt[r.Name]; own && r.When != builtinWhen(r.Name) {
			m.Basis = ""
		}
		if m.Action == "" {
			m.Action = MonitorAlert
		}
		if m.Severity == "" {
			m.Severity = "warning"
		}
		if !slices.Contains([]string{MonitorAlert, MonitorPause, MonitorExit}, m.Action) {
			return l.errf(rp+".action", adapters.KindInvalid, "vault %q: monitor %q: action %q is not alert, pause or exit", vs.ID, r.Name, r.Action)
		}
		if m.Severity != "warning" && m.Severity != "critical" {
			return l.errf(rp+".severity", adapters.KindInvalid, "vault %q: monitor %q: severity %q is not warning or critical", vs.ID, r.Name, r.Severity)
		}
		if r.Name == EventMonitor {
			if r.When != eventWhen {
				return l.errf(rp+".when", adapters.KindInvalid, "vault %q: monitor %s is built in (events): it takes an action and a severity, not when", vs.ID, EventMonitor)
			}
			m.Basis, m.check = builtinBasis[EventMonitor], eventCheck
			vs.Monitors = append(vs.Monitors, m)
			continue
		}
		key := strings.Join(vs.Universe, ",") + "\x00" + string(vs.Base) + "\x00" + m.When
		cond := l.conds[key]
		if cond == nil {
			var err error
			if cond, err = compileMonitor(m, vs.Universe, vs.Base, c.Catalog); err != nil {
				return l.errf(rp+".when", adapters.KindInvalid, "vault %q: monitor %q: %s", vs.ID, r.Name, err)
			}
			if l.conds == nil {
				l.conds = map[string]*rules.Strategy{}
			}
			l.conds[key] = cond
		}
		m.cond = cond
		vs.Monitors = append(vs.Monitors, m)
	}
	return nil
}

func builtinWhen(name string) string {
	for _, b := range BuiltinMonitors {
		if b.Name == name {
			return b.When
		}
	}
	return ""
}

// compileMonitor compiles a monitor's condition with the strategy
// language's compiler, as the exit rule of a strategy over the vault's
// universe: every market name, window function and check of an exit rule
// applies, and it is evaluated by the same code (rules.Strategy.ExitCheck).
func compileMonitor(m Monitor, universe []string, base adapters.Asset, cat *adapters.Catalog) (*rules.Strategy, error) {
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
	Since   time.Time `json:"since"` // service time it started firing
	// Notified is the service time of its last alert (it started, or
	// fired on other markets).
	Notified time.Time `json:"notified"`
	When     string    `json:"when"`
	// Severity and Basis as configured.
	Severity string `json:"severity"`
	Basis    string `json:"basis,omitempty"`
}

// evalMonitors evaluates the vault's monitors on v (observed at its
// time) over the window w, and returns those that fire.
func (rt *vaultRT) evalMonitors(ctx context.Context, v *vault.Vault, w *adapters.Window) ([]Firing, error) {
	var out []Firing
	for i := range rt.spec.Monitors {
		m := &rt.spec.Monitors[i]
		if m.check != nil {
			r := vault.Runner{Vault: v, Strategy: rt.spec.Strategy}
			if markets := m.check(r.State(), w); len(markets) > 0 {
				out = append(out, Firing{Monitor: m.Name, Action: m.Action, Markets: markets, When: m.When, Severity: m.Severity, Basis: m.Basis})
			}
			continue
		}
		r := vault.Runner{Vault: v, Strategy: m.cond, Prepare: func(st *strategies.State) { vault.PrepareState(st, w, nil) }}
		markets, err := m.cond.ExitCheck(ctx, r.State())
		if err != nil {
			return nil, fmt.Errorf("monitor %s: %w", m.Name, err)
		}
		if len(markets) > 0 {
			out = append(out, Firing{Monitor: m.Name, Action: m.Action, Markets: markets, When: m.When, Severity: m.Severity, Basis: m.Basis})
		}
	}
	return out, nil
}

// alertState is a vault's firing monitors as this process last committed
// or loaded them; the state database (monitor_state) holds them, written
// with the action that saw them, and every action starts from there.
type alertState struct {
	mu     sync.Mutex
	firing map[string]Firing
}

// update records the monitors firing at t and returns those that started
// firing (or fire on other markets) and those that stopped.
func (a *alertState) update(t time.Time, now []Firing) (started, resolved []Firing) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.firing == nil {
		a.firing = map[string]Firing{}
	}
	cur := map[string]bool{}
	for _, f := range now {
		cur[f.Monitor] = true
		old, ok := a.firing[f.Monitor]
		if ok && slices.Equal(old.Markets, f.Markets) {
			continue
		}
		f.Since, f.Notified = t, t
		if ok {
			f.Since = old.Since
		}
		a.firing[f.Monitor] = f
		started = append(started, f)
	}
	for name, f := range a.firing {
		if !cur[name] {
			delete(a.firing, name)
			resolved = append(resolved, f)
		}
	}
	slices.SortFunc(resolved, func(x, y Firing) int { return strings.Compare(x.Monitor, y.Monitor) })
	return started, resolved
}

// list returns the firing monitors sorted by name.
func (a *alertState) list() []Firing {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Firing, 0, len(a.firing))
	for _, f := range a.firing {
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y Firing) int { return strings.Compare(x.Monitor, y.Monitor) })
	return out
}

// exitsOf lists the markets that firing exit-bound monitors name.
func exitsOf(fs []Firing) []string {
	var out []string
	for _, f := range fs {
		if f.Action == MonitorExit {
			for _, m := range f.Markets {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// describe is firing monitors in words: "peg-below on lido/steth
// ((kind == ...) && avg(peg, "6h") < 0.98) -> exit".
func describe(fs []Firing) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("monitor %s fires on %s (%s) -> %s", f.Monitor, strings.Join(f.Markets, ", "), f.When, f.Action)
	}
	return strings.Join(parts, "; ")
}

// breachStrategy adds the markets of firing exit-bound monitors to a
// strategy's exits (the seeds' "assume a breach"): an exit check exits
// them at once, and a rebalance sells them and buys none of them while
// their monitor fires.
type breachStrategy struct {
	strategies.Strategy
	exits []string
}

func (b breachStrategy) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	t, err := b.Strategy.Plan(ctx, st)
	if err != nil {
		return t, err
	}
	for _, m := range b.exits {
		if !slices.Contains(t.Exit, m) {
			t.Exit = append(t.Exit, m)
		}
	}
	return t, nil
}

// HasExitRule is true: the monitors are an exit rule.
func (b breachStrategy) HasExitRule() bool { return true }

// ExitCheck is the strategy's own exits (when it has an exit rule) plus
// the monitors'.
func (b breachStrategy) ExitCheck(ctx context.Context, st *strategies.State) ([]string, error) {
	var out []string
	if x, ok := b.Strategy.(strategies.Exiter); ok {
		if r, ok := b.Strategy.(strategies.ExitRuler); !ok || r.HasExitRule() {
			e, err := x.ExitCheck(ctx, st)
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
		}
	}
	for _, m := range b.exits {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// The rebalance and harvest conditions pass through, with the Runner's
// defaults when the strategy has none, so that a breach changes only the
// exits.

// RebalanceSchedule passes through.
func (b breachStrategy) RebalanceSchedule() strategies.Schedule {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.RebalanceSchedule()
	}
	return strategies.Schedule{}
}

// HarvestSchedule passes through.
func (b breachStrategy) HarvestSchedule() strategies.Schedule {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.HarvestSchedule()
	}
	return strategies.Schedule{}
}

// ShouldRebalance passes through (true without a condition).
func (b breachStrategy) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.ShouldRebalance(v)
	}
	return true, "", nil
}

// ShouldHarvest passes through (pending rewards over the harvest cost
// without a condition, as vault.Runner.Harvest).
func (b breachStrategy) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.ShouldHarvest(v)
	}
	return v.PendingRewards > v.HarvestCost, fmt.Sprintf("pending rewards %.6g vs harvest cost %.6g", v.PendingRewards, v.HarvestCost), nil
}

// RebalanceReads passes through (every variable without it).
func (b breachStrategy) RebalanceReads() strategies.VarSet {
	if s, ok := b.Strategy.(strategies.ConditionReads); ok {
		return s.RebalanceReads()
	}
	return strategies.AllVars
}

// HarvestReads passes through (every variable without it).
func (b breachStrategy) HarvestReads() strategies.VarSet {
	if s, ok := b.Strategy.(strategies.ConditionReads); ok {
		return s.HarvestReads()
	}
	return strategies.AllVars
}

// pauseOf lists the firing pause-bound monitors.
func pauseOf(fs []Firing) []Firing {
	var out []Firing
	for _, f := range fs {
		if f.Action == MonitorPause {
			out = append(out, f)
		}
	}
	return out
}

// set replaces the firing monitors with fs.
func (a *alertState) set(fs []Firing) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.firing = make(map[string]Firing, len(fs))
	for _, f := range fs {
		a.firing[f.Monitor] = f
	}
}

// next is update without recording: the firing monitors after t and
// which of them started and resolved.
func (a *alertState) next(t time.Time, now []Firing) (state, started, resolved []Firing) {
	a.mu.Lock()
	cp := alertState{firing: make(map[string]Firing, len(a.firing))}
	for k, v := range a.firing {
		cp.firing[k] = v
	}
	a.mu.Unlock()
	started, resolved = cp.update(t, now)
	return cp.list(), started, resolved
}

// noteMonitors journals the monitors' changes with the action: it
// starts from the persisted state (so a restarted service or a new
// leader continues the episodes the last commit left), the commit
// persists the new state, and the decision (one is added when the action
// had none) says which started firing and which resolved, and so does
// the action's log line.
func (rt *vaultRT) noteMonitors(ctx context.Context, c *Commit, in Intent) error {
	if !c.evaluated {
		return nil
	}
	prev, err := rt.s.store.Alerts(ctx, rt.id)
	if err != nil {
		return err
	}
	rt.alerts.set(prev)
	state, started, resolved := rt.alerts.next(c.monitorsAt, c.monitors)
	c.alerts, c.alertsVault, c.started, c.resolved = state, rt.id, started, resolved
	if len(started) == 0 && len(resolved) == 0 {
		return nil
	}
	var parts []string
	if len(started) > 0 {
		parts = append(parts, "firing: "+describe(started))
	}
	for _, f := range resolved {
		parts = append(parts, fmt.Sprintf("resolved: monitor %s (%s)", f.Monitor, strings.Join(f.Markets, ", ")))
	}
	txt := strings.Join(parts, "; ")
	if c.note.reason != "" {
		c.note.reason += "; "
	}
	c.note.reason += txt
	if c.Decision != nil {
		c.Decision.Summary += "; " + txt
		return nil
	}
	js, _ := json.Marshal(map[string]any{"firing": c.monitors, "started": started, "resolved": resolved})
	c.Decision = &Decision{VaultID: rt.id, Time: c.monitorsAt, Tick: in.Tick, Action: in.Action, Outcome: c.Outcome, Summary: txt, Detail: js}
	return nil
}

// observeMonitors records the monitors' state after a commit: the
// metrics, a log line per change, and the webhooks.
func (rt *vaultRT) observeMonitors(c Commit) {
	if !c.evaluated {
		return
	}
	rt.alerts.set(c.alerts)
	started, resolved := c.started, c.resolved
	m := rt.s.metrics
	for _, f := range c.alerts { // an episode continued from the database
		m.MonitorFiring.WithLabelValues(rt.id, f.Monitor, f.Severity, f.Action).Set(1)
	}
	wall := rt.s.wall()
	send := func(f Firing, status string) {
		sum := fmt.Sprintf("vault %s: monitor %s %s on %s (%s)", rt.id, f.Monitor, status, strings.Join(f.Markets, ", "), f.When)
		if status == "firing" && f.Action != MonitorAlert {
			sum += ": " + f.Action
		}
		rt.s.notify.Send(Alert{Vault: rt.id, Monitor: f.Monitor, Status: status, Severity: f.Severity, Action: f.Action, Markets: f.Markets,
			When: f.When, Summary: sum, Time: c.monitorsAt, WallTime: wall})
	}
	for _, f := range started {
		m.MonitorFiring.WithLabelValues(rt.id, f.Monitor, f.Severity, f.Action).Set(1)
		m.MonitorFired.WithLabelValues(rt.id, f.Monitor).Inc()
		rt.s.log.Warn("monitor firing", "vault", rt.id, "monitor", f.Monitor, "severity", f.Severity, "action", f.Action,
			"markets", strings.Join(f.Markets, ","), "when", f.When, "time", c.monitorsAt)
		send(f, "firing")
	}
	for _, f := range resolved {
		m.MonitorFiring.WithLabelValues(rt.id, f.Monitor, f.Severity, f.Action).Set(0)
		rt.s.log.Info("monitor resolved", "vault", rt.id, "monitor", f.Monitor, "markets", strings.Join(f.Markets, ","), "time", c.monitorsAt)
		send(f, "resolved")
	}
}

// eventCheck is EventMonitor's condition on the state at st.Time.
func eventCheck(st *strategies.State, w *adapters.Window) []string {
	t := st.Time
	hit := map[string]bool{}
	var scopes []string
	var hitTags []string
	shared := func(tag string) bool {
		return strings.HasPrefix(tag, "layer:") || strings.HasPrefix(tag, "avs:") || strings.HasPrefix(tag, "operator:")
	}
	for i := range st.Markets {
		ms := &st.Markets[i]
		recent := ms.Paused
		if ser := w.Get(ms.Market.ID); ser != nil {
			for _, ev := range ser.Events {
				if (ev.Type == adapters.EventSlash || ev.Type == adapters.EventPause) && !ev.Time.After(t) && t.Sub(ev.Time) <= EventWindow {
					recent = true
					if ev.Scope != "" {
						scopes = append(scopes, ev.Scope)
					}
				}
			}
		}
		if recent {
			hit[ms.Market.ID] = true
			for _, tag := range ms.Market.Tags {
				if shared(tag) {
					hitTags = append(hitTags, tag)
				}
			}
		}
	}
	if len(hit) == 0 {
		return nil
	}
	var out []string
	for i := range st.Markets {
		m := &st.Markets[i].Market
		fire := hit[m.ID]
		for _, tag := range m.Tags {
			if slices.Contains(scopes, tag) || slices.Contains(hitTags, tag) {
				fire = true
			}
		}
		if fire {
			out = append(out, m.ID)
		}
	}
	return out
}
