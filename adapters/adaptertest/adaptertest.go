// Package adaptertest is the conformance suite every market adapter
// passes, in the manner of go-cloud's drivertest: an adapter package
// describes how to build its adapter and its environments in a Harness and
// calls Run from its own tests.
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, adaptertest.Harness{
//			Open: func(t *testing.T) *adapters.Adapter { ... },
//			Env:  func(c adaptertest.Conditions) adapters.Env { ... },
//			LossEvent: adapters.EventSlash,
//			Queues:    true,
//		})
//	}
//
// The suite, not each package, holds the behaviour every adapter shares:
// deposits are valued at the amount minus entry costs, zero-time accrual
// changes nothing, a constant rate compounds exactly, instant exits are
// bounded by exit liquidity with a typed error, queued withdrawals are
// claimable only after their delay and stay exposed to losses until then,
// a loss event cuts value by exactly its size, no value is ever negative,
// no exit is quoted at a negative cost or delay, and the same inputs give
// the same outputs.
package adaptertest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Conditions describe the market state the suite asks a Harness for.
type Conditions struct {
	// Time is the environment's time (and the observation's).
	Time time.Time
	// APY is the constant rate (a fraction a year, net: what a holder
	// earns) at which one unit's value grows. It may be negative.
	APY float64
	// ExitLiquidity, when > 0, is the instant-exit depth in base units.
	// Zero asks for ample liquidity: far more than any amount the suite
	// moves (at least 1e6 base units).
	ExitLiquidity float64
	// GasPrice is the gas price in gwei.
	GasPrice float64
	// BorrowAPY, for markets that borrow (Harness.Borrows), is the
	// constant rate at which one unit of debt grows.
	BorrowAPY float64
}

// Harness tells the suite how to build and drive one adapter.
type Harness struct {
	// Open returns a fresh adapter for the market under test. Required.
	Open func(t *testing.T) *adapters.Adapter
	// Env returns an environment for the conditions: an observation at
	// c.Time in which the market grows at exactly c.APY (with no separate
	// rewards), the market price at the exchange rate (no depeg), and the
	// given exit liquidity and gas price. Required.
	Env func(c Conditions) adapters.Env
	// LossEvent is the event type that cuts a position's value by its size
	// (EventSlash for staking, EventBadDebt for lending). Empty skips the
	// loss tests.
	LossEvent adapters.EventType
	// Covered is the share of a loss the market's insurance absorbs (0 for
	// none): a loss event of size s cuts value by s x (1 - Covered).
	Covered float64
	// Queues says the adapter has a withdrawal queue: it must implement
	// adapters.Claimer and queue withdrawals with a delay > 0.
	Queues bool
	// Harvests says the adapter must implement adapters.Harvester.
	Harvests bool
	// Borrows says positions in the market borrow against their
	// collateral (a leveraged loop): the adapter must implement
	// adapters.Liquidator, open a position at its Leverage, and Env must
	// put c.BorrowAPY in the observation as the debt's rate (with no
	// borrow index, and no market size to move it).
	Borrows bool
	// Growth is the expected growth factor of a position's value (rate
	// pricing) held for dt at the constant APY. Nil means compounding:
	// (1+apy)^(dt / 365 days).
	Growth func(apy float64, dt time.Duration) float64
	// Tolerance is the relative tolerance of value comparisons. Zero means
	// 1e-12.
	Tolerance float64
	// Amount is the deposit size the suite uses, in base units. Zero means
	// 10.
	Amount decimal.Decimal
	// OwnLiquid says part of a position's own value is free liquidity that
	// the observation does not count (a lending market: history records
	// the market without the vault): the share the market's observed
	// utilization leaves free, value x (1 - utilization). The Env must
	// then set FieldUtilization, and the exit-liquidity test expects the
	// observed liquidity plus that share as the limit of exits and quotes.
	OwnLiquid bool
	// Start is the time the scenarios start at: T0 when zero. A market
	// that did not exist at T0 (its profile's parameters in force only
	// later) starts when it did.
	Start time.Time
}

// Year is the length of a year the suite compounds over (365 days).
const Year = 365 * 24 * time.Hour

// T0 is the time the suite's scenarios start at.
var T0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// start is the time the scenarios start at (Start, else T0).
func (h *Harness) start() time.Time {
	if h.Start.IsZero() {
		return T0
	}
	return h.Start
}

func (h *Harness) tol() float64 {
	if h.Tolerance > 0 {
		return h.Tolerance
	}
	return 1e-12
}

func (h *Harness) amount() decimal.Decimal {
	if h.Amount.Sign() > 0 {
		return h.Amount
	}
	return decimal.NewFromInt(10)
}

// num is amount as a fixed.Num, the adapters' amount type.
func (h *Harness) num() fixed.Num { return fixed.FromDec(h.amount()) }

func (h *Harness) growth(apy float64, dt time.Duration) float64 {
	if h.Growth != nil {
		return h.Growth(apy, dt)
	}
	return math.Pow(1+apy, dt.Hours()/Year.Hours())
}

func (h *Harness) env(c Conditions) *adapters.Env {
	e := h.Env(c)
	return &e
}

// Run runs the conformance suite against the adapter the harness builds.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil || h.Env == nil {
		t.Fatal("adaptertest: Harness.Open and Harness.Env are required")
	}
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, &h) })
	t.Run("DepositValue", func(t *testing.T) { testDepositValue(t, &h) })
	t.Run("QuoteMatchesDeposit", func(t *testing.T) { testQuote(t, &h) })
	t.Run("QuotePartsMatchQuote", func(t *testing.T) { testQuoteParts(t, &h) })
	t.Run("ExitCostNotNegative", func(t *testing.T) { testExitNotNegative(t, &h) })
	t.Run("ZeroTimeAccrual", func(t *testing.T) { testZeroTime(t, &h) })
	t.Run("ConstantRateYear", func(t *testing.T) { testConstantRate(t, &h) })
	t.Run("InvalidArguments", func(t *testing.T) { testInvalid(t, &h) })
	t.Run("ExitLiquidity", func(t *testing.T) { testExitLiquidity(t, &h) })
	t.Run("WithdrawAll", func(t *testing.T) { testWithdrawAll(t, &h) })
	if h.Queues {
		t.Run("QueuedWithdrawal", func(t *testing.T) { testQueue(t, &h) })
	}
	if h.LossEvent != "" {
		t.Run("LossEvent", func(t *testing.T) { testLoss(t, &h) })
	}
	if h.Harvests {
		t.Run("Harvest", func(t *testing.T) { testHarvest(t, &h) })
	}
	if h.Borrows {
		t.Run("DebtConstantRateYear", func(t *testing.T) { testDebtConstantRate(t, &h) })
		t.Run("DebtInvariants", func(t *testing.T) { testDebtInvariants(t, &h) })
	}
	t.Run("RandomSequences", func(t *testing.T) { testRandom(t, &h) })
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(t, &h) })
}

