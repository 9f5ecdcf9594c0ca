package strategies

import (
	"math"

	"github.com/yieldvault/yieldvault/adapters"
)

// MarketList returns the markets of the state, in order.
func (s *State) MarketList() []adapters.Market {
	out := make([]adapters.Market, len(s.Markets))
	for i := range s.Markets {
		out[i] = s.Markets[i].Market
	}
	return out
}

// IDs returns the market IDs of the state, in order.
func (s *State) IDs() []string {
	out := make([]string, len(s.Markets))
	for i := range s.Markets {
		out[i] = s.Markets[i].Market.ID
	}
	return out
}

// Observed reports whether the market has an observation at or before the
// state's time.
func (ms *MarketState) Observed() bool { return ms.Row >= 0 }

// NetAPY is a market's net APY as a fraction: the observed base APY plus
// the reward APY after the profile's reward_haircut,
//
//	apy + reward_apy x (1 - reward_haircut)
//
// The reward APY is the observation's reward_apy, else the profile's
// restaking_apy (the default AVS reward of an LRT), else 0. A market with
// no observation has a net APY of 0. The result is finite for any valid
// observation; a non-finite input gives NaN, which callers must treat as
// invalid data.
func NetAPY(ms *MarketState) float64 {
	if ms == nil || ms.Row < 0 {
		return 0
	}
	apy := ms.Obs.Value(adapters.FieldAPY, 0)
	reward, ok := ms.Obs.Get(adapters.FieldRewardAPY)
	haircut := 0.0
	if ms.Profile != nil {
		if !ok {
			reward = ms.Profile.ParamOr("restaking_apy", 0)
		}
		haircut = ms.Profile.ParamOr("reward_haircut", 0)
	}
	haircut = math.Min(math.Max(haircut, 0), 1)
	v := apy + reward*(1-haircut)
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// WithdrawalDays is the time to exit the market through its protocol's
// queue: the observation's withdrawal_days, else the profile's
// withdrawal_days plus escrow_days, else 0.
func WithdrawalDays(ms *MarketState) float64 {
	if ms.Row >= 0 {
		if v, ok := ms.Obs.Get(adapters.FieldWithdrawalDays); ok {
			return v
		}
	}
	if ms.Profile == nil {
		return 0
	}
	return ms.Profile.ParamOr("withdrawal_days", 0) + ms.Profile.ParamOr("escrow_days", 0)
}
