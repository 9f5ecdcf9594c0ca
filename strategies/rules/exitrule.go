package rules

import (
	"context"
	"math"
	"slices"
	"sync/atomic"

	"github.com/expr-lang/expr/ast"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

var (
	_ strategies.Exiter    = (*Strategy)(nil)
	_ strategies.ExitRuler = (*Strategy)(nil)
)

// HasExitRule reports whether the file sets exit.when. A strategy without
// one never lists markets in Target.Exit, so a keeper need not plan at
// every step to check it (the backtest engine plans only on schedule
// ticks then).
func (s *Strategy) HasExitRule() bool { return s.exit != nil }

// ExitCheck evaluates exit.when alone for every market of st and returns
// the markets it holds true for, in universe order: what Plan on the same
// State lists in Target.Exit (markets with no observation or paused are
// skipped, as Plan skips them). It reads only what the exit rule reads
// (the compiled closures and its own windows), so a keeper can run it at
// every step and plan only when it fires. Without an exit rule it returns
// nil. Errors are Plan's: an invalid state, a parameter override that is
// not finite, or the exit rule failing at run time (KindInvalid, naming
// the market and the rule's position).
func (s *Strategy) ExitCheck(ctx context.Context, st *strategies.State) ([]string, error) {
	const op = "rules.ExitCheck"
	params, err := s.begin(op, ctx, st)
	if err != nil || s.exit == nil {
		return nil, err
	}
	nw := len(s.comp.windows)
	pc := s.takePlanCtx(st.Time.Unix())
	defer s.putPlanCtx(pc)
	pc.have = grow(pc.have, nw)
	pc.env.setParams(params)
	var exits []string
	for i := range st.Markets {
		ms := &st.Markets[i]
		if ms.Row < 0 || ms.Paused {
			continue
		}
		pc.enter(i, ms, nw)
		out, err := pc.runBool(s.exit)
		if err != nil {
			return nil, err
		}
		if out {
			exits = append(exits, ms.Market.ID)
		}
	}
	return exits, nil
}

// begin checks a plan's context and state and returns the parameter
// values after st.Params' overrides (the file's own slice when there are
// none).
func (s *Strategy) begin(op string, ctx context.Context, st *strategies.State) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	if st == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "nil state")
	}
	if len(st.Markets) != len(s.universe) {
		return nil, adapters.E(op, adapters.KindInvalid, "%s: state has %d markets, the strategy %d", s.name, len(st.Markets), len(s.universe))
	}
	for i := range st.Markets {
		if id := st.Markets[i].Market.ID; id != s.universe[i].ID {
			return nil, adapters.E(op, adapters.KindInvalid, "%s: state market %d is %q, the strategy's is %q", s.name, i, id, s.universe[i].ID)
		}
	}
	return s.params(op, st)
}

// params returns the parameter values after st.Params' overrides (the
// file's own slice when there are none).
func (s *Strategy) params(op string, st *strategies.State) ([]float64, error) {
	params := s.paramVals
	if len(st.Params) > 0 {
		params = append([]float64(nil), s.paramVals...)
		for k, v := range st.Params {
			if i, ok := s.comp.pindex[k]; ok {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, adapters.E(op, adapters.KindInvalid, "%s: parameter %s = %g is not a finite number", s.name, k, v)
				}
				params[i] = v
			}
		}
	}
	return params, nil
}

// ExitSet is strategies whose exit rules are checked together on one
// State: what risk monitors, compiled as strategies over a vault's
// universe, ask at every step. Strategies over the same universe,
// profile constants and tags share one filling of each market's names (the
// per-market work of ExitCheck) and keep their own windows and
// parameters; others are checked one by one. Whether they share is
// worked out once, when the set is made: comparing their universes,
// profiles and tags cost more than the check itself at every step.
type ExitSet struct {
	ss     []*Strategy
	shared bool // every strategy has an exit rule and the first's markets (sameMarkets)
	// never[k][i] says strategy k's exit rule cannot hold on market i,
	// whatever its observations (neverFires); nil: no market is known so.
	never [][]bool
	// holding says some strategy reads holding, exit_impact or exit_days:
	// the shared filling computes them for all (they read the same
	// position, so the others' rules see the same values as alone).
	holding bool
	// consts are the constants of the state's profiles that are not the
	// strategies' own (made when the set is shared).
	consts *stateConsts
	// all lists the strategies by index; run[i] those whose rule may
	// fire on market i (all but the never ones), which Check runs there.
	all []int32
	run [][]int32
	// sws[k*len(universe)+i] are the window columns strategy k found for
	// market i at the last check (windowCache.get's), nil before: a
	// check of the same series takes them from here rather than from the
	// strategy's cache, whose look-up (its slot's series compared in
	// turn) cost as much as the window itself. Entries are stored only
	// when they change (never in a run over one history).
	sws []atomic.Pointer[seriesWindows]
}

