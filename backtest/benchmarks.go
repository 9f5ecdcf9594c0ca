package backtest

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// Benchmark kinds.
const (
	BenchHold        = "hold"
	BenchEqualWeight = "equal_weight"
	BenchBestSingle  = "best_single"
)

// openBenchmarks opens the passive positions at the start: for every
// market observed at from, a deposit of the whole capital through its
// adapter (entry costs paid at the run's gas price), and the value after
// entry of a deposit of capital / N, N being the markets so opened (the
// equal-weight split).
//
// The benchmarks' curves are computed from these hold positions alone,
// one Accrue and Value per market and step, never a vault run: a hold
// position's value is proportional to its units (accrual, rewards and
// events scale with them), so the equal-weight curve is
//
//	EW(t) = sum_j hold_j(t) x ew0_j / hold0_j
//
// where hold0_j and ew0_j are the values right after entry of the whole
// capital and of capital / N: each market's share carries its own entry
// cost at its own size. Values include accrued, unharvested rewards.
func (e *engine) openBenchmarks(from time.Time) {
	sp := &e.spec
	n := len(e.times)
	slab := make([]Point, n*len(e.markets))
	opened := 0
	for i, m := range e.markets {
		m.curve = slab[i*n : (i+1)*n : (i+1)*n]
		m.holdCost = decimal.Zero
		m.ewCost = decimal.Zero
		if m.row < 0 {
			m.holdNote = "no observation at the start: held as idle capital"
			continue
		}
		m.env = adapters.Env{Time: from, Obs: m.obs, GasPrice: e.v.GasPrice(), GasAssetPrice: e.gasAsst}
		pos, f, err := m.ad.Deposit(m.ad.NewPosition(), &m.env, sp.Capital)
		if err != nil {
			m.holdNote = "entry failed, held as idle capital: " + err.Error()
			continue
		}
		m.hold, m.holdOK, m.holdCost, m.envRow = pos, true, f.Cost(), m.row
		m.holdVal0 = e.holdValue(m)
		opened++
	}
	if opened == 0 {
		return
	}
	part := sp.Capital.DivRound(decimal.NewFromInt(int64(opened)), adapters.Scale)
	for _, m := range e.markets {
		if !m.holdOK || !(m.holdVal0 > 0) {
			continue
		}
		pos, f, err := m.ad.Deposit(m.ad.NewPosition(), &m.env, part)
		if err != nil {
			continue
		}
		v := m.ad.Value(&pos, &m.env, sp.Pricing).Add(pos.Rewards)
		m.ewVal0, m.ewOK, m.ewCost = toFloat(v), true, f.Cost()
	}
}

// holdValue is the hold position's value now: units at the run's pricing
// plus accrued rewards.
func (e *engine) holdValue(m *market) float64 {
	v := toFloat(m.ad.Value(&m.hold, &m.env, e.spec.Pricing))
	if m.hold.Rewards.Sign() != 0 {
		v += toFloat(m.hold.Rewards)
	}
	return v
}

// stepBenchmarks accrues the hold positions to now and records their
// values at step k.
func (e *engine) stepBenchmarks(k int, now time.Time) {
	capital := toFloat(e.spec.Capital)
	for _, m := range e.markets {
		if !m.holdOK {
			m.curve[k] = Point{Time: now, Value: capital}
			continue
		}
		m.env.Time = now
		if m.envRow != m.row {
			m.env.Obs, m.envRow = m.obs, m.row
		}
		m.ad.Accrue(&m.hold, &m.env)
		m.curve[k] = Point{Time: now, Value: e.holdValue(m)}
	}
}

// benchmarks builds the benchmark results from the hold curves.
func (e *engine) benchmarks(ts []int64) []Benchmark {
	rf := e.spec.RiskFree
	n := len(ts)
	vals := make([]float64, n)
	out := make([]Benchmark, 0, len(e.markets)+2)
	capital := toFloat(e.spec.Capital)
	best := -1
	for i, m := range e.markets {
		for k := range vals {
			vals[k] = m.curve[k].Value
		}
		vals[0] = capital // before entry: entry costs count
		b := Benchmark{Name: BenchHold + " " + m.id, Kind: BenchHold, Markets: []string{m.id}, EntryCost: m.holdCost,
			Metrics: ComputeHeadline(ts, vals, rf), Note: m.holdNote, Curve: m.curve}
		out = append(out, b)
		if m.holdOK && (best < 0 || b.Metrics.EndValue > out[best].Metrics.EndValue) {
			best = i
		}
	}
	// Equal weight.
	ew := make([]Point, n)
	var held []string
	cost := decimal.Zero
	for _, m := range e.markets {
		if m.ewOK {
			held = append(held, m.id)
			cost = cost.Add(m.ewCost)
		}
	}
	for k := range ew {
		var s float64
		for _, m := range e.markets {
			if m.ewOK {
				s += m.curve[k].Value * (m.ewVal0 / m.holdVal0)
			}
		}
		if len(held) == 0 {
			s = capital
		}
		ew[k] = Point{Time: unixUTC(ts[k]), Value: s}
		vals[k] = s
	}
	vals[0] = capital
	ewb := Benchmark{Name: BenchEqualWeight, Kind: BenchEqualWeight, Markets: held, EntryCost: cost,
		Metrics: ComputeHeadline(ts, vals, rf), Curve: ew}
	if len(held) < len(e.markets) {
		ewb.Note = fmt.Sprintf("%d of %d markets could be bought at the start", len(held), len(e.markets))
	}
	out = append(out, ewb)
	if best >= 0 {
		b := out[best]
		b.Name, b.Kind = BenchBestSingle, BenchBestSingle
		b.Note = "the market whose hold ended highest: " + e.markets[best].id
		out = append(out, b)
	} else {
		out = append(out, Benchmark{Name: BenchBestSingle, Kind: BenchBestSingle, EntryCost: decimal.Zero,
			Metrics: out[len(out)-1].Metrics, Curve: ew, Note: "no market could be held"})
	}
	return out
}
