package vault

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/internal/decfast"
)

// The vault's caches. Each lives in its own type next to what it caches
// and owns its key; the domain structs (Vault, slot) hold one field per
// cache and no cache state of their own. A cache is an optimisation
// only: dropping any of them (always missing) gives the same results.

// valueCache holds a slot's value at the vault's pricing, from the
// slot's position, environment and time, until any of them changes
// (invalidate). Its version counts the invalidations, so that sums over
// slots (assetsCache) know when a term changed.
type valueCache struct {
	ok  bool
	ver uint64 // bumped by every invalidate

	units  num // the units' value at the vault's pricing
	claims num // the queued claims' payout

	// unitsDec is units as a decimal once one was asked for (unitsDecOK);
	// claimsDec is claims as a decimal.
	unitsDec   decimal.Decimal
	unitsDecOK bool
	claimsDec  decimal.Decimal

	// rate keeps units x rate for a rate-valued position across
	// invalidations: the same units at the same rate (a step between two
	// rows of daily data) have the same value.
	rate rateProduct
}

// invalidate drops the cached value: the position, its environment or
// the time changed.
func (c *valueCache) invalidate() { c.ok = false; c.ver++ }

// rateProduct remembers units x rate (num.MulRate) for the last units
// and rate it was asked for, and the units as a num while they stay the
// same (a rate moves at every step, a position's units only when it
// trades or rebases).
type rateProduct struct {
	n      num
	rate   float64
	units  decimal.Decimal
	unitsN num
	ok     bool
}

// of returns nm(units).MulRate(rate), computed again only when units
// (the same coefficient and exponent: decfast.Identical) or rate
// changed.
func (r *rateProduct) of(units decimal.Decimal, rate float64) num {
	same := r.ok && decfast.Identical(units, r.units)
	if same && rate == r.rate {
		return r.n
	}
	if !same {
		r.units, r.unitsN = units, nm(units)
	}
	r.n, r.rate, r.ok = r.unitsN.MulRate(rate), rate, true
	return r.n
}

// assetsCache holds the sum of the slots' values (positionsValue),
// keyed by the sum of their valueCache versions, and GrossAssets, keyed
// by that sum's version and the idle decimal it was added to.
type assetsCache struct {
	pv    decimal.Decimal
	pvVer uint64
	pvOK  bool

	ga, gaIdle decimal.Decimal
	gaVer      uint64
	gaOK       bool
}

// positions returns the cached positions value for version ver.
func (c *assetsCache) positions(ver uint64) (decimal.Decimal, bool) {
	return c.pv, c.pvOK && c.pvVer == ver
}

// setPositions caches pv as the positions value at version ver.
func (c *assetsCache) setPositions(pv decimal.Decimal, ver uint64) {
	c.pv, c.pvVer, c.pvOK = pv, ver, true
}

// gross returns idle + the cached positions value, added again only when
// idle (the same decimal object) or the positions' version changed.
func (c *assetsCache) gross(idle decimal.Decimal) decimal.Decimal {
	if !c.gaOK || c.gaVer != c.pvVer || !decfast.Identical(c.gaIdle, idle) {
		c.ga, c.gaIdle, c.gaVer, c.gaOK = decfast.Add(idle, c.pv), idle, c.pvVer, true
	}
	return c.ga
}

// decPool builds the slots' values as decimals, decPoolBlock of them on
// one allocation (decfast.DecBlock): every market's at each plan and
// decision.
type decPool struct {
	block decfast.DecBlock
	left  int
}

// decPoolBlock is how many decimals a decPool builds on one allocation.
const decPoolBlock = 64

// dec returns n as a decimal.
func (p *decPool) dec(n num) decimal.Decimal {
	if p.left <= 0 {
		p.block, p.left = decfast.NewDecBlock(decPoolBlock), decPoolBlock
	}
	p.left--
	return p.block.Dec(n)
}
