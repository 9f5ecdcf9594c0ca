// Package lst is the adapter of liquid staking tokens: value-accruing
// tokens such as rETH, cbETH and wstETH, rebasing tokens such as stETH,
// and native staking such as Babylon BTC.
//
// Both kinds are modelled through an exchange rate: Position.Units are
// tokens (or shares of a rebasing token) and Position.Index is the value of
// one unit in the base asset. When an observation carries exchange_rate the
// index is set to it exactly; otherwise the observed APY (or the last known
// one, Position.APY) compounds the index from Position.Last to the Env's
// time: Index *= (1+apy)^(dt / 365 days).
//
// Observed APYs are net: what holders earn, after the protocol's fee on
// rewards (DefiLlama, the protocols' own APRs and the exchange rates are
// all net). A profile whose observations carry the gross staking yield
// sets the parameter gross_apy = 1; the adapter then takes fee_on_rewards
// off positive APYs before compounding them.
//
// Deposits mint at the exchange rate and pay gas_deposit. Exits go either
// through the protocol's withdrawal queue (delay from the observed
// withdrawal_days, else the profile's; a Claim pays the units at the rate
// of the request, cut by slashes until paid) or instantly through the
// profile's venue at a slippage that grows with size against the exit
// liquidity, amount / (exit_liquidity + amount) of the proceeds, plus the
// depeg (the sale is at market price, not at the rate). An instant exit
// larger than the exit liquidity fails with KindInsufficientLiquidity
// unless Withdrawal.AllowPartial is set. Valuation at PriceMarket uses the
// observed price and shows depegs.
//
// Slashing events cut Units and the Units of queued claims by exactly the
// event's size (less the share insurance_cap covers). Register makes the
// adapter available to adapters.Open for kind lst; New builds a Driver
// directly.
package lst

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/mech"
	"github.com/yieldvault/yieldvault/fixed"
)

func init() {
	adapters.Register(adapters.LST, Factory)
}

// Driver is the LST driver of one market. It implements adapters.Driver
// and adapters.Claimer.
type Driver struct {
	core *mech.Staking
}

var (
	_ adapters.Driver  = (*Driver)(nil)
	_ adapters.Claimer = (*Driver)(nil)
)

// Factory is the adapters.Factory registered for kind lst.
func Factory(m adapters.Market, p *adapters.Profile) (adapters.Driver, error) {
	return New(m, p)
}

// New builds the driver of an LST market from its profile (with the
// market's parameter overrides applied, as Catalog.ProfileFor returns it).
func New(m adapters.Market, p *adapters.Profile) (*Driver, error) {
	if m.Kind != adapters.LST {
		return nil, adapters.E("lst.New", adapters.KindInvalid, "market %s is of kind %s, not lst", m.ID, m.Kind)
	}
	core, err := mech.NewStaking("lst", m, p, false)
	if err != nil {
		return nil, err
	}
	return &Driver{core: core}, nil
}

// Quote prices a deposit of amount.
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

// Withdraw exits instantly through the venue or through the queue.
func (d *Driver) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	return d.core.Withdraw(pos, env, w)
}

// Accrue moves the exchange rate to env.Time. It never allocates.
func (d *Driver) Accrue(pos *adapters.Position, env *adapters.Env) { d.core.Accrue(pos, env) }

// Value is Units x rate (PriceRate) or x market price (PriceMarket).
func (d *Driver) Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal {
	return d.core.Value(pos, env, pricing)
}

// ValueRate is the rate Value multiplies the units by (adapters.RateValuer).
func (d *Driver) ValueRate(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) (float64, bool) {
	return d.core.ValueRate(pos, env, pricing)
}

// Apply applies a slash, depeg, pause or unpause event.
func (d *Driver) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return d.core.Apply(pos, env, ev)
}

// Claim pays out queued withdrawals that are ready.
func (d *Driver) Claim(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	return d.core.Claim(pos, env)
}

// MarkBasis is the exchange rate or price column (adapters.Marker).
func (d *Driver) MarkBasis(s *adapters.Series, pricing adapters.Pricing) ([]float64, bool, bool) {
	return d.core.MarkBasis(s, pricing)
}
