package rules

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/vm"
	"github.com/robfig/cron/v3"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Strategy is an expression-rule strategy loaded from a file. It is
// immutable; Plan is safe for concurrent use.
type Strategy struct {
	// capSpec is the constraints block when a value reads params (nil
	// otherwise): WithParams resolves it again.
	capSpec *constraintsSpec
	// cat is the catalog the file was loaded against (with its own
	// catalog file, catalogFile, when it names one).
	cat                     *adapters.Catalog
	catalogFile             string
	file, name, description string

	base     adapters.Asset
	universe []adapters.Market
	profiles []*adapters.Profile
	tags     [][]string      // per market: AllTags
	consts   []profileConsts // per market: constants of profiles[i]
	// ownConsts keeps the constants of a state's own profile of a market
	// (one not profiles[i]: a vault's copy merged with the market's own
	// parameters, which Catalog.ProfileFor makes anew at every call), so
	// that plans over the same state work them out once, not per market
	// and plan. Shared by copies made with WithParams (same universe).
	ownConsts *stateConsts

	paramNames []string
	paramVals  []float64

	comp                          *compiler
	eligible, score, weight, exit *program
	leverage                      *program // rules.leverage, for loop markets
	alloc                         strategies.AllocOptions
	constraints                   strategies.Constraints
	projector                     *strategies.Projector
	// cols are the rules compiled to columns, which brief plans run
	// (planColumns); nil outside the column subset (columns.go).
	cols               *colProgs
	rebalance, harvest schedule
	thresholds         Thresholds

	// Reads per outcome, computed once (see Allocation.Reads).
	readsExit, readsIneligible, readsEligible []string
	// readsHolding: a rule reads holding, exit_impact or exit_days (plans
	// compute them only then).
	readsHolding bool
	// summaries[k] is the Target.Reason of a plan of the whole universe
	// with k markets eligible and no exit, made once at load: a plan at
	// every rebalance check wrote the same few texts again.
	summaries []string

	vms *sync.Pool // of *vm.VM; shared by copies made with WithParams
	// wcache holds window columns per market (see wcache.go); shared by
	// copies made with WithParams.
	wcache *windowCache
	pcs    *sync.Pool // of *planCtx, scratch reused across plans; shared like vms
	scs    *sync.Pool // of *shouldCtx, scratch reused across condition checks; shared like vms
}

type schedule struct {
	spec  string
	sched cron.Schedule
	when  *program
}

// Thresholds are the rebalance thresholds a strategy file sets for the
// vault's rebalancer (rebalance.min_trade, rebalance.max_gas_price and
// rebalance.min_gain_over_cost).
type Thresholds = strategies.Thresholds

var _ strategies.Strategy = (*Strategy)(nil)
var _ strategies.PlannerInto = (*Strategy)(nil)
var _ strategies.Scheduled = (*Strategy)(nil)
var _ strategies.ConditionReads = (*Strategy)(nil)
var _ strategies.Thresholder = (*Strategy)(nil)

// Name is the strategy's name: the file's name key, else the file name
// without its extension.
func (s *Strategy) Name() string { return s.name }

// Catalog is the catalog the strategy was loaded against: the one given
// to Load plus the file's own catalog (the catalog key).
func (s *Strategy) Catalog() *adapters.Catalog { return s.cat }

// CatalogFile is the path of the file's own catalog ("" without one).
func (s *Strategy) CatalogFile() string { return s.catalogFile }

// Description is the file's description.
func (s *Strategy) Description() string { return s.description }

// File is the path or name the strategy was loaded from.
func (s *Strategy) File() string { return s.file }

// Base is the strategy's base asset.
func (s *Strategy) Base() adapters.Asset { return s.base }

// Universe returns the strategy's market IDs, in file order.
func (s *Strategy) Universe() []string {
	out := make([]string, len(s.universe))
	for i, m := range s.universe {
		out[i] = m.ID
	}
	return out
}

// Markets returns the strategy's markets, in file order.
func (s *Strategy) Markets() []adapters.Market { return append([]adapters.Market(nil), s.universe...) }

// Params returns a copy of the strategy's parameters.
func (s *Strategy) Params() map[string]float64 {
	out := make(map[string]float64, len(s.paramNames))
	for i, n := range s.paramNames {
		out[n] = s.paramVals[i]
	}
	return out
}

// Constraints returns the strategy's constraints.
func (s *Strategy) Constraints() strategies.Constraints { return s.constraints }

// Allocation returns the strategy's allocation options.
func (s *Strategy) Allocation() strategies.AllocOptions { return s.alloc }

// Thresholds returns the strategy's rebalance thresholds.
func (s *Strategy) Thresholds() Thresholds { return s.thresholds }

// WithParams returns a copy of the strategy with some parameters changed
// (a sweep point). Every name must be one the file declares and every
// value finite; errors are KindInvalid. Compiled rules are shared, not
// recompiled.
func (s *Strategy) WithParams(p map[string]float64) (*Strategy, error) {
	const op = "rules.Strategy.WithParams"
	vals := append([]float64(nil), s.paramVals...)
	var errs ErrorList
	for _, k := range sortedKeys(p) {
		v := p[k]
		i, ok := s.comp.pindex[k]
		if !ok {
			errs = append(errs, &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: s.file,
				Err: fmt.Errorf("unknown parameter %q%s", k, suggest(k, s.paramNames))})
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: s.file,
				Err: fmt.Errorf("parameter %s = %g is not a finite number", k, v)})
			continue
		}
		vals[i] = v
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c := *s
	c.paramVals = vals
	if s.capSpec != nil { // caps that read params follow them
		cons, _ := s.capSpec.resolve(c.param)
		for _, p := range cons.Problems() {
			errs = append(errs, &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: s.file,
				Err: fmt.Errorf("constraints.%s: %s", p.Key, p.Msg)})
		}
		if len(errs) > 0 {
			return nil, errs
		}
		pj, err := strategies.NewProjector(cons, s.universe)
		if err != nil {
			return nil, adapters.Wrap(op, adapters.KindInvalid, err)
		}
		c.constraints, c.projector = cons, pj
	}
	return &c, nil
}

