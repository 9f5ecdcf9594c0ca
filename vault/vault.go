package vault

import (
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Vault is an ERC-4626-style vault over one base asset: users hold shares
// of the vault's total assets (idle plus positions in markets reached
// through adapters). Every operation takes the time it happens at; the
// vault never reads a clock, and times must not go backwards. A Vault is
// not safe for concurrent use: the backtest engine and the service each
// drive one vault from one goroutine.
type Vault struct {
	cfg     Config
	markets []*slot
	byID    map[string]int
	queue   []int // withdraw queue: indexes into markets

	now      time.Time
	idle     num
	supply   num
	balances map[string]num
	locked   Locked
	hwm      fixed.Wide // price per share fees were last charged at (ppsScale places), with its words
	feesAt   time.Time  // fees accrued up to this time
	shutdown bool

	gasPrice, gasAssetPrice float64

	virtualShares num // 10^DecimalsOffset units

	ledger *Ledger
	base   Books // books when the ledger started

	execHint int // Execute: room for the executed orders (one per order, one more for a queued rest)
	work     work
	fees     feeRates

	assets  assetsCache // positionsValue and GrossAssets
	slotVer slotVersion // bumped by every slot's value invalidation
	quiet   quietMark   // no slot with debt or claims (Quiet)
	brought broughtMark // the time accrueTo last brought every slot to
	idleDec decOf       // idle as a decimal (Idle)
	ppsAt   ppsOf       // the price per share (pps)
	gasDec  decMemo     // the fills' gas costs as decimals (the ledger's Gas)
	marks   markFloats  // idle, supply and the virtual shares as float64s (MarkAt)
}

// slot is one market of the vault: its adapter, position and
// environment, and the cache of the position's value.
type slot struct {
	ad *adapters.Adapter
	id string
	// gasQueue is the profile's gas_withdraw + gas_claim: the gas units
	// of a queued exit (read once; profiles do not change under a vault).
	gasQueue float64
	harvest  harvestTerms // its harvest cost parameters (read once)
	pos      adapters.Position
	// en is the environment the adapter prices the market in; its
	// observation is the row feed names, written when first read (env).
	en    adapters.Env
	feed  rowFeed
	value valueCache
}

// env is the slot's environment, its observation brought up to the row
// the feed last named.
func (s *slot) env() *adapters.Env {
	if s.feed.stale {
		s.feed.fill(&s.en.Obs)
	}
	return &s.en
}

// set replaces the slot's position.
func (s *slot) set(p adapters.Position) { s.pos = p; s.positionChanged() }

// positionChanged drops the slot's value and counts a change of its
// position (quietMark).
func (s *slot) positionChanged() { s.value.ver.pos++; s.invalidate() }

func (s *slot) invalidate() { s.value.invalidate() }

// point makes row r of ser the slot's observation, to be read when its
// environment is (Vault.ObserveRow), and drops its value.
func (s *slot) point(ser *adapters.Series, r int) {
	s.feed.point(ser, r)
	s.value.invalidate()
}

// Locked is profit that unlocks linearly: Amount at Anchor, falling to
// zero at End.
type Locked struct {
	Amount fixed.Num `json:"amount"`
	Anchor time.Time `json:"anchor"`
	End    time.Time `json:"end"`
}

// At returns the profit still locked at t: Amount x (End - t)/(End -
// Anchor), rounded down, zero from End on.
func (l Locked) At(t time.Time) decimal.Decimal { return l.at(t).Dec() }

// at is At on a num.
func (l *Locked) at(t time.Time) num {
	if l.Amount.Sign() <= 0 || !t.Before(l.End) {
		return num{}
	}
	if !t.After(l.Anchor) {
		return l.Amount
	}
	return l.Amount.MulDivDown(nanosN(l.End.Sub(t)), nanosN(l.End.Sub(l.Anchor)))
}

// State is a vault's complete mutable state as a plain value: what the
// service persists and Restore rebuilds a vault from.
type State struct {
	Time          time.Time                  `json:"time"`
	Idle          decimal.Decimal            `json:"idle"`
	Supply        decimal.Decimal            `json:"supply"`
	Balances      map[string]decimal.Decimal `json:"balances"`
	Positions     []adapters.Position        `json:"positions"`
	Locked        Locked                     `json:"locked"`
	HighWaterMark decimal.Decimal            `json:"high_water_mark"`
	FeesAt        time.Time                  `json:"fees_at"`
	Shutdown      bool                       `json:"shutdown"`
	GasPrice      float64                    `json:"gas_price"`
	GasAssetPrice float64                    `json:"gas_asset_price"`
	// NextSeq is the sequence number of the next ledger entry.
	NextSeq uint64 `json:"next_seq"`
}

// New returns an empty vault over the given markets, starting at start.
// Every market must have the vault's base asset; IDs must be unique.
func New(cfg Config, markets []*adapters.Adapter, start time.Time) (*Vault, error) {
	const op = "vault.New"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if start.IsZero() {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %q: no start time", cfg.Name)
	}
	v := &Vault{
		cfg:           cfg,
		byID:          make(map[string]int, len(markets)),
		now:           start,
		feesAt:        start,
		balances:      map[string]num{},
		gasAssetPrice: 1,
		virtualShares: nm(decimal.New(1, int32(cfg.DecimalsOffset-adapters.Scale))),
		ledger:        NewLedger(1),
		fees:          newFeeRates(&cfg),
	}
	for i, ad := range markets {
		if ad == nil {
			return nil, adapters.E(op, adapters.KindInvalid, "vault %q: market %d is nil", cfg.Name, i)
		}
		m := ad.Market()
		if m.Base != cfg.Base {
			return nil, adapters.E(op, adapters.KindInvalid, "vault %q: market %s has base %s, the vault %s", cfg.Name, m.ID, m.Base, cfg.Base)
		}
		if _, dup := v.byID[m.ID]; dup {
			return nil, adapters.E(op, adapters.KindInvalid, "vault %q: market %s listed twice", cfg.Name, m.ID)
		}
		v.byID[m.ID] = i
		s := &slot{ad: ad, id: m.ID, pos: ad.NewPosition(), en: adapters.Env{Time: start}}
		s.value.ver = &v.slotVer
		// Quotes price the vault's own position into the market (a
		// lending market's utilization after it), as accrual does.
		s.en.Held = &s.pos
		if p := ad.Profile(); p != nil {
			s.gasQueue = p.ParamOr("gas_withdraw", 0) + p.ParamOr("gas_claim", 0)
		}
		s.harvest = harvestTermsOf(ad.Profile())
		v.markets = append(v.markets, s)
	}
	for _, id := range cfg.WithdrawQueue {
		i, ok := v.byID[id]
		if !ok {
			return nil, adapters.E(op, adapters.KindNotFound, "vault %q: withdraw_queue market %s is not one of the vault's markets", cfg.Name, id)
		}
		v.queue = append(v.queue, i)
	}
	for i := range v.markets {
		if !containsInt(v.queue, i) {
			v.queue = append(v.queue, i)
		}
	}
	v.hwm = v.pps(num{})
	return v, nil
}

// Restore rebuilds a vault from a persisted State. The markets must be
// those the state's positions are in, in the same order. The ledger starts
// empty at st.NextSeq; Reconcile compares later entries against st.
func Restore(cfg Config, markets []*adapters.Adapter, st State) (*Vault, error) {
	const op = "vault.Restore"
	v, err := New(cfg, markets, st.Time)
	if err != nil {
		return nil, err
	}
	if len(st.Positions) != len(v.markets) {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %q: state has %d positions for %d markets", cfg.Name, len(st.Positions), len(v.markets))
	}
	for i, p := range st.Positions {
		if p.Market != v.markets[i].id {
			return nil, adapters.E(op, adapters.KindInvalid, "vault %q: position %d is in %s, want %s", cfg.Name, i, p.Market, v.markets[i].id)
		}
		p.Claims = append([]adapters.Claim(nil), p.Claims...)
		v.markets[i].set(p)
	}
	var sum num
	for u, s := range st.Balances {
		if s.Sign() < 0 {
			return nil, adapters.E(op, adapters.KindInvalid, "vault %q: user %q has %s shares", cfg.Name, u, s)
		}
		v.balances[u] = nm(s)
		sum = sum.Add(nm(s))
	}
	if !sum.Equal(nm(st.Supply)) {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %q: balances sum to %s, supply is %s", cfg.Name, sum, st.Supply)
	}
	if st.Idle.Sign() < 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %q: idle %s is negative", cfg.Name, st.Idle)
	}
	v.idle, v.supply, v.locked, v.hwm, v.feesAt, v.shutdown = nm(st.Idle), nm(st.Supply), st.Locked, fixed.WideOf(st.HighWaterMark), st.FeesAt, st.Shutdown
	v.gasPrice, v.gasAssetPrice = st.GasPrice, st.GasAssetPrice
	// The markets trade at that gas price too (as SetGas sets them):
	// ObserveWindow sets it again only when the data's price changed.
	ga := st.GasAssetPrice
	if ga == 0 {
		ga = 1
	}
	for _, s := range v.markets {
		s.en.GasPrice, s.en.GasAssetPrice = st.GasPrice, ga
	}
	v.ledger = NewLedger(st.NextSeq)
	v.base = v.Books()
	return v, nil
}

