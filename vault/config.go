package vault

import (
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// DefaultDecimalsOffset is the virtual-share offset DefaultConfig uses: the
// vault behaves as if 10^6 share units and one asset unit were always
// deposited, which makes a first-depositor donation attack cost the
// attacker a million times what it could take from the victim.
const DefaultDecimalsOffset = 6

// DefaultHorizon is the holding horizon the rebalancer weighs expected
// gains over when RebalanceConfig.Horizon is zero.
const DefaultHorizon = 30 * 24 * time.Hour

// Config is a vault's fixed parameters.
type Config struct {
	// Name identifies the vault in the ledger and decision logs.
	Name string `json:"name" yaml:"name"`
	// Base is the vault's base asset; every market must share it.
	Base adapters.Asset `json:"base" yaml:"base"`
	// Pricing values positions in TotalAssets: at the protocols' own
	// exchange rates (the default) or at market prices.
	Pricing adapters.Pricing `json:"pricing" yaml:"pricing"`
	// DecimalsOffset sets the virtual shares: 10^DecimalsOffset share units
	// (of 1e-18) held by nobody, backed by one virtual asset unit. 0..18.
	// A first deposit of A mints A x 10^DecimalsOffset shares.
	DecimalsOffset int `json:"decimals_offset" yaml:"decimals_offset"`
	// DepositLimit caps total assets; deposits beyond it fail with
	// KindCapExceeded. Zero means no limit.
	DepositLimit decimal.Decimal `json:"deposit_limit" yaml:"deposit_limit"`
	// IdleFloor is the share of total assets the rebalancer keeps idle,
	// whatever the target's idle weight (the larger of the two applies).
	IdleFloor float64 `json:"idle_floor" yaml:"idle_floor"`
	// ManagementFee is charged on total assets, a fraction a year.
	ManagementFee float64 `json:"management_fee" yaml:"management_fee"`
	// PerformanceFee is the share of profit above the high-water mark
	// (the highest price per share fees were last charged at).
	PerformanceFee float64 `json:"performance_fee" yaml:"performance_fee"`
	// FeeRecipient is the user that fee shares are minted to.
	FeeRecipient string `json:"fee_recipient" yaml:"fee_recipient"`
	// ProfitUnlock is the period over which harvested profit raises the
	// share price linearly. Zero unlocks harvests at once.
	ProfitUnlock time.Duration `json:"profit_unlock" yaml:"profit_unlock"`
	// MaxLoss bounds the exit costs a user withdrawal may bear when
	// positions must be unwound to pay it, as a fraction of the assets
	// withdrawn; a larger loss fails with KindCapExceeded.
	MaxLoss float64 `json:"max_loss" yaml:"max_loss"`
	// WithdrawQueue lists market IDs in the order positions are unwound to
	// pay withdrawals. Markets not listed follow, in the vault's order.
	WithdrawQueue []string `json:"withdraw_queue,omitempty" yaml:"withdraw_queue,omitempty"`
	// Rebalance configures the rebalancer's thresholds and gates.
	Rebalance RebalanceConfig `json:"rebalance" yaml:"rebalance"`
	// CompoundHarvest deposits a market's harvest proceeds straight back
	// into the same market (when at least Rebalance.MinTrade); otherwise
	// proceeds stay idle until the next rebalance deploys them.
	CompoundHarvest bool `json:"compound_harvest" yaml:"compound_harvest"`
}

// RebalanceConfig holds the rebalancer's thresholds and gates.
type RebalanceConfig struct {
	// MinTrade is the smallest order, in base units; smaller moves are
	// rejected (a sell that would leave less than MinTrade sells all).
	MinTrade decimal.Decimal `json:"min_trade" yaml:"min_trade"`
	// Horizon is how long a new allocation is expected to be held when
	// weighing its APY gain against its costs. Zero means DefaultHorizon.
	Horizon time.Duration `json:"horizon" yaml:"horizon"`
	// MinGainOverCost rejects a buy whose expected gain over Horizon is
	// below this multiple of its cost (entry cost plus its share of the
	// sells' exit costs). Zero disables the test.
	MinGainOverCost float64 `json:"min_gain_over_cost" yaml:"min_gain_over_cost"`
	// MaxGasPrice, in gwei, gates non-urgent rebalances: above it nothing
	// trades except exits. Zero means no gate.
	MaxGasPrice float64 `json:"max_gas_price" yaml:"max_gas_price"`
	// Band is the tolerance band of over-weight positions, a fraction of
	// NAV: a market held more than max(Band, MinTrade/NAV) above its
	// target is sold down to it even when nothing needs the cash. Within
	// the band an over-weight is sold only when its target is zero, its
	// target is a cap (strategies.Allocation.IsCapped), the
	// idle target needs cash, or the proceeds fund buys whose expected
	// gain covers the whole move's cost. Zero means no band: only those
	// reasons sell.
	Band float64 `json:"band" yaml:"band"`
	// MaxSlippage bounds a non-urgent instant exit's slippage, as a
	// fraction of the amount; beyond it the exit is queued where the
	// market has a queue, else rejected. Zero means no bound.
	MaxSlippage float64 `json:"max_slippage" yaml:"max_slippage"`
}

// DefaultConfig returns a configuration with the usual settings: rate
// pricing, the default virtual-share offset, a 2% idle floor, a 2%
// management fee, a 20% performance fee, a 7-day profit unlock, a 1% max
// loss on withdrawals, and a 30-day holding horizon over which a move's
// expected gain must be at least 3 times its cost (MinGainOverCost): an
// APY spread seen now rarely lasts the whole horizon, and on the embedded
// 2024 history a multiple of 1 turns the example strategy over 6.6 times
// a year for 0.4% a year less than a multiple of 3. No tolerance band.
func DefaultConfig(name string, base adapters.Asset) Config {
	return Config{
		Name:           name,
		Base:           base,
		Pricing:        adapters.PriceRate,
		DecimalsOffset: DefaultDecimalsOffset,
		IdleFloor:      0.02,
		ManagementFee:  0.02,
		PerformanceFee: 0.20,
		FeeRecipient:   "fees",
		ProfitUnlock:   7 * 24 * time.Hour,
		MaxLoss:        0.01,
		Rebalance: RebalanceConfig{
			MinTrade:        decimal.RequireFromString("0.01"),
			Horizon:         DefaultHorizon,
			MinGainOverCost: 3,
		},
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	const op = "vault.Config.Validate"
	bad := func(format string, args ...any) error { return adapters.E(op, adapters.KindInvalid, format, args...) }
	if _, err := adapters.ParseAsset(string(c.Base)); err != nil || c.Base != adapters.Asset(strings.ToUpper(string(c.Base))) {
		return bad("vault %q: base %q is not ETH, BTC or USD", c.Name, c.Base)
	}
	if c.Pricing != adapters.PriceRate && c.Pricing != adapters.PriceMarket {
		return bad("vault %q: unknown pricing %d", c.Name, c.Pricing)
	}
	if c.DecimalsOffset < 0 || c.DecimalsOffset > adapters.Scale {
		return bad("vault %q: decimals_offset %d is not within [0, %d]", c.Name, c.DecimalsOffset, adapters.Scale)
	}
	if c.DepositLimit.Sign() < 0 || !onScale(c.DepositLimit) {
		return bad("vault %q: deposit_limit %s must be >= 0 with at most %d decimals", c.Name, c.DepositLimit, adapters.Scale)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"idle_floor", c.IdleFloor}, {"management_fee", c.ManagementFee}, {"performance_fee", c.PerformanceFee}, {"max_loss", c.MaxLoss},
		{"rebalance.max_slippage", c.Rebalance.MaxSlippage}, {"rebalance.band", c.Rebalance.Band}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return bad("vault %q: %s %g is not a fraction in [0, 1]", c.Name, f.name, f.v)
		}
	}
	if (c.ManagementFee > 0 || c.PerformanceFee > 0) && c.FeeRecipient == "" {
		return bad("vault %q: fees are set but fee_recipient is empty", c.Name)
	}
	if c.ProfitUnlock < 0 {
		return bad("vault %q: profit_unlock %s must be >= 0", c.Name, c.ProfitUnlock)
	}
	r := &c.Rebalance
	if r.MinTrade.Sign() < 0 || !onScale(r.MinTrade) {
		return bad("vault %q: rebalance.min_trade %s must be >= 0 with at most %d decimals", c.Name, r.MinTrade, adapters.Scale)
	}
	if r.Horizon < 0 {
		return bad("vault %q: rebalance.horizon %s must be >= 0", c.Name, r.Horizon)
	}
	if math.IsNaN(r.MinGainOverCost) || math.IsInf(r.MinGainOverCost, 0) || r.MinGainOverCost < 0 {
		return bad("vault %q: rebalance.min_gain_over_cost %g must be a finite number >= 0", c.Name, r.MinGainOverCost)
	}
	if math.IsNaN(r.MaxGasPrice) || math.IsInf(r.MaxGasPrice, 0) || r.MaxGasPrice < 0 {
		return bad("vault %q: rebalance.max_gas_price %g must be a finite number >= 0", c.Name, r.MaxGasPrice)
	}
	seen := map[string]bool{}
	for _, id := range c.WithdrawQueue {
		if seen[id] {
			return bad("vault %q: withdraw_queue lists %s twice", c.Name, id)
		}
		seen[id] = true
	}
	return nil
}

func (c *Config) horizon() time.Duration {
	if c.Rebalance.Horizon > 0 {
		return c.Rebalance.Horizon
	}
	return DefaultHorizon
}
