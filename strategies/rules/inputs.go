package rules

import (
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Inputs returns the value of each of names (a market's read list, as a
// Target's allocation lists it: plain names, params.NAME and window calls
// such as min(peg, "24h")) for market i of st, as "name=value" in the
// order given: what `plan --explain` prints beside a market's reason.
// score and weight are left out (the reason gives them); a market without
// an observation has none.
func (s *Strategy) Inputs(st *strategies.State, i int, names []string) []string {
	if st == nil || i < 0 || i >= len(st.Markets) || i >= len(s.consts) {
		return nil
	}
	ms := &st.Markets[i]
	if ms.Row < 0 {
		return nil
	}
	c := s.consts[i]
	if ms.Profile != s.profiles[i] {
		c = constsOf(ms.Profile)
	}
	var env marketEnv
	env.fill(ms, s.tags[i], &c, st.Time.Unix(), true)
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n == "score" || n == "weight" {
			continue
		}
		var v any
		ok := false
		if p, isParam := strings.CutPrefix(n, "params."); isParam {
			v, ok = s.param(p)
		} else if w := s.windowOf(n); w != nil {
			v, _ = w.compute(ms, &c, st.Time.Unix(), w.current(&env), nil)
			ok = true
		} else {
			v, ok = env.value(n)
		}
		if ok {
			s := n + "=" + fmtAny(v)
			if f, isField := adapters.ParseField(n); isField && !ms.Obs.Set.Has(f) {
				s += "(no data)"
			}
			out = append(out, s)
		}
	}
	return out
}

// Missing returns the observed fields among names (a market's read list)
// that market i's observation does not carry: the rules read them as 0.
// A tvl filter on a market without TVL data would pass or fail it
// silently; plan says so.
func (s *Strategy) Missing(st *strategies.State, i int, names []string) []string {
	if st == nil || i < 0 || i >= len(st.Markets) || st.Markets[i].Row < 0 {
		return nil
	}
	var out []string
	for _, n := range names {
		if f, ok := adapters.ParseField(n); ok && !st.Markets[i].Obs.Set.Has(f) {
			out = append(out, n)
		}
	}
	return out
}

// windowOf returns the file's window call with this text, or nil.
func (s *Strategy) windowOf(text string) *window {
	for i := range s.comp.windows {
		if s.comp.windows[i].Text == text {
			return &s.comp.windows[i]
		}
	}
	return nil
}
