package strategies

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// Method is an allocation method: how a strategy turns per-market scores
// and weights into desired weights before projection onto constraints.
type Method string

// Allocation methods.
const (
	// Proportional gives each eligible market its weight, normalised.
	Proportional Method = "proportional"
	// TopK keeps the K eligible markets with the highest scores (ties go
	// to the earlier market) and splits between them by weight, or
	// equally when Then is Equal.
	TopK Method = "top_k"
	// Equal gives every eligible market the same weight.
	Equal Method = "equal"
	// InverseVolatility weights each eligible market by 1 / stddev of a
	// field (APY by default) over a look-back window.
	InverseVolatility Method = "inverse_volatility"
)

// Methods lists the allocation methods.
var Methods = []Method{Proportional, TopK, Equal, InverseVolatility}

// ParseMethod parses an allocation method name.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods {
		if string(m) == s {
			return m, nil
		}
	}
	return "", adapters.E("strategies.ParseMethod", adapters.KindInvalid, "unknown allocation method %q (want proportional, top_k, equal or inverse_volatility)", s)
}

// DefaultLookback is the inverse-volatility window when none is given.
const DefaultLookback = 7 * 24 * time.Hour

// MinVolatility floors the standard deviation inverse volatility divides
// by, so that a series that did not move gets a large but finite weight.
const MinVolatility = 1e-9

// AllocOptions configure Allocate.
type AllocOptions struct {
	Method Method
	// K is the number of markets TopK keeps (>= 1).
	K int
	// Then is how TopK splits between the markets it keeps: Proportional
	// (by weight; the default when empty) or Equal.
	Then Method
	// Per, when set, makes TopK keep K markets per group instead of K in
	// all: "kind" groups by market kind, "protocol" by protocol, any other
	// word by the value of the markets' tag with that prefix ("layer"
	// groups layer:eigenlayer, layer:symbiotic, ...; markets without such
	// a tag form one group).
	Per string
	// Lookback is InverseVolatility's window (DefaultLookback when zero).
	Lookback time.Duration
	// Field is the series InverseVolatility measures (FieldAPY, the zero
	// value, by default).
	Field adapters.Field
}

// Validate checks the options.
func (o *AllocOptions) Validate() error {
	const op = "strategies.AllocOptions.Validate"
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return err
	}
	if o.Method == TopK {
		if o.K < 1 {
			return adapters.E(op, adapters.KindInvalid, "top_k needs k >= 1, got %d", o.K)
		}
		if o.Then != "" && o.Then != Proportional && o.Then != Equal {
			return adapters.E(op, adapters.KindInvalid, "top_k splits by proportional or equal, not %q", o.Then)
		}
	} else if o.Per != "" {
		return adapters.E(op, adapters.KindInvalid, "per %q applies to top_k only", o.Per)
	}
	if o.Lookback < 0 {
		return adapters.E(op, adapters.KindInvalid, "lookback %s is negative", o.Lookback)
	}
	if o.Field >= adapters.NumFields {
		return adapters.E(op, adapters.KindInvalid, "unknown field %d", o.Field)
	}
	return nil
}

// Candidate is one market's input to Allocate.
type Candidate struct {
	// Eligible markets take part; the others get zero.
	Eligible bool
	// Score ranks markets for TopK; it must be finite for eligible markets
	// when the method is TopK.
	Score float64
	// Weight is the market's proportional weight (>= 0, finite) for
	// Proportional and for TopK's proportional split.
	Weight float64
}

// Allocate turns candidates (one per market of st, in order) into desired
// weights that sum to 1 (or are all zero when nothing is eligible or every
// weight is zero), ready for Projector.Project, plus a note per market
// ("rank 4 of 6: outside the top 3", "apy volatility 0.0012 over 168h0m0s
// (42 obs)"; "" when there is nothing to add). Ineligible markets get no
// note: the caller knows why they are ineligible. A brief State
// (st.Brief) gets no notes (nil).
//
// Errors (KindInvalid) report bad options, a candidate count that is not
// the market count, or an eligible market's weight or score that is
// negative (weight), NaN or infinite, naming the market.
func Allocate(st *State, o AllocOptions, cands []Candidate) ([]float64, []string, error) {
	return allocate(st, o, cands, nil)
}