// relDiff is |got-want| / max(|want|, 1e-18).
func relDiff(got, want decimal.Decimal) float64 {
	d := got.Sub(want).Abs().InexactFloat64()
	w := want.Abs().InexactFloat64()
	if w < 1e-18 {
		w = 1e-18
	}
	return d / w
}

func near(got, want decimal.Decimal, tol float64) bool {
	// Amounts are quantized to 18 places: allow a few units in the last
	// place on top of the relative tolerance.
	if got.Sub(want).Abs().LessThanOrEqual(decimal.New(1, -15)) {
		return true
	}
	return relDiff(got, want) <= tol
}

func deposit(t *testing.T, h *Harness, a *adapters.Adapter, env *adapters.Env) (adapters.Position, adapters.Fill) {
	t.Helper()
	pos, f, err := a.Deposit(a.NewPosition(), env, h.num())
	if err != nil {
		t.Fatalf("Deposit(%s) error = %v", h.amount(), err)
	}
	return pos, f
}

func testCapabilities(t *testing.T, h *Harness) {
	a := h.Open(t)
	if got := a.CanQueue(); got != h.Queues {
		t.Errorf("CanQueue() = %v, want %v", got, h.Queues)
	}
	if got := a.CanBorrow(); got != h.Borrows {
		t.Errorf("CanBorrow() = %v, want %v", got, h.Borrows)
	}
	if got := a.CanHarvest(); got != h.Harvests {
		t.Errorf("CanHarvest() = %v, want %v", got, h.Harvests)
	}
	if p := a.NewPosition(); p.Market != a.Market().ID || !p.IsZero() {
		t.Errorf("NewPosition() = %+v, want an empty position of %s", p, a.Market().ID)
	}
}

func testDepositValue(t *testing.T, h *Harness) {
	T0 := h.start()
	for _, gas := range []float64{0, 30} {
		t.Run(fmt.Sprintf("gas=%g", gas), func(t *testing.T) {
			a := h.Open(t)
			env := h.env(Conditions{Time: T0, APY: 0.04, GasPrice: gas})
			pos, f := deposit(t, h, a, env)
			if !f.Amount.Equal(h.num()) {
				t.Errorf("Fill.Amount = %s, want the amount deposited %s", f.Amount, h.amount())
			}
			if want := h.amount().Sub(f.Cost().Dec()); !near(f.Value.Dec(), want, h.tol()) {
				t.Errorf("Fill.Value = %s, want amount - costs = %s", f.Value, want)
			}
			if got := a.Value(&pos, env, adapters.PriceRate); !near(got, f.Value.Dec(), h.tol()) {
				t.Errorf("Value(rate) after deposit = %s, want Fill.Value %s", got, f.Value)
			}
			if gas == 0 && f.Gas.Sign() != 0 {
				t.Errorf("Fill.Gas = %s at gas price 0, want 0", f.Gas)
			}
			if gas > 0 && f.Gas.Sign() < 0 {
				t.Errorf("Fill.Gas = %s, want >= 0", f.Gas)
			}
			if !pos.Last.Equal(T0) {
				t.Errorf("Last = %v after deposit, want %v", pos.Last, T0)
			}
			// A second deposit adds its value.
			before := a.Value(&pos, env, adapters.PriceRate)
			pos2, f2, err := a.Deposit(pos, env, h.num())
			if err != nil {
				t.Fatalf("second Deposit error = %v", err)
			}
			if got, want := a.Value(&pos2, env, adapters.PriceRate), before.Add(f2.Value.Dec()); !near(got, want, h.tol()) {
				t.Errorf("Value after second deposit = %s, want %s", got, want)
			}
		})
	}
}

func testQuote(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	env := h.env(Conditions{Time: T0, APY: 0.04, GasPrice: 20})
	q, err := a.Quote(env, h.num())
	if err != nil {
		t.Fatalf("Quote error = %v", err)
	}
	_, f := deposit(t, h, a, env)
	if !near(q.EntryCost.Dec(), f.Cost().Dec(), h.tol()) {
		t.Errorf("Quote.EntryCost = %s, want the deposit's cost %s", q.EntryCost, f.Cost())
	}
	if q.EntryCost.Sign() < 0 || q.ExitCost.Sign() < 0 || q.MaxInstantExit.Sign() < 0 || q.ExitDelay < 0 {
		t.Errorf("Quote = %+v has a negative cost, delay or exit", q)
	}
	if math.IsNaN(q.APY) || math.IsInf(q.APY, 0) {
		t.Errorf("Quote.APY = %g, want a finite number", q.APY)
	}
	if _, err := a.Quote(env, fixed.Num{}); err != nil {
		t.Errorf("Quote(0) error = %v, want the current APY", err)
	}
}

