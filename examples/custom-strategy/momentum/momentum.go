// Package momentum is an example of a strategy written in Go outside the
// strategies package: it favours markets whose APY has been rising.
//
// Importing the package registers the strategy under the name "momentum"
// (as a database/sql driver registers itself), so that it can be built
// with strategies.New("momentum", cfg); New builds it directly.
//
// The score of a market is
//
//	score = net_apy + beta x (apy - avg(apy over lookback_days))
//
// the net APY (strategies.NetAPY) plus a bonus for an APY above its recent
// average (a penalty when below). The top k markets by score share the
// investable capital in proportion to their scores, and the result is
// projected onto the configured constraints. Markets that are paused,
// have no observation, or have fewer than two observations in the
// look-back are left out, with the reason in the Target.
package momentum

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Name is the registry name of the strategy.
const Name = "momentum"

func init() {
	strategies.Register(Name, func(cfg strategies.Config) (strategies.Strategy, error) { return New(cfg) })
}

// Defaults of the parameters.
const (
	DefaultLookbackDays = 7
	DefaultK            = 3
	DefaultBeta         = 2
)

// Strategy is the momentum strategy.
type Strategy struct {
	cfg          strategies.Config
	lookbackDays float64
	k            int
	beta         float64
}

// New builds a momentum strategy. Parameters: lookback_days (default 7,
// in (0, 365]), k (default 3, a whole number >= 1) and beta (default 2, in
// [0, 100]).
func New(cfg strategies.Config) (*Strategy, error) {
	const op = "momentum.New"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Strategy{cfg: cfg, lookbackDays: DefaultLookbackDays, k: DefaultK, beta: DefaultBeta}
	for name, v := range cfg.Params {
		switch name {
		case "lookback_days":
			if !(v > 0 && v <= 365) {
				return nil, adapters.E(op, adapters.KindInvalid, "lookback_days = %g is outside (0, 365]", v)
			}
			s.lookbackDays = v
		case "k":
			if v < 1 || v > 1000 || v != math.Trunc(v) {
				return nil, adapters.E(op, adapters.KindInvalid, "k = %g is not a whole number in [1, 1000]", v)
			}
			s.k = int(v)
		case "beta":
			if !(v >= 0 && v <= 100) {
				return nil, adapters.E(op, adapters.KindInvalid, "beta = %g is outside [0, 100]", v)
			}
			s.beta = v
		default:
			return nil, adapters.E(op, adapters.KindInvalid, "unknown parameter %q (known: beta, k, lookback_days)", name)
		}
	}
	return s, nil
}

// Name implements strategies.Strategy.
func (s *Strategy) Name() string { return Name }

// Plan implements strategies.Strategy. It reads st and never modifies it.
func (s *Strategy) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	const op = "momentum.Plan"
	if err := ctx.Err(); err != nil {
		return strategies.Target{}, adapters.Wrap(op, adapters.KindOther, err)
	}
	if st == nil {
		return strategies.Target{}, adapters.E(op, adapters.KindInvalid, "nil state")
	}
	if len(s.cfg.Universe) > 0 {
		ids := st.IDs()
		if len(ids) != len(s.cfg.Universe) {
			return strategies.Target{}, adapters.E(op, adapters.KindInvalid, "state has %d markets, the universe %d", len(ids), len(s.cfg.Universe))
		}
		for i, id := range s.cfg.Universe {
			if ids[i] != id {
				return strategies.Target{}, adapters.E(op, adapters.KindInvalid, "state market %d is %s, the universe's %s", i, ids[i], id)
			}
		}
	}
	lookback := time.Duration(s.lookbackDays * float64(24*time.Hour))
	n := len(st.Markets)
	cands := make([]strategies.Candidate, n)
	reasons := make([]string, n)
	for i := range st.Markets {
		ms := &st.Markets[i]
		switch {
		case ms.Row < 0:
			reasons[i] = "no observation yet"
			continue
		case ms.Paused:
			reasons[i] = "paused"
			continue
		}
		avg, k := mean(ms, adapters.FieldAPY, st.Time, lookback)
		if k < 2 {
			reasons[i] = fmt.Sprintf("%d observations in %gd: too few for momentum", k, s.lookbackDays)
			continue
		}
		net := strategies.NetAPY(ms)
		trend := ms.Obs.Value(adapters.FieldAPY, 0) - avg
		score := net + s.beta*trend
		if math.IsNaN(score) || math.IsInf(score, 0) {
			reasons[i] = "invalid data: score is not a finite number"
			continue
		}
		reasons[i] = fmt.Sprintf("score %.2f%% = net apy %.2f%% + %g x trend %+.2f%%", score*100, net*100, s.beta, trend*100)
		if score <= 0 {
			reasons[i] += "; score <= 0"
			continue
		}
		cands[i] = strategies.Candidate{Eligible: true, Score: score, Weight: score}
	}
	desired, notes, err := strategies.Allocate(st, strategies.AllocOptions{Method: strategies.TopK, K: s.k}, cands)
	if err != nil {
		return strategies.Target{}, err
	}
	for i, note := range notes {
		if note != "" {
			reasons[i] += "; " + note
		}
	}
	proj, err := s.cfg.Constraints.Project(st, desired)
	if err != nil {
		return strategies.Target{}, err
	}
	t := proj.Target(reasons)
	t.Reason = fmt.Sprintf("top %d by momentum score over %gd", s.k, s.lookbackDays)
	return t, nil
}

// mean is the average of field f over (at - lookback, at], reading only
// rows at or before ms.Row, and the number of rows that observed it.
func mean(ms *strategies.MarketState, f adapters.Field, at time.Time, lookback time.Duration) (float64, int) {
	s := ms.Series
	if s == nil || ms.Row < 0 || s.Cols[f] == nil {
		return 0, 0
	}
	from := at.Add(-lookback).Unix()
	var sum float64
	var n int
	for i := min(ms.Row, s.Len()-1); i >= 0 && s.Times[i] > from; i-- {
		if s.Times[i] <= at.Unix() && s.Set[i].Has(f) {
			sum += s.Cols[f][i]
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}