// State returns a copy of the vault's state.
func (v *Vault) State() State {
	st := State{
		Time: v.now, Idle: v.Idle(), Supply: v.supply.Dec(), Balances: make(map[string]decimal.Decimal, len(v.balances)),
		Locked: v.locked, HighWaterMark: v.hwm.Dec(), FeesAt: v.feesAt, Shutdown: v.shutdown,
		GasPrice: v.gasPrice, GasAssetPrice: v.gasAssetPrice, NextSeq: v.ledger.Next(),
	}
	for u, s := range v.balances {
		st.Balances[u] = s.Dec()
	}
	for _, s := range v.markets {
		p := s.pos
		p.Claims = append([]adapters.Claim(nil), p.Claims...)
		st.Positions = append(st.Positions, p)
	}
	return st
}

// Books returns the vault's idle, supply and share balances.
func (v *Vault) Books() Books {
	b := Books{Idle: v.Idle(), Supply: v.supply.Dec(), Shares: make(map[string]decimal.Decimal, len(v.balances))}
	for u, s := range v.balances {
		b.Shares[u] = s.Dec()
	}
	return b
}

// Config returns the vault's configuration.
func (v *Vault) Config() Config { return v.cfg }

// Ledger returns the vault's ledger (read it; the vault appends to it).
func (v *Vault) Ledger() *Ledger { return v.ledger }