// testQuoteParts checks QuoteYield, QuoteSellYield, QuoteEntry and
// QuoteSellExit against Quote and QuoteSell: the same APY, RewardAPY and
// Unknown (and EntryCost for QuoteEntry, the exit's fields for
// QuoteSellExit), no other field set, and the same error, with and
// without a holder, at amounts from zero to beyond the exit liquidity,
// and for an invalid amount and gas price.
func testQuoteParts(t *testing.T, h *Harness) {
	const entryPart, exitPart = 1, 2
	a := h.Open(t)
	for _, c := range []Conditions{
		{Time: h.start(), APY: 0.04, GasPrice: 20},
		{Time: h.start().Add(90 * 24 * time.Hour), APY: -0.02, ExitLiquidity: 3, GasPrice: 0},
		{Time: h.start(), APY: 0.3, ExitLiquidity: 1e3, GasPrice: math.NaN()},
	} {
		env := h.env(c)
		bad := c.GasPrice != c.GasPrice
		held := *env
		if !bad {
			pos, _ := deposit(t, h, a, env)
			held.Held = &pos
		}
		for _, e := range []*adapters.Env{env, &held} {
			for _, x := range []float64{0, 0.5, 1, 7, 1e4, -1} {
				amt := h.num().MulQ(x)
				if x < 0 {
					amt = amt.Neg()
				}
				check := func(what string, full, part func(*adapters.Env, fixed.Num) (adapters.Quote, error), fields int) {
					q, err := full(e, amt)
					y, yerr := part(e, amt)
					if fmt.Sprint(err) != fmt.Sprint(yerr) {
						t.Errorf("%s at %+v, amount %s (holder %v): error %v, want the full quote's %v", what, c, amt, e.Held != nil, yerr, err)
						return
					}
					if err != nil {
						return
					}
					want := adapters.Quote{APY: q.APY, RewardAPY: q.RewardAPY, Unknown: q.Unknown}
					if fields&entryPart != 0 {
						want.EntryCost = q.EntryCost
					}
					if fields&exitPart != 0 {
						want.ExitCost, want.ExitDelay, want.QueueClosed, want.MaxInstantExit = q.ExitCost, q.ExitDelay, q.QueueClosed, q.MaxInstantExit
					}
					if !cmp.Equal(y, want, Comparer()) || math.Float64bits(y.APY) != math.Float64bits(q.APY) {
						t.Errorf("%s at %+v, amount %s (holder %v) = %+v, want the full quote's part %+v", what, c, amt, e.Held != nil, y, want)
					}
				}
				check("QuoteYield", a.Quote, a.QuoteYield, 0)
				check("QuoteSellYield", a.QuoteSell, a.QuoteSellYield, 0)
				check("QuoteEntry", a.Quote, a.QuoteEntry, entryPart)
				check("QuoteSellExit", a.QuoteSell, a.QuoteSellExit, exitPart)
			}
		}
	}
}

// testExitNotNegative checks the quote contract's promise that an exit
// never costs less than nothing (adapters.Quote): ExitCost and ExitDelay
// are >= 0 in Quote, QuoteSell and QuoteSellExit, with and without a
// holder, at amounts from zero to beyond the exit liquidity, with and
// without gas. A vault's funding walk counts an exit it has not priced as
// costing at least nothing.
func testExitNotNegative(t *testing.T, h *Harness) {
	a := h.Open(t)
	var amounts []fixed.Num
	for _, x := range []float64{0, 0.01, 0.5, 1, 7, 1e4} {
		amounts = append(amounts, h.num().MulQ(x))
	}
	for _, c := range []Conditions{
		{Time: h.start(), APY: 0.04, GasPrice: 20},
		{Time: h.start().Add(90 * 24 * time.Hour), APY: -0.02, ExitLiquidity: 3, GasPrice: 0},
		{Time: h.start(), APY: 0.3, ExitLiquidity: 1e3, GasPrice: 150},
	} {
		env := h.env(c)
		held := *env
		pos, _ := deposit(t, h, a, env)
		held.Held = &pos
		for _, e := range []*adapters.Env{env, &held} {
			for _, msg := range negativeExits(a, e, amounts) {
				t.Errorf("at %+v (holder %v): %s", c, e.Held != nil, msg)
			}
		}
	}
}

// negativeExits says which of a's quotes at env and the amounts (Quote,
// QuoteSell, QuoteSellExit) have a negative exit cost or delay; quotes
// that fail are not checked.
func negativeExits(a *adapters.Adapter, env *adapters.Env, amounts []fixed.Num) []string {
	var out []string
	for _, amt := range amounts {
		for _, f := range []struct {
			name  string
			quote func(*adapters.Env, fixed.Num) (adapters.Quote, error)
		}{{"Quote", a.Quote}, {"QuoteSell", a.QuoteSell}, {"QuoteSellExit", a.QuoteSellExit}} {
			q, err := f.quote(env, amt)
			if err == nil && (q.ExitCost.Sign() < 0 || q.ExitDelay < 0) {
				out = append(out, fmt.Sprintf("%s(%s): exit cost %s and delay %s, want both >= 0", f.name, amt, q.ExitCost, q.ExitDelay))
			}
		}
	}
	return out
}

func testZeroTime(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	env := h.env(Conditions{Time: T0, APY: 0.05, GasPrice: 10})
	pos, _ := deposit(t, h, a, env)
	want := clonePos(pos)
	// Same time, and a different observed rate: nothing may move.
	env2 := h.env(Conditions{Time: T0, APY: 0.20, GasPrice: 10})
	a.Accrue(&pos, env2)
	if diff := cmp.Diff(want, pos, Comparer()); diff != "" {
		t.Errorf("Accrue to pos.Last changed the position (-want +got):\n%s", diff)
	}
	v1 := a.Value(&pos, env, adapters.PriceRate)
	a.Accrue(&pos, env)
	if v2 := a.Value(&pos, env, adapters.PriceRate); !v1.Equal(v2) {
		t.Errorf("Value after zero-time Accrue = %s, want %s", v2, v1)
	}
}

func testConstantRate(t *testing.T, h *Harness) {
	T0 := h.start()
	for _, apy := range []float64{0.035, 0.12, 0, -0.02} {
		t.Run(fmt.Sprintf("apy=%g", apy), func(t *testing.T) {
			a := h.Open(t)
			env := h.env(Conditions{Time: T0, APY: apy})
			pos, _ := deposit(t, h, a, env)
			v0 := a.Value(&pos, env, adapters.PriceRate)
			want := v0.Mul(adapters.FromFloat(h.growth(apy, Year)))

			one := clonePos(pos)
			end := h.env(Conditions{Time: T0.Add(Year), APY: apy})
			a.Accrue(&one, end)
			if got := a.Value(&one, end, adapters.PriceRate); relDiff(got, want) > h.tol() {
				t.Errorf("one step: value after a year = %s, want %s (rel diff %.3g > %g)", got, want, relDiff(got, want), h.tol())
			}
			if !one.Last.Equal(T0.Add(Year)) {
				t.Errorf("Last = %v after Accrue, want %v", one.Last, T0.Add(Year))
			}
			// Value at a later env without Accrue projects the same value.
			if got := a.Value(&pos, end, adapters.PriceRate); relDiff(got, want) > h.tol() {
				t.Errorf("Value projected a year ahead = %s, want %s", got, want)
			}

			daily := clonePos(pos)
			for d := 1; d <= 365; d++ {
				a.Accrue(&daily, h.env(Conditions{Time: T0.Add(time.Duration(d) * 24 * time.Hour), APY: apy}))
			}
			if got := a.Value(&daily, end, adapters.PriceRate); relDiff(got, want) > h.tol() {
				t.Errorf("365 daily steps: value = %s, want %s (rel diff %.3g)", got, want, relDiff(got, want))
			}
		})
	}
}

