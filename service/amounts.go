package service

import (
	"fmt"
	"math"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// MaxAmount is the hard ceiling on any amount of base asset the service
// accepts (a deposit, a withdrawal, a vault's deposit_limit): 10^15 base
// units. The largest base asset's whole supply is far below it (about
// 1.2e8 ETH, 2.1e7 BTC, 3e11 of all USD stablecoins together), and amounts
// up to it stay finite and exact to well under a unit when the vault
// converts them to float64 for its models. An authenticated deposit of
// 1e309 used to reach the vault, buy 2.5e308 of a market and wedge it on
// NaN forever.
var MaxAmount = decimal.New(1, 15)

// MaxShares bounds a share amount: MaxAmount at the largest virtual-share
// offset (10^18 shares per unit of asset).
var MaxShares = decimal.New(1, 15+adapters.Scale)

// maxExp bounds the decimal exponent of an amount written by a user
// before any arithmetic: comparing 1e999999999 with a bound rescales it
// to a billion-digit integer.
const maxExp = 64

// checkAmount returns "" when d is >= 0, at most max and on the 18-place
// scale, else what is wrong in the user's words (name is the field).
func checkAmount(name string, d, max decimal.Decimal) string {
	if d.Sign() == 0 {
		return ""
	}
	if e := d.Exponent(); e > maxExp && d.Sign() > 0 {
		return fmt.Sprintf("%s is over the ceiling %s", name, max)
	}
	if e := d.Exponent(); e > maxExp || e < -maxExp || d.Sign() < 0 || !d.Equal(d.Truncate(adapters.Scale)) {
		return fmt.Sprintf("%s must be >= 0 with at most %d decimals", name, adapters.Scale)
	}
	if d.Cmp(max) > 0 {
		return fmt.Sprintf("%s %s is over the ceiling %s", name, d, max)
	}
	return ""
}

// finite returns x, or 0 when x is NaN or infinite: what the API and the
// metrics show never carries a NaN or an Inf.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
