package strategies

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"

	"github.com/yieldvault/yieldvault/adapters"
)

// VaultVars are the vault-level quantities a keeper hands a strategy when it
// asks whether to rebalance or harvest now. Rates are fractions per year,
// amounts are in base units.
type VaultVars struct {
	NAV            float64   // total assets, base units
	Idle           float64   // undeployed base asset, base units
	Drift          float64   // distance between the weights and the target, a fraction of NAV (vault.Inputs.Drift: idle included, claims in transit where they will go)
	GainAPY        float64   // expected APY gain of moving to the target, fraction/year
	CostAPY        float64   // cost of the move (gas, slippage, fees) annualised over the horizon, fraction/year
	PendingRewards float64   // unharvested rewards, base units
	HarvestCost    float64   // cost of a harvest (gas and swap), base units
	GasPrice       float64   // gwei
	Now            time.Time // the keeper's clock (simulated in backtests), UTC
}

// VarSet is a set of VaultVars fields, by the names conditions use.
type VarSet uint16

// The VaultVars fields as VarSet members.
const (
	VarNAV            VarSet = 1 << iota // nav
	VarIdle                              // idle
	VarDrift                             // drift
	VarGainAPY                           // gain_apy
	VarCostAPY                           // cost_apy
	VarPendingRewards                    // pending_rewards
	VarHarvestCost                       // harvest_cost
	VarGasPrice                          // gas_price
	VarNow                               // now

	AllVars = VarNAV | VarIdle | VarDrift | VarGainAPY | VarCostAPY | VarPendingRewards | VarHarvestCost | VarGasPrice | VarNow
)

// varNames are the VarSet members' condition names, in bit order.
var varNames = [...]string{"nav", "idle", "drift", "gain_apy", "cost_apy", "pending_rewards", "harvest_cost", "gas_price", "now"}

// VarOf returns the member a condition name stands for, or 0 when the
// name is not a vault-level variable.
func VarOf(name string) VarSet {
	for i, n := range varNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// Has reports whether s holds every member of x.
func (s VarSet) Has(x VarSet) bool { return s&x == x }

// ConditionReads is implemented by Scheduled strategies that know which
// VaultVars their conditions read. A keeper then computes only those: a
// rebalance condition that reads neither gain_apy nor cost_apy is
// evaluated before the decision's quotes and orders, which are planned
// only when it holds.
type ConditionReads interface {
	RebalanceReads() VarSet
	HarvestReads() VarSet
}

// Schedule is when a keeper considers an action: Sched (parsed from Spec
// with ParseSchedule) gives the candidate instants, and the When expression,
// when not empty, must hold at that instant for the action to run.
type Schedule struct {
	Spec  string        // the cron spec as written, e.g. "0 */6 * * *" or "@daily"
	Sched cron.Schedule // nil when the strategy sets no schedule for the action
	When  string        // the condition's source, "" for always
}

// Scheduled is implemented by strategies that carry their own rebalance and
// harvest schedules (rules strategies loaded from YAML). The vault's keeper
// evaluates Sched.Next on its injected clock and, at each due instant, asks
// ShouldRebalance or ShouldHarvest; the string returned explains the answer.
type Scheduled interface {
	RebalanceSchedule() Schedule
	HarvestSchedule() Schedule
	ShouldRebalance(v VaultVars) (bool, string, error)
	ShouldHarvest(v VaultVars) (bool, string, error)
}

// scheduleRef is a fixed instant used to check that a schedule ever fires;
// library code never reads the wall clock.
var scheduleRef = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseSchedule parses a cron spec for a keeper. It accepts the standard
// five fields (minute hour day-of-month month day-of-week) and the
// descriptors @yearly, @monthly, @weekly, @daily, @hourly and @every <Go
// duration>. Schedules are evaluated in UTC: a CRON_TZ= or TZ= prefix is
// allowed only as CRON_TZ=UTC or TZ=UTC. Specs that never fire (February
// 30th) and non-positive @every durations are rejected. Errors are
// KindInvalid; malformed input never panics.
func ParseSchedule(spec string) (cron.Schedule, error) {
	const op = "strategies.ParseSchedule"
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, adapters.E(op, adapters.KindInvalid, "empty schedule")
	}
	if len(s) > 256 {
		return nil, adapters.E(op, adapters.KindInvalid, "schedule is longer than 256 characters")
	}
	for _, r := range s {
		if r > unicode.MaxASCII || (r < ' ' && r != '\t') {
			return nil, adapters.E(op, adapters.KindInvalid, "schedule %q has a non-ASCII or control character", spec)
		}
	}
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return nil, adapters.E(op, adapters.KindInvalid, "schedule %q has a time zone but no spec", spec)
		}
		zone := s[strings.Index(s, "=")+1 : i]
		if zone != "UTC" {
			return nil, adapters.E(op, adapters.KindInvalid, "schedule %q: time zone %q is not allowed (schedules run in UTC)", spec, zone)
		}
		s = strings.TrimSpace(s[i:])
	}
	if rest, ok := strings.CutPrefix(s, "@every"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "schedule %q: bad @every duration: %v", spec, err)
		}
		if d < time.Second {
			return nil, adapters.E(op, adapters.KindInvalid, "schedule %q: @every needs a duration of at least 1s", spec)
		}
	}
	sched, err := parseUTC(s)
	if err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "schedule %q: %v", spec, err)
	}
	if sched.Next(scheduleRef).IsZero() {
		return nil, adapters.E(op, adapters.KindInvalid, "schedule %q never fires", spec)
	}
	return sched, nil
}

// parseUTC runs cron's standard parser in UTC behind recover: some
// malformed inputs make the parser panic.
func parseUTC(s string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("malformed spec (%v)", r)
		}
	}()
	return cron.ParseStandard("CRON_TZ=UTC " + s)
}