// Time is the time of the vault's last operation.
func (v *Vault) Time() time.Time { return v.now }

// Idle is the vault's undeployed base asset.
func (v *Vault) Idle() decimal.Decimal { return v.idleDec.of(v.idle) }

// TotalSupply is the number of shares outstanding.
func (v *Vault) TotalSupply() decimal.Decimal { return v.supply.Dec() }

// BalanceOf is a user's shares.
func (v *Vault) BalanceOf(user string) decimal.Decimal { return v.balances[user].Dec() }

// Users returns the users holding shares, sorted.
func (v *Vault) Users() []string {
	out := make([]string, 0, len(v.balances))
	for u := range v.balances {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// IsShutdown reports whether the vault has been shut down.
func (v *Vault) IsShutdown() bool { return v.shutdown }

// VirtualShares is the share count of the virtual-share offset,
// 10^DecimalsOffset units.
func (v *Vault) VirtualShares() decimal.Decimal { return v.virtualShares.Dec() }

// Markets returns the IDs of the vault's markets in order.
func (v *Vault) Markets() []string {
	out := make([]string, len(v.markets))
	for i, s := range v.markets {
		out[i] = s.id
	}
	return out
}

// Adapter returns the adapter of a market, or nil.
func (v *Vault) Adapter(id string) *adapters.Adapter {
	if i, ok := v.byID[id]; ok {
		return v.markets[i].ad
	}
	return nil
}

// Position returns a copy of the vault's position in a market.
func (v *Vault) Position(id string) (adapters.Position, bool) {
	i, ok := v.byID[id]
	if !ok {
		return adapters.Position{}, false
	}
	p := v.markets[i].pos
	p.Claims = append([]adapters.Claim(nil), p.Claims...)
	return p, true
}

// Env returns the environment the vault prices a market in: the latest
// observation passed to Observe, the gas price, and the vault's time.
func (v *Vault) Env(id string) (adapters.Env, bool) {
	i, ok := v.byID[id]
	if !ok {
		return adapters.Env{}, false
	}
	return *v.markets[i].env(), true
}

// Observe records a market's latest observation. It takes effect at the
// next operation, which accrues positions to its own time with it.
func (v *Vault) Observe(id string, obs adapters.Observation) error {
	i, ok := v.byID[id]
	if !ok {
		return adapters.E("vault.Observe", adapters.KindNotFound, "vault %q has no market %s", v.cfg.Name, id)
	}
	s := v.markets[i]
	s.feed.forget()
	s.en.Obs = obs
	s.invalidate()
	return nil
}

// ObserveIndex is Observe for the i-th market of Markets(), without the
// lookup by ID and the copy of obs (a backtest feeds every market at
// every step).
func (v *Vault) ObserveIndex(i int, obs *adapters.Observation) error {
	if i < 0 || i >= len(v.markets) {
		return adapters.E("vault.Observe", adapters.KindNotFound, "vault %q has no market #%d", v.cfg.Name, i)
	}
	s := v.markets[i]
	s.feed.forget()
	s.en.Obs = *obs
	s.invalidate()
	return nil
}

// SetGas sets the gas price in gwei and the value of one ETH in the base
// asset (zero is read as 1) used by every later operation.
func (v *Vault) SetGas(price, assetPrice float64) error {
	if !(price >= 0) || price > 1e9 || !(assetPrice >= 0) || assetPrice > 1e12 {
		return adapters.E("vault.SetGas", adapters.KindInvalid, "gas price %g and gas asset price %g must be finite numbers >= 0", price, assetPrice)
	}
	if assetPrice == 0 {
		assetPrice = 1
	}
	v.gasPrice, v.gasAssetPrice = price, assetPrice
	for _, s := range v.markets {
		s.en.GasPrice, s.en.GasAssetPrice = price, assetPrice
	}
	return nil
}

// GasPrice is the gas price (gwei) the vault trades at.
func (v *Vault) GasPrice() float64 { return v.gasPrice }

// Accrue brings the vault to now: positions accrue interest and rewards,
// locked profit unlocks, and management and performance fees are minted.
// Every other operation does this first.
func (v *Vault) Accrue(now time.Time) error {
	return v.advance("vault.Accrue", now)
}

func (v *Vault) advance(op string, now time.Time) error {
	if err := v.accrueTo(op, now); err != nil {
		return err
	}
	v.accrueFees(now)
	return nil
}

// accrueTo is advance without the fees: every position brought to now
// (its index and rewards), a loop whose health fell below 1 liquidated,
// the vault's time set.
func (v *Vault) accrueTo(op string, now time.Time) error {
	if now.IsZero() {
		return adapters.E(op, adapters.KindInvalid, "vault %q: no time given", v.cfg.Name)
	}
	if now.Before(v.now) {
		return adapters.E(op, adapters.KindInvalid, "vault %q: time %s is before the vault's time %s", v.cfg.Name, now.Format(time.RFC3339Nano), v.now.Format(time.RFC3339Nano))
	}
	if v.brought.still(now, v.slotsVersion()) {
		return nil // brought to now already, and nothing changed since
	}
	// The rows first, all markets in one tight loop: each row is a few
	// columns' cache misses (after five unread steps), which the
	// processor overlaps across markets here and could not between the
	// accruals below.
	for _, s := range v.markets {
		if s.feed.stale {
			s.feed.fill(&s.en.Obs)
		}
	}
	settled := true // every slot at now, accrued to it, without debt
	for _, s := range v.markets {
		if !s.en.Time.Equal(now) {
			s.en.Time = now
			s.invalidate()
		}
		if !s.pos.Last.IsZero() && s.pos.Last.Before(now) {
			s.ad.Accrue(&s.pos, s.env())
			s.positionChanged()
			settled = settled && !s.pos.Last.Before(now)
		}
		if s.pos.Debt.Sign() > 0 {
			v.liquidate(now, s)
			settled = false
		}
	}
	v.now = now
	v.brought.set(now, v.slotsVersion(), settled)
	return nil
}

// slotsVersion is the count of the slots' value invalidations, which
// every change of a position, an observation or a slot's time bumps
// (slot.invalidate).
func (v *Vault) slotsVersion() uint64 { return v.slotVer.n }

// positionsValue is the value of every position at the vault's pricing,
// plus queued claims, excluding pending rewards.
func (v *Vault) positionsValue() num {
	ver := v.slotsVersion()
	if pv, ok := v.assets.positions(ver); ok {
		return pv
	}
	var sum num // fixed.Add's sums, on a num
	n := 0
	for _, s := range v.markets {
		if s.pos.Units.Sign() != 0 || len(s.pos.Claims) > 0 {
			sum = sum.Add(v.slotNum(s))
			n++
		}
	}
	pv := num{} // decimal.Zero, as fixed.Add's sum of no terms was
	if n > 0 {
		pv = sum
	}
	v.assets.setPositions(pv, ver)
	return pv
}

func (v *Vault) slotValue(s *slot) decimal.Decimal {
	uv := v.value(s)
	if s.value.claimsDec.Sign() == 0 {
		return uv
	}
	return fixed.Add(uv, s.value.claimsDec)
}

// slotNum is slotValue as a num, without building decimals.
func (v *Vault) slotNum(s *slot) num {
	c := v.fill(s)
	if c.claims.Sign() == 0 {
		return c.units
	}
	return c.units.Add(c.claims)
}

// value returns the value of a slot's units at the vault's pricing (not
// its claims), filling the cache.
func (v *Vault) value(s *slot) decimal.Decimal {
	c := v.fill(s)
	if !c.unitsDecOK {
		c.unitsDec, c.unitsDecOK = c.units.Dec(), true
	}
	return c.unitsDec
}

// weight is the slot's units' value (value) over navF, from the cached
// num: f64(value(s)) / navF without building or reading the decimal.
func (v *Vault) weight(s *slot, navF float64) float64 {
	return v.fill(s).unitsFloat() / navF
}

// fill fills a slot's value cache and returns it: the units' value on
// nums when the adapter values units at a rate (adapters.RateValuer: the
// same value as its Value, without a decimal per position and step),
// else from Value. A tick asks for each slot's value several times (the
// fees' NAV, the strategy's state, the decision, the step's record):
// the cache's hit is small enough to be inlined at each, its fill made
// apart (fillValue).
func (v *Vault) fill(s *slot) *valueCache {
	if c := &s.value; c.ok {
		return c
	}
	return v.fillValue(s)
}

// fillValue is fill's work when the cache is empty.
func (v *Vault) fillValue(s *slot) *valueCache {
	c := &s.value
	c.units, c.unitsDec, c.unitsDecOK, c.unitsFOK = num{}, zero, true, false
	if s.pos.Units.Sign() != 0 {
		if r, ok := s.ad.ValueRate(&s.pos, s.env(), v.cfg.Pricing); ok {
			c.units, c.unitsDecOK = c.rate.of(s.pos.Units, r), false
		} else {
			c.unitsDec = s.ad.Value(&s.pos, s.env(), v.cfg.Pricing)
			c.units = nm(c.unitsDec)
		}
	}
	c.claimsDec, c.claims = zero, num{} // nm(zero)
	if len(s.pos.Claims) > 0 {
		for i := range s.pos.Claims {
			c.claimsDec = fixed.Add(c.claimsDec, s.pos.Claims[i].Amount())
		}
		c.claims = nm(c.claimsDec)
	}
	c.ok = true
	return c
}

// GrossAssets is idle plus every position and queued claim at the vault's
// pricing: everything the vault holds except pending rewards, before
// locked profit is taken out. This is the NAV the rebalancer's cost
// identity holds on.
func (v *Vault) GrossAssets() decimal.Decimal { return v.assets.gaDec.of(v.grossN()) }

// grossN is GrossAssets on a num.
func (v *Vault) grossN() num {
	v.positionsValue()
	return v.assets.gross(v.idle)
}

// TotalAssets is what the shares are worth: GrossAssets minus the profit
// still locked (never below zero). Pending rewards do not count until
// harvested. It reflects the vault's last operation; call Accrue first to
// bring it to a later time.
func (v *Vault) TotalAssets() decimal.Decimal { return v.assets.taDec.of(v.totalAssetsN()) }

// totalAssetsN is TotalAssets on a num.
func (v *Vault) totalAssetsN() num {
	ta := v.grossN().Sub(v.locked.at(v.now))
	if ta.Sign() < 0 {
		return num{}
	}
	return ta
}

// LockedProfit is the harvested profit not yet unlocked.
func (v *Vault) LockedProfit() decimal.Decimal { return v.locked.At(v.now) }

// PendingRewards is the sum of the positions' unharvested rewards.
func (v *Vault) PendingRewards() decimal.Decimal {
	var sum num
	for _, s := range v.markets {
		sum = sum.Add(s.pos.Rewards)
	}
	return sum.Dec()
}

// HighWaterMark is the price per share performance fees were last charged
// at (or the start price).
func (v *Vault) HighWaterMark() decimal.Decimal { return v.hwm.Dec() }

// PricePerShare is what one share is worth in the base asset:
// (TotalAssets + 1 unit) / (TotalSupply + VirtualShares), at 36 places.
func (v *Vault) PricePerShare() decimal.Decimal { return v.pps(v.totalAssetsN()).Dec() }

// pps is the price per share at total assets ta, with its words (the
// high-water mark the fee accrual compares with on words).
func (v *Vault) pps(ta num) fixed.Wide {
	return v.ppsAt.of(ta, v.supply, v.virtualShares)
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// liquidate applies the protocol's liquidation to a loop position whose
// health factor fell below 1 (adapters.Liquidator): the equity lost is
// recognised as a loss and booked in the ledger with its cause.
func (v *Vault) liquidate(now time.Time, s *slot) {
	np, lq, ok := s.ad.Liquidate(s.pos, s.env())
	if !ok {
		return
	}
	before := v.posValue(s, &s.pos)
	s.set(np)
	loss := maxDec(zero, before.Sub(v.posValue(s, &s.pos)))
	borne := v.recognizeLoss(now, loss)
	reason := fmt.Sprintf("%s; %d liquidation call(s) repaid %s of debt for %s of collateral; health factor after %.4g; share price bears %s after locked profit",
		lq.Cause, lq.Calls, lq.Repaid.StringFixed(6), lq.Seized.StringFixed(6), lq.HealthAfter, borne.StringFixed(6))
	v.ledger.add(Entry{Time: now, Type: EntryLiquidation, Market: s.id, Amount: loss, Reason: reason})
}

// LoopFigures returns the loop figures of the vault's position in market
// id (adapters.Leverer): ok is false for a market that does not borrow or
// a position that holds nothing.
func (v *Vault) LoopFigures(id string) (adapters.LoopFigures, bool) {
	i, ok := v.byID[id]
	if !ok {
		return adapters.LoopFigures{}, false
	}
	s := v.markets[i]
	l := s.ad.Leverer()
	if l == nil || s.pos.Units.Sign() == 0 {
		return adapters.LoopFigures{}, false
	}
	return l.Figures(&s.pos, s.env(), s.pos.Leverage), true
}