// stateConsts keeps, per market, the constants of the last profile a
// state gave the market where it was not the strategies' own. A vault's
// state holds the profiles the vault was made with; monitors compiled
// apart hold their own copies of the same ones wherever a market has
// parameters of its own (Catalog.ProfileFor copies the profile at every
// call), so without it such a market's constants (six parameter look-ups)
// were worked out again at every check. A strategy keeps one for its
// plans (ownConsts), an ExitSet one for its checks. A state's profiles are
// immutable and the same from step to step: the entry is read far more
// often than made. Several runs may share one strategy at once (a Monte
// Carlo's workers, a sweep's copies made with WithParams), each over its
// own vault and so its own profile copies: a market keeps the last
// stateWays profiles, each run's found among them while no more than
// stateWays-1 other runs started since, rather than one entry the runs
// would replace in turn at every plan. Entries are never changed once
// stored, so concurrent checks may only make one twice.
type stateConsts struct {
	m []constsWays
}

// stateWays is how many profiles of a market a stateConsts keeps.
const stateWays = 4

// constsWays are a market's last profiles and their constants, and the
// way the next one replaces.
type constsWays struct {
	e    [stateWays]atomic.Pointer[profileConstsOf]
	next atomic.Uint32
}

// newStateConsts keeps the constants of n markets' profiles.
func newStateConsts(n int) *stateConsts {
	return &stateConsts{m: make([]constsWays, n)}
}

// profileConstsOf is a profile and its constants.
type profileConstsOf struct {
	p *adapters.Profile
	c profileConsts
}

// of returns the constants of p, market i's profile in the state.
func (sc *stateConsts) of(i int, p *adapters.Profile) *profileConsts {
	w := &sc.m[i]
	for k := range w.e {
		if e := w.e[k].Load(); e != nil && e.p == p {
			return &e.c
		}
	}
	e := &profileConstsOf{p: p, c: constsOf(p)}
	w.e[(w.next.Add(1)-1)%stateWays].Store(e)
	return &e.c
}

// NewExitSet is the set of ss (the slice is copied).
func NewExitSet(ss []*Strategy) *ExitSet {
	x := &ExitSet{ss: append([]*Strategy(nil), ss...), shared: len(ss) > 0}
	for _, s := range ss {
		if s.exit == nil || !sameMarkets(ss[0], s) {
			x.shared = false
		}
		x.holding = x.holding || s.readsHolding
	}
	if x.shared {
		x.consts = newStateConsts(len(ss[0].universe))
		x.never = make([][]bool, len(ss))
		for k, s := range ss {
			x.never[k] = neverFires(s)
		}
		n := len(ss[0].universe)
		x.sws = make([]atomic.Pointer[seriesWindows], len(ss)*n)
		x.all = make([]int32, len(ss))
		for k := range ss {
			x.all[k] = int32(k)
		}
		x.run = make([][]int32, n)
		for i := range x.run {
			for k := range ss {
				if x.never[k] == nil || !x.never[k][i] {
					x.run[i] = append(x.run[i], int32(k))
				}
			}
		}
	}
	return x
}

// constNames are the per-market names that depend on the market alone,
// not on its observations, position, time or parameters.
var constNames = map[string]bool{"kind": true, "protocol": true, "id": true, "tags": true}

// neverFires returns, per market of s's universe, whether s's exit rule
// is false on it whatever its observations: a conjunct of the rule's
// top-level && chain reads only constant names (kind == "lending", an
// id or a tag) and is false for the market. The risk monitors' kind
// tests (kind == "lst" || kind == "lrt") && ... decide so on every step
// the same way; ExitSet skips those markets instead. Only for a rule
// compiled to closures, which never fails at run time (on the VM,
// skipping it could skip an error). nil when no market is known so.
func neverFires(s *Strategy) []bool {
	p := s.exit
	if p == nil || p.fbool == nil {
		return nil
	}
	var conj []ast.Node
	var split func(n ast.Node)
	split = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			split(b.Left)
			split(b.Right)
			return
		}
		conj = append(conj, n)
	}
	split(p.prog.Node())
	var out []bool
	for _, c := range conj {
		constant := true
		ast.Walk(&c, visitFunc(func(np *ast.Node) {
			if id, ok := (*np).(*ast.IdentifierNode); ok && !constNames[id.Value] {
				constant = false
			}
		}))
		fe, ok := compileFast(c)
		if !constant || !ok || fe.bool == nil {
			continue
		}
		for i, m := range s.universe {
			env := marketEnv{Kind: string(m.Kind), Protocol: m.Protocol, ID: m.ID, Tags: s.tags[i]}
			if !fe.bool(&env) {
				if out == nil {
					out = make([]bool, len(s.universe))
				}
				out[i] = true
			}
		}
	}
	return out
}

