package adapters

import (
	"math"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// Adapter is the portable type users call: one market, its profile and the
// driver of its kind. It validates arguments, keeps driver errors typed and
// names the operation. An Adapter is safe for concurrent use.
type Adapter struct {
	market  Market
	profile *Profile
	driver  Driver
	rater   RateValuer // the driver's, when it has the capability
	parter  PartQuoter // the driver's, when it has the capability
	seller  SellQuoter // the driver's, when it has the capability
}

// Open builds the adapter of a catalog market through the factory
// registered for its kind, or the named driver its catalog entry chooses
// (driver: NAME). The package registering it must be linked in (for
// example with a blank import of adapters/lst, or adapters/all).
func Open(c *Catalog, marketID string) (*Adapter, error) {
	const op = "adapters.Open"
	m, err := c.Market(marketID)
	if err != nil {
		return nil, err
	}
	p, err := c.ProfileFor(m)
	if err != nil {
		return nil, err
	}
	driver := m.DriverOf(p)
	if err := checkDriver(m.Kind, driver); err != nil {
		return nil, E(op, KindNotFound, "market %s: %v", m.ID, err)
	}
	f := factoryFor(m.Kind, driver)
	if f == nil {
		return nil, E(op, KindNotFound, "no adapter registered for kind %s (market %s)", m.Kind, m.ID)
	}
	d, err := f(m, p)
	if err != nil {
		return nil, Wrap(op, KindOf(err), err)
	}
	return NewAdapter(m, p, d), nil
}

// NewAdapter wraps a driver directly, without the registry.
func NewAdapter(m Market, p *Profile, d Driver) *Adapter {
	a := &Adapter{market: m, profile: p, driver: d}
	a.rater, _ = d.(RateValuer)
	a.parter, _ = d.(PartQuoter)
	a.seller, _ = d.(SellQuoter)
	return a
}

// Market returns the adapter's market.
func (a *Adapter) Market() Market { return a.market }

// Profile returns the market's profile (with per-market overrides).
func (a *Adapter) Profile() *Profile { return a.profile }

// Driver returns the underlying driver, for capability checks.
func (a *Adapter) Driver() Driver { return a.driver }

// NewPosition returns an empty position in the adapter's market.
func (a *Adapter) NewPosition() Position { return Position{Market: a.market.ID} }

func (a *Adapter) checkAmount(op string, amount fixed.Num, allowZero bool) error {
	if amount.Sign() < 0 || (!allowZero && amount.Sign() == 0) {
		return E(op, KindInvalid, "%s: amount %s must be > 0", a.market.ID, amount)
	}
	return nil
}

func (a *Adapter) checkPos(op string, pos *Position) error {
	if pos.Market != "" && pos.Market != a.market.ID {
		return E(op, KindInvalid, "position of %s passed to the adapter of %s", pos.Market, a.market.ID)
	}
	return nil
}

func (a *Adapter) checkEnv(op string, env *Env) error {
	if env == nil {
		return E(op, KindInvalid, "%s: no environment", a.market.ID)
	}
	if math.IsNaN(env.GasPrice) || math.IsInf(env.GasPrice, 0) || env.GasPrice < 0 {
		return E(op, KindInvalid, "%s: gas price %g must be a finite number >= 0", a.market.ID, env.GasPrice)
	}
	return nil
}

func (a *Adapter) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: KindOf(err), Err: err}
}

// Quote prices a deposit of amount (zero for the current APY).
func (a *Adapter) Quote(env *Env, amount fixed.Num) (Quote, error) {
	const op = "adapters.Quote"
	if err := a.checkEnv(op, env); err != nil {
		return Quote{}, err
	}
	if err := a.checkAmount(op, amount, true); err != nil {
		return Quote{}, err
	}
	q, err := a.driver.Quote(env, amount)
	return q, a.wrap(op, err)
}

// QuoteSell prices a sale of amount from the caller's position (env.Held):
// the driver's SellQuoter when it has one (the APY is the marginal yield
// the sale gives up, the instant-exit limit the position's own), else
// Quote, whose APY does not depend on the holder's size.
func (a *Adapter) QuoteSell(env *Env, amount fixed.Num) (Quote, error) {
	const op = "adapters.QuoteSell"
	sq := a.seller
	if sq == nil {
		return a.Quote(env, amount)
	}
	if err := a.checkEnv(op, env); err != nil {
		return Quote{}, err
	}
	if err := a.checkAmount(op, amount, true); err != nil {
		return Quote{}, err
	}
	q, err := sq.QuoteSell(env, amount)
	return q, a.wrap(op, err)
}

