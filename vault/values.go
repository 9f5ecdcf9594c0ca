package vault

import "github.com/shopspring/decimal"

// MarketValues appends to dst the value of the vault's position in each
// market, in vault order: units at the vault's pricing plus queued
// claims, pending rewards excluded (the terms of GrossAssets, from the
// same cache). The backtest engine records them at every step.
func (v *Vault) MarketValues(dst []decimal.Decimal) []decimal.Decimal {
	for _, s := range v.markets {
		dst = append(dst, v.slotValue(s))
	}
	return dst
}

// MarketValuesFloat is MarketValues as float64s (fixed.ToFloat of each
// value, bit for bit), without building the decimals.
func (v *Vault) MarketValuesFloat(dst []float64) []float64 {
	for _, s := range v.markets {
		if c := v.fill(s); c.claims.Sign() == 0 {
			dst = append(dst, c.unitsFloat()) // slotNum is units
		} else {
			dst = append(dst, c.units.Add(c.claims).ToFloat())
		}
	}
	return dst
}

// MarketClaimsFloat appends to dst the payout of the vault's queued
// claims in each market, in vault order, as float64s: the part of each
// MarketValuesFloat term that does not move with the market.
func (v *Vault) MarketClaimsFloat(dst []float64) []float64 {
	for _, s := range v.markets {
		x := 0.0
		if len(s.pos.Claims) > 0 {
			x = v.fill(s).claims.ToFloat()
		}
		dst = append(dst, x)
	}
	return dst
}
