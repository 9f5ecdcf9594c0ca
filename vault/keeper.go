package vault

import (
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// TaskKind is what a keeper task asks for.
type TaskKind string

// Task kinds, in the order tasks at the same instant run.
const (
	TaskExitCheck TaskKind = "exit_check" // evaluate the strategy's exit rule (every step)
	TaskHarvest   TaskKind = "harvest"    // a harvest tick
	TaskRebalance TaskKind = "rebalance"  // a rebalance tick
)

func (k TaskKind) order() int {
	switch k {
	case TaskExitCheck:
		return 0
	case TaskHarvest:
		return 1
	}
	return 2
}

// Task is one thing the keeper says is due.
type Task struct {
	Kind TaskKind  `json:"kind"`
	Tick time.Time `json:"tick"` // the scheduled instant (for exit checks, the step's time)
}

// KeeperState is what a keeper remembers: the last tick fired per
// schedule. It is a plain value for the service to persist.
type KeeperState struct {
	Rebalance time.Time `json:"rebalance"`
	Harvest   time.Time `json:"harvest"`
}

// MaxCatchUp bounds the ticks of one schedule a single Due call returns;
// the rest come at the next call (a service down for a year on an hourly
// schedule catches up over several steps instead of in one huge batch).
const MaxCatchUp = 10000

// Keeper decides when to rebalance, harvest and check exits from cron
// schedules evaluated with Schedule.Next on the caller's clock. Every
// scheduled tick fires exactly once: when a step skips over several ticks
// (a coarse backtest step, a service restart), Due returns each missed
// tick as its own task, in time order, so nothing is lost or doubled; the
// caller may act on the last one only. The exit check is due at every
// step. A Keeper is not safe for concurrent use.
type Keeper struct {
	rebalance, harvest cron.Schedule
	st                 KeeperState
	// The schedules' last answers (nextMemo).
	rmemo, hmemo nextMemo
}

// nextMemo remembers a calendar schedule's last answer: for a
// *cron.SpecSchedule, s.Next(t) is the same instant for every t in
// [from, next), so a keeper that asks again from a later time before the
// tick (Due, then Next, at every step of a backtest) does not walk the
// cron fields again. The location must match too: Next answers in the
// location of the time it is given. Other schedules (@every: t plus a
// delay) are asked every time.
type nextMemo struct{ from, next time.Time }

func (m *nextMemo) get(s cron.Schedule, t time.Time) time.Time {
	if _, ok := s.(*cron.SpecSchedule); !ok {
		return s.Next(t)
	}
	if !m.next.IsZero() && t.Location() == m.from.Location() && !t.Before(m.from) && t.Before(m.next) {
		return m.next
	}
	n := nextTick(s, t)
	m.from, m.next = t, n
	return n
}

// NewKeeper returns a keeper whose schedules start after start (a tick at
// exactly start does not fire). Either schedule may be nil (never due).
func NewKeeper(rebalance, harvest cron.Schedule, start time.Time) *Keeper {
	return &Keeper{rebalance: rebalance, harvest: harvest, st: KeeperState{Rebalance: start, Harvest: start}}
}

// KeeperFor returns a keeper on a strategy's own schedules when it has
// them (strategies.Scheduled), else on the given defaults.
func KeeperFor(s strategies.Strategy, rebalance, harvest cron.Schedule, start time.Time) *Keeper {
	rebalance, harvest = KeeperSchedules(s, rebalance, harvest)
	return NewKeeper(rebalance, harvest, start)
}

// KeeperSchedules are the schedules KeeperFor's keeper runs for s: the
// strategy's own (strategies.Scheduled) where it has them, else
// rebalance and harvest.
func KeeperSchedules(s strategies.Strategy, rebalance, harvest cron.Schedule) (cron.Schedule, cron.Schedule) {
	if sc, ok := s.(strategies.Scheduled); ok {
		if r := sc.RebalanceSchedule(); r.Sched != nil {
			rebalance = r.Sched
		}
		if h := sc.HarvestSchedule(); h.Sched != nil {
			harvest = h.Sched
		}
	}
	return rebalance, harvest
}

// ParseKeeper parses two cron specs (empty for none) with
// strategies.ParseSchedule and returns a keeper starting at start.
func ParseKeeper(rebalance, harvest string, start time.Time) (*Keeper, error) {
	var r, h cron.Schedule
	var err error
	if rebalance != "" {
		if r, err = strategies.ParseSchedule(rebalance); err != nil {
			return nil, adapters.Wrap("vault.ParseKeeper", adapters.KindInvalid, err)
		}
	}
	if harvest != "" {
		if h, err = strategies.ParseSchedule(harvest); err != nil {
			return nil, adapters.Wrap("vault.ParseKeeper", adapters.KindInvalid, err)
		}
	}
	return NewKeeper(r, h, start), nil
}

// State returns the keeper's state.
func (k *Keeper) State() KeeperState { return k.st }

// SetState restores a persisted state.
func (k *Keeper) SetState(st KeeperState) { k.st = st }

// Due returns the tasks due at now, in time order (at one instant: exit
// check, harvest, rebalance), and records the ticks as fired. Ticks in
// (last, now] fire; a now before the last tick returns only the exit check.
func (k *Keeper) Due(now time.Time) []Task {
	// Room for one tick of each schedule and the exit check, a step's
	// usual tasks, in one allocation.
	out := make([]Task, 0, 3)
	out = appendTicks(out, TaskHarvest, k.harvest, &k.hmemo, &k.st.Harvest, now)
	out = appendTicks(out, TaskRebalance, k.rebalance, &k.rmemo, &k.st.Rebalance, now)
	out = append(out, Task{Kind: TaskExitCheck, Tick: now})
	slices.SortStableFunc(out, func(a, b Task) int {
		if c := a.Tick.Compare(b.Tick); c != 0 {
			return c
		}
		return a.Kind.order() - b.Kind.order()
	})
	return out
}

// Next returns the next instant after now at which a scheduled task is
// due (zero when neither schedule is set): a service sleeps until then.
func (k *Keeper) Next(now time.Time) time.Time {
	var next time.Time
	for _, c := range [...]struct {
		s    cron.Schedule
		memo *nextMemo
		last time.Time
	}{{k.rebalance, &k.rmemo, k.st.Rebalance}, {k.harvest, &k.hmemo, k.st.Harvest}} {
		if c.s == nil {
			continue
		}
		from := c.last
		if now.After(from) {
			from = now
		}
		if t := c.memo.get(c.s, from); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

func appendTicks(out []Task, kind TaskKind, s cron.Schedule, memo *nextMemo, last *time.Time, now time.Time) []Task {
	if s == nil {
		return out
	}
	if last.IsZero() {
		// A state that never ran starts now: nothing is owed for the past.
		*last = now
		return out
	}
	for n := 0; n < MaxCatchUp; n++ {
		t := memo.get(s, *last)
		if t.IsZero() || t.After(now) {
			break
		}
		out = append(out, Task{Kind: kind, Tick: t})
		*last = t
	}
	return out
}
