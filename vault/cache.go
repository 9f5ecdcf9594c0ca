package vault

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// The vault's caches. Each lives in its own type next to what it caches
// and owns its key; the domain structs (Vault, slot) hold one field per
// cache and no cache state of their own. A cache is an optimisation
// only: dropping any of them (always missing) gives the same results.

// valueCache holds a slot's value at the vault's pricing, from the
// slot's position, environment and time, until any of them changes
// (invalidate). Every invalidate bumps the vault's slot version
// (slotVersion, shared by its slots), so that sums over slots
// (assetsCache) and the mark of a brought vault (broughtMark) know in
// one read whether any term changed.
type valueCache struct {
	ok  bool
	ver *slotVersion // the vault's, bumped by every invalidate

	units  num // the units' value at the vault's pricing
	claims num // the queued claims' payout

	// unitsDec is units as a decimal once one was asked for (unitsDecOK);
	// claimsDec is claims as a decimal.
	unitsDec   decimal.Decimal
	unitsDecOK bool
	claimsDec  decimal.Decimal

	// unitsF is units as a float64 (fixed.Num.ToFloat) once one was
	// asked for (unitsFOK): a tick reads it three times, for the
	// strategy's weights, the decision's and the step's record.
	unitsF   float64
	unitsFOK bool

	// rate keeps units x rate for a rate-valued position across
	// invalidations: the same units at the same rate (a step between two
	// rows of daily data) have the same value.
	rate rateProduct
}

// invalidate drops the cached value: the position, its environment or
// the time changed.
func (c *valueCache) invalidate() { c.ok = false; c.ver.n++ }

// slotVersion counts the invalidations of a vault's slots' values: the
// same count means no slot's position, environment or time changed. pos
// counts the changes of the positions alone (slot.set, an accrual),
// which the steps' observations do not bump.
type slotVersion struct{ n, pos uint64 }

// quietMark remembers that no slot carried debt or queued claims at a
// count of the positions' changes (slotVersion.pos): until a position
// changes, the vault is quiet at any time (Vault.Quiet) without a look
// at each market.
type quietMark struct {
	pos uint64
	ok  bool
}

// still reports whether the mark holds at the positions' count pos.
func (q *quietMark) still(pos uint64) bool { return q.ok && q.pos == pos }

// set records that no slot carries debt or claims at pos.
func (q *quietMark) set(pos uint64) { q.pos, q.ok = pos, true }

// unitsFloat is units.ToFloat(), converted once per value.
func (c *valueCache) unitsFloat() float64 {
	if !c.unitsFOK {
		c.unitsF, c.unitsFOK = c.units.ToFloat(), true
	}
	return c.unitsF
}

// rateProduct remembers units x rate (num.MulRate) for the last units
// and rate it was asked for (a rate moves at every step, a position's
// units only when it trades or rebases), and the units made ready for
// the next rate (fixed.RateOperand: split once by the rates' power of
// ten, so that each new rate's product takes one division, not two).
type rateProduct struct {
	n     num
	rate  float64
	units fixed.RateOperand
	ok    bool
}

// of returns units.MulRate(rate), computed again only when units (the
// same representation: fixed.Num.Identical) or rate changed.
func (r *rateProduct) of(units num, rate float64) num {
	if r.ok && rate == r.rate && units.Identical(r.units.Num()) {
		return r.n
	}
	if !r.ok || !units.Identical(r.units.Num()) {
		r.units = fixed.NewRateOperand(units)
	}
	r.n, r.rate, r.ok = r.units.MulRate(rate), rate, true
	return r.n
}

// assetsCache holds the sum of the slots' values (positionsValue),
// keyed by the sum of their valueCache versions, and GrossAssets, keyed
// by that sum's version and the idle it was added to; with their
// decimals for the callers that ask for one (GrossAssets, TotalAssets).
type assetsCache struct {
	pv    num
	pvVer uint64
	pvOK  bool

	ga, gaIdle num
	gaVer      uint64
	gaOK       bool

	gaDec, taDec decOf
}

// positions returns the cached positions value for version ver.
func (c *assetsCache) positions(ver uint64) (num, bool) {
	return c.pv, c.pvOK && c.pvVer == ver
}