// param returns a parameter's value.
func (s *Strategy) param(name string) (float64, bool) {
	for i, n := range s.paramNames {
		if n == name {
			return s.paramVals[i], true
		}
	}
	return 0, false
}

// prepare computes the per-outcome read lists once at load.
func (s *Strategy) prepare() {
	union := func(ps ...*program) []string {
		set := map[string]bool{}
		for _, p := range ps {
			if p != nil {
				for _, r := range p.reads {
					set[r] = true
				}
			}
		}
		out := make([]string, 0, len(set))
		for r := range set {
			out = append(out, r)
		}
		sort.Strings(out)
		return out[:len(out):len(out)]
	}
	s.consts = make([]profileConsts, len(s.profiles))
	for i, p := range s.profiles {
		s.consts[i] = constsOf(p)
	}
	s.ownConsts = newStateConsts(len(s.universe))
	s.cols = compileColumns(s)
	s.wcache = newWindowCache(len(s.universe), len(s.comp.windows))
	s.pcs = &sync.Pool{New: func() any { return new(planCtx) }}
	s.scs = &sync.Pool{New: func() any { return new(shouldCtx) }}
	s.summaries = make([]string, len(s.universe)+1)
	for k := range s.summaries {
		s.summaries[k], _ = s.writeSummary(nil, k, len(s.universe), nil)
	}
	s.readsExit = union(s.exit)
	s.readsIneligible = union(s.exit, s.eligible)
	s.readsEligible = union(s.exit, s.eligible, s.score, s.weight)
	for _, r := range union(s.exit, s.eligible, s.score, s.weight, s.leverage) {
		s.readsHolding = s.readsHolding || holdingNames[r]
	}
	for _, g := range s.comp.groups {
		s.readsHolding = s.readsHolding || holdingNames[g.Name]
	}
}

// holdingNames are the per-market names computed from the position's
// value (marketEnv.fill with holding).
var holdingNames = map[string]bool{"holding": true, "exit_impact": true, "exit_days": true}

// runErr is a KindInvalid error of a rule at plan time, at the rule's
// position in the file.
func (s *Strategy) runErr(p *program, id, format string, args ...any) error {
	pos := p.pos
	if pos == "" {
		pos = s.file
	}
	return &adapters.Error{Op: "rules.Plan", Kind: adapters.KindInvalid, Pos: pos,
		Err: fmt.Errorf("market %s: %s: %s", id, p.kind, fmt.Sprintf(format, args...))}
}

// vmMessage is a run-time error's message without expr's source snippet
// (which spans lines).
func vmMessage(err error) string { return fromExprErr(err).msg }

// planCtx is the per-call state of a Plan: one VM, one environment and
// the window cache of the current market.
type planCtx struct {
	s    *Strategy
	vm   *vm.VM
	env  marketEnv
	ms   *strategies.MarketState
	t    int64
	have []bool    // per window: computed for the current market
	buf  []float64 // window scratch
	// consts are the current market's profile constants.
	consts *profileConsts
	// sw are the current market's cached window columns; nil computes
	// windows from the series rows. They are looked up at the market's
	// first window (swOK), not when it is entered: most markets of an
	// exit check compute none (marketEnv.lazy). mi is the market's index.
	sw   *seriesWindows
	swOK bool
	mi   int

	// Per-plan scratch, kept with a pooled planCtx.
	rb    []byte     // the markets' own reasons
	rspan [][2]int32 // rb[rspan[i][0]:rspan[i][1]] is market i's
	out   []byte     // the joined reasons
	ends  []int32    // out[ends[i-1]:ends[i]] is market i's
	cands []strategies.Candidate
	reads []uint8   // per market: readsNone, readsIneligible ...
	levs  []float64 // per loop market: the leverage chosen
	// alloc holds the desired weights and the projection's weights and
	// reasons, read into the Target and dropped.
	alloc strategies.Scratch
	// col, colIdx and leaves are a column plan's run, markets and names'
	// inputs (planColumns).
	col    colRun
	colIdx []int
	leaves leafRun
}

// Which per-outcome read list a market's allocation gets.
const (
	readNone uint8 = iota
	readExit
	readIneligible
	readEligible
)

// grow returns s resliced to n zeroed elements, reusing its array.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// ensure computes the windows a rule reads that the current market has
// not computed yet. Most rules read none: the check is inlined at every
// run, the loop (ensureAll) is not.
func (pc *planCtx) ensure(windows []int) {
	if len(windows) > 0 {
		pc.ensureAll(windows)
	}
}

func (pc *planCtx) ensureAll(windows []int) {
	for _, wi := range windows {
		if !pc.have[wi] {
			pc.window(wi)
		}
	}
}

