package adapters

import (
	"math"
	"time"
)

// Field names one numeric quantity of an Observation. Fields index the
// columnar in-memory history (history.Series) and name columns in SQLite,
// CSV mappings and exports.
type Field uint8

// Observation fields. Units are fixed per field, whatever the source file
// used; importers convert.
const (
	FieldAPY            Field = iota // base APY as a fraction (0.035 = 3.5%): staking yield, supply APY, AMM fee APY
	FieldRewardAPY                   // extra reward APY as a fraction (incentive tokens, restaking points/AVS rewards)
	FieldExchangeRate                // value of one token in the base asset by the protocol's own accounting
	FieldPrice                       // market price of one token in the base asset; peg = price / exchange rate
	FieldTVL                         // total value locked, in USD
	FieldExitLiquidity               // base units that can be sold instantly (DEX depth, free lending liquidity)
	FieldUtilization                 // lending: borrows / supply, a fraction in [0, 1]
	FieldBorrowAPY                   // lending: variable borrow APY as a fraction
	FieldVolume                      // AMM: trading volume per day, in base units (a rate, not a per-step total)
	FieldFeeTier                     // AMM: swap fee as a fraction (0.003 = 0.3%)
	FieldBalance0                    // AMM: pool balance of coin 0, in base units
	FieldBalance1                    // AMM: pool balance of coin 1, in base units
	FieldBalance2                    // AMM: pool balance of coin 2, in base units
	FieldWithdrawalDays              // days to exit through the protocol's withdrawal queue
	FieldIndex                       // lending: liquidity index (supply value of one scaled unit), as Aave's liquidityIndex
	FieldSupply                      // lending: total supplied, in base units
	FieldBorrows                     // lending: total borrowed, in base units
	FieldGasPrice                    // gas price in gwei, when the source carries it
	FieldBaseUSD                     // USD price of one unit of the base asset
	FieldCoin0Price                  // AMM: market price of pool coin 0 in base units (a stablecoin's USD price in a USD pool)
	FieldCoin1Price                  // AMM: market price of pool coin 1 in base units
	FieldCoin2Price                  // AMM: market price of pool coin 2 in base units
	FieldBorrowIndex                 // lending: variable borrow index (debt value of one scaled debt unit), as Aave's variableBorrowIndex
	NumFields                        // the number of fields
)

var fieldNames = [NumFields]string{
	FieldAPY:            "apy",
	FieldRewardAPY:      "reward_apy",
	FieldExchangeRate:   "exchange_rate",
	FieldPrice:          "price",
	FieldTVL:            "tvl",
	FieldExitLiquidity:  "exit_liquidity",
	FieldUtilization:    "utilization",
	FieldBorrowAPY:      "borrow_apy",
	FieldVolume:         "volume",
	FieldFeeTier:        "fee_tier",
	FieldBalance0:       "balance0",
	FieldBalance1:       "balance1",
	FieldBalance2:       "balance2",
	FieldWithdrawalDays: "withdrawal_days",
	FieldIndex:          "liquidity_index",
	FieldSupply:         "supply",
	FieldBorrows:        "borrows",
	FieldGasPrice:       "gas_price",
	FieldBaseUSD:        "base_usd",
	FieldCoin0Price:     "coin0_price",
	FieldCoin1Price:     "coin1_price",
	FieldCoin2Price:     "coin2_price",
	FieldBorrowIndex:    "borrow_index",
}

// String returns the field's canonical snake_case name.
func (f Field) String() string {
	if f < NumFields {
		return fieldNames[f]
	}
	return "field?"
}

// ParseField looks a field up by its canonical name.
func ParseField(name string) (Field, bool) {
	for i, n := range fieldNames {
		if n == name {
			return Field(i), true
		}
	}
	return 0, false
}

// FieldSet is a set of fields, one bit per Field.
type FieldSet uint32

// Has reports whether f is in the set.
func (s FieldSet) Has(f Field) bool { return s&(1<<f) != 0 }

// With returns the set with f added.
func (s FieldSet) With(f Field) FieldSet { return s | 1<<f }

// Observation is one market's state at one instant. Values holds every
// numeric field indexed by Field; Set says which fields the source actually
// carried (a field not in Set is zero and means "not observed"). Derived
// are the fields of Set that the history derived from other fields rather
// than observed (Series.Derived): a staking token's exchange rate read
// from its market price is not a rate, and its peg is unknown.
type Observation struct {
	Time    time.Time
	Values  [NumFields]float64
	Set     FieldSet
	Derived FieldSet
}

// Get returns a field's value and whether it was observed.
func (o *Observation) Get(f Field) (float64, bool) {
	return o.Values[f], o.Set.Has(f)
}