// Of reports whether the set is of ss, in that order.
func (x *ExitSet) Of(ss []*Strategy) bool { return slices.Equal(x.ss, ss) }

// Check evaluates the exit rule of each of the set's strategies on st
// and returns each one's markets, out[k] being the k-th strategy's
// ExitCheck(ctx, st). Errors are ExitCheck's, of the first strategy that
// fails.
func (x *ExitSet) Check(ctx context.Context, st *strategies.State) ([][]string, error) {
	const op = "rules.ExitCheck"
	ss := x.ss
	out := make([][]string, len(ss))
	if len(ss) == 0 {
		return out, nil
	}
	params := make([][]float64, len(ss))
	for k, s := range ss {
		var p []float64
		var err error
		if k == 0 || !x.shared {
			p, err = s.begin(op, ctx, st)
		} else {
			// Same markets as the first (sameMarkets): its check of the
			// state's markets holds for all.
			p, err = s.params(op, st)
		}
		if err != nil {
			return nil, err
		}
		params[k] = p
	}
	if !x.shared {
		for k, s := range ss {
			e, err := s.ExitCheck(ctx, st)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	}
	s0 := ss[0]
	pc := s0.takePlanCtx(st.Time.Unix())
	defer s0.putPlanCtx(pc)
	for i := range st.Markets {
		ms := &st.Markets[i]
		if ms.Row < 0 || ms.Paused {
			continue
		}
		pc.s = s0
		pc.enterNames(i, ms, x.holding, x.consts)
		// The market's constant names as the set's conditions were
		// judged on (neverFires): the state's market may be another
		// catalog's of the same id.
		u := &s0.universe[i]
		ks := x.all
		if ms.Market.Kind == u.Kind && ms.Market.Protocol == u.Protocol {
			ks = x.run[i]
		}
		for _, k := range ks {
			s := ss[k]
			nw := len(s.comp.windows)
			pc.s = s
			pc.env.setParams(params[k])
			pc.sw, pc.swOK, pc.mi = nil, false, i // looked up at the first window (planCtx.window)
			var sw *seriesWindows
			if nw > 0 {
				pc.have = grow(pc.have, nw)
				if sw = x.sws[int(k)*len(x.run)+i].Load(); sw != nil && sw.of(ms.Series) {
					pc.sw, pc.swOK = sw, true
				}
			}
			fire, err := pc.runBool(s.exit)
			if err != nil {
				return nil, err
			}
			if pc.swOK && pc.sw != nil && pc.sw != sw {
				x.sws[int(k)*len(x.run)+i].Store(pc.sw)
			}
			if fire {
				out[k] = append(out[k], ms.Market.ID)
			}
		}
	}
	return out, nil
}

// sameMarkets reports whether a and b compile over the same markets, with
// the same profile constants and tags: a market's names then fill the
// same way for both (marketEnv.fill and the windows read a profile only
// through its constants, profileConsts). The constants, not the profiles'
// pointers, are compared: Catalog.ProfileFor makes a new profile at every
// call for a market with parameters of its own, so monitors compiled one
// by one over such a universe never share a profile pointer, though
// their markets fill alike. Kind and protocol are compared too: the
// conditions' constant conjuncts were judged on them (neverFires).
func sameMarkets(a, b *Strategy) bool {
	if a == b {
		return true
	}
	if len(a.universe) != len(b.universe) {
		return false
	}
	for i := range a.universe {
		ma, mb := &a.universe[i], &b.universe[i]
		if ma.ID != mb.ID || ma.Kind != mb.Kind || ma.Protocol != mb.Protocol ||
			a.consts[i] != b.consts[i] || !slices.Equal(a.tags[i], b.tags[i]) {
			return false
		}
	}
	return true
}
