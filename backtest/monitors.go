package backtest

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// MonitorsFile is the run folder's risk-monitor firings.
const MonitorsFile = "monitors.csv"

// MonitorStat is one risk monitor of a run and how it fired.
type MonitorStat struct {
	Name     string `json:"name"`
	When     string `json:"when"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
	// Fired counts the times it started firing or fired on other markets
	// (what the service counts in monitor_fired_total); Steps the steps at
	// which it fired.
	Fired int `json:"fired"`
	Steps int `json:"steps"`
	// First is the time it first fired (zero when it never did).
	First time.Time `json:"first,omitzero"`
	// Markets are the markets it fired on, in universe order.
	Markets []string `json:"markets,omitempty"`
}

// MonitorEvent is a row of monitors.csv: a monitor started (firing) or
// stopped (resolved) firing on a market at a step.
type MonitorEvent struct {
	Time    time.Time
	Monitor string
	Market  string
	// Status is "firing" or "resolved".
	Status string
	// Value and Threshold are what the condition compared
	// (monitor.Measure); empty when it has no deciding comparison.
	Value, Threshold string
	Action, Severity string
	When             string
}

// MonitorPause says when a pause-bound monitor paused the vault.
type MonitorPause struct {
	Time time.Time `json:"time"`
	// By is the firing monitors in words.
	By string `json:"by"`
}

// monitorRun is a run's monitors: their episodes and the markets each
// fires on.
type monitorRun struct {
	episodes monitor.Episodes
	eval     monitor.Evaluator
	markets  map[string][]string // monitor -> markets firing now
	stats    map[string]*MonitorStat
	paused   bool
}

// checkMonitors evaluates the monitors on the vault at now (brought to
// now), records their changes and returns the markets exit-bound monitors
// fire on and the pause-bound monitors that fire: at every step, as the
// service evaluates them in every rebalance and exit check.
func (e *engine) checkMonitors(ctx context.Context, now time.Time) (exits []string, pauses []monitor.Firing, err error) {
	ms := e.spec.Monitors
	if len(ms) == 0 || e.mon.paused {
		return nil, nil, nil
	}
	fired, err := e.mon.eval.Eval(ctx, ms, e.v, e.data)
	if err != nil {
		return nil, nil, adapters.Wrap(e.op, adapters.KindOf(err), fmt.Errorf("risk monitors at %s: %w", fmtTime(now), err))
	}
	started, resolved := e.mon.episodes.Update(now, fired)
	byName := func(name string) *monitor.Monitor {
		for i := range ms {
			if ms[i].Name == name {
				return &ms[i]
			}
		}
		return nil
	}
	row := func(m *monitor.Monitor, market, status string) {
		val, th := e.mon.eval.Measure(m, market)
		e.res.MonitorEvents = append(e.res.MonitorEvents, MonitorEvent{Time: now, Monitor: m.Name, Market: market, Status: status,
			Value: val, Threshold: th, Action: m.Action, Severity: m.Severity, When: m.When})
	}
	for _, f := range started {
		m := byName(f.Monitor)
		old := e.mon.markets[f.Monitor]
		for _, id := range f.Markets {
			if !slices.Contains(old, id) {
				row(m, id, "firing")
			}
		}
		for _, id := range old {
			if !slices.Contains(f.Markets, id) {
				row(m, id, "resolved")
			}
		}
		e.mon.markets[f.Monitor] = f.Markets
		st := e.mon.stats[f.Monitor]
		st.Fired++
		if st.First.IsZero() {
			st.First = now
		}
	}
	for _, f := range resolved {
		m := byName(f.Monitor)
		for _, id := range e.mon.markets[f.Monitor] {
			row(m, id, "resolved")
		}
		delete(e.mon.markets, f.Monitor)
	}
	for _, f := range fired {
		st := e.mon.stats[f.Monitor]
		st.Steps++
		for _, id := range f.Markets {
			if !slices.Contains(st.Markets, id) {
				st.Markets = append(st.Markets, id)
			}
		}
	}
	return monitor.ExitsOf(fired), monitor.PausesOf(fired), nil
}

// setupMonitors prepares the run's monitor records.
func (e *engine) setupMonitors() {
	ms := e.spec.Monitors
	if len(ms) == 0 {
		return
	}
	e.mon.eval.Prepare = e.prepare
	e.mon.markets = map[string][]string{}
	e.mon.stats = map[string]*MonitorStat{}
	e.res.Monitors = make([]MonitorStat, len(ms))
	for i, m := range ms {
		e.res.Monitors[i] = MonitorStat{Name: m.Name, When: m.When, Action: m.Action, Severity: m.Severity}
		e.mon.stats[m.Name] = &e.res.Monitors[i]
	}
}

// finishMonitors orders each monitor's markets as the universe.
func (e *engine) finishMonitors() {
	order := map[string]int{}
	for i, m := range e.markets {
		order[m.id] = i
	}
	for i := range e.res.Monitors {
		slices.SortFunc(e.res.Monitors[i].Markets, func(a, b string) int { return order[a] - order[b] })
	}
}

// monitorStep runs the monitors at a step and applies their bindings:
// a pause-bound monitor pauses the vault for the rest of the run (nothing
// resumes it), an exit-bound one puts its markets in the Runner's
// strategy (monitor.Breach) for the step, as the service does for the
// action. It returns the markets to exit; paused reports that the vault
// is paused (the step does nothing but accrue).
func (e *engine) monitorStep(ctx context.Context, now time.Time) (exits []string, paused bool, err error) {
	if len(e.spec.Monitors) == 0 {
		return nil, false, nil
	}
	if !e.mon.paused {
		// The vault brought to now, as the service's action before it
		// evaluates the monitors (its fees are charged at its next
		// operation, as at the steps without monitors).
		if _, err := e.v.Bring(now); err != nil {
			return nil, false, err
		}
		var pauses []monitor.Firing
		if exits, pauses, err = e.checkMonitors(ctx, now); err != nil {
			return nil, false, err
		}
		if len(pauses) > 0 {
			e.mon.paused = true
			by := monitor.Describe(pauses)
			e.res.Paused = &MonitorPause{Time: now, By: by}
			e.res.Notes = append(e.res.Notes, now.Format(time.RFC3339)+" paused by "+by)
			e.res.Warnings = append(e.res.Warnings, fmt.Sprintf("the vault was paused at %s by %s: it did not trade after (a backtest has no operator to resume it)", fmtTime(now), by))
		}
	}
	if e.mon.paused {
		_, err := e.v.Bring(now) // no operation: fees are charged at the run's end (run)
		return nil, true, err
	}
	return exits, false, nil
}

// exitCheckDone reports whether a step's tasks applied the exits (a
// rebalance or an exit check ran).
func exitCheckDone(rep vault.StepReport) bool {
	for _, t := range rep.Tasks {
		if t.Kind == vault.TaskRebalance || t.Kind == vault.TaskExitCheck {
			return true
		}
	}
	return false
}

// WriteMonitorsCSV writes monitors.csv: one row per market each time a
// risk monitor starts (status firing) or stops (resolved) firing on it,
// with the columns time, monitor, market, status, value (what the
// condition compared, at that step), threshold, action, severity and
// when (the condition).
func WriteMonitorsCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"time", "monitor", "market", "status", "value", "threshold", "action", "severity", "when"}); err != nil {
		return err
	}
	for _, m := range r.MonitorEvents {
		if err := cw.Write([]string{formatTime(m.Time), m.Monitor, m.Market, m.Status, m.Value, m.Threshold, m.Action, m.Severity, m.When}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// MonitorCounts is the run's monitors in a line: "peg-below fired 2
// times (lido/steth; first 2022-05-13) -> exit; tvl-drop 0", or "" when
// the run evaluated none.
func MonitorCounts(r *Result) string {
	var parts []string
	for _, m := range r.Monitors {
		if m.Fired == 0 {
			parts = append(parts, m.Name+" 0")
			continue
		}
		s := fmt.Sprintf("%s fired %d time%s (%s; first %s)", m.Name, m.Fired, plural(m.Fired), strings.Join(m.Markets, ", "), m.First.UTC().Format("2006-01-02 15:04"))
		if m.Action != monitor.Alert {
			s += " -> " + m.Action
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
