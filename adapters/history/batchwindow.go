package history

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// BatchWindow returns the Window that writing b into an empty database
// (Write) and loading the markets ids over [from, to] from it (Load)
// would return, without a database: the same checks (a batch with errors
// is refused as Write refuses it), the same rows (sorted, duplicates
// merged, times truncated to the second), the same market descriptions
// (the fields the markets table keeps), the same forward fill, derived
// APY and price-as-rate (with cat, nil: the built-in catalog, as a
// database opened without WithCatalog), and the same events in the same
// order. It serves the Monte Carlo paths, which load each generated
// history once: a round trip through SQLite cost about half of a path.
func BatchWindow(b *Batch, ids []string, from, to time.Time, cat *adapters.Catalog) (*adapters.Window, error) {
	const op = "history.Load"
	p, errs, _ := prepare(b)
	if len(errs) > 0 {
		return nil, &adapters.Error{Op: "history.Write", Kind: adapters.KindInvalid, Pos: errs[0].Pos, Err: &BatchError{Issues: errs}}
	}
	lo, hi, err := bounds(op, from, to)
	if err != nil {
		return nil, err
	}
	// The markets table after the write: the batch's descriptions, the
	// last of each ID winning (ON CONFLICT DO UPDATE).
	described := make(map[string]adapters.Market, len(b.Markets))
	for _, m := range b.Markets {
		mc := m
		_ = mc.Validate() // checked by prepare; fills Protocol
		described[mc.ID] = storedMarket(mc)
	}
	rows := make(map[string]*pMarket, len(p.markets))
	for _, g := range p.markets {
		if _, ok := described[g.id]; !ok {
			r := b.Rows[g.first]
			return nil, &adapters.Error{Op: "history.Write", Kind: adapters.KindNotFound, Pos: pos(b.Source, r.Line),
				Err: fmt.Errorf("market %q is neither described by the batch nor stored", g.id)}
		}
		rows[g.id] = g
	}
	for _, e := range p.events {
		if _, ok := described[e.Market]; !ok {
			return nil, adapters.E("history.Write", adapters.KindNotFound, "%s: event %s at %s: market %q is neither described by the batch nor stored",
				b.Source, e.Type, e.Time.Format(time.RFC3339), e.Market)
		}
	}
	if cat == nil {
		cat = adapters.Builtin()
	}
	if len(ids) == 0 {
		ids = slices.Sorted(maps.Keys(described))
	}
	// As Load: a loop the batch does not describe is composed from its
	// legs, which are loaded in its place (lookupLoops, composeLoops).
	var loops []loopSpec
	want := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		if asked[id] {
			return nil, adapters.E(op, adapters.KindInvalid, "market %q asked for twice", id)
		}
		asked[id] = true
		if _, ok := described[id]; !ok {
			m, err := cat.Market(id)
			if err != nil || m.Legs == nil {
				return nil, adapters.E(op, adapters.KindNotFound, "market %q is not in the history database", id)
			}
			for _, leg := range []string{m.Legs.Collateral, m.Legs.Debt} {
				if _, ok := described[leg]; !ok {
					return nil, adapters.E(op, adapters.KindNotFound, "market %q is a loop over %s and %s, and %q is not in the history database", id, m.Legs.Collateral, m.Legs.Debt, leg)
				}
			}
			loops = append(loops, loopSpec{m: m})
			continue
		}
		want = append(want, id)
		seen[id] = true
	}
	for _, l := range loops {
		for _, leg := range l.m.Legs.IDs() {
			if _, ok := described[leg]; ok && !seen[leg] {
				want = append(want, leg)
				seen[leg] = true
			}
		}
	}
	w := &adapters.Window{From: from, To: to, Series: make([]*adapters.Series, 0, len(want))}
	for _, id := range want {
		s := batchSeries(described[id], rows[id], lo, hi)
		if priceOnly(s) && valueAccruing(cat, s.Market) {
			priceAsRate(s)
		}
		w.Series = append(w.Series, s)
	}
	// Events as queryEvents orders them: by time, market, type, scope.
	evs := make([]adapters.Event, 0, len(p.events))
	for _, e := range p.events {
		if ts := e.Time.Unix(); seen[e.Market] && ts >= lo && ts <= hi {
			e.Size = sqlReal(e.Size)
			evs = append(evs, e)
		}
	}
	slices.SortStableFunc(evs, func(a, b adapters.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Market, b.Market), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Scope, b.Scope))
	})
	finishWindow(w, evs, from, to)
	if len(loops) > 0 {
		composeLoops(w, ids, loops, from, to)
	}
	return w, nil
}

// storedMarket is m as the markets table keeps it (scanMarket): its ID,
// kind, base, protocol, token, name, tags and params, empty tags and
// params as nil; parameter sources and exposures are not stored.
func storedMarket(m adapters.Market) adapters.Market {
	out := adapters.Market{ID: m.ID, Kind: m.Kind, Base: m.Base, Protocol: m.Protocol, Token: m.Token, Name: m.Name}
	if len(m.Tags) > 0 {
		out.Tags = slices.Clone(m.Tags)
	}
	if len(m.Params) > 0 {
		out.Params = maps.Clone(m.Params)
	}
	return out
}

// sqlReal is v as a REAL column gives it back: SQLite stores a REAL with
// no fractional part as an integer, so -0 reads back as 0.
func sqlReal(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

// batchSeries is loadSeries over g's prepared rows (nil: none) in [lo, hi].
func batchSeries(m adapters.Market, g *pMarket, lo, hi int64) *adapters.Series {
	s := &adapters.Series{Market: m}
	if g == nil {
		return s
	}
	a, _ := slices.BinarySearchFunc(g.rows, lo, func(r pRow, t int64) int { return cmp.Compare(r.ts, t) })
	z, found := slices.BinarySearchFunc(g.rows, hi, func(r pRow, t int64) int { return cmp.Compare(r.ts, t) })
	if found {
		z++
	}
	if a >= z {
		if a == z && g.rows[0].ts <= hi && g.rows[len(g.rows)-1].ts >= lo {
			s.Times, s.Set = []int64{}, []adapters.FieldSet{}
		}
		return s
	}
	in := g.rows[a:z]
	n := len(in)
	s.Times = make([]int64, n)
	s.Set = make([]adapters.FieldSet, n)
	var seen adapters.FieldSet
	for i := range in {
		s.Times[i], s.Set[i] = in[i].ts, in[i].obs.Set
		seen |= in[i].obs.Set
	}
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if !seen.Has(f) {
			continue
		}
		c := make([]float64, n)
		for i := range in {
			if in[i].obs.Set.Has(f) {
				c[i] = sqlReal(in[i].obs.Values[f])
			}
		}
		s.Cols[f] = c
	}
	forwardFill(s)
	deriveRateAPY(s, RateAPYWindow, minRateAPYSpan)
	return s
}