// window computes window wi for the current market into its slot.
func (pc *planCtx) window(wi int) {
	w := &pc.s.comp.windows[wi]
	f := w.current(&pc.env)
	if !pc.swOK {
		pc.sw, pc.swOK = pc.s.wcache.get(pc.mi, pc.ms.Series, len(pc.s.comp.windows)), true
	}
	var v float64
	if pc.sw != nil {
		v = w.computeCached(pc.ms, pc.sw.col(wi, w, pc.consts), pc.t, f)
	} else {
		v, pc.buf = w.compute(pc.ms, pc.consts, pc.t, f, pc.buf)
	}
	pc.env.setW(wi, v)
	pc.have[wi] = true
}

func (pc *planCtx) run(p *vm.Program, windows []int) (any, error) {
	pc.ensure(windows)
	return pc.vm.Run(p, &pc.env)
}

func (pc *planCtx) runBool(p *program) (bool, error) {
	if p.fbool != nil {
		// The closures compute the windows they reach (marketEnv.lazy).
		pc.env.lazy = pc
		return p.fbool(&pc.env), nil
	}
	out, err := pc.run(p.prog, p.windows)
	if err != nil {
		return false, pc.s.runErr(p, pc.env.ID, "%s", vmMessage(err))
	}
	b, ok := out.(bool)
	if !ok {
		return false, pc.s.runErr(p, pc.env.ID, "result %v is not a bool", out)
	}
	return b, nil
}

func (pc *planCtx) runFloat(p *program) (float64, error) {
	var v float64
	if p.fnum != nil {
		pc.env.lazy = pc
		v = p.fnum(&pc.env)
	} else {
		out, err := pc.run(p.prog, p.windows)
		if err != nil {
			return 0, pc.s.runErr(p, pc.env.ID, "%s", vmMessage(err))
		}
		var ok bool
		if v, ok = out.(float64); !ok {
			return 0, pc.s.runErr(p, pc.env.ID, "result %v is not a number", out)
		}
	}
	if !finite(v) {
		return 0, pc.s.notFinite(p, pc.env.ID, v)
	}
	return v, nil
}

// notFinite is the error of a numeric rule whose result v on market id
// is NaN or infinite.
func (s *Strategy) notFinite(p *program, id string, v float64) error {
	return s.runErr(p, id, "%s gives %g (a division by zero or invalid data?); the result must be a finite number", p.src, v)
}

// negWeight is the error of a weight rule whose result w on market id is
// negative (the plans market by market and over columns give the same).
func (s *Strategy) negWeight(id string, w float64) error {
	return s.runErr(s.weight, id, "%s gives %g; weights must be >= 0", s.weight.src, w)
}

// finite reports whether v is a number a rule may give (not NaN or
// infinite).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Plan evaluates the rules for every market of st and returns the target.
// st must hold the strategy's universe in file order. Per market: a
// market with no observation, or paused, gets zero; exit.when, when true,
// lists the market in Target.Exit and forces it to zero; rules.eligible
// filters; rules.score and rules.weight (default max(score, 0)) feed the
// allocation method; the result is projected onto the constraints.
// st.Params override the file's parameters of the same names.
//
// A rule that fails at run time, or a score or weight that is NaN or
// infinite, or a negative weight, is a KindInvalid error naming the market
// and the rule.
//
// A brief plan (st.Brief) computes the same target with no allocation
// reasons, only Capped where a cap binds: the markets' own reasons, the
// allocation's notes, the projection's reasons and the loop notes are
// not written.
func (s *Strategy) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	var t strategies.Target
	if err := s.PlanInto(ctx, st, &t); err != nil {
		return strategies.Target{}, err
	}
	return t, nil
}