func testInvalid(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	env := h.env(Conditions{Time: T0, APY: 0.03})
	pos, _ := deposit(t, h, a, env)
	tests := []struct {
		name string
		run  func() error
	}{
		{"deposit zero", func() error { _, _, err := a.Deposit(pos, env, fixed.Num{}); return err }},
		{"deposit negative", func() error { _, _, err := a.Deposit(pos, env, fixed.NewFromInt(-1)); return err }},
		{"nil env", func() error { _, _, err := a.Deposit(pos, nil, h.num()); return err }},
		{"withdraw negative", func() error {
			_, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.NewFromInt(-1)})
			return err
		}},
		{"withdraw more than held", func() error {
			_, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(h.amount().Mul(decimal.NewFromInt(3))), Mode: adapters.ExitInstant})
			return err
		}},
		{"other market's position", func() error {
			p := clonePos(pos)
			p.Market = "other/market"
			_, _, err := a.Deposit(p, env, h.num())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("error = %v, want kind %v", err, adapters.KindInvalid)
			}
		})
	}
}

func testExitLiquidity(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	amt := h.amount()
	liq := amt.InexactFloat64() / 4
	env := h.env(Conditions{Time: T0, APY: 0.03, ExitLiquidity: liq})
	pos, _ := deposit(t, h, a, env)
	half := amt.DivRound(decimal.NewFromInt(2), adapters.Scale)
	if h.OwnLiquid {
		testOwnLiquidity(t, h, a, env, pos, liq)
		return
	}

	_, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(half), Mode: adapters.ExitInstant})
	if !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Fatalf("instant Withdraw(%s) with exit liquidity %g: error = %v, want kind %v", half, liq, err, adapters.KindInsufficientLiquidity)
	}

	np, f, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(half), Mode: adapters.ExitInstant, AllowPartial: true})
	if err != nil {
		t.Fatalf("instant Withdraw with AllowPartial: error = %v", err)
	}
	if !f.Partial {
		t.Errorf("Fill.Partial = false, want true when %s exceeds exit liquidity %g", half, liq)
	}
	if f.Value.InexactFloat64() > liq*(1+1e-12) || f.Value.Sign() <= 0 {
		t.Errorf("partial Fill.Value = %s, want within (0, %g]", f.Value, liq)
	}
	before := a.Value(&pos, env, adapters.PriceRate)
	if got, want := a.Value(&np, env, adapters.PriceRate), before.Sub(f.Value.Dec()); !near(got, want, h.tol()) {
		t.Errorf("Value after partial exit = %s, want %s", got, want)
	}
	checkFillBalance(t, "partial exit", f)

	// Within liquidity, an instant exit fills in full, with a bounded slippage.
	small := decimal.NewFromFloat(liq / 10)
	_, f, err = a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(small), Mode: adapters.ExitInstant})
	if err != nil {
		t.Fatalf("instant Withdraw(%s) within liquidity %g: error = %v", small, liq, err)
	}
	if f.Partial || !near(f.Value.Dec(), small, h.tol()) {
		t.Errorf("Fill = %+v, want a full fill of %s", f, small)
	}
	checkFillBalance(t, "instant exit", f)
	if f.Slippage.Sign() > 0 {
		frac := f.Slippage.InexactFloat64() / small.InexactFloat64()
		_, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(small), Mode: adapters.ExitInstant, MaxSlippage: frac / 2})
		if !errors.Is(err, adapters.ErrCapExceeded) {
			t.Errorf("Withdraw with MaxSlippage %g below the slippage %g: error = %v, want kind %v", frac/2, frac, err, adapters.KindCapExceeded)
		}
	}
	q, err := a.Quote(env, fixed.Num{})
	if err != nil {
		t.Fatalf("Quote error = %v", err)
	}
	if q.MaxInstantExit.InexactFloat64() > liq*(1+1e-12) {
		t.Errorf("Quote.MaxInstantExit = %s, want <= exit liquidity %g", q.MaxInstantExit, liq)
	}
}

// testOwnLiquidity checks an adapter whose position's own value is partly
// free liquidity (Harness.OwnLiquid): an exit takes at most the observed
// liquidity plus the position's free share, value x (1 - utilization), in
// part when allowed; quotes for the holder count the same, without the
// holder the observed liquidity alone.
func testOwnLiquidity(t *testing.T, h *Harness, a *adapters.Adapter, env *adapters.Env, pos adapters.Position, liq float64) {
	u, ok := env.Obs.Get(adapters.FieldUtilization)
	if !ok {
		t.Fatalf("Harness.OwnLiquid needs an Env that observes %s", adapters.FieldUtilization)
	}
	value := a.Value(&pos, env, adapters.PriceRate)
	want := liq + value.InexactFloat64()*(1-math.Min(1, math.Max(0, u)))
	near := func(got decimal.Decimal) bool {
		return math.Abs(got.InexactFloat64()-math.Min(want, value.InexactFloat64())) <= want*1e-9
	}
	_, f, err := a.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: adapters.ExitInstant, AllowPartial: true})
	if err != nil {
		t.Fatalf("instant Withdraw(all of %s, partial allowed) with exit liquidity %g at utilization %g: error = %v", value, liq, u, err)
	}
	if !near(f.Value.Dec()) || f.Partial != (want < value.InexactFloat64()) {
		t.Errorf("Fill = %+v, want %g (observed liquidity plus the position's free share), partial %v", f, want, want < value.InexactFloat64())
	}
	checkFillBalance(t, "exit", f)
	if want < value.InexactFloat64() {
		if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: adapters.ExitInstant}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
			t.Errorf("instant Withdraw(all of %s) with %g of cash: error = %v, want kind %v", value, want, err, adapters.KindInsufficientLiquidity)
		}
	}
	q, err := a.Quote(env, fixed.Num{})
	if err != nil {
		t.Fatalf("Quote error = %v", err)
	}
	if q.MaxInstantExit.InexactFloat64() > liq*(1+1e-12) {
		t.Errorf("Quote.MaxInstantExit without a holder = %s, want <= exit liquidity %g", q.MaxInstantExit, liq)
	}
	held := *env
	held.Held = &pos
	q, err = a.Quote(&held, fixed.Num{})
	if err != nil {
		t.Fatalf("Quote error = %v", err)
	}
	if got := q.MaxInstantExit.InexactFloat64(); math.Abs(got-want) > want*1e-9 {
		t.Errorf("Quote.MaxInstantExit for the holder = %g, want exit liquidity + the position's free share %g", got, want)
	}
	q, err = a.QuoteSell(&held, fixed.FromDec(value))
	if err != nil {
		t.Fatalf("QuoteSell error = %v", err)
	}
	if got := q.MaxInstantExit.InexactFloat64(); math.Abs(got-want) > want*1e-9 {
		t.Errorf("QuoteSell.MaxInstantExit = %g, want exit liquidity + the position's free share %g", got, want)
	}
}