// Value returns a field's value, or def when it was not observed.
func (o *Observation) Value(f Field, def float64) float64 {
	if o.Set.Has(f) {
		return o.Values[f]
	}
	return def
}

// Put sets a field and marks it observed.
func (o *Observation) Put(f Field, v float64) {
	o.Values[f] = v
	o.Set = o.Set.With(f)
}

// PegBasis says what a market's peg compares its market price with.
type PegBasis uint8

const (
	// PegPrice: one token is worth one base unit by the protocol's
	// accounting, so the price is the peg (a rebasing staking token, a
	// stablecoin lending market, a pool share quoted in base).
	PegPrice PegBasis = iota
	// PegRate: a value-accruing token (wstETH, rETH, cbETH) is worth its
	// exchange rate, so its peg is price / exchange rate, unknown when the
	// rate is.
	PegRate
)

// PegBasisOf is the basis of a market of kind k: PegRate for a staking
// token (LST, LRT) that does not rebase, else PegPrice.
func PegBasisOf(k Kind, rebasing bool) PegBasis {
	if (k == LST || k == LRT) && !rebasing {
		return PegRate
	}
	return PegPrice
}

// Peg is the one peg formula every layer uses (the adapters' market
// pricing, strategies' peg, the backtest's holds and report): what the
// market pays for a token over what the protocol's accounting says it is
// worth. known is false, and peg 1, when the data cannot say: no usable
// price (absent, not positive, not finite), or, at PegRate, no usable
// exchange rate (rateOK false also for a rate the history derived from
// the price itself: cbETH's Compound feed is a market price, and its peg
// is not 1 but unknown). At PegPrice the price alone is the peg.
func Peg(price float64, priceOK bool, rate float64, rateOK bool, b PegBasis) (peg float64, known bool) {
	if !priceOK || !(price > 0) || math.IsInf(price, 0) {
		return 1, false
	}
	if b == PegPrice {
		return price, true
	}
	if !rateOK || !(rate > 0) || math.IsInf(rate, 0) {
		return 1, false
	}
	return price / rate, true
}

// Peg is the observation's peg at basis b (the package function Peg): a
// rate the history derived from the price does not count as a rate.
func (o *Observation) Peg(b PegBasis) (peg float64, known bool) {
	return Peg(o.Values[FieldPrice], o.Set.Has(FieldPrice), o.Values[FieldExchangeRate],
		o.Set.Has(FieldExchangeRate) && !o.Derived.Has(FieldExchangeRate), b)
}

// CheckValue validates one field's value: finite, and in its physical
// range. It returns a description of the problem or "".
func CheckValue(f Field, v float64) string {
	if math.IsNaN(v) {
		return "is NaN"
	}
	if math.IsInf(v, 0) {
		return "is infinite"
	}
	switch f {
	case FieldAPY, FieldRewardAPY:
		if v < MinAPY {
			return "is below the lowest plausible APY (-100%)"
		}
		if v > MaxAPY {
			return "is above the highest plausible APY (100000%)"
		}
	case FieldBorrowAPY:
		if v < 0 || v > MaxAPY {
			return "is out of range for a borrow APY"
		}
	case FieldExchangeRate, FieldPrice, FieldIndex, FieldBorrowIndex, FieldBaseUSD, FieldCoin0Price, FieldCoin1Price, FieldCoin2Price:
		if v <= 0 {
			return "must be > 0"
		}
	case FieldUtilization:
		if v < 0 || v > 1 {
			return "must be within [0, 1]"
		}
	case FieldFeeTier:
		if v < 0 || v >= 1 {
			return "must be within [0, 1)"
		}
	case FieldTVL, FieldExitLiquidity, FieldVolume, FieldBalance0, FieldBalance1, FieldBalance2,
		FieldWithdrawalDays, FieldSupply, FieldBorrows, FieldGasPrice:
		if v < 0 {
			return "must be >= 0"
		}
	}
	return ""
}

// Plausibility bounds for APY fields, as fractions.
const (
	MinAPY = -1.0  // a loss of everything in a year
	MaxAPY = 1000. // 100000%
)

// Validate checks every observed field with CheckValue and returns the
// first problem as an error naming the field.
func (o *Observation) Validate() error {
	for f := Field(0); f < NumFields; f++ {
		if !o.Set.Has(f) {
			continue
		}
		if msg := CheckValue(f, o.Values[f]); msg != "" {
			return E("adapters.Observation.Validate", KindInvalid, "%s %s (%g)", f, msg, o.Values[f])
		}
	}
	return nil
}
