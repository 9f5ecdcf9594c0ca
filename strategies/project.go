package strategies

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/yieldvault/yieldvault/adapters"
)

// fixedTol is how close to a cap a weight (or a group's sum) must be for
// the cap to count as binding, and how close to 1 - idle the total must be
// for the budget to count as spent. Project returns its input unchanged
// when the input already satisfies every cap and every positive weight is
// held by a binding cap or the budget is spent; that makes Project
// idempotent bit for bit.
const fixedTol = 1e-12

// minNormal is the smallest normal float64. Weights and ratios of desired
// weights below it (subnormals) count as zero: dividing a cap by a
// subnormal rate overflows to +Inf, which used to give +Inf weights and a
// NaN idle.
const minNormal = 0x1p-1022

func subnormal(v float64) bool { return v > 0 && v < minNormal }

// Projection is a vector of weights projected onto Constraints.
type Projection struct {
	// Markets are the market IDs, in the order of the State.
	Markets []string
	// Weights are the projected weights: >= 0, within every cap.
	Weights []float64
	// Idle is 1 - the sum of Weights (compensated), so that weights plus
	// idle is 1 within 1e-12; it is at least the idle floor (to 1e-12).
	Idle float64
	// Reasons says, per market, which caps bind its weight ("capped by
	// max_weight = 0.35"), why a market that was wanted is at zero
	// ("max_kind.lrt = 0.4 is full", "below min_weight = 0.01"), and notes
	// such as "tvl unknown: max_share_of_tvl not applied". "" when there is
	// nothing to say. Reasons describe the projection of the given input:
	// projecting a projection gives the same weights and idle, but a
	// market the first projection zeroed is no longer "wanted".
	Reasons []string
	// Capped says, per market, that a cap binds its positive weight: its
	// reason says "capped by" (Allocation.Capped).
	Capped []bool
}

// Target builds a Target from the projection. reasons, when not nil, are
// the strategy's own reasons per market (a score, "ineligible: ..."); each
// allocation's Reason joins the strategy's reason and the projection's
// with "; ".
func (p *Projection) Target(reasons []string) Target {
	t := Target{Allocations: make([]Allocation, len(p.Markets)), Idle: p.Idle}
	for i, id := range p.Markets {
		var r string
		if reasons != nil {
			r = reasons[i]
		}
		if pr := p.Reasons[i]; pr != "" {
			if r != "" {
				r += "; " + pr
			} else {
				r = pr
			}
		}
		t.Allocations[i] = Allocation{Market: id, Weight: p.Weights[i], Reason: r}
		if p.Capped != nil {
			t.Allocations[i].Capped = p.Capped[i]
		}
	}
	return t
}

// Projector projects weights onto Constraints for one universe. Build it
// once per strategy (NewProjector) and call Project or Greedy per plan; a
// Projector is safe for concurrent use.
type Projector struct {
	c        Constraints
	ids      []string
	budget   float64 // 1 - idle floor
	groups   []group
	memberOf [][]int // per market: indices into groups
	all      []int   // every market's index, in order (enforce's budget)
	// ownCaps is each market's cap before the TVL cap: max_weight, or
	// +Inf. It depends on the constraints alone, so prepare copies it
	// and works out per plan only the TVL caps, which read the state.
	ownCaps   []float64
	maxWLabel string    // "max_weight = 0.35"
	tvlLabel  string    // "max_share_of_tvl = 0.01"
	works     sync.Pool // *projWork: one projection's working memory
}

// projWork is one projection's working memory, reused from one
// projection to the next (a strategy projects at every rebalance check):
// what Project, Greedy and fill compute and drop. What a Projection
// returns (weights, reasons) is never in it. A Projector may project on
// several goroutines at once; each takes its own from the pool.
type projWork struct {
	caps    []float64         // each market's own cap (prepare)
	d       []float64         // the desired weights being projected (Project)
	wanted  []bool            // the markets with a desired weight (Project, Greedy)
	scratch []float64         // fill's rates and levels
	active  []bool            // fill's markets still rising
	order   levelOrder        // fill's markets by own-cap level
	buf     []byte            // finish's reason being built
	intern  map[string]string // finish's reasons, one string per text
}

