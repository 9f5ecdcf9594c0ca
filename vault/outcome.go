package vault

import (
	"fmt"
	"sort"
	"strings"
)

// Outcomes of a rebalance or exit-check decision: one vocabulary for the
// backtest's decisions.csv and report and the service's decision log,
// logs and metrics.
const (
	OutcomeTraded   = "traded"    // the decision had orders and they were sent
	OutcomeSkipped  = "skipped"   // the strategy's condition was false: nothing sent
	OutcomeRejected = "rejected"  // every candidate trade was rejected (thresholds, gates, caps)
	OutcomeOnTarget = "on_target" // nothing to trade
)

// Outcome classifies a decision: traded, skipped, rejected or on_target.
func (d *Decision) Outcome() string {
	switch {
	case len(d.Orders) > 0:
		return OutcomeTraded
	case hasReasonPrefix(d.Reasons, "not executed"):
		return OutcomeSkipped
	case len(d.Rejected) > 0:
		return OutcomeRejected
	}
	return OutcomeOnTarget
}

func hasReasonPrefix(ss []string, p string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// FormatOrders is orders in one line: "sell lido/steth 12.500000
// (instant, est. cost 0.010000): reason; buy ...".
func FormatOrders(os []Order) string {
	parts := make([]string, len(os))
	for i, o := range os {
		mode := o.Mode.String()
		if o.All {
			mode += ", all"
		}
		if o.Urgent {
			mode += ", urgent"
		}
		parts[i] = fmt.Sprintf("%s %s %s (%s, est. cost %s): %s", o.Side, o.Market, o.Amount.StringFixed(6), mode, o.EstCost.StringFixed(6), o.Reason)
	}
	return strings.Join(parts, "; ")
}

// FormatRejected is rejections in one line, sorted by market:
// "aave-v3/weth: gain below cost; ...".
func FormatRejected(rs []Rejection) string {
	rej := append([]Rejection(nil), rs...)
	sort.SliceStable(rej, func(i, j int) bool { return rej[i].Market < rej[j].Market })
	parts := make([]string, len(rej))
	for i, r := range rej {
		parts[i] = r.Market + ": " + r.Reason
	}
	return strings.Join(parts, "; ")
}