func testWithdrawAll(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	env := h.env(Conditions{Time: T0, APY: 0.03, GasPrice: 5})
	pos, _ := deposit(t, h, a, env)
	later := h.env(Conditions{Time: T0.Add(30 * 24 * time.Hour), APY: 0.03, GasPrice: 5})
	mode := adapters.ExitInstant
	if h.Queues {
		mode = adapters.ExitAuto
	}
	want := a.Value(&pos, later, adapters.PriceRate)
	np, f, err := a.Withdraw(pos, later, adapters.Withdrawal{All: true, Mode: mode})
	if err != nil {
		t.Fatalf("Withdraw(All) error = %v", err)
	}
	if np.Units.Sign() != 0 {
		t.Errorf("Units after Withdraw(All) = %s, want 0", np.Units)
	}
	if got := a.Value(&np, later, adapters.PriceRate); got.Sign() != 0 {
		t.Errorf("Value after Withdraw(All) = %s, want 0", got)
	}
	if !near(f.Value.Dec(), want, h.tol()) {
		t.Errorf("Fill.Value = %s, want the whole position %s", f.Value, want)
	}
	checkFillBalance(t, "withdraw all", f)
}

func testQueue(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	env := h.env(Conditions{Time: T0, APY: 0.04, GasPrice: 10})
	pos, _ := deposit(t, h, a, env)
	half := h.amount().DivRound(decimal.NewFromInt(2), adapters.Scale)
	np, f, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(half), Mode: adapters.ExitQueue})
	if err != nil {
		t.Fatalf("queued Withdraw error = %v", err)
	}
	if f.Queued == nil || len(np.Claims) != 1 {
		t.Fatalf("queued Withdraw: Fill.Queued = %v, claims %d, want one queued claim", f.Queued, len(np.Claims))
	}
	checkFillBalance(t, "queued withdrawal", f)
	c := np.Claims[0]
	if !c.ReadyAt.After(T0) {
		t.Fatalf("claim ReadyAt = %v, want after the request at %v", c.ReadyAt, T0)
	}
	if len(pos.Claims) != 0 {
		t.Errorf("Withdraw changed the caller's position: %d claims", len(pos.Claims))
	}
	before := c.ReadyAt.Add(-time.Second)
	envBefore := h.env(Conditions{Time: before, APY: 0.04, GasPrice: 10})
	if _, _, err := a.Claim(np, envBefore); !errors.Is(err, adapters.ErrNotReady) {
		t.Errorf("Claim one second before ReadyAt: error = %v, want kind %v", err, adapters.KindNotReady)
	}
	amountBefore := c.Amount()
	if h.LossEvent != "" {
		const size = 0.1
		ev := adapters.Event{Time: before, Market: a.Market().ID, Type: h.LossEvent, Size: size}
		cut, _, err := a.Apply(np, envBefore, ev)
		if err != nil {
			t.Fatalf("Apply(%s) error = %v", h.LossEvent, err)
		}
		want := amountBefore.Mul(adapters.FromFloat(1 - size*(1-h.Covered)))
		if got := cut.Claims[0].Amount(); !near(got, want, h.tol()) {
			t.Errorf("queued claim after a %g %s = %s, want %s", size, h.LossEvent, got, want)
		}
		if got := np.Claims[0].Amount(); !got.Equal(amountBefore) {
			t.Errorf("Apply changed the caller's claim to %s, want %s", got, amountBefore)
		}
		np = cut
	}
	payout := np.Claims[0].Amount()
	envReady := h.env(Conditions{Time: c.ReadyAt, APY: 0.04, GasPrice: 10})
	paid, f, err := a.Claim(np, envReady)
	if err != nil {
		t.Fatalf("Claim at ReadyAt error = %v", err)
	}
	if len(paid.Claims) != 0 {
		t.Errorf("claims after Claim = %d, want 0", len(paid.Claims))
	}
	if !near(f.Value.Dec(), payout, h.tol()) {
		t.Errorf("Claim Fill.Value = %s, want the claim's payout %s", f.Value, payout)
	}
	checkFillBalance(t, "claim", f)
	if _, _, err := a.Claim(paid, envReady); !errors.Is(err, adapters.ErrNotReady) {
		t.Errorf("Claim with nothing queued: error = %v, want kind %v", err, adapters.KindNotReady)
	}
}

func testLoss(t *testing.T, h *Harness) {
	T0 := h.start()
	for _, size := range []float64{0, 0.01, 0.25, 1} {
		t.Run(fmt.Sprintf("size=%g", size), func(t *testing.T) {
			a := h.Open(t)
			env := h.env(Conditions{Time: T0, APY: 0.03})
			pos, _ := deposit(t, h, a, env)
			before := a.TotalValue(&pos, env, adapters.PriceRate)
			ev := adapters.Event{Time: T0, Market: a.Market().ID, Type: h.LossEvent, Size: size}
			np, loss, err := a.Apply(pos, env, ev)
			if err != nil {
				t.Fatalf("Apply error = %v", err)
			}
			eff := size * (1 - h.Covered)
			want := before.Mul(adapters.FromFloat(1 - eff))
			got := a.TotalValue(&np, env, adapters.PriceRate)
			if !near(got, want, h.tol()) {
				t.Errorf("value after a %g loss = %s, want %s", size, got, want)
			}
			if !near(loss, before.Sub(got), h.tol()) {
				t.Errorf("reported loss = %s, want %s", loss, before.Sub(got))
			}
			if got.Sign() < 0 || loss.Sign() < 0 {
				t.Errorf("negative value %s or loss %s", got, loss)
			}
		})
	}
	t.Run("other market", func(t *testing.T) {
		a := h.Open(t)
		env := h.env(Conditions{Time: T0, APY: 0.03})
		pos, _ := deposit(t, h, a, env)
		ev := adapters.Event{Time: T0, Market: "other/market", Type: h.LossEvent, Size: 0.5}
		if _, _, err := a.Apply(pos, env, ev); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("Apply of another market's event: error = %v, want kind %v", err, adapters.KindInvalid)
		}
	})
}