// work takes a projWork from the pool; done puts it back.
func (p *Projector) work() *projWork {
	if w, ok := p.works.Get().(*projWork); ok {
		return w
	}
	return &projWork{intern: map[string]string{}}
}

func (p *Projector) done(w *projWork) {
	clear(w.intern)
	p.works.Put(w)
}

// floats returns buf resized to n zeros, reallocated only when too small.
func floats(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

// bools is floats for []bool.
func bools(buf *[]bool, n int) []bool {
	if cap(*buf) < n {
		*buf = make([]bool, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

// NewProjector validates c and prepares it for the markets of a universe,
// in order.
func NewProjector(c Constraints, markets []adapters.Market) (*Projector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.Clone()
	p := &Projector{c: c, budget: 1 - c.Idle, ids: make([]string, len(markets)), memberOf: make([][]int, len(markets))}
	if c.MaxWeight > 0 {
		p.maxWLabel = "max_weight = " + strconv.FormatFloat(c.MaxWeight, 'g', -1, 64)
	}
	if c.MaxShareOfTVL > 0 {
		p.tvlLabel = "max_share_of_tvl = " + strconv.FormatFloat(c.MaxShareOfTVL, 'g', -1, 64)
	}
	// Round the budget down until 1 - budget is at least the idle floor, so
	// that idle = 1 - sum(weights) never falls below the floor by rounding.
	for p.budget > 0 && 1-p.budget < c.Idle {
		p.budget = math.Nextafter(p.budget, 0)
	}
	p.all = make([]int, len(markets))
	p.ownCaps = make([]float64, len(markets))
	for i := range markets {
		p.ids[i] = markets[i].ID
		p.all[i] = i
		p.ownCaps[i] = math.Inf(1)
		if c.MaxWeight > 0 {
			p.ownCaps[i] = c.MaxWeight
		}
	}
	for _, g := range c.groups(markets) {
		if g.cap >= p.budget {
			continue // cannot bind before the budget does
		}
		gi := len(p.groups)
		p.groups = append(p.groups, g)
		for _, m := range g.members {
			p.memberOf[m] = append(p.memberOf[m], gi)
		}
	}
	return p, nil
}

// Constraints returns the projector's constraints.
func (p *Projector) Constraints() Constraints { return p.c }

// Project projects desired weights (one per market of st, in order; any
// non-negative finite scale) onto the constraints. Only ratios matter: a
// desired weight below 2.2e-308 (the smallest normal float64), or below
// 2.2e-308 times the largest, counts as zero, and no projected weight is
// below 2.2e-308 but zero.
//
// The desired weights are scaled to fill the investable share 1 - idle;
// a market whose share exceeds a cap (its own: max_weight, max share of
// TVL; or a group's: max_kind, max_protocol, max_tag) is held at the cap
// and the excess flows to the markets still below their caps in
// proportion to their desired weights (water-filling: all unheld markets
// rise together until the next cap binds, repeated until none can rise).
// What cannot be placed stays idle. Markets given less than min_weight are
// dropped and the rest re-projected. The result never exceeds a cap, and
// Project(Project(w)) has exactly the weights and idle of Project(w).
//
// An error (KindInvalid) reports a desired weight that is negative, NaN or
// infinite, or a State whose markets are not the projector's.
func (p *Projector) Project(st *State, desired []float64) (Projection, error) {
	return p.project(st, desired, nil)
}

// project is Project with the projection's weights and reasons in sc's
// arrays when sc is not nil (Scratch.Project), else in new ones.
func (p *Projector) project(st *State, desired []float64, sc *Scratch) (Projection, error) {
	pw := p.work()
	defer p.done(pw)
	caps, notes, err := p.prepare(pw, st, desired)
	if err != nil {
		return Projection{}, err
	}
	wanted := bools(&pw.wanted, len(desired))
	own := false // desired is pw.d, a copy the projection may change
	if slices.ContainsFunc(desired, subnormal) {
		desired, own = append(pw.d[:0], desired...), true // the caller's slice is not changed
		pw.d = desired
		for i, d := range desired {
			if subnormal(d) {
				desired[i] = 0
			}
		}
	}
	for i, d := range desired {
		wanted[i] = d > 0
	}
	var w []float64
	var dropped []bool
	if p.isFixed(desired, caps) {
		if sc != nil {
			w = append(sc.weights[:0], desired...)
			sc.weights = w
		} else {
			w = append([]float64(nil), desired...)
		}
	} else {
		d := desired
		if !own {
			d = append(pw.d[:0], desired...)
			pw.d = d
		}
		for {
			if sc != nil {
				w = floats(&sc.weights, len(d))
			} else {
				w = make([]float64, len(d))
			}
			p.fill(pw, d, caps, w)
			p.enforce(w, caps)
			if p.c.MinWeight <= 0 {
				break
			}
			again := false
			for i, v := range w {
				if v > 0 && v < p.c.MinWeight {
					d[i] = 0
					if dropped == nil {
						dropped = make([]bool, len(w))
					}
					dropped[i] = true
					again = true
				}
			}
			if !again {
				break
			}
		}
	}
	reasons, capped := sc.reasonsFor(len(w))
	return p.finish(pw, w, caps, wanted, dropped, notes, reasons, capped, sc != nil && st.Brief), nil
}

// Greedy fills the markets in order (indices into st.Markets), each up to
// the most its caps and the budget allow, and leaves the rest at zero: the
// allocation of a strategy that ranks markets (max-yield). A market whose
// room is below min_weight is skipped. The result is a fixed point of
// Project.
func (p *Projector) Greedy(st *State, order []int) (Projection, error) {
	n := len(p.ids)
	pw := p.work()
	defer p.done(pw)
	caps, notes, err := p.prepare(pw, st, floats(&pw.d, n))
	if err != nil {
		return Projection{}, err
	}
	w := make([]float64, n)
	wanted := bools(&pw.wanted, n)
	var dropped []bool
	gsum := make([]float64, len(p.groups))
	total := 0.0
	for _, i := range order {
		if i < 0 || i >= n {
			return Projection{}, adapters.E("strategies.Projector.Greedy", adapters.KindInvalid, "market index %d out of range [0, %d)", i, n)
		}
		if wanted[i] {
			continue
		}
		wanted[i] = true
		room := math.Min(caps[i], p.budget-total)
		for _, g := range p.memberOf[i] {
			room = math.Min(room, p.groups[g].cap-gsum[g])
		}
		if !(room > 0) {
			continue
		}
		if p.c.MinWeight > 0 && room < p.c.MinWeight {
			if dropped == nil {
				dropped = make([]bool, n)
			}
			dropped[i] = true
			continue
		}
		w[i] = room
		total += room
		for _, g := range p.memberOf[i] {
			gsum[g] += room
		}
	}
	p.enforce(w, caps)
	return p.finish(pw, w, caps, wanted, dropped, notes, make([]string, n), make([]bool, n), false), nil
}

// prepare checks the inputs and returns each market's own cap (the
// smaller of max_weight and the max-share-of-TVL cap; +Inf when none) and
// per-market notes. The caps are in pw.
func (p *Projector) prepare(pw *projWork, st *State, desired []float64) (caps []float64, notes []string, err error) {
	const op = "strategies.Projector.Project"
	n := len(p.ids)
	if st == nil || len(st.Markets) != n {
		got := 0
		if st != nil {
			got = len(st.Markets)
		}
		return nil, nil, adapters.E(op, adapters.KindInvalid, "state has %d markets, the projector %d", got, n)
	}
	if len(desired) != n {
		return nil, nil, adapters.E(op, adapters.KindInvalid, "%d desired weights for %d markets", len(desired), n)
	}
	caps = append(pw.caps[:0], p.ownCaps...)
	pw.caps = caps
	var nav float64
	if p.c.MaxShareOfTVL > 0 {
		nav = st.NAV.Float()
	}
	for i := range st.Markets {
		ms := &st.Markets[i]
		if ms.Market.ID != p.ids[i] {
			return nil, nil, adapters.E(op, adapters.KindInvalid, "state market %d is %q, the projector's is %q", i, ms.Market.ID, p.ids[i])
		}
		if d := desired[i]; math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
			return nil, nil, adapters.E(op, adapters.KindInvalid, "%s: desired weight %g is not a finite number >= 0", p.ids[i], d)
		}
		if p.c.MaxShareOfTVL > 0 {
			if tc, ok := p.c.tvlCap(st, nav, ms); ok {
				caps[i] = math.Min(caps[i], tc)
			} else {
				if notes == nil {
					notes = make([]string, n)
				}
				notes[i] = "tvl unknown: max_share_of_tvl not applied"
				if ms.Row >= 0 && ms.Obs.Set.Has(adapters.FieldTVL) {
					notes[i] = "nav or base USD price unknown: max_share_of_tvl not applied"
				}
			}
		}
	}
	return caps, notes, nil
}

// isFixed reports whether w already satisfies every cap and cannot rise:
// every positive weight is held by a binding cap, or the budget is spent.
func (p *Projector) isFixed(w, caps []float64) bool {
	for i, v := range w {
		if v > caps[i] || (v > 0 && v < p.c.MinWeight) {
			return false
		}
	}
	gsum := p.groupSums(w)
	for g := range p.groups {
		if gsum[g] > p.groups[g].cap {
			return false
		}
	}
	total := SumWeights(w)
	if total > p.budget {
		return false
	}
	if total >= p.budget-fixedTol {
		return true
	}
	for i, v := range w {
		if v > 0 && !p.held(i, v, caps, gsum) {
			return false
		}
	}
	return true
}

// held reports whether market i at weight v is held by a binding cap.
func (p *Projector) held(i int, v float64, caps, gsum []float64) bool {
	if caps[i]-v <= fixedTol {
		return true
	}
	for _, g := range p.memberOf[i] {
		if p.groups[g].cap-gsum[g] <= fixedTol {
			return true
		}
	}
	return false
}

func (p *Projector) groupSums(w []float64) []float64 {
	gsum := make([]float64, len(p.groups))
	for g := range p.groups {
		gsum[g] = sumOver(w, p.groups[g].members)
	}
	return gsum
}

// sumOver is SumWeights of w at the given indices.
func sumOver(w []float64, idx []int) float64 {
	var s, c float64
	for _, i := range idx {
		x := w[i]
		t := s + x
		if math.Abs(s) >= math.Abs(x) {
			c += (s - t) + x
		} else {
			c += (x - t) + s
		}
		s = t
	}
	return s + c
}

// fill is the water-filling into w (len(d) zeros): every active market's
// weight is T x rate, T rising from 0; when a cap binds, its markets are
// frozen at their weight, and T keeps rising for the others until the
// budget is spent or no market is active. Each round freezes at least
// one market.
func (p *Projector) fill(pw *projWork, d, caps, w []float64) {
	n := len(d)
	maxd := 0.0
	for _, v := range d {
		if v > maxd {
			maxd = v
		}
	}
	if maxd == 0 {
		return
	}
	ng := len(p.groups)
	// One allocation for the float scratch: rate, mcand, gFrozen, gRate,
	// gcand.
	scratch := floats(&pw.scratch, 2*n+3*ng)
	rate, mcand := scratch[:n], scratch[n:2*n]
	gFrozen, gRate, gcand := scratch[2*n:2*n+ng], scratch[2*n+ng:2*n+2*ng], scratch[2*n+2*ng:]
	for i, v := range d {
		if rate[i] = v / maxd; rate[i] < minNormal {
			rate[i] = 0 // a ratio below the smallest normal counts as zero
		}
	}
	sumr := SumWeights(rate)
	active := bools(&pw.active, n)
	gActive := make([]int, ng)
	nactive := 0
	activeRate := 0.0
	for i := range rate {
		rate[i] /= sumr
		if rate[i] > 0 {
			active[i] = true
			nactive++
			activeRate += rate[i]
			mcand[i] = caps[i] / rate[i]
		}
	}
	order := &pw.order // active markets by own-cap level, ascending
	order.reset(rate, mcand)
	for g := range p.groups {
		for _, m := range p.groups[g].members {
			if active[m] {
				gRate[g] += rate[m]
				gActive[g]++
			}
		}
	}
	frozenTotal := 0.0
	T := 0.0
	freeze := func(i int) {
		v := T * rate[i]
		if v > caps[i] {
			v = caps[i]
		}
		active[i] = false
		nactive--
		w[i] = v
		frozenTotal += v
		activeRate -= rate[i]
		for _, g := range p.memberOf[i] {
			gFrozen[g] += v
			gActive[g]--
			gRate[g] -= rate[i]
		}
	}
	// Running rate sums lose precision as frozen rates are subtracted;
	// they are summed afresh whenever one falls below half of its last
	// exact value, which bounds their relative error by about 1e-14.
	refRate := activeRate
	gRef := make([]float64, ng)
	copy(gRef, gRate)
	exactRates := func() {
		activeRate = 0
		for i := range rate {
			if active[i] {
				activeRate += rate[i]
			}
		}
		refRate = activeRate
		for g := range p.groups {
			gRate[g] = 0
			for _, m := range p.groups[g].members {
				if active[m] {
					gRate[g] += rate[m]
				}
			}
			gRef[g] = gRate[g]
		}
	}
	next := 0 // first index of order that may still be active
	for nactive > 0 {
		stale := !(activeRate > refRate/2)
		for g := range p.groups {
			if gActive[g] > 0 && !(gRate[g] > gRef[g]/2) {
				stale = true
			}
		}
		if stale {
			exactRates()
		}
		best := math.Inf(1)
		for next < order.len() && !active[order.at(next)] {
			next++
		}
		if next < order.len() {
			best = mcand[order.at(next)]
		}
		for g := range p.groups {
			gcand[g] = math.Inf(1)
			if gActive[g] > 0 && gRate[g] > 0 {
				gcand[g] = (p.groups[g].cap - gFrozen[g]) / gRate[g]
				if gcand[g] < best {
					best = gcand[g]
				}
			}
		}
		bcand := (p.budget - frozenTotal) / activeRate
		if bcand < best {
			best = bcand
		}
		if best < T {
			best = T // rounding: a cap already reached binds now
		}
		T = best
		if bcand <= T {
			for i := range rate {
				if active[i] {
					freeze(i)
				}
			}
			break
		}
		for k := next; k < order.len() && mcand[order.at(k)] <= T; k++ {
			if m := order.at(k); active[m] {
				freeze(m)
			}
		}
		for g := range p.groups {
			if gcand[g] <= T {
				for _, m := range p.groups[g].members {
					if active[m] {
						freeze(m)
					}
				}
			}
		}
	}
}

// levelOrder is fill's order of the markets with a positive rate by
// their own-cap level (mcand), ascending: the order slices.SortFunc with
// cmp.Compare gives the markets in index order, equal levels included.
// fill reads it from the lowest level up and usually stops after a few
// (the markets whose own cap binds before the budget is spent), so the
// lowest levels are found one at a time (selection); past
// levelSelections, or on two equal levels (whose order is the sort's),
// the markets are sorted in full as before. The order found either way
// is the same: a level found by selection is below every level after it.
type levelOrder struct {
	idx    []int     // the markets; idx[:done] are in their final order
	key    []float64 // the levels, by market
	rate   []float64 // the rates, by market (which markets take part)
	done   int
	sorted bool // idx is sorted in full
}

// levelSelections is how many levels levelOrder finds one at a time
// before it sorts them all.
const levelSelections = 8

// reset starts the order of the markets with a positive rate, at the
// levels key.
func (o *levelOrder) reset(rate, key []float64) {
	o.idx, o.key, o.rate, o.done, o.sorted = o.idx[:0], key, rate, 0, false
	for i, r := range rate {
		if r > 0 {
			o.idx = append(o.idx, i)
		}
	}
}

func (o *levelOrder) len() int { return len(o.idx) }

// at is the market at position k of the order.
func (o *levelOrder) at(k int) int {
	for !o.sorted && o.done <= k {
		o.selectNext()
	}
	return o.idx[k]
}

// selectNext moves the lowest level of idx[done:] to idx[done], or sorts
// idx in full when it has found levelSelections already or the lowest
// level is not alone.
func (o *levelOrder) selectNext() {
	rest := o.idx[o.done:]
	if o.done == levelSelections {
		o.sortAll()
		return
	}
	lo, tie := 0, false
	for j := 1; j < len(rest); j++ {
		switch cmp.Compare(o.key[rest[j]], o.key[rest[lo]]) {
		case -1:
			lo, tie = j, false
		case 0:
			tie = true
		}
	}
	if tie {
		o.sortAll()
		return
	}
	rest[0], rest[lo] = rest[lo], rest[0]
	o.done++
}

// sortAll sorts the markets in full, from index order (selection moved
// them): the order of equal levels is the sort's.
func (o *levelOrder) sortAll() {
	o.reset(o.rate, o.key)
	slices.SortFunc(o.idx, func(a, b int) int { return cmp.Compare(o.key[a], o.key[b]) })
	o.done, o.sorted = len(o.idx), true
}

// enforce lowers weights, by rounding-sized amounts, until no cap is
// exceeded under SumWeights: first each market's own cap, then each
// group's, then the budget. Lowering a weight never breaks a cap already
// enforced.
func (p *Projector) enforce(w, caps []float64) {
	for i := range w {
		if w[i] > caps[i] {
			w[i] = caps[i]
		}
	}
	lower := func(members []int, capv float64) {
		for iter := 0; iter < 64; iter++ {
			s := sumOver(w, members)
			if s <= capv {
				return
			}
			j := members[0]
			for _, m := range members {
				if w[m] > w[j] {
					j = m
				}
			}
			nw := w[j] - (s - capv)
			if nw >= w[j] {
				nw = math.Nextafter(w[j], 0)
			}
			w[j] = math.Max(nw, 0)
		}
	}
	for g := range p.groups {
		lower(p.groups[g].members, p.groups[g].cap)
	}
	if SumWeights(w) > p.budget {
		lower(p.all[:len(w)], p.budget)
	}
}

// finish computes idle, the reasons and the capped flags, into reasons
// and capped (len(w) empty strings and false). brief writes no reasons,
// only the flags (Scratch.Project of a brief State).
func (p *Projector) finish(pw *projWork, w, caps []float64, wanted, dropped []bool, notes, reasons []string, capped []bool, brief bool) Projection {
	for i, v := range w {
		if v < minNormal {
			w[i] = 0 // never a subnormal weight (see minNormal)
		}
	}
	total := SumWeights(w)
	pr := Projection{Markets: p.ids, Weights: w, Idle: 1 - total, Reasons: reasons, Capped: capped}
	gsum := p.groupSums(w)
	buf, intern := pw.buf[:0], pw.intern
	defer func() { pw.buf = buf[:0] }()
	ownCap := func(i int) {
		if p.c.MaxWeight > 0 && caps[i] == p.c.MaxWeight {
			buf = append(buf, p.maxWLabel...)
			return
		}
		buf = append(buf, p.tvlLabel...)
	}
	// binding appends the caps that bind market i, comma separated, and
	// reports whether there was one.
	binding := func(i int, own bool) bool {
		k := 0
		if own {
			ownCap(i)
			k++
		}
		for _, g := range p.memberOf[i] {
			if p.groupBound(g, gsum) {
				if k > 0 {
					buf = append(buf, ", "...)
				}
				buf = append(buf, p.groups[g].label...)
				k++
			}
		}
		return k > 0
	}
	if brief {
		for i := range w {
			capped[i] = w[i] > 0 && (caps[i]-w[i] <= fixedTol || p.groupBinds(i, gsum))
		}
		return pr
	}
	for i := range w {
		buf = buf[:0]
		switch {
		case w[i] > 0:
			mark := len(buf)
			buf = append(buf, "capped by "...)
			if capped[i] = binding(i, caps[i]-w[i] <= fixedTol); !capped[i] {
				buf = buf[:mark]
			}
		case dropped != nil && dropped[i]:
			buf = append(buf, "below min_weight = "...)
			buf = strconv.AppendFloat(buf, p.c.MinWeight, 'g', -1, 64)
		case wanted[i]:
			buf = append(buf, "no room: "...)
			switch {
			case binding(i, caps[i] <= fixedTol):
				buf = append(buf, " full"...)
			case p.budget-total <= fixedTol:
				buf = append(buf, "the investable share "...)
				buf = strconv.AppendFloat(buf, 1-p.c.Idle, 'g', -1, 64)
				buf = append(buf, " is spent"...)
			default:
				buf = append(buf[:0], "desired weight too small to place"...)
			}
		}
		if notes != nil && notes[i] != "" {
			if len(buf) > 0 {
				buf = append(buf, "; "...)
			}
			buf = append(buf, notes[i]...)
		}
		if len(buf) == 0 {
			continue
		}
		r, ok := intern[string(buf)]
		if !ok {
			r = string(buf)
			intern[r] = r
		}
		pr.Reasons[i] = r
	}
	return pr
}

// groupBinds reports whether a group cap of market i binds: the brief
// projection's test for the caps binding names.
func (p *Projector) groupBinds(i int, gsum []float64) bool {
	for _, g := range p.memberOf[i] {
		if p.groupBound(g, gsum) {
			return true
		}
	}
	return false
}

// groupBound reports whether group g's cap binds: its sum gsum[g] is
// within fixedTol of it.
func (p *Projector) groupBound(g int, gsum []float64) bool {
	return p.groups[g].cap-gsum[g] <= fixedTol
}

// Project projects desired weights onto c for state st; it is
// NewProjector(c, markets of st) followed by Project. Strategies that plan
// often should keep a Projector.
func (c *Constraints) Project(st *State, desired []float64) (Projection, error) {
	if st == nil {
		return Projection{}, adapters.E("strategies.Constraints.Project", adapters.KindInvalid, "nil state")
	}
	p, err := NewProjector(*c, st.MarketList())
	if err != nil {
		return Projection{}, err
	}
	return p.Project(st, desired)
}

// Scratch is the working memory of a strategy's plans that Allocate and
// Project would otherwise allocate at every plan: the desired weights
// and the projection's weights and reasons. What its methods return
// lives in its arrays and is valid until its next call of the same
// method. A Scratch serves one plan at a time: a strategy that plans on
// several goroutines keeps one per plan in flight (in a sync.Pool, with
// the rest of its plan's scratch). The zero value is ready to use.
type Scratch struct {
	desired []float64
	weights []float64
	reasons []string
	capped  []bool
}

// Allocate is strategies.Allocate with the desired weights in the
// scratch's array.
func (sc *Scratch) Allocate(st *State, o AllocOptions, cands []Candidate) ([]float64, []string, error) {
	return allocate(st, o, cands, &sc.desired)
}

// Project is p.Project with the projection's weights, reasons and capped
// flags in the scratch's arrays (its Markets are the projector's, as
// always). desired may be the scratch's Allocate result. For a brief
// State (State.Brief) it writes no reasons (all ""), only the capped
// flags.
func (sc *Scratch) Project(p *Projector, st *State, desired []float64) (Projection, error) {
	return p.project(st, desired, sc)
}

// reasonsFor returns n empty reasons and n false flags: the scratch's
// arrays, or new ones on a nil Scratch.
func (sc *Scratch) reasonsFor(n int) ([]string, []bool) {
	if sc == nil {
		return make([]string, n), make([]bool, n)
	}
	if cap(sc.reasons) < n {
		sc.reasons = make([]string, n)
	}
	sc.reasons = sc.reasons[:n]
	clear(sc.reasons)
	return sc.reasons, bools(&sc.capped, n)
}