// PlanInto is Plan into t, reusing the array of t.Allocations when it is
// large enough (strategies.PlannerInto). t is written only on success.
func (s *Strategy) PlanInto(ctx context.Context, st *strategies.State, t *strategies.Target) error {
	const op = "rules.Plan"
	params, err := s.begin(op, ctx, st)
	if err != nil {
		return err
	}

	n := len(st.Markets)
	nw := len(s.comp.windows)
	brief := st.Brief
	pc := s.takePlanCtx(st.Time.Unix())
	defer s.putPlanCtx(pc)
	pc.have = grow(pc.have, nw)
	pc.env.setParams(params)

	cands := grow(pc.cands, n)
	pc.cands = cands
	// Each market's own reason is rb[rspan[i][0]:rspan[i][1]]; the final
	// reasons are assembled at the end into one string.
	rb := pc.rb[:0]
	defer func() { pc.rb = rb[:0] }()
	rspan := grow(pc.rspan, n)
	pc.rspan = rspan
	reads := grow(pc.reads, n)
	pc.reads = reads
	var exits []string
	levs := grow(pc.levs, n)
	pc.levs = levs
	eligibleCount := 0
	groups := s.comp.groups
	deferW := s.weight != nil && len(groups) > 0
	var gin [][]float64 // per group call, per market: its input
	if deferW {
		gin = make([][]float64, len(groups))
		for gi := range gin {
			gin[gi] = make([]float64, n)
		}
	}
	// A brief plan of rules in the column subset runs each rule once over
	// all the markets (planColumns), unless a market is a loop.
	colsDone := false
	if brief && s.cols != nil {
		if eligibleCount, colsDone, err = s.planColumns(pc, st, params, cands, reads); err != nil {
			return err
		}
	}
	for i := 0; !colsDone && i < len(st.Markets); i++ {
		ms := &st.Markets[i]
		rspan[i][0] = int32(len(rb))
		if ms.Row < 0 {
			if !brief {
				rb = append(rb, "no observation at or before "...)
				rb = st.Time.UTC().AppendFormat(rb, "2006-01-02T15:04:05Z")
			}
			rspan[i][1] = int32(len(rb))
			continue
		}
		if ms.Paused {
			if !brief {
				rb = append(rb, "paused"...)
			}
			rspan[i][1] = int32(len(rb))
			continue
		}
		pc.enter(i, ms, nw)
		if s.exit != nil {
			out, err := pc.runBool(s.exit)
			if err != nil {
				return err
			}
			if out {
				exits = append(exits, ms.Market.ID)
				if !brief {
					rb = pc.appendExplain(append(rb, "exit: "...), s.exit, true)
				}
				rspan[i][1] = int32(len(rb))
				reads[i] = readExit
				continue
			}
		}
		if ms.Loop != nil {
			lev, err := s.leverageOf(pc, ms)
			if err != nil {
				return err
			}
			levs[i] = lev
		}
		reads[i] = readIneligible
		if s.eligible != nil {
			ok, err := pc.runBool(s.eligible)
			if err != nil {
				return err
			}
			if !ok {
				if !brief {
					rb = pc.appendExplain(append(rb, "ineligible: "...), s.eligible, false)
				}
				rspan[i][1] = int32(len(rb))
				continue
			}
		}
		reads[i] = readEligible
		score, err := pc.runFloat(s.score)
		if err != nil {
			return err
		}
		pc.env.Score = score
		if deferW {
			// The weight rule reads group values: it runs once every
			// score is known (below).
			cands[i] = strategies.Candidate{Eligible: true, Score: score}
			for gi := range groups {
				if g := &groups[gi]; g.Op != groupCount {
					gin[gi][i] = score
					if g.Name != "score" {
						gin[gi][i] = *(*float64)(unsafe.Add(unsafe.Pointer(&pc.env), g.cur))
					}
				}
			}
			eligibleCount++
			if !brief {
				rb = appendNum(append(rb, "score "...), score)
			}
			rspan[i][1] = int32(len(rb))
			continue
		}
		var weight float64
		if s.weight == nil {
			weight = math.Max(score, 0) // the default weight rule
		} else {
			if weight, err = pc.runFloat(s.weight); err != nil {
				return err
			}
			if weight < 0 {
				return s.negWeight(ms.Market.ID, weight)
			}
		}
		cands[i] = strategies.Candidate{Eligible: true, Score: score, Weight: weight}
		eligibleCount++
		if brief {
			continue
		}
		rb = append(rb, "score "...)
		at := len(rb)
		rb = appendNum(rb, score)
		if s.weight != nil {
			rb = append(rb, ", weight "...)
			if weight == score && math.Signbit(weight) == math.Signbit(score) {
				rb = append(rb, rb[at:len(rb)-len(", weight ")]...) // the same number, formatted once
			} else {
				rb = appendNum(rb, weight)
			}
		}
		rspan[i][1] = int32(len(rb))
	}
	var wspan [][2]int32 // deferred weights: rb[wspan[i][0]:wspan[i][1]]
	if deferW {
		eligible := make([]bool, n)
		for i := range cands {
			eligible[i] = cands[i].Eligible
		}
		gout := make([][]float64, len(groups))
		for gi := range gout {
			gout[gi] = make([]float64, n)
		}
		groupValues(groups, st.Markets, eligible, gin, gout)
		wspan = make([][2]int32, n)
		for i := range st.Markets {
			if !eligible[i] {
				continue
			}
			pc.enter(i, &st.Markets[i], nw)
			pc.env.Score = cands[i].Score
			for gi := range groups {
				pc.env.setG(gi, gout[gi][i])
			}
			weight, err := pc.runFloat(s.weight)
			if err != nil {
				return err
			}
			if weight < 0 {
				return s.negWeight(st.Markets[i].Market.ID, weight)
			}
			cands[i].Weight = weight
			if brief {
				continue
			}
			wspan[i][0] = int32(len(rb))
			rb = appendNum(append(rb, ", weight "...), weight)
			for gi := range groups {
				if gi == 0 {
					rb = append(rb, " ("...)
				} else {
					rb = append(rb, ", "...)
				}
				rb = appendNum(append(append(rb, groups[gi].Text...), '='), gout[gi][i])
			}
			rb = append(rb, ')')
			wspan[i][1] = int32(len(rb))
		}
	}
	desired, notes, err := pc.alloc.Allocate(st, s.alloc, cands)
	if err != nil {
		return adapters.Wrap(op, adapters.KindOf(err), fmt.Errorf("%s: %w", s.name, err))
	}
	proj, err := pc.alloc.Project(s.projector, st, desired)
	if err != nil {
		return adapters.Wrap(op, adapters.KindOf(err), fmt.Errorf("%s: %w", s.name, err))
	}
	allocs := t.Allocations[:0]
	if cap(allocs) < n {
		allocs = make([]strategies.Allocation, n)
	}
	*t = strategies.Target{Allocations: allocs[:n], Idle: proj.Idle, Exit: exits}
	out := pc.out[:0]
	defer func() { pc.out = out[:0] }()
	if brief {
		for i := range t.Allocations {
			// Field by field: a composite literal is built on the stack
			// and copied in wide words, which stalls on reading back the
			// narrow stores just made (measured: a tenth of a W1 plan).
			a := &t.Allocations[i]
			a.Market, a.Weight, a.Reason = proj.Markets[i], proj.Weights[i], proj.Reasons[i]
			a.Reads, a.Leverage, a.Capped = s.readList(reads[i]), levs[i], proj.Capped[i]
		}
		t.Reason, out = s.summary(out, eligibleCount, n, exits)
		return nil
	}
	// The reasons, as Projection.Target joins them: the market's own, the
	// allocation's note, the projection's; one string for all.
	ends := grow(pc.ends, n)
	pc.ends = ends
	for i := range n {
		out = append(out, rb[rspan[i][0]:rspan[i][1]]...)
		if wspan != nil {
			out = append(out, rb[wspan[i][0]:wspan[i][1]]...)
		}
		if notes != nil && notes[i] != "" {
			out = append(out, "; "...)
			out = append(out, notes[i]...)
		}
		if pr := proj.Reasons[i]; pr != "" {
			if int32(len(out)) > prevEnd(ends, i) {
				out = append(out, "; "...)
			}
			out = append(out, pr...)
		}
		ends[i] = int32(len(out))
	}
	all := string(out)
	for i := range t.Allocations {
		t.Allocations[i] = strategies.Allocation{Market: proj.Markets[i], Weight: proj.Weights[i],
			Reason: all[prevEnd(ends, i):ends[i]], Reads: s.readList(reads[i]), Leverage: levs[i], Capped: proj.Capped[i]}
		if l := levs[i]; l > 0 {
			t.Allocations[i].Reason += loopNote(&pc.env, st.Market(proj.Markets[i]), l)
		}
	}
	t.Reason, out = s.summary(out, eligibleCount, n, exits)
	return nil
}