// QuoteYield is Quote with only its yield (APY, RewardAPY, Unknown) set,
// and the same error: the driver's PartQuoter when it has one, else
// Quote's fields. It costs less than Quote where the entry and exit
// prices are not needed.
func (a *Adapter) QuoteYield(env *Env, amount fixed.Num) (Quote, error) {
	return a.quotePart(env, amount, false, QuoteYield)
}

// QuoteSellYield is QuoteSell with only its yield (APY, RewardAPY,
// Unknown) set, and the same error (see QuoteYield).
func (a *Adapter) QuoteSellYield(env *Env, amount fixed.Num) (Quote, error) {
	return a.quotePart(env, amount, a.seller != nil, QuoteYield)
}

// QuoteEntry is Quote with only its yield and EntryCost set, and the
// same error (see QuoteYield): what a buy's gain test reads.
func (a *Adapter) QuoteEntry(env *Env, amount fixed.Num) (Quote, error) {
	return a.quotePart(env, amount, false, QuoteEntry)
}

// QuoteSellExit is QuoteSell with only its yield and exit (ExitCost,
// ExitDelay, QueueClosed, MaxInstantExit) set, and the same error (see
// QuoteYield): what pricing a sell's exit reads.
func (a *Adapter) QuoteSellExit(env *Env, amount fixed.Num) (Quote, error) {
	return a.quotePart(env, amount, a.seller != nil, QuoteExit)
}

// quotePart is Quote (QuoteSell with sell) with the fields of part alone.
func (a *Adapter) quotePart(env *Env, amount fixed.Num, sell bool, part QuotePart) (Quote, error) {
	op := "adapters.Quote"
	if sell {
		op = "adapters.QuoteSell"
	}
	if a.parter == nil {
		full := a.Quote
		if sell {
			full = a.QuoteSell
		}
		q, err := full(env, amount)
		return partOf(q, part), err
	}
	if err := a.checkEnv(op, env); err != nil {
		return Quote{}, err
	}
	if err := a.checkAmount(op, amount, true); err != nil {
		return Quote{}, err
	}
	q, err := a.parter.QuotePart(env, amount, sell, part)
	return q, a.wrap(op, err)
}

// partOf is q with only the fields of part.
func partOf(q Quote, part QuotePart) Quote {
	p := Quote{APY: q.APY, RewardAPY: q.RewardAPY, Unknown: q.Unknown}
	if part&QuoteEntry != 0 {
		p.EntryCost = q.EntryCost
	}
	if part&QuoteExit != 0 {
		p.ExitCost, p.ExitDelay, p.QueueClosed, p.MaxInstantExit = q.ExitCost, q.ExitDelay, q.QueueClosed, q.MaxInstantExit
	}
	return p
}

// Deposit puts amount of base asset into pos. The position is accrued to
// env.Time first.
func (a *Adapter) Deposit(pos Position, env *Env, amount fixed.Num) (Position, Fill, error) {
	const op = "adapters.Deposit"
	if err := a.checkEnv(op, env); err != nil {
		return pos, Fill{}, err
	}
	if err := a.checkPos(op, &pos); err != nil {
		return pos, Fill{}, err
	}
	if err := a.checkAmount(op, amount, false); err != nil {
		return pos, Fill{}, err
	}
	pos.Market = a.market.ID
	np, f, err := a.driver.Deposit(pos, env, amount)
	if err != nil {
		return pos, Fill{}, a.wrap(op, err)
	}
	return np, f, nil
}

// Withdraw takes value out of pos.
func (a *Adapter) Withdraw(pos Position, env *Env, w Withdrawal) (Position, Fill, error) {
	const op = "adapters.Withdraw"
	if err := a.checkEnv(op, env); err != nil {
		return pos, Fill{}, err
	}
	if err := a.checkPos(op, &pos); err != nil {
		return pos, Fill{}, err
	}
	if !w.All {
		if err := a.checkAmount(op, w.Amount, false); err != nil {
			return pos, Fill{}, err
		}
	}
	if w.MaxSlippage < 0 || math.IsNaN(w.MaxSlippage) {
		return pos, Fill{}, E(op, KindInvalid, "%s: max slippage %g must be >= 0", a.market.ID, w.MaxSlippage)
	}
	np, f, err := a.driver.Withdraw(pos, env, w)
	if err != nil {
		return pos, Fill{}, a.wrap(op, err)
	}
	return np, f, nil
}

// Accrue brings pos up to env.Time.
func (a *Adapter) Accrue(pos *Position, env *Env) { a.driver.Accrue(pos, env) }

// Value is the position's worth in base asset under the given pricing,
// excluding queued claims and pending rewards.
func (a *Adapter) Value(pos *Position, env *Env, pricing Pricing) decimal.Decimal {
	return a.driver.Value(pos, env, pricing)
}

