package adapters

import (
	"math"
	"sort"
	"time"
)

// Fields a loop market takes from each leg (ComposeLoop); apy is
// composed.
var (
	loopCollateralFields = []Field{FieldIndex, FieldAPY, FieldRewardAPY, FieldExchangeRate, FieldBaseUSD}
	loopDebtFields       = []Field{FieldBorrowAPY, FieldBorrowIndex, FieldUtilization, FieldSupply, FieldBorrows, FieldGasPrice}
)

// ComposeLoop builds the history of loop market m from its legs' series
// (token may be nil): one row at each time either of collateral or debt
// has a row, from the first time both have one, where each leg
// contributes its latest row at or before that time:
//
//   - from the collateral reserve: liquidity_index, apy (its supply APY,
//     compounded with the token's own yield: the token market's apy,
//     else the loop rate's trailing growth over up to 7 days),
//     reward_apy, exchange_rate (the oracle's rate, where the reserve's
//     history carries it) and base_usd;
//   - from the debt reserve: borrow_apy, borrow_index, utilization,
//     supply and borrows (the debt market's, which the loop's own
//     borrowing moves) and gas_price;
//   - from the token's market: exchange_rate where the collateral reserve
//     has none; price, its market price scaled to the loop's rate (the
//     token's peg, price over its own exchange rate, times the loop's
//     exchange rate); exit_liquidity and withdrawal_days.
//
// A collateral leg that is not a lending market (Morpho Blue holds the
// token itself, paying no interest on it) contributes as the token's market.
//
// Events of the collateral reserve and of the token's market (a slash, a
// depeg, a pause) are the loop's too, and so are pauses of the debt
// reserve; an event both carry at the same time is taken once.
func ComposeLoop(m Market, coll, debt, token *Series) *Series {
	out := &Series{Market: m}
	if coll == nil || debt == nil {
		return out
	}
	collFields := loopCollateralFields
	if coll.Market.Kind != Lending {
		// Collateral held as the token itself (Morpho Blue pays no
		// interest on collateral): its market is the token's.
		collFields = []Field{FieldBaseUSD}
		if token == nil {
			token = coll
		}
	}
	times := make([]int64, 0, coll.Len()+debt.Len())
	i, j := 0, 0
	for i < coll.Len() || j < debt.Len() {
		switch {
		case j >= debt.Len() || i < coll.Len() && coll.Times[i] < debt.Times[j]:
			times = append(times, coll.Times[i])
			i++
		case i >= coll.Len() || debt.Times[j] < coll.Times[i]:
			times = append(times, debt.Times[j])
			j++
		default:
			times = append(times, coll.Times[i])
			i, j = i+1, j+1
		}
	}
	// Rows start once both legs have one: a loop is not priced on half
	// its state.
	if coll.Len() > 0 && debt.Len() > 0 {
		start := max(coll.Times[0], debt.Times[0])
		k := 0
		for k < len(times) && times[k] < start {
			k++
		}
		times = times[k:]
	}
	n := len(times)
	out.Times = times
	out.Set = make([]FieldSet, n)
	col := func(f Field) []float64 {
		if out.Cols[f] == nil {
			out.Cols[f] = make([]float64, n)
		}
		return out.Cols[f]
	}
	take := func(k int, s *Series, r int, fs []Field) {
		for _, f := range fs {
			if s.Cols[f] != nil && s.Set[r].Has(f) {
				col(f)[k] = s.Cols[f][r]
				out.Set[k] = out.Set[k].With(f)
			}
		}
	}
	stake, haveStake := make([]float64, n), make([]bool, n)
	ci, di, ti := 0, 0, 0
	for k, t := range times {
		for ci+1 < coll.Len() && coll.Times[ci+1] <= t {
			ci++
		}
		for di+1 < debt.Len() && debt.Times[di+1] <= t {
			di++
		}
		if coll.Len() > 0 && coll.Times[ci] <= t {
			take(k, coll, ci, collFields)
		}
		if debt.Len() > 0 && debt.Times[di] <= t {
			take(k, debt, di, loopDebtFields)
		}
		if token == nil || token.Len() == 0 || token.Times[0] > t {
			continue
		}
		for ti+1 < token.Len() && token.Times[ti+1] <= t {
			ti++
		}
		tr := token.Set[ti]
		rate, haveRate := 0.0, out.Set[k].Has(FieldExchangeRate)
		if haveRate {
			rate = out.Cols[FieldExchangeRate][k]
		} else if tr.Has(FieldExchangeRate) {
			rate, haveRate = token.Cols[FieldExchangeRate][ti], true
			col(FieldExchangeRate)[k] = rate
			out.Set[k] = out.Set[k].With(FieldExchangeRate)
			if token.Derived.Has(FieldExchangeRate) {
				out.Derived = out.Derived.With(FieldExchangeRate)
			}
		}
		if haveRate && tr.Has(FieldPrice) && tr.Has(FieldExchangeRate) && !token.Derived.Has(FieldExchangeRate) {
			if r0 := token.Cols[FieldExchangeRate][ti]; r0 > 0 {
				if p := token.Cols[FieldPrice][ti] / r0 * rate; p > 0 && !math.IsInf(p, 0) {
					col(FieldPrice)[k] = p
					out.Set[k] = out.Set[k].With(FieldPrice)
				}
			}
		}
		take(k, token, ti, []Field{FieldExitLiquidity, FieldWithdrawalDays})
		if tr.Has(FieldAPY) {
			stake[k], haveStake[k] = token.Cols[FieldAPY][ti], true
		}
	}
	// apy is the collateral's whole yield: the reserve's supply APY
	// compounded with the token's own (staking) yield, the token market's
	// apy, else the loop rate's trailing growth over up to 7 days.
	for k := range times {
		if !haveStake[k] && out.Set[k].Has(FieldExchangeRate) {
			stake[k], haveStake[k] = trailingGrowth(out, k)
			if haveStake[k] {
				out.Derived = out.Derived.With(FieldAPY)
			}
		}
	}
	for k := range times {
		if !haveStake[k] {
			continue
		}
		supply := 0.0
		if out.Set[k].Has(FieldAPY) {
			supply = out.Cols[FieldAPY][k]
		}
		col(FieldAPY)[k] = (1+supply)*(1+stake[k]) - 1
		out.Set[k] = out.Set[k].With(FieldAPY)
	}
	type key struct {
		t     time.Time
		typ   EventType
		scope string
	}
	seen := map[key]bool{}
	add := func(s *Series, onlyPause bool) {
		if s == nil {
			return
		}
		for _, e := range s.Events {
			if onlyPause && e.Type != EventPause && e.Type != EventUnpause {
				continue
			}
			k := key{e.Time, e.Type, e.Scope}
			if seen[k] {
				continue
			}
			seen[k] = true
			e.Market = m.ID
			out.Events = append(out.Events, e)
		}
	}
	add(coll, false)
	add(token, false)
	add(debt, true)
	sort.SliceStable(out.Events, func(a, b int) bool { return out.Events[a].Time.Before(out.Events[b].Time) })
	return out
}

// trailingGrowth is the annualised growth of s's exchange rate from the
// earliest row within 7 days before row k to row k, when they are at
// least a day apart.
func trailingGrowth(s *Series, k int) (float64, bool) {
	const week, day = 7 * 24 * 3600, 24 * 3600
	t := s.Times[k]
	j := k
	for j > 0 && t-s.Times[j-1] <= week {
		j--
	}
	for j < k && !s.Set[j].Has(FieldExchangeRate) {
		j++
	}
	dt := t - s.Times[j]
	if dt < day {
		return 0, false
	}
	r0, r1 := s.Cols[FieldExchangeRate][j], s.Cols[FieldExchangeRate][k]
	if !(r0 > 0 && r1 > 0) {
		return 0, false
	}
	g := math.Pow(r1/r0, 365*day/float64(dt)) - 1
	if math.IsNaN(g) || math.IsInf(g, 0) {
		return 0, false
	}
	return g, true
}