// planColumns is the per-market loop of a brief plan (PlanInto's) with
// the rules run over columns (s.cols): each market without an
// observation or paused is skipped, the names the rules read are
// computed for the others, one column a name (leafCols), then eligible,
// score and weight run once each over them all. It gives PlanInto's candidates, read lists and
// errors (the first market in order whose score, then weight, is not a
// finite number, or whose weight is negative). ok is false, with nothing
// written, when a market is a loop (its leverage rule runs one market at
// a time): the caller plans market by market.
func (s *Strategy) planColumns(pc *planCtx, st *strategies.State, params []float64, cands []strategies.Candidate, reads []uint8) (eligible int, ok bool, err error) {
	cp := s.cols
	idx := pc.colIdx[:0]
	for i := range st.Markets {
		ms := &st.Markets[i]
		if ms.Row < 0 || ms.Paused {
			continue
		}
		if ms.Loop != nil {
			return 0, false, nil
		}
		idx = append(idx, i)
	}
	pc.colIdx = idx
	x := &pc.col
	x.reset(len(idx), len(cp.leaves))
	lr := &pc.leaves
	lr.ms, lr.idx, lr.t, lr.holding = st.Markets, idx, pc.t, s.readsHolding
	lr.c = lr.c[:0]
	for _, i := range idx {
		lr.c = append(lr.c, s.marketConsts(i, &st.Markets[i], s.ownConsts))
	}
	cp.fillLeaves(x, lr, params)
	lr.ms = nil // keeps no state: neither the markets
	clear(lr.c) // nor the constants' entries (and their profiles)
	lr.c = lr.c[:0]
	var elig []bool
	if cp.eligible != nil {
		elig = x.takeB()
		cp.eligible(x, elig)
	}
	score := x.score
	cp.score(x, score)
	var weight []float64
	if cp.weight != nil {
		if cp.scoreSlot >= 0 {
			copy(x.cols[cp.scoreSlot], score)
		}
		weight = x.takeF()
		cp.weight(x, weight)
	}
	for k, i := range idx {
		reads[i] = readIneligible
		if elig != nil && !elig[k] {
			continue
		}
		reads[i] = readEligible
		sc := score[k]
		if !finite(sc) {
			return 0, true, s.notFinite(s.score, st.Markets[i].Market.ID, sc)
		}
		var w float64
		if cp.weight == nil {
			w = math.Max(sc, 0) // the default weight rule
		} else {
			if w = weight[k]; !finite(w) {
				return 0, true, s.notFinite(s.weight, st.Markets[i].Market.ID, w)
			}
			if w < 0 {
				return 0, true, s.negWeight(st.Markets[i].Market.ID, w)
			}
		}
		cands[i] = strategies.Candidate{Eligible: true, Score: sc, Weight: w}
		eligible++
	}
	return eligible, true, nil
}

// summary is a plan's Target.Reason, "<name>: <k> of <n> markets
// eligible, <method> allocation[, exit from a, b]": one of summaries,
// else written in buf (returned for reuse).
func (s *Strategy) summary(buf []byte, eligibleCount, n int, exits []string) (string, []byte) {
	if len(exits) == 0 && n == len(s.universe) && eligibleCount >= 0 && eligibleCount < len(s.summaries) {
		return s.summaries[eligibleCount], buf
	}
	return s.writeSummary(buf, eligibleCount, n, exits)
}

// writeSummary writes summary's text.
func (s *Strategy) writeSummary(buf []byte, eligibleCount, n int, exits []string) (string, []byte) {
	out := append(buf[:0], s.name...)
	out = append(out, ": "...)
	out = strconv.AppendInt(out, int64(eligibleCount), 10)
	out = append(out, " of "...)
	out = strconv.AppendInt(out, int64(n), 10)
	out = append(out, " markets eligible, "...)
	out = append(out, s.alloc.Method...)
	out = append(out, " allocation"...)
	for k, id := range exits {
		if k == 0 {
			out = append(out, ", exit from "...)
		} else {
			out = append(out, ", "...)
		}
		out = append(out, id...)
	}
	return string(out), out
}