// setPositions caches pv as the positions value at version ver.
func (c *assetsCache) setPositions(pv num, ver uint64) {
	c.pv, c.pvVer, c.pvOK = pv, ver, true
}

// gross returns idle + the cached positions value, added again only when
// idle (the same representation) or the positions' version changed.
func (c *assetsCache) gross(idle num) num {
	if !c.gaOK || c.gaVer != c.pvVer || !c.gaIdle.Identical(idle) {
		c.ga, c.gaIdle, c.gaVer, c.gaOK = idle.Add(c.pv), idle, c.pvVer, true
	}
	return c.ga
}

// decOf remembers the decimal of the last num it converted (Num.Dec),
// for values asked for as decimals again and again while they do not
// change (idle, gross and total assets at every step).
type decOf struct {
	n  num
	d  decimal.Decimal
	ok bool
}

// of returns n.Dec(), built again only when n changed.
func (c *decOf) of(n num) decimal.Decimal {
	if !c.ok || !c.n.Identical(n) {
		c.n, c.d, c.ok = n, n.Dec(), true
	}
	return c.d
}

// ppsOf remembers the price per share for the last total assets and
// supply it was computed at: the fee accrual's high-water mark and the
// step's record ask for it at the same figures.
type ppsOf struct {
	ta, supply num
	w          fixed.Wide
	ok         bool
}

// of returns (ta + 1 unit) / (supply + virtual) at ppsScale places
// (Num.DivRoundWide: the decimal and its words), computed again only
// when ta or supply changed (virtual never does).
func (c *ppsOf) of(ta, supply, virtual num) fixed.Wide {
	if !c.ok || !c.ta.Identical(ta) || !c.supply.Identical(supply) {
		c.ta, c.supply, c.ok = ta, supply, true
		c.w = ta.Add(unitN).DivRoundWide(supply.Add(virtual), ppsScale)
	}
	return c.w
}

// decMemo remembers the decimals of the last few nums it converted
// (Num.Dec), for values that recur across entries: a fill's gas cost is
// one of the few (gas units x gas price) of the vault's protocols, so
// the ledger's Gas of a rebalance's fills is built a handful of times,
// not once per fill. Keys compare by representation (Num.Identical); the
// oldest entry makes room.
type decMemo struct {
	n    [decMemoSize]num
	d    [decMemoSize]decimal.Decimal
	used int // entries filled
	next int // the entry to replace when full
}

const decMemoSize = 8

// of returns n.Dec(), from the memo when n was converted lately.
func (c *decMemo) of(n num) decimal.Decimal {
	for i := 0; i < c.used; i++ {
		if c.n[i].Identical(n) {
			return c.d[i]
		}
	}
	d := n.Dec()
	i := c.used
	if i < decMemoSize {
		c.used++
	} else {
		i, c.next = c.next, (c.next+1)%decMemoSize
	}
	c.n[i], c.d[i] = n, d
	return d
}

// floatOf remembers the float64 of the last num it converted
// (Num.ToFloat), for values read as floats at every step while they do
// not change (a position's units between its trades).
type floatOf struct {
	n  num
	f  float64
	ok bool
}

// of returns n.ToFloat(), computed again only when n changed.
func (c *floatOf) of(n num) float64 {
	if !c.ok || !c.n.Identical(n) {
		c.n, c.f, c.ok = n, n.ToFloat(), true
	}
	return c.f
}

// markFloats holds the vault-wide figures a Mark reads as float64s.
type markFloats struct {
	idle, supply, virtual floatOf
}

// broughtMark remembers that accrueTo brought every slot to a time (its
// environment's time set, its position accrued to it, no debt to check
// for liquidation) at a version of the slots (slotVersion). While
// the version is the same, no position or observation changed: bringing
// the vault to that time again has nothing to do. A tick brings the
// vault to its time several times (Accrue, then every operation, which
// accrues first): only the first does the work.
type broughtMark struct {
	t   time.Time
	ver uint64
	ok  bool
}

// still reports whether the slots at version ver are brought to t.
func (b *broughtMark) still(t time.Time, ver uint64) bool {
	return b.ok && b.ver == ver && b.t.Equal(t)
}

// set records that the slots at version ver are brought to t, when ok
// (else that they may not be).
func (b *broughtMark) set(t time.Time, ver uint64, ok bool) {
	b.t, b.ver, b.ok = t, ver, ok
}
