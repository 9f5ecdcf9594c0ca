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