// allocate is Allocate with the desired weights in buf's array when it
// is large enough (Scratch.Allocate).
func allocate(st *State, o AllocOptions, cands []Candidate, buf *[]float64) ([]float64, []string, error) {
	const op = "strategies.Allocate"
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	if st == nil || len(cands) != len(st.Markets) {
		n := 0
		if st != nil {
			n = len(st.Markets)
		}
		return nil, nil, adapters.E(op, adapters.KindInvalid, "%d candidates for %d markets", len(cands), n)
	}
	n := len(cands)
	var w []float64
	if buf != nil {
		w = floats(buf, n)
	} else {
		w = make([]float64, n)
	}
	var notes []string
	if !st.Brief {
		notes = make([]string, n)
	}
	for i, c := range cands {
		if !c.Eligible {
			continue
		}
		if (o.Method == Proportional || (o.Method == TopK && o.Then != Equal)) &&
			(math.IsNaN(c.Weight) || math.IsInf(c.Weight, 0) || c.Weight < 0) {
			return nil, nil, adapters.E(op, adapters.KindInvalid, "%s: weight %g is not a finite number >= 0", st.Markets[i].Market.ID, c.Weight)
		}
		if o.Method == TopK && (math.IsNaN(c.Score) || math.IsInf(c.Score, 0)) {
			return nil, nil, adapters.E(op, adapters.KindInvalid, "%s: score %g is not a finite number", st.Markets[i].Market.ID, c.Score)
		}
	}
	switch o.Method {
	case Proportional:
		for i, c := range cands {
			if c.Eligible {
				w[i] = c.Weight
			}
		}
	case Equal:
		for i, c := range cands {
			if c.Eligible {
				w[i] = 1
			}
		}
	case TopK:
		var idx []int
		for i, c := range cands {
			if c.Eligible {
				idx = append(idx, i)
			}
		}
		sort.SliceStable(idx, func(a, b int) bool { return cands[idx[a]].Score > cands[idx[b]].Score })
		// Ranks within each group (one group without Per).
		groupOf := func(i int) string { return GroupOf(&st.Markets[i].Market, o.Per) }
		size := map[string]int{}
		for _, i := range idx {
			size[groupOf(i)]++
		}
		seen := map[string]int{}
		for _, i := range idx {
			g := groupOf(i)
			rank := seen[g]
			seen[g]++
			if notes != nil {
				in := ""
				if o.Per != "" {
					in = " in " + o.Per + " " + g
				}
				if rank >= o.K {
					notes[i] = fmt.Sprintf("rank %d of %d%s: outside the top %d", rank+1, size[g], in, o.K)
				} else {
					notes[i] = fmt.Sprintf("rank %d of %d%s", rank+1, size[g], in)
				}
			}
			if rank >= o.K {
				continue
			}
			if o.Then == Equal {
				w[i] = 1
			} else {
				w[i] = cands[i].Weight
			}
		}
	case InverseVolatility:
		lb := o.Lookback
		if lb == 0 {
			lb = DefaultLookback
		}
		for i, c := range cands {
			if !c.Eligible {
				continue
			}
			sd, k := Volatility(&st.Markets[i], o.Field, st.Time, lb)
			if k < 2 {
				if notes != nil {
					notes[i] = fmt.Sprintf("too few observations of %s in %s to measure volatility (%d)", o.Field, lb, k)
				}
				continue
			}
			w[i] = 1 / math.Max(sd, MinVolatility)
			if notes != nil {
				notes[i] = fmt.Sprintf("%s volatility %.4g over %s (%d obs)", o.Field, sd, lb, k)
			}
		}
	}
	if err := normalize(w); err != nil {
		return nil, nil, adapters.Wrap(op, adapters.KindInvalid, err)
	}
	return w, notes, nil
}

// GroupOf is a market's group for AllocOptions.Per: its kind, its
// protocol, or the value of its tag with the prefix per ("" without
// per; "none" when it has no such tag).
func GroupOf(m *adapters.Market, per string) string {
	switch per {
	case "":
		return ""
	case "kind":
		return string(m.Kind)
	case "protocol":
		return m.Protocol
	}
	for _, t := range m.Tags {
		if v, ok := strings.CutPrefix(t, per+":"); ok {
			return v
		}
	}
	return "none"
}

// normalize scales w to sum to 1; all zeros stay zeros.
func normalize(w []float64) error {
	// The builtin max (inlined) is math.Max here: the two differ only
	// when one argument is +Inf and the other NaN (math.Max gives +Inf,
	// max NaN), and Allocate's weights are never +Inf (it checks them or
	// makes them finite).
	maxw := 0.0
	for _, v := range w {
		maxw = max(maxw, v)
	}
	if maxw == 0 {
		return nil
	}
	for i := range w {
		w[i] /= maxw
	}
	s := SumWeights(w)
	if !(s > 0) || math.IsInf(s, 0) {
		return fmt.Errorf("weights sum to %g", s)
	}
	for i := range w {
		w[i] /= s
	}
	return nil
}

// Volatility is the sample standard deviation of field f of a market over
// the window (at - lookback, at], reading only rows at or before ms.Row
// (never the future), and the number of rows that observed f. Fewer than
// two rows give (0, n).
func Volatility(ms *MarketState, f adapters.Field, at time.Time, lookback time.Duration) (float64, int) {
	s := ms.Series
	if s == nil || ms.Row < 0 || f >= adapters.NumFields || s.Cols[f] == nil {
		return 0, 0
	}
	last := min(ms.Row, s.Len()-1)
	if t := at.Unix(); last >= 0 && s.Times[last] > t {
		last = s.Index(t)
	}
	from := at.Add(-lookback).Unix()
	col := s.Cols[f]
	var n int
	var mean float64
	for i := last; i >= 0 && s.Times[i] > from; i-- {
		if s.Set[i].Has(f) {
			n++
			mean += col[i]
		}
	}
	if n < 2 {
		return 0, n
	}
	mean /= float64(n)
	var ss float64
	for i := last; i >= 0 && s.Times[i] > from; i-- {
		if s.Set[i].Has(f) {
			d := col[i] - mean
			ss += d * d
		}
	}
	return math.Sqrt(ss / float64(n-1)), n
}
