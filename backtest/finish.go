package backtest

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// finish computes the metrics, statistics, attribution and benchmarks
// from the records, and checks the attribution identity.
func (e *engine) finish() error {
	res := e.res
	v := e.v
	// The room setup made for the decisions and harvests, where none was
	// recorded: the records are nil then, as appends leave them.
	if len(res.Decisions) == 0 {
		res.Decisions = nil
	}
	if len(res.Harvests) == 0 {
		res.Harvests = nil
	}
	e.finishMonitors()
	res.MarketCurves = marketCurves(e.markets, e.spec.From.Unix(), e.spec.To.Unix())
	steps := res.Steps
	n := len(steps)
	nm := len(e.markets)
	ts := e.times[:n]
	eq := e.curve.equity // toFloat of each step's Equity
	// The curve starts from the equity before the initial allocation, so
	// that its entry costs count in every return metric.
	eq[0] = toFloat(e.startEquity)
	m := &res.Metrics
	m.Headline = ComputeHeadline(ts, eq, e.spec.RiskFree)
	m.StartNAV, m.EndNAV = steps[0].NAV.Decimal(), steps[n-1].NAV.Decimal()
	m.StartEquity, m.EndEquity = e.startEquity, steps[n-1].Equity.Decimal()
	m.PnL = m.EndEquity.Sub(m.StartEquity)

	// Ledger: costs, trades and per-market flows.
	res.Ledger = v.Ledger().Entries()
	stats := make([]MarketStats, nm)
	flows := make([]marketFlows, nm)
	idx := make(map[string]int, nm)
	for i, mk := range e.markets {
		idx[mk.id] = i
	}
	var sums struct{ traded, gas, slippage, fees, rounding, liquidation, idle fixed.Num } // idle: changes other than through the markets
	for k := range res.Ledger {
		en := &res.Ledger[k]
		gas, slip, fee := fixed.FromDec(en.Gas), fixed.FromDec(en.Slippage), fixed.FromDec(en.Fee)
		sums.gas, sums.slippage, sums.fees = sums.gas.Add(gas), sums.slippage.Add(slip), sums.fees.Add(fee)
		var st *marketFlows
		if i, ok := idx[en.Market]; ok && en.Market != "" {
			st = &flows[i]
			st.gas, st.slippage, st.fees = st.gas.Add(gas), st.slippage.Add(slip), st.fees.Add(fee)
		}
		switch en.Type {
		case vault.EntryBuy:
			sums.traded = sums.traded.Add(fixed.FromDec(en.Amount))
			m.Orders++
			if st != nil {
				st.bought = st.bought.Add(fixed.FromDec(en.Amount))
			}
		case vault.EntrySell, vault.EntryQueue:
			sums.traded = sums.traded.Add(fixed.FromDec(en.Amount))
			m.Orders++
			if st != nil && en.Type == vault.EntrySell {
				st.sold = st.sold.Add(fixed.FromDec(en.Amount))
			}
		case vault.EntryClaim:
			if st != nil {
				st.sold = st.sold.Add(fixed.FromDec(en.Amount))
			}
		case vault.EntryHarvest:
			if st != nil {
				st.harvested = st.harvested.Add(fixed.FromDec(en.Amount))
			}
		case vault.EntryEvent:
			if st != nil {
				st.eventLoss = st.eventLoss.Add(fixed.FromDec(en.Amount))
			}
		case vault.EntryRelever:
			m.Relevers++
			m.Orders++
		case vault.EntryLiquidation:
			m.Liquidations++
			sums.liquidation = sums.liquidation.Add(fixed.FromDec(en.Amount))
		case vault.EntryCost:
			sums.rounding = sums.rounding.Add(fixed.FromDec(en.Amount))
		case vault.EntryDeposit, vault.EntryWithdraw, vault.EntryDonation:
			sums.idle = sums.idle.Add(fixed.FromDec(en.IdleDelta()))
		}
		if st == nil && (en.Type == vault.EntryBuy || en.Type == vault.EntrySell || en.Type == vault.EntryClaim || en.Type == vault.EntryHarvest) {
			return adapters.E(e.op, adapters.KindOther, "ledger entry %d (%s) names market %q outside the universe", en.Seq, en.Type, en.Market)
		}
	}
	m.Traded, m.Gas, m.Slippage, m.ProtocolFees = sums.traded.Dec(), sums.gas.Dec(), sums.slippage.Dec(), sums.fees.Dec()
	m.Rounding, m.LiquidationLoss = sums.rounding.Dec(), sums.liquidation.Dec()
	idleFlows := sums.idle.Dec()
	for i, mk := range e.markets {
		f := &flows[i]
		stats[i] = MarketStats{Market: mk.id, EndValue: decimal.Zero, PnL: decimal.Zero, Bought: f.bought.Dec(), Sold: f.sold.Dec(),
			Harvested: f.harvested.Dec(), Gas: f.gas.Dec(), Slippage: f.slippage.Dec(), Fees: f.fees.Dec(), EventLoss: f.eventLoss.Dec()}
	}
	for _, d := range res.Decisions {
		m.Decisions++
		if d.Trigger == vault.TriggerExit {
			m.Exits++
		}
	}
	for _, h := range res.Harvests {
		if len(h.Markets) > 0 {
			m.Harvests++
		}
	}

	// Allocation statistics over the steps. A market valued 0 at a step
	// (most markets at most steps) adds nothing to them: its weight 0/nav
	// is 0, which leaves each sum and maximum as it is.
	var hhi, avgEq float64
	for k := range steps {
		nav := e.curve.nav[k] // toFloat(steps[k].NAV)
		avgEq += eq[k]
		var h float64
		for i, x := range steps[k].Values {
			if x == 0 {
				continue
			}
			if x > 0 {
				stats[i].TimeInMarket++
			}
			if nav > 0 {
				w := x / nav
				stats[i].AvgWeight += w
				stats[i].MaxWeight = max(stats[i].MaxWeight, w)
				h += w * w
			}
		}
		hhi += h
	}
	fn := float64(n)
	m.HHI = finite(hhi / fn)
	avgEq /= fn
	if avgEq > 0 {
		m.Turnover = finite(toFloat(m.Traded) / avgEq)
	}
	if m.Years > 0 {
		m.TurnoverAnnual = finite(m.Turnover / m.Years)
	}

	// Attribution: market PnL = end value + returned to idle - spent.
	ends := v.MarketValues(nil)
	sum := decimal.Zero
	res.Attribution.Markets = make([]MarketPnL, nm)
	for i := range stats {
		st := &stats[i]
		st.TimeInMarket = finite(st.TimeInMarket / fn)
		st.AvgWeight = finite(st.AvgWeight / fn)
		st.EndValue = ends[i]
		st.PnL = ends[i].Add(st.Sold).Add(st.Harvested).Sub(st.Bought)
		sum = sum.Add(st.PnL)
		res.Attribution.Markets[i] = MarketPnL{Market: st.Market, PnL: st.PnL}
	}
	res.Markets = stats
	// Idle: what idle holds beyond the capital, the flows from the
	// markets and the user flows after the start.
	fromMarkets := decimal.Zero
	for i := range stats {
		fromMarkets = fromMarkets.Add(stats[i].Sold).Add(stats[i].Harvested).Sub(stats[i].Bought)
	}
	a := &res.Attribution
	a.Idle = v.Idle().Sub(idleFlows).Sub(fromMarkets)
	endNAV := v.GrossAssets()
	startNAV := idleFlows // the capital deposited (no positions before the start)
	a.NAVChange = endNAV.Sub(startNAV)
	if got := sum.Add(a.Idle); !got.Equal(a.NAVChange) {
		return adapters.E(e.op, adapters.KindOther, "attribution does not add up: markets %s + idle %s = %s, NAV change %s", sum, a.Idle, got, a.NAVChange)
	}
	a.VaultFees = decimal.Zero
	if v.BalanceOf(v.Config().FeeRecipient).Sign() > 0 && v.Config().FeeRecipient != Investor {
		a.VaultFees = v.ConvertToAssets(v.BalanceOf(v.Config().FeeRecipient))
	}
	m.VaultFees = a.VaultFees
	a.Locked = v.LockedProfit()
	a.Total = m.PnL
	a.Dust = a.NAVChange.Sub(a.VaultFees).Sub(a.Locked).Sub(a.Total)
	if limit := decimal.New(1, -9).Mul(decimal.Max(startNAV, decimal.NewFromInt(1))); a.Dust.Abs().Cmp(limit) > 0 {
		return adapters.E(e.op, adapters.KindOther, "attribution dust %s is larger than rounding can explain (%s)", a.Dust, limit)
	}

	bm, err := e.benchmarks()
	if err != nil {
		return err
	}
	res.Benchmarks = bm
	res.DataIssues = e.issues
	if res.DataIssues == nil {
		res.DataIssues = []DataIssue{}
	}
	if res.Events == nil {
		res.Events = []EventRecord{}
	}
	for _, is := range res.DataIssues {
		if is.Kind == IssueGap {
			res.Data.Gaps++
		}
	}
	if len(res.Steps) != len(e.times) {
		return adapters.E(e.op, adapters.KindOther, "recorded %d steps of %d", len(res.Steps), len(e.times))
	}
	return nil
}

// marketFlows are a market's ledger sums (MarketStats) while the ledger
// is summed: fixed.Num, whose Add is decimal's (the same coefficient and
// exponent) without the allocation decimal's Add makes for each entry;
// the decimals are built once at the end.
type marketFlows struct{ bought, sold, harvested, gas, slippage, fees, eventLoss fixed.Num }
