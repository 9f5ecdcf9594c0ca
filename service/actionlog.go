package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/vault"
)

// actionNote is what an action's log line says beyond its intent and
// outcome: the orders sent, their costs, and the reason in words.
type actionNote struct {
	orders string
	costs  decimal.Decimal
	reason string
}

// decisionNote is the note of a rebalance or exit decision that was
// decided: the orders (vault.FormatOrders), the fills' costs, and why:
// the decision's reasons, the trades rejected, the orders that failed.
func decisionNote(d vault.Decision, res vault.Result) actionNote {
	n := actionNote{orders: vault.FormatOrders(d.Orders), costs: res.Costs}
	var why []string
	why = append(why, d.Reasons...)
	switch d.Outcome() {
	case vault.OutcomeRejected:
		why = append(why, "every trade rejected: "+vault.FormatRejected(d.Rejected))
	case vault.OutcomeOnTarget:
		why = append(why, fmt.Sprintf("on target (drift %.4f)", d.Inputs.Drift))
	}
	if len(res.Failed) > 0 {
		why = append(why, fmt.Sprintf("%d of %d orders failed: %s", len(res.Failed), len(d.Orders), vault.FormatRejected(res.Failed)))
	}
	n.reason = strings.Join(why, "; ")
	return n
}

// logAction logs one line per action that reached the decision log (at
// INFO; WARN when it failed or found the data stale), and at DEBUG the
// idle ones that did not (an exit check with nothing to exit, a harvest
// with no rewards, a paused vault's tick).
func (rt *vaultRT) logAction(ctx context.Context, c Commit, in Intent) {
	lvl := slog.LevelDebug
	if c.Decision != nil {
		lvl = slog.LevelInfo
		if c.Outcome == OutFailed || c.Outcome == OutStale {
			lvl = slog.LevelWarn
		}
	}
	l := rt.s.log
	if !l.Enabled(ctx, lvl) {
		return
	}
	attrs := []slog.Attr{
		slog.String("vault", rt.id),
		slog.String("task", string(in.Action)),
		slog.String("outcome", c.Outcome),
		slog.String("source", in.Source),
		slog.Time("tick", in.Tick),
	}
	if c.note.orders != "" {
		attrs = append(attrs, slog.String("orders", c.note.orders))
	}
	if c.note.orders != "" || !c.note.costs.IsZero() {
		attrs = append(attrs, slog.String("costs", c.note.costs.StringFixed(8)))
	}
	attrs = append(attrs, slog.String("reason", c.note.reason))
	l.LogAttrs(ctx, lvl, "action", attrs...)
}
