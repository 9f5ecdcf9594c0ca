package mech

import (
	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

// UnitParams are the profile parameters that the drivers whose positions
// are units of a shared pool (lending supply, AMM LP shares) read alike:
// what they keep of reward APYs, what a harvest costs, and the gas of
// their transactions.
type UnitParams struct {
	RewardHaircut float64 // reward_haircut: the share of the reward APY not kept
	SwapCost      float64 // harvest_swap_cost: the share of harvested rewards lost swapping them to base
	GasDeposit    float64 // gas_deposit: gas units of a deposit
	GasWithdraw   float64 // gas_withdraw: gas units of a withdrawal
	GasHarvest    float64 // gas_harvest: gas units of a harvest
}

// ReadUnitParams checks that market m and its profile p are both of kind
// k and reads the parameters every unit driver shares (absent ones are
// 0). op names the constructor in errors and noun is the kind as the
// error says it ("an AMM", "a lending"). A nil profile or a kind mismatch
// fails with KindInvalid. The ranges are checked by UnitParams.Check.
func ReadUnitParams(op string, m adapters.Market, p *adapters.Profile, k adapters.Kind, noun string) (UnitParams, error) {
	if p == nil {
		return UnitParams{}, adapters.E(op, adapters.KindInvalid, "market %s: no profile", m.ID)
	}
	if m.Kind != k || p.Kind != k {
		return UnitParams{}, adapters.E(op, adapters.KindInvalid, "market %s (%s) with profile %s (%s) is not %s market", m.ID, m.Kind, p.Name, p.Kind, noun)
	}
	return UnitParams{
		RewardHaircut: p.ParamOr("reward_haircut", 0),
		SwapCost:      p.ParamOr("harvest_swap_cost", 0),
		GasDeposit:    p.ParamOr("gas_deposit", 0),
		GasWithdraw:   p.ParamOr("gas_withdraw", 0),
		GasHarvest:    p.ParamOr("gas_harvest", 0),
	}, nil
}

// Check fails with KindInvalid, naming market id, when reward_haircut is
// above 1 or harvest_swap_cost is 1 or more (a harvest would then keep
// nothing). Constructors call it after the checks of their own kind's
// parameters.
func (u *UnitParams) Check(op, id string) error {
	if u.RewardHaircut > 1 {
		return adapters.E(op, adapters.KindInvalid, "market %s: reward_haircut %g must be within [0, 1]", id, u.RewardHaircut)
	}
	if u.SwapCost >= 1 {
		return adapters.E(op, adapters.KindInvalid, "market %s: harvest_swap_cost %g must be within [0, 1)", id, u.SwapCost)
	}
	return nil
}

// Harvest pays out pos.Rewards (already accrued) swapped to base at
// SwapCost (reported as Fill.Fee) less GasHarvest's gas at env. With
// nothing accrued it fails with KindNotReady; when the costs would eat the
// whole harvest it fails with KindInvalid and leaves the rewards in place.
// op and id name the operation and the market in errors.
func (u *UnitParams) Harvest(op, id string, pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	if pos.Rewards.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindNotReady, "%s: no rewards to harvest", id)
	}
	rewards := pos.Rewards
	fee := pos.Rewards.MulRate(u.SwapCost)
	gas := env.GasCost(u.GasHarvest)
	net := rewards.Sub(fee).Sub(gas)
	if net.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid,
			"%s: harvesting %s of rewards costs %s in swap fees and gas", id, rewards, fee.Add(gas))
	}
	value := rewards
	pos.Rewards = fixed.Num{}
	return pos, adapters.Fill{Amount: net, Value: value, Gas: gas, Fee: fee}, nil
}
