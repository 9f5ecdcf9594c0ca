package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// monitors checks and compiles a vault's monitors (monitor.Compiler:
// conditions shared by vaults of the same universe and base).
func (l *cfgLoader) monitors(c *Config, p string, vs *VaultSpec, f monitor.File) error {
	if l.monc == nil {
		l.monc = &monitor.Compiler{Catalog: c.Catalog}
	}
	ms, err := l.monc.Compile(f, vs.Universe, vs.Base)
	if err != nil {
		var fe *monitor.Error
		if !errors.As(err, &fe) {
			return err
		}
		at := p + ".monitors"
		if fe.Field != "" {
			at += "." + fe.Field
		}
		return l.errf(at, adapters.KindInvalid, "vault %q: %s", vs.ID, fe.Msg)
	}
	vs.Monitors = ms
	return nil
}

// evalMonitors evaluates the vault's monitors on v (observed at its
// time) over the window w, and returns those that fire.
func (rt *vaultRT) evalMonitors(ctx context.Context, v *vault.Vault, w *adapters.Window) ([]monitor.Firing, error) {
	return monitor.Eval(ctx, rt.spec.Monitors, v, w)
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
	rt.alerts.Set(prev)
	state, started, resolved := rt.alerts.Next(c.monitorsAt, c.monitors)
	c.alerts, c.alertsVault, c.started, c.resolved = state, rt.id, started, resolved
	if len(started) == 0 && len(resolved) == 0 {
		return nil
	}
	var parts []string
	if len(started) > 0 {
		parts = append(parts, "firing: "+monitor.Describe(started))
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
	rt.alerts.Set(c.alerts)
	started, resolved := c.started, c.resolved
	m := rt.s.metrics
	for _, f := range c.alerts { // an episode continued from the database
		m.MonitorFiring.WithLabelValues(rt.id, f.Monitor, f.Severity, f.Action).Set(1)
	}
	wall := rt.s.wall()
	send := func(f monitor.Firing, status string) {
		sum := fmt.Sprintf("vault %s: monitor %s %s on %s (%s)", rt.id, f.Monitor, status, strings.Join(f.Markets, ", "), f.When)
		if status == "firing" && f.Action != monitor.Alert {
			sum += ": " + f.Action
		}
		rt.s.notify.Send(Alert{Vault: rt.id, Monitor: f.Monitor, Status: status, Severity: f.Severity, Action: f.Action, Markets: f.Markets,
			When: f.When, Summary: sum, Time: c.monitorsAt, WallTime: wall})
	}
	for _, f := range started {
		m.MonitorFiring.WithLabelValues(rt.id, f.Monitor, f.Severity, f.Action).Set(1)
		m.MonitorFired.WithLabelValues(rt.id, f.Monitor).Inc()
		rt.s.log.Warn("monitor firing", "vault", rt.id, "monitor", f.Monitor, "severity", f.Severity, "action", f.Action,
			"markets", strings.Join(f.Markets, ","), "when", f.When, "service_time", c.monitorsAt)
		send(f, "firing")
	}
	for _, f := range resolved {
		m.MonitorFiring.WithLabelValues(rt.id, f.Monitor, f.Severity, f.Action).Set(0)
		rt.s.log.Info("monitor resolved", "vault", rt.id, "monitor", f.Monitor, "markets", strings.Join(f.Markets, ","), "service_time", c.monitorsAt)
		send(f, "resolved")
	}
}