// enter makes market i (ms) the plan context's current market: its
// profile constants, its environment, its cached windows.
func (pc *planCtx) enter(i int, ms *strategies.MarketState, nw int) {
	pc.enterNames(i, ms, pc.s.readsHolding, pc.s.ownConsts)
	pc.sw, pc.swOK, pc.mi = nil, false, i
	if nw > 0 { // a strategy without windows computes none
		clear(pc.have)
	}
}

// enterNames is enter without the windows: market i's profile constants
// and environment, which strategies over the same markets share; holding
// fills the names computed from the position's value (marketEnv.fill);
// sc keeps the constants of a state's own profiles (the strategy's
// ownConsts, or an ExitSet's).
func (pc *planCtx) enterNames(i int, ms *strategies.MarketState, holding bool, sc *stateConsts) {
	s := pc.s
	pc.ms = ms
	pc.consts = s.marketConsts(i, ms, sc)
	pc.env.fill(ms, s.tags[i], pc.consts, pc.t, holding)
}

// marketConsts is the profile constants of market i (ms): the strategy's, or
// for a state's own profile (not the catalog's) those sc remembers.
func (s *Strategy) marketConsts(i int, ms *strategies.MarketState, sc *stateConsts) *profileConsts {
	if ms.Profile != s.profiles[i] {
		return sc.of(i, ms.Profile)
	}
	return &s.consts[i]
}

// takePlanCtx returns a scratch context of s for a plan or an exit check
// at unix time t, with a VM of its own, reset but for the slices it
// reuses; putPlanCtx gives both back.
func (s *Strategy) takePlanCtx(t int64) *planCtx {
	var pc *planCtx
	if s.pcs != nil {
		pc = s.pcs.Get().(*planCtx)
	} else {
		pc = new(planCtx)
	}
	pc.s, pc.t = s, t
	pc.ms, pc.consts, pc.sw, pc.swOK = nil, nil, nil, false
	pc.env = marketEnv{}
	pc.vm = s.vms.Get().(*vm.VM)
	return pc
}

// putPlanCtx gives back a context of takePlanCtx.
func (s *Strategy) putPlanCtx(pc *planCtx) {
	s.vms.Put(pc.vm)
	pc.vm = nil
	if s.pcs != nil {
		s.pcs.Put(pc)
	}
}

// readList is the read list of an outcome.
func (s *Strategy) readList(r uint8) []string {
	switch r {
	case readExit:
		return s.readsExit
	case readIneligible:
		return s.readsIneligible
	case readEligible:
		return s.readsEligible
	}
	return nil
}

// prevEnd is where reason i starts in the joined reasons.
func prevEnd(ends []int32, i int) int32 {
	if i == 0 {
		return 0
	}
	return ends[i-1]
}

// appendExplain appends why a boolean rule gave want: the first top-level
// term (a conjunct of eligible, a disjunct of exit and when conditions)
// that gave it, with the values of both sides of a comparison.
func (pc *planCtx) appendExplain(b []byte, p *program, want bool) []byte {
	for _, pt := range p.parts {
		if pt.fprog != nil {
			pc.ensure(pt.windows)
			if pt.fprog(&pc.env) == want {
				return pc.appendExplainPart(b, pt, want)
			}
			continue
		}
		out, err := pc.run(pt.prog, pt.windows)
		if err != nil {
			continue
		}
		if v, ok := out.(bool); ok && v == want {
			return pc.appendExplainPart(b, pt, want)
		}
	}
	verdict := " is false"
	if want {
		verdict = " is true"
	}
	b = append(b, p.src...)
	b = append(b, verdict...)
	return append(b, pc.values(p.names)...)
}

func (pc *planCtx) appendExplainPart(b []byte, pt *part, holds bool) []byte {
	if pt.op != "" && pt.fleft != nil && pt.fright != nil {
		pc.ensure(pt.windows)
		b = appendSide(b, pt.lsrc, pt.fleft(&pc.env), pt.lconst)
		b = append(b, ' ')
		b = append(b, opFor(pt.op, holds)...)
		b = append(b, ' ')
		return appendSide(b, pt.rsrc, pt.fright(&pc.env), pt.rconst)
	}
	return append(b, pc.explainPart(pt, holds)...)
}

func (pc *planCtx) explainPart(pt *part, holds bool) string {
	if pt.op != "" {
		lv, lerr := pc.run(pt.left, pt.windows)
		rv, rerr := pc.run(pt.right, pt.windows)
		if lerr == nil && rerr == nil {
			return sideText(pt.lsrc, lv, pt.lconst) + " " + opFor(pt.op, holds) + " " + sideText(pt.rsrc, rv, pt.rconst)
		}
	}
	verdict := " is false"
	if holds {
		verdict = " is true"
	}
	return pt.src + verdict + pc.values(pt.names)
}