func testHarvest(t *testing.T, h *Harness) {
	T0 := h.start()
	a := h.Open(t)
	env := h.env(Conditions{Time: T0, APY: 0.03})
	pos, _ := deposit(t, h, a, env)
	if _, _, err := a.Harvest(pos, env); err == nil {
		t.Errorf("Harvest with no rewards: error = nil, want an error")
	} else if adapters.KindOf(err) == adapters.KindOther {
		t.Errorf("Harvest with no rewards: error %v has no kind", err)
	}
	pos.Rewards = fixed.RequireFromString("0.5")
	np, f, err := a.Harvest(pos, env)
	if err != nil {
		t.Fatalf("Harvest error = %v", err)
	}
	if np.Rewards.Sign() != 0 {
		t.Errorf("Rewards after Harvest = %s, want 0", np.Rewards)
	}
	if !near(f.Value.Dec(), pos.Rewards.Dec(), h.tol()) {
		t.Errorf("Harvest Fill.Value = %s, want the rewards %s", f.Value, pos.Rewards)
	}
	checkFillBalance(t, "harvest", f)
	if f.Amount.GreaterThan(pos.Rewards) {
		t.Errorf("Harvest Fill.Amount = %s, more than the rewards %s", f.Amount, pos.Rewards)
	}
}

// checkFillBalance checks a withdrawal-side fill: the value removed is what
// reached idle plus the costs plus what was queued.
func checkFillBalance(t *testing.T, what string, f adapters.Fill) {
	t.Helper()
	if f.Amount.Sign() < 0 || f.Gas.Sign() < 0 || f.Fee.Sign() < 0 || f.Value.Sign() < 0 {
		t.Errorf("%s: Fill %+v has a negative amount, value, gas or fee", what, f)
	}
	want := f.Amount.Add(f.Cost())
	if f.Queued != nil {
		want = want.Add(fixed.FromDec(f.Queued.Amount()))
	}
	if !near(f.Value.Dec(), want.Dec(), 1e-12) {
		t.Errorf("%s: Fill.Value = %s, want Amount + Cost (+ queued) = %s", what, f.Value, want)
	}
}

// checkDepositBalance checks a deposit fill: the amount spent is the value
// added plus the costs.
func checkDepositBalance(t *testing.T, what string, f adapters.Fill) {
	t.Helper()
	if f.Amount.Sign() <= 0 || f.Value.Sign() < 0 || f.Gas.Sign() < 0 || f.Fee.Sign() < 0 {
		t.Errorf("%s: deposit Fill %+v has a negative or zero field", what, f)
	}
	if want := f.Value.Add(f.Cost()); !near(f.Amount.Dec(), want.Dec(), 1e-12) {
		t.Errorf("%s: deposit Fill.Amount = %s, want Value + Cost = %s", what, f.Amount, want)
	}
}

// step is one operation of a random sequence and what it did.
type step struct {
	Op   string
	Pos  adapters.Position
	Fill adapters.Fill
	Loss decimal.Decimal
	Err  string
}

// sequence runs a seeded random sequence of operations and returns every
// step. It fails the test when an invariant breaks.
func sequence(t *testing.T, h *Harness, seed uint64, n int) []step {
	T0 := h.start()
	t.Helper()
	a := h.Open(t)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	now := T0
	apy := 0.04
	cond := func() Conditions {
		liq := 0.0
		if r.IntN(3) == 0 {
			liq = 1 + r.Float64()*h.amount().InexactFloat64()
		}
		return Conditions{Time: now, APY: apy, ExitLiquidity: liq, GasPrice: float64(r.IntN(4)) * 10}
	}
	pos := a.NewPosition()
	var out []step
	for i := 0; i < n; i++ {
		env := h.env(cond())
		var (
			s   step
			err error
		)
		amt := h.amount().Mul(decimal.NewFromFloat(r.Float64())).Round(6).Add(decimal.New(1, -6))
		switch op := r.IntN(9); op {
		case 0, 1:
			s.Op = "deposit " + amt.String()
			pos, s.Fill, err = a.Deposit(pos, env, fixed.FromDec(amt))
		case 2:
			s.Op = "withdraw instant " + amt.String()
			pos, s.Fill, err = a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(amt), Mode: adapters.ExitInstant, AllowPartial: r.IntN(2) == 0})
		case 3:
			s.Op = "withdraw auto " + amt.String()
			pos, s.Fill, err = a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(amt), Mode: adapters.ExitAuto})
		case 4:
			s.Op = "withdraw all"
			mode := adapters.ExitAuto
			if r.IntN(2) == 0 {
				mode = adapters.ExitQueue
			}
			pos, s.Fill, err = a.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: mode})
		case 5, 6:
			dt := time.Duration(1+r.IntN(72*60)) * time.Minute
			now = now.Add(dt)
			apy = -0.5 + r.Float64()
			s.Op = fmt.Sprintf("accrue %v at %g", dt, apy)
			env = h.env(cond())
			a.Accrue(&pos, env)
		case 7:
			if h.LossEvent == "" {
				s.Op = "skip"
				break
			}
			size := r.Float64() * 0.3
			s.Op = fmt.Sprintf("loss %g", size)
			pos, s.Loss, err = a.Apply(pos, env, adapters.Event{Time: now, Market: a.Market().ID, Type: h.LossEvent, Size: size})
		case 8:
			if h.Queues {
				s.Op = "claim"
				pos, s.Fill, err = a.Claim(pos, env)
			} else if h.Harvests {
				s.Op = "harvest"
				pos, s.Fill, err = a.Harvest(pos, env)
			} else {
				s.Op = "value"
			}
		}
		if err != nil {
			if adapters.KindOf(err) == adapters.KindOther {
				t.Fatalf("seed %d step %d %s: untyped error %v", seed, i, s.Op, err)
			}
			s.Err = err.Error()
		} else if s.Fill.Value.Sign() != 0 || s.Fill.Amount.Sign() != 0 {
			where := fmt.Sprintf("seed %d step %d %s", seed, i, s.Op)
			if strings.HasPrefix(s.Op, "deposit") {
				checkDepositBalance(t, where, s.Fill)
			} else {
				checkFillBalance(t, where, s.Fill)
			}
		}
		checkNonNegative(t, a, &pos, env, fmt.Sprintf("seed %d step %d %s", seed, i, s.Op))
		if s.Fill.Amount.Sign() < 0 || s.Loss.Sign() < 0 {
			t.Fatalf("seed %d step %d %s: negative fill %+v or loss %s", seed, i, s.Op, s.Fill, s.Loss)
		}
		s.Pos = clonePos(pos)
		out = append(out, s)
	}
	return out
}

