// Package lrt is the adapter of liquid restaking tokens (weETH, ezETH,
// pufETH, rsETH) and of direct restaking positions (EigenLayer, Symbiotic,
// Karak).
//
// An LRT is an LST with more: it shares the LST mechanics (exchange-rate
// index, withdrawal queue, venue exits with depth-dependent slippage and
// depeg, slashing of units and queued claims; see package lst) through the
// internal mechanics package (adapters/internal/mech), and adds:
//
//   - restaking rewards: the observation's reward_apy, else the profile's
//     restaking_apy, accrue into Position.Rewards in base units after the
//     profile's reward_haircut, linearly over each step on the position's
//     value at the start of the step (reward tokens are not compounded
//     into the index); Harvest claims and swaps them at harvest_swap_cost
//     (reported as Fill.Fee) plus gas_harvest;
//   - longer queues: the delay is withdrawal_days plus escrow_days;
//   - an instant-exit fee (instant_exit_fee, Puffer's 1%) on top of the
//     venue's slippage;
//   - scoped slashing: an Event with a Scope ("avs:eigenda",
//     "operator:renzo-set", "layer:eigenlayer") hits the position only if
//     the market carries that tag; an empty Scope always hits;
//   - insurance: insurance_cap is the share of a slash the protocol
//     covers (Puffer-style anti-slashing bonds), so a slash of size s cuts
//     units by s x (1 - insurance_cap);
//   - exposure tags (Driver.Exposures): the restaking layer, AVS and
//     operator tags of the market, which caps in strategies refer to.
package lrt

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/mech"
	"github.com/yieldvault/yieldvault/fixed"
)

func init() {
	adapters.Register(adapters.LRT, Factory)
}

// Driver is the LRT driver of one market. It implements adapters.Driver,
// adapters.Claimer and adapters.Harvester.
type Driver struct {
	core      *mech.Staking
	exposures []string
}

var (
	_ adapters.Driver    = (*Driver)(nil)
	_ adapters.Claimer   = (*Driver)(nil)
	_ adapters.Harvester = (*Driver)(nil)
)

// Factory is the adapters.Factory registered for kind lrt.
func Factory(m adapters.Market, p *adapters.Profile) (adapters.Driver, error) {
	return New(m, p)
}

// New builds the driver of an LRT market from its profile (with the
// market's parameter overrides applied, as Catalog.ProfileFor returns it).
func New(m adapters.Market, p *adapters.Profile) (*Driver, error) {
	if m.Kind != adapters.LRT {
		return nil, adapters.E("lrt.New", adapters.KindInvalid, "market %s is of kind %s, not lrt", m.ID, m.Kind)
	}
	core, err := mech.NewStaking("lrt", m, p, true)
	if err != nil {
		return nil, err
	}
	d := &Driver{core: core}
	for _, t := range m.AllTags() {
		if k, _, _ := strings.Cut(t, ":"); k == "layer" || k == "avs" || k == "operator" {
			d.exposures = append(d.exposures, t)
		}
	}
	return d, nil
}

// Exposures returns the market's restaking exposure tags (layer:, avs:
// and operator:), sorted. Slash events scoped to one of them hit the
// market. The caller must not modify the slice.
func (d *Driver) Exposures() []string { return d.exposures }

// Quote prices a deposit of amount; Quote.RewardAPY is the restaking
// reward after haircut.
func (d *Driver) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	return d.core.Quote(env, amount)
}

// QuotePart is part of Quote (adapters.PartQuoter).
func (d *Driver) QuotePart(env *adapters.Env, amount fixed.Num, sell bool, part adapters.QuotePart) (adapters.Quote, error) {
	return d.core.QuotePart(env, amount, sell, part)
}

// Deposit mints units at the exchange rate, paying gas_deposit.
func (d *Driver) Deposit(pos adapters.Position, env *adapters.Env, amount fixed.Num) (adapters.Position, adapters.Fill, error) {
	return d.core.Deposit(pos, env, amount)
}

// Withdraw exits instantly through the venue (paying instant_exit_fee) or
// through the queue and escrow.
func (d *Driver) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	return d.core.Withdraw(pos, env, w)
}

// Accrue moves the exchange rate to env.Time and accrues restaking
// rewards.
func (d *Driver) Accrue(pos *adapters.Position, env *adapters.Env) { d.core.Accrue(pos, env) }

// Value is Units x rate (PriceRate) or x market price (PriceMarket),
// excluding rewards and claims.
func (d *Driver) Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal {
	return d.core.Value(pos, env, pricing)
}

// ValueRate is the rate Value multiplies the units by (adapters.RateValuer).
func (d *Driver) ValueRate(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) (float64, bool) {
	return d.core.ValueRate(pos, env, pricing)
}

// Apply applies a (possibly scoped) slash, a depeg, a pause or an unpause.
func (d *Driver) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return d.core.Apply(pos, env, ev)
}

// Claim pays out queued withdrawals whose escrow has passed.
func (d *Driver) Claim(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	return d.core.Claim(pos, env)
}

// Harvest claims the accrued rewards and swaps them to base.
func (d *Driver) Harvest(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	return d.core.Harvest(pos, env)
}

// MarkBasis is the exchange rate or price column (adapters.Marker).
func (d *Driver) MarkBasis(s *adapters.Series, pricing adapters.Pricing) ([]float64, bool, bool) {
	return d.core.MarkBasis(s, pricing)
}