func (pc *planCtx) values(names []string) string {
	if len(names) == 0 {
		return ""
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		if v, ok := pc.env.value(n); ok {
			parts = append(parts, n+"="+fmtAny(v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func opFor(op string, holds bool) string {
	if holds {
		return op
	}
	return comparisons[op]
}

// appendSide appends sideText(src, v, literal) for a number v.
func appendSide(b []byte, src string, v float64, literal bool) []byte {
	b = append(b, src...)
	if literal {
		return b
	}
	b = append(b, ' ')
	return appendNum(b, v)
}

func sideText(src string, v any, literal bool) string {
	if literal {
		return src
	}
	return src + " " + fmtAny(v)
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case float64:
		return fmtNum(x)
	case int:
		return strconv.Itoa(x)
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case Clock:
		return x.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// fmtNum formats a number for reasons with six significant digits. It
// rounds first and then prints the shortest representation, which is
// several times faster than fixed-precision formatting.
func fmtNum(v float64) string {
	var buf [32]byte
	return string(appendNum(buf[:0], v))
}

// appendNum appends fmtNum(v) to b. Away from powers of ten and within
// 1e-17..1e6 it formats the rounded value itself (appendRounded);
// otherwise, and as the reference a test compares it with, appendNumRef.
func appendNum(b []byte, v float64) []byte {
	if out, ok := appendRounded(b, v); ok {
		return out
	}
	return appendNumRef(b, v)
}

// appendNumRef is the definition of fmtNum: round v to six significant
// digits in floating point, then print the shortest representation of
// the result.
func appendNumRef(b []byte, v float64) []byte {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	exp := math.Floor(math.Log10(math.Abs(v)))
	if exp < -300 || exp > 300 {
		return strconv.AppendFloat(b, v, 'g', 6, 64)
	}
	scale := math.Pow(10, 5-exp)
	r := math.Round(v*scale) / scale
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return strconv.AppendFloat(b, v, 'g', 6, 64)
	}
	return strconv.AppendFloat(b, r, 'g', -1, 64)
}

// RebalanceSchedule returns the file's rebalance schedule.
func (s *Strategy) RebalanceSchedule() strategies.Schedule { return s.rebalance.public() }

// HarvestSchedule returns the file's harvest schedule.
func (s *Strategy) HarvestSchedule() strategies.Schedule { return s.harvest.public() }

func (sc *schedule) public() strategies.Schedule {
	out := strategies.Schedule{Spec: sc.spec, Sched: sc.sched}
	if sc.when != nil {
		out.When = sc.when.src
	}
	return out
}

// RebalanceReads returns the vault-level names rebalance.when reads
// (none without a condition).
func (s *Strategy) RebalanceReads() strategies.VarSet { return s.rebalance.reads() }

// HarvestReads returns the vault-level names harvest.when reads.
func (s *Strategy) HarvestReads() strategies.VarSet { return s.harvest.reads() }

func (sc *schedule) reads() strategies.VarSet {
	var set strategies.VarSet
	if sc.when != nil {
		for _, n := range sc.when.reads {
			set |= strategies.VarOf(n)
		}
	}
	return set
}

// ShouldRebalance evaluates rebalance.when on the vault's variables. With
// no condition it is true. The string explains the answer.
func (s *Strategy) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	return s.should(&s.rebalance, v)
}

// ShouldHarvest evaluates harvest.when on the vault's variables. With no
// condition it is true. The string explains the answer.
func (s *Strategy) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	return s.should(&s.harvest, v)
}

func (s *Strategy) should(sc *schedule, v strategies.VaultVars) (bool, string, error) {
	if sc.when == nil {
		return true, "no condition", nil
	}
	c := s.takeShouldCtx()
	defer s.putShouldCtx(c)
	c.env = vaultEnv{NAV: v.NAV, Idle: v.Idle, Drift: v.Drift, GainAPY: v.GainAPY, CostAPY: v.CostAPY,
		PendingRewards: v.PendingRewards, HarvestCost: v.HarvestCost, GasPrice: v.GasPrice, Now: Clock{v.Now.UTC()}}
	c.env.setParams(s.paramVals)
	out, err := c.run(sc.when.prog)
	if err != nil {
		pos := sc.when.pos
		if pos == "" {
			pos = s.file
		}
		return false, "", &adapters.Error{Op: "rules.Should", Kind: adapters.KindInvalid, Pos: pos,
			Err: fmt.Errorf("%s: %s", sc.when.kind, vmMessage(err))}
	}
	b, _ := out.(bool)
	// The explanation: the first term that held (the condition held), or
	// every term that did not, joined by " and ", else the condition with
	// its values.
	buf, k := c.buf[:0], 0
	for _, pt := range sc.when.parts {
		pv, err := c.run(pt.prog)
		if err != nil {
			continue
		}
		pb, _ := pv.(bool)
		if b && pb {
			buf = c.appendTerm(buf, pt, true)
			k = 1
			break
		}
		if !b && !pb {
			if k > 0 {
				buf = append(buf, " and "...)
			}
			buf = c.appendTerm(buf, pt, false)
			k++
		}
	}
	if k == 0 {
		buf = append(buf, sc.when.src...)
		if b {
			buf = append(buf, " is true"...)
		} else {
			buf = append(buf, " is false"...)
		}
		buf = c.appendValues(buf, sc.when.names)
	}
	c.buf = buf
	return b, string(buf), nil
}

// shouldCtx is the scratch of one rebalance or harvest condition check:
// a VM, the vault's environment and the explanation's buffer, reused
// from check to check from a pool (a keeper checks at every tick; the
// environment alone was most of a check's memory).
type shouldCtx struct {
	vm  vm.VM
	env vaultEnv
	buf []byte
}

// takeShouldCtx returns a shouldCtx of s's pool; putShouldCtx gives it
// back.
func (s *Strategy) takeShouldCtx() *shouldCtx {
	if s.scs != nil {
		return s.scs.Get().(*shouldCtx)
	}
	return new(shouldCtx)
}

func (s *Strategy) putShouldCtx(c *shouldCtx) {
	if s.scs != nil {
		s.scs.Put(c)
	}
}

func (c *shouldCtx) run(p *vm.Program) (any, error) { return c.vm.Run(p, &c.env) }

// appendTerm appends the explanation of term pt, which holds or not: a
// comparison with the values of its sides, else the term, "is true" or
// "is false" and the values of its names.
func (c *shouldCtx) appendTerm(b []byte, pt *part, holds bool) []byte {
	if pt.op != "" {
		mark := len(b)
		b, ok := c.appendSide(b, pt.left, pt.lsrc, pt.lconst)
		if ok {
			b = append(b, ' ')
			b = append(b, opFor(pt.op, holds)...)
			b = append(b, ' ')
			if b, ok = c.appendSide(b, pt.right, pt.rsrc, pt.rconst); ok {
				return b
			}
		}
		b = b[:mark] // a side failed: the term as a whole, below
	}
	b = append(b, pt.src...)
	if holds {
		b = append(b, " is true"...)
	} else {
		b = append(b, " is false"...)
	}
	return c.appendValues(b, pt.names)
}

// appendSide appends a comparison's side with its value, as
// sideText: a literal as it is (it cannot fail), a plain vault name with
// its value read from the environment (as the VM would load it), else
// with the value of the side's program; false when that fails.
func (c *shouldCtx) appendSide(b []byte, p *vm.Program, src string, literal bool) ([]byte, bool) {
	if literal {
		return append(b, src...), true
	}
	if f, ok := c.env.float(src); ok {
		return appendSide(b, src, f, false), true
	}
	v, err := c.run(p)
	if err != nil {
		return b, false
	}
	if f, ok := v.(float64); ok {
		return appendSide(b, src, f, false), true
	}
	return append(b, sideText(src, v, false)...), true
}

// appendValues appends " (name=value, ...)" for the names the
// environment has ("" when none).
func (c *shouldCtx) appendValues(b []byte, names []string) []byte {
	k := 0
	for _, n := range names {
		var ok bool
		var f float64
		if n != "now" {
			if f, ok = c.env.float(n); !ok {
				continue
			}
		}
		if k == 0 {
			b = append(b, " ("...)
		} else {
			b = append(b, ", "...)
		}
		b = append(append(b, n...), '=')
		if ok {
			b = appendNum(b, f)
		} else {
			b = append(b, fmtAny(c.env.Now)...)
		}
		k++
	}
	if k > 0 {
		b = append(b, ')')
	}
	return b
}

// leverageOf is the leverage of loop market ms: rules.leverage's value
// (1 when the strategy has none), at least 1, at most the constraint
// max_leverage and the market's own maximum now. The environment's loop
// names are then those at that leverage.
func (s *Strategy) leverageOf(pc *planCtx, ms *strategies.MarketState) (float64, error) {
	lev := 1.0
	if s.leverage != nil {
		v, err := pc.runFloat(s.leverage)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, s.runErr(s.leverage, ms.Market.ID, "%s gives %g; a leverage must be a finite number", s.leverage.src, v)
		}
		lev = v
	}
	lev = math.Max(1, lev)
	if m := s.constraints.MaxLeverage; m >= 1 {
		lev = math.Min(lev, m)
	}
	if m := ms.Loop.MaxLeverage; m >= 1 {
		lev = math.Min(lev, m)
	}
	pc.env.atLeverage(ms.Loop, lev)
	return lev, nil
}

// loopNote explains a loop market's figures for plans: the leverage, the
// position's health factor and liquidation drop (or those of a loop
// opened at the leverage), and the loop's APY.
func loopNote(e *marketEnv, ms *strategies.MarketState, lev float64) string {
	if ms == nil || ms.Loop == nil {
		return ""
	}
	l := ms.Loop
	b := []byte("; loop: leverage ")
	b = appendNum(b, lev)
	b = append(b, " (max "...)
	b = appendNum(b, l.MaxLeverage)
	b = append(b, ", LTV "...)
	b = appendNum(b, l.MaxLTV)
	b = append(b, ", LLTV "...)
	b = appendNum(b, l.LLTV)
	b = append(b, ")"...)
	hf, drop := l.HealthFactor, l.LiquidationDrop
	what := "held"
	if hf == 0 && lev > 1 && l.LLTV > 0 {
		hf = l.LLTV * lev / (lev - 1)
		drop = math.Max(0, 1-1/hf)
		what = "at open"
	}
	if hf > 0 {
		b = append(b, ", health factor "...)
		b = appendNum(b, hf)
		b = append(b, " "...)
		b = append(b, what...)
		b = append(b, ", liquidated by a "...)
		b = appendNum(b, 100*drop)
		b = append(b, "% fall of the collateral's "...)
		if l.OracleMarket {
			b = append(b, "market price"...)
		} else {
			b = append(b, "exchange rate"...)
		}
	} else {
		b = append(b, ", no debt"...)
	}
	if l.BorrowCap > 0 {
		b = append(b, ", borrow cap "...)
		b = appendNum(b, l.BorrowCap)
		if bw, ok := ms.Obs.Get(adapters.FieldBorrows); ok {
			b = append(b, " ("...)
			b = appendNum(b, bw)
			b = append(b, " borrowed)"...)
		}
	} else if lev > 1 {
		b = append(b, ", no borrow cap known: the loop's size is not bounded by one"...)
	}
	apy := ms.Obs.Value(adapters.FieldAPY, 0)
	bapy := ms.Obs.Value(adapters.FieldBorrowAPY, 0)
	b = append(b, "; loop APY "...)
	b = appendNum(b, 100*(lev*apy-(lev-1)*bapy))
	b = append(b, "% = "...)
	b = appendNum(b, lev)
	b = append(b, " x "...)
	b = appendNum(b, 100*apy)
	b = append(b, "% - "...)
	b = appendNum(b, lev-1)
	b = append(b, " x "...)
	b = appendNum(b, 100*bapy)
	b = append(b, "% borrow"...)
	return string(b)
}