func checkNonNegative(t *testing.T, a *adapters.Adapter, pos *adapters.Position, env *adapters.Env, where string) {
	t.Helper()
	if pos.Units.Sign() < 0 || pos.Rewards.Sign() < 0 {
		t.Fatalf("%s: negative units %s or rewards %s", where, pos.Units, pos.Rewards)
	}
	if pos.Index < 0 || math.IsNaN(pos.Index) || math.IsInf(pos.Index, 0) {
		t.Fatalf("%s: index %g is not a finite number >= 0", where, pos.Index)
	}
	for _, p := range []adapters.Pricing{adapters.PriceRate, adapters.PriceMarket} {
		if v := a.Value(pos, env, p); v.Sign() < 0 {
			t.Fatalf("%s: Value(%s) = %s < 0", where, p, v)
		}
		if v := a.TotalValue(pos, env, p); v.Sign() < 0 {
			t.Fatalf("%s: TotalValue(%s) = %s < 0", where, p, v)
		}
		// A RateValuer's Value is units x its rate, rounded as MulRate,
		// which a vault also computes on fixed.Nums.
		if r, ok := a.ValueRate(pos, env, p); ok && pos.Units.Sign() != 0 {
			v := a.Value(pos, env, p)
			if w := fixed.MulRate(pos.Units.Dec(), r); !v.Equal(w) {
				t.Fatalf("%s: Value(%s) = %s, units %s x ValueRate %v = %s", where, p, v, pos.Units, r, w)
			}
			if w := pos.Units.MulRate(r).Dec(); !v.Equal(w) {
				t.Fatalf("%s: Value(%s) = %s, on fixed.Nums %s", where, p, v, w)
			}
		}
	}
	for i, c := range pos.Claims {
		if c.Units.Sign() < 0 || c.Amount().Sign() < 0 {
			t.Fatalf("%s: claim %d has negative units %s", where, i, c.Units)
		}
	}
}

func testRandom(t *testing.T, h *Harness) {
	n := 300
	if testing.Short() {
		n = 60
	}
	for seed := uint64(1); seed <= 8; seed++ {
		sequence(t, h, seed, n)
	}
}

func testDeterministic(t *testing.T, h *Harness) {
	a := sequence(t, h, 42, 200)
	b := sequence(t, h, 42, 200)
	if diff := cmp.Diff(a, b, Comparer()); diff != "" {
		t.Errorf("the same sequence gave different results (-first +second):\n%s", diff)
	}
}

func clonePos(p adapters.Position) adapters.Position {
	c := p
	c.Claims = append([]adapters.Claim(nil), p.Claims...)
	return c
}

// Comparer is the go-cmp option that compares decimals by value, for
// tests that compare Positions, Fills and Quotes.
func Comparer() cmp.Option {
	return cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })
}

// testDebtConstantRate: a loop opened at leverage L with equity E holds
// L x E of collateral growing at APY and (L - 1) x E of debt growing at
// BorrowAPY; a year later, in one step or 365 daily ones, its value is
// L x E x (1+apy) - (L-1) x E x (1+borrow).
func testDebtConstantRate(t *testing.T, h *Harness) {
	T0 := h.start()
	for _, tc := range []struct{ lev, apy, borrow float64 }{{3, 0.035, 0.025}, {5, 0.03, 0.08}, {2, 0, 0.02}, {4, 0.04, 0}} {
		t.Run(fmt.Sprintf("lev=%g/apy=%g/borrow=%g", tc.lev, tc.apy, tc.borrow), func(t *testing.T) {
			a := h.Open(t)
			c := Conditions{Time: T0, APY: tc.apy, BorrowAPY: tc.borrow}
			env := h.env(c)
			pos := a.NewPosition()
			pos.Leverage = tc.lev
			pos, f, err := a.Deposit(pos, env, h.num())
			if err != nil {
				t.Fatalf("Deposit at leverage %g error = %v", tc.lev, err)
			}
			if pos.Debt.Sign() <= 0 {
				t.Fatalf("Debt = %s after a deposit at leverage %g, want > 0", pos.Debt, tc.lev)
			}
			e := f.Value.Dec()
			coll, debt := e.Mul(adapters.FromFloat(tc.lev)), e.Mul(adapters.FromFloat(tc.lev-1))
			if got, want := a.Value(&pos, env, adapters.PriceRate), coll.Sub(debt); !near(got, want, h.tol()) {
				t.Errorf("Value after deposit = %s, want L x E - (L-1) x E = %s", got, want)
			}
			want := coll.Mul(adapters.FromFloat(h.growth(tc.apy, Year))).Sub(debt.Mul(adapters.FromFloat(h.growth(tc.borrow, Year))))
			c.Time = T0.Add(Year)
			end := h.env(c)
			one := clonePos(pos)
			a.Accrue(&one, end)
			if got := a.Value(&one, end, adapters.PriceRate); relDiff(got, want) > h.tol()*10 {
				t.Errorf("one step: value after a year = %s, want %s (rel diff %.3g)", got, want, relDiff(got, want))
			}
			daily := clonePos(pos)
			for d := 1; d <= 365; d++ {
				c.Time = T0.Add(time.Duration(d) * 24 * time.Hour)
				a.Accrue(&daily, h.env(c))
			}
			if got := a.Value(&daily, end, adapters.PriceRate); relDiff(got, want) > h.tol()*10 {
				t.Errorf("365 daily steps: value = %s, want %s (rel diff %.3g)", got, want, relDiff(got, want))
			}
			if !one.Debt.Equal(pos.Debt) || !daily.Debt.Equal(pos.Debt) {
				t.Errorf("Accrue changed the scaled debt %s to %s / %s; interest belongs in the index", pos.Debt, one.Debt, daily.Debt)
			}
			// The debt alone, Debt x DebtIndex, is the opening debt
			// compounded at the borrow rate, in one step and in 365.
			wantDebt := debt.Mul(adapters.FromFloat(h.growth(tc.borrow, Year)))
			for _, p := range []struct {
				what string
				pos  adapters.Position
			}{{"one step", one}, {"365 daily steps", daily}} {
				got := p.pos.Debt.Dec().Mul(adapters.FromFloat(p.pos.DebtIndex))
				if relDiff(got, wantDebt) > h.tol()*10 {
					t.Errorf("%s: debt after a year = %s, want (L-1) x E x growth(borrow) = %s (rel diff %.3g)", p.what, got, wantDebt, relDiff(got, wantDebt))
				}
			}
		})
	}
}

