package vault

import (
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Harvested is one market's harvest.
type Harvested struct {
	Market  string          `json:"market"`
	Rewards decimal.Decimal `json:"rewards"` // pending rewards claimed (base units after haircut)
	Fill    adapters.Fill   `json:"fill"`    // Amount reached idle after gas and swap cost
	// Compounded is the part deposited back into the market.
	Compounded decimal.Decimal `json:"compounded"`
	Err        string          `json:"err,omitempty"`
}

// HarvestResult is what a harvest did.
type HarvestResult struct {
	Time     time.Time       `json:"time"`
	Tick     time.Time       `json:"tick,omitzero"`
	Markets  []Harvested     `json:"markets"`
	Proceeds decimal.Decimal `json:"proceeds"` // total reaching idle
	Costs    decimal.Decimal `json:"costs"`    // gas and swap costs of the harvests
	Locked   decimal.Decimal `json:"locked"`   // profit added to the locked profit
	Skipped  []Rejection     `json:"skipped,omitempty"`
}

// HarvestCost estimates what harvesting every market with pending rewards
// would cost now: each market's gas_harvest at the gas price plus its
// harvest_swap_cost share of the rewards.
func (v *Vault) HarvestCost() decimal.Decimal {
	var sum num
	for _, s := range v.markets {
		if s.pos.Rewards.Sign() > 0 && s.ad.CanHarvest() {
			sum = sum.Add(v.harvestCostN(s))
		}
	}
	return sum.Dec()
}

// harvestTerms are a market's harvest cost parameters, read from its
// profile when the vault is made (profiles do not change under a vault).
type harvestTerms struct {
	gas  float64 // gas_harvest
	swap float64 // harvest_swap_cost
	// fast says frac(swap) is FastDecimal(swap) in value: the swap's
	// share of the rewards, Quantize(rewards x frac(swap)), is then
	// rewards.MulQ(swap), on nums.
	fast bool
}

// harvestTermsOf reads profile p's harvest cost parameters (none: zero).
func harvestTermsOf(p *adapters.Profile) harvestTerms {
	var t harvestTerms
	if p != nil {
		t.gas, t.swap = p.ParamOr("gas_harvest", 0), p.ParamOr("harvest_swap_cost", 0)
	}
	t.fast = !math.IsNaN(t.swap) && !math.IsInf(t.swap, 0) && frac(t.swap).Equal(fixed.FastDecimal(t.swap))
	return t
}

// harvestCostN is the estimated cost of harvesting s's pending rewards,
// which are positive in a market that harvests: its gas_harvest at the
// gas price plus Quantize(rewards x frac(harvest_swap_cost)), on nums
// when the terms allow (harvestTerms.fast), else on decimals. Most
// markets of most harvests are only compared with their rewards.
func (v *Vault) harvestCostN(s *slot) num {
	t := &s.harvest
	if !t.fast {
		return nm(s.env().GasCost(t.gas).Dec().Add(adapters.Quantize(s.pos.Rewards.Dec().Mul(frac(t.swap)))))
	}
	return s.env().GasCost(t.gas).Add(s.pos.Rewards.MulQ(t.swap))
}

// harvestReason is a harvest entry's reason, fmt.Sprintf("harvest rewards
// %s", rewards.Dec()) without fmt.
func harvestReason(rewards num) string {
	var buf [96]byte
	return string(rewards.AppendString(append(buf[:0], "harvest rewards "...)))
}

// Harvest claims every position's pending rewards that cover their
// estimated cost and swaps them to the base asset (Adapter.Harvest). The
// proceeds are profit the share price did not count (pending rewards are
// not in TotalAssets): they join the locked profit and unlock linearly
// over ProfitUnlock, so a deposit just before a harvest cannot capture
// them. With CompoundHarvest each market's proceeds are deposited back
// into it (when at least MinTrade and the market is not paused); otherwise
// they stay idle for the next rebalance. Whether to harvest at all is the
// strategy's call (Scheduled.ShouldHarvest with Vars); the keeper asks it.
func (v *Vault) Harvest(now, tick time.Time) (HarvestResult, error) {
	const op = "vault.Harvest"
	if err := v.advance(op, now); err != nil {
		return HarvestResult{}, err
	}
	res := HarvestResult{Time: now, Tick: tick, Proceeds: zero, Costs: zero, Locked: zero}
	// The sums on nums (decimal's own, made decimals at the end) and the
	// skips' texts in one string (texts).
	var proceeds, costs, gain num
	t := &v.work.txt
	t.reset()
	hs := v.work.harvested[:0] // the markets harvested, as res.Markets
	for _, s := range v.markets {
		if s.pos.Rewards.Sign() <= 0 || !s.ad.CanHarvest() {
			continue
		}
		if est := v.harvestCostN(s); est.Cmp(s.pos.Rewards) >= 0 {
			// fmt.Sprintf("rewards %s do not cover the harvest cost %s", ...)
			// without fmt (most markets of most harvests): a Num's text is
			// its decimal's String.
			r := append(t.open(), "rewards "...)
			r = s.pos.Rewards.AppendString(r)
			r = append(r, " do not cover the harvest cost "...)
			t.reject(s.id, est.AppendString(r))
			continue
		}
		rewards := s.pos.Rewards
		h := Harvested{Market: s.id, Rewards: rewards.Dec(), Compounded: zero}
		np, f, err := s.ad.Harvest(s.pos, s.env())
		if err != nil {
			t.reject(s.id, append(append(t.open(), "harvest failed: "...), err.Error()...))
			continue
		}
		s.set(np)
		h.Fill = f
		v.idle = v.idle.Add(f.Amount)
		e := v.fillEntry(Entry{Time: now, Type: EntryHarvest, Market: s.id, Reason: harvestReason(rewards), Tick: tick}, f.Amount, &f, f.Slippage)
		proceeds = proceeds.Add(f.Amount) // e.Amount
		costs = costs.Add(f.Cost())
		gain = gain.Add(f.Amount)
		v.ledger.add(e)
		if v.cfg.CompoundHarvest && f.Amount.Cmp(nm(v.cfg.Rebalance.MinTrade)) >= 0 && f.Amount.Sign() > 0 && !s.pos.Paused && !v.shutdown {
			amt := f.Amount.Min(v.idle)
			cp, cf, err := s.ad.Deposit(s.pos, s.env(), amt)
			if err != nil {
				h.Err = "compound failed: " + err.Error()
			} else {
				s.set(cp)
				v.idle = v.idle.Sub(cf.Amount)
				h.Compounded = cf.Amount.Dec()
				costs = costs.Add(cf.Cost())
				v.ledger.add(v.fillEntry(Entry{Time: now, Type: EntryBuy, Market: s.id, Reason: "compound harvest", Tick: tick}, cf.Amount, &cf, cf.Slippage))
				// The compounding deposit's own cost is not profit.
				gain = gain.Sub(cf.Cost())
			}
		}
		hs = append(hs, h)
	}
	if len(hs) > 0 {
		res.Markets = slices.Clone(hs) // made once, at its length
		clear(hs)
	}
	v.work.harvested = hs[:0]
	res.Skipped, _ = t.finish(res.Skipped, nil)
	if proceeds != (num{}) {
		res.Proceeds = proceeds.Dec()
	}
	if costs != (num{}) {
		res.Costs = costs.Dec()
	}
	if gain.Sign() > 0 {
		g := gain.Dec()
		res.Locked = g
		if v.cfg.ProfitUnlock > 0 {
			v.lockProfit(now, g)
		} else {
			res.Locked = zero
		}
	} else if gain.Sign() < 0 {
		v.recognizeLoss(now, gain.Neg().Dec())
	}
	return res, nil
}