// ValueRate is the driver's RateValuer.ValueRate; ok is false when the
// driver lacks the capability.
func (a *Adapter) ValueRate(pos *Position, env *Env, pricing Pricing) (float64, bool) {
	if a.rater == nil {
		return 0, false
	}
	return a.rater.ValueRate(pos, env, pricing)
}

// TotalValue is Value plus queued claims and pending rewards.
func (a *Adapter) TotalValue(pos *Position, env *Env, pricing Pricing) decimal.Decimal {
	v := a.driver.Value(pos, env, pricing).Add(pos.Rewards.Dec())
	for i := range pos.Claims {
		v = v.Add(pos.Claims[i].Amount())
	}
	return v
}

// Apply applies an event to the position and returns the value it lost.
func (a *Adapter) Apply(pos Position, env *Env, ev Event) (Position, decimal.Decimal, error) {
	const op = "adapters.Apply"
	if err := ev.Validate(); err != nil {
		return pos, decimal.Zero, a.wrap(op, err)
	}
	if ev.Market != a.market.ID {
		return pos, decimal.Zero, E(op, KindInvalid, "event for %s passed to the adapter of %s", ev.Market, a.market.ID)
	}
	np, loss, err := a.driver.Apply(pos, env, ev)
	if err != nil {
		return pos, decimal.Zero, a.wrap(op, err)
	}
	return np, loss, nil
}

// CanHarvest reports whether the market pays rewards that need harvesting.
func (a *Adapter) CanHarvest() bool { _, ok := a.driver.(Harvester); return ok }

// CanBorrow reports whether positions in the market borrow (and can be
// liquidated).
func (a *Adapter) CanBorrow() bool { _, ok := a.driver.(Liquidator); return ok }

// Liquidate applies the protocol's liquidation to an unhealthy borrowing
// position (Liquidator); ok is false when nothing happened or the market
// does not borrow.
func (a *Adapter) Liquidate(pos Position, env *Env) (Position, Liquidation, bool) {
	l, ok := a.driver.(Liquidator)
	if !ok || env == nil || pos.Debt.Sign() == 0 {
		return pos, Liquidation{}, false
	}
	return l.Liquidate(pos, env)
}

// Leverer returns the driver's Leverer capability, or nil.
func (a *Adapter) Leverer() Leverer { l, _ := a.driver.(Leverer); return l }

// Relever moves a borrowing position to leverage (Leverer); markets that
// do not borrow fail with KindInvalid.
func (a *Adapter) Relever(pos Position, env *Env, leverage float64) (Position, Fill, error) {
	const op = "adapters.Relever"
	l, ok := a.driver.(Leverer)
	if !ok {
		return pos, Fill{}, E(op, KindInvalid, "%s does not borrow", a.market.ID)
	}
	if err := a.checkEnv(op, env); err != nil {
		return pos, Fill{}, err
	}
	if !(leverage >= 1) || math.IsInf(leverage, 0) {
		return pos, Fill{}, E(op, KindInvalid, "%s: leverage %g must be a finite number >= 1", a.market.ID, leverage)
	}
	np, f, err := l.Relever(pos, env, leverage)
	if err != nil {
		return pos, Fill{}, a.wrap(op, err)
	}
	return np, f, nil
}

// CanQueue reports whether the market has a withdrawal queue.
func (a *Adapter) CanQueue() bool { _, ok := a.driver.(Claimer); return ok }

// Harvest claims and swaps pending rewards. Markets without rewards fail
// with KindInvalid.
func (a *Adapter) Harvest(pos Position, env *Env) (Position, Fill, error) {
	const op = "adapters.Harvest"
	h, ok := a.driver.(Harvester)
	if !ok {
		return pos, Fill{}, E(op, KindInvalid, "%s pays no rewards to harvest", a.market.ID)
	}
	if err := a.checkEnv(op, env); err != nil {
		return pos, Fill{}, err
	}
	np, f, err := h.Harvest(pos, env)
	if err != nil {
		return pos, Fill{}, a.wrap(op, err)
	}
	return np, f, nil
}

// Claim pays out queued withdrawals that are ready. Markets without a
// queue fail with KindInvalid; nothing ready fails with KindNotReady.
func (a *Adapter) Claim(pos Position, env *Env) (Position, Fill, error) {
	const op = "adapters.Claim"
	c, ok := a.driver.(Claimer)
	if !ok {
		return pos, Fill{}, E(op, KindInvalid, "%s has no withdrawal queue", a.market.ID)
	}
	if err := a.checkEnv(op, env); err != nil {
		return pos, Fill{}, err
	}
	np, f, err := c.Claim(pos, env)
	if err != nil {
		return pos, Fill{}, a.wrap(op, err)
	}
	return np, f, nil
}