// testDebtInvariants drives levered positions through random rates,
// deposits, withdrawals, slashes and liquidations: the debt is never
// negative, no value is negative, a position is liquidated only when its
// debt grew past what its collateral allows (never on a step where the
// borrow rate and the collateral's yield are both zero), a liquidation
// never adds value and leaves the position healthy or closed.
func testDebtInvariants(t *testing.T, h *Harness) {
	T0 := h.start()
	queued, repaid := 0, 0
	defer func() {
		if h.Queues && (queued == 0 || repaid == 0) {
			t.Errorf("the sequences queued %d unwinds and %d claims repaid debt: want both", queued, repaid)
		}
	}()
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		a := h.Open(t)
		now := T0
		c := Conditions{Time: now, APY: 0.03, BorrowAPY: 0.02}
		pos := a.NewPosition()
		pos.Leverage = 1 + 6*r.Float64()
		env := h.env(c)
		pos, _, err := a.Deposit(pos, env, h.num())
		if err != nil {
			t.Fatalf("seed %d: Deposit error = %v", seed, err)
		}
		for i := 0; i < 200; i++ {
			now = now.Add(time.Duration(1+r.IntN(240)) * time.Hour)
			c = Conditions{Time: now, APY: 0.05 * r.Float64(), BorrowAPY: []float64{0.02, 0.3, 1.5}[r.IntN(3)]}
			env = h.env(c)
			a.Accrue(&pos, env)
			switch r.IntN(6) {
			case 0:
				p := clonePos(pos)
				p.Leverage = 1 + 5*r.Float64()
				if np, _, err := a.Deposit(p, env, h.num()); err == nil {
					pos = np
				}
			case 1:
				v := a.Value(&pos, env, adapters.PriceRate)
				if v.Sign() > 0 {
					amt := v.Mul(adapters.FromFloat(0.1 + 0.5*r.Float64())).Round(adapters.Scale)
					if amt.Sign() > 0 {
						if np, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(amt), Mode: adapters.ExitInstant}); err == nil {
							pos = np
						}
					}
				}
			case 2:
				if np, _, err := a.Apply(pos, env, adapters.Event{Market: a.Market().ID, Time: now, Type: h.LossEvent, Size: 0.2 * r.Float64()}); err == nil && h.LossEvent != "" {
					pos = np
				}
			case 3:
				// A queued unwind of part or all of the position; its
				// claims repay the debt as they pay (below).
				if !h.Queues {
					break
				}
				w := adapters.Withdrawal{All: r.IntN(3) == 0, Mode: adapters.ExitQueue}
				if v := a.Value(&pos, env, adapters.PriceRate); !w.All && v.Sign() > 0 {
					w.Amount = fixed.FromDec(v.Mul(adapters.FromFloat(0.1 + 0.8*r.Float64())).Round(adapters.Scale))
				}
				if np, f, err := a.Withdraw(pos, env, w); err == nil {
					checkFillBalance(t, "queued unwind", f)
					pos = np
					queued++
				}
			}
			if h.Queues {
				if np, f, err := a.Claim(pos, env); err == nil {
					if f.Amount.Sign() < 0 {
						t.Errorf("seed %d step %d: a claim paid %s to idle", seed, i, f.Amount)
					}
					if np.Debt.Cmp(pos.Debt) < 0 {
						repaid++
					}
					pos = np
				}
			}
			before := a.Value(&pos, env, adapters.PriceRate)
			np, lq, ok := a.Liquidate(pos, env)
			if ok {
				after := a.Value(&np, env, adapters.PriceRate)
				if after.Cmp(before) > 0 {
					t.Errorf("seed %d step %d: liquidation raised the value %s to %s", seed, i, before, after)
				}
				if lq.Loss.Sign() < 0 || lq.Repaid.Sign() < 0 || lq.Seized.Cmp(lq.Repaid) < 0 {
					t.Errorf("seed %d step %d: liquidation %+v: want loss >= 0 and seized >= repaid", seed, i, lq)
				}
				if lq.HealthBefore >= 1 || (np.Debt.Sign() > 0 && np.Units.Sign() > 0 && lq.HealthAfter < 1) {
					t.Errorf("seed %d step %d: liquidation from health %g left health %g with debt %s", seed, i, lq.HealthBefore, lq.HealthAfter, np.Debt)
				}
				if _, _, again := a.Liquidate(np, env); again {
					t.Errorf("seed %d step %d: a liquidated position was liquidated again at the same time", seed, i)
				}
				pos = np
			}
			if pos.Debt.Sign() < 0 {
				t.Fatalf("seed %d step %d: debt %s < 0", seed, i, pos.Debt)
			}
			if v := a.Value(&pos, env, adapters.PriceRate); v.Sign() < 0 {
				t.Fatalf("seed %d step %d: value %s < 0", seed, i, v)
			}
			if pos.Units.Sign() == 0 && pos.Debt.Sign() != 0 {
				t.Fatalf("seed %d step %d: debt %s without collateral", seed, i, pos.Debt)
			}
			// No negative equity unless liquidated: after the protocol's
			// liquidation check a position with debt is healthy, its
			// collateral x LLTV (< 1) at least its debt.
			if l := a.Leverer(); l != nil && pos.Debt.Sign() > 0 {
				if f := l.Figures(&pos, env, 0); f.HealthFactor < 1-1e-12 || f.Leverage < 1 {
					t.Fatalf("seed %d step %d: health factor %g, leverage %g after the liquidation check", seed, i, f.HealthFactor, f.Leverage)
				}
			}
		}
	}
}
