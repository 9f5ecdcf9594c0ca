package lst_test

import (
	"errors"
	"maps"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	"github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lst"
	"github.com/yieldvault/yieldvault/fixed"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// custom returns an adapter for a test market of a profile with the given
// parameters.
func custom(t *testing.T, rebasing bool, params map[string]float64) *adapters.Adapter {
	t.Helper()
	return testenv.Custom(t, adapters.Profile{Name: "test", Kind: adapters.LST, Base: adapters.ETH, Rebasing: rebasing}, params,
		adapters.Market{ID: "test/tok", Kind: adapters.LST, Base: adapters.ETH, Tags: []string{"operator:a"}})
}

func TestDriver_Accrue(t *testing.T) {
	year := 365 * day
	tests := []struct {
		name   string
		params map[string]float64
		steps  []*adapters.Env // the first is the deposit
		want   float64         // index after the steps
	}{
		{"observed exchange rate is used exactly", nil,
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.1, adapters.FieldAPY, 0.5), testenv.EnvKV(t0.Add(day), adapters.FieldExchangeRate, 1.2345, adapters.FieldAPY, 0.5)}, 1.2345},
		{"APY compounds over a year", nil,
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldAPY, 0.05), testenv.EnvKV(t0.Add(year), adapters.FieldAPY, 0.05)}, 1.05},
		{"last known APY carries forward", nil,
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldAPY, 0.04), testenv.EnvKV(t0.Add(year/2), adapters.FieldAPY, 0.04), testenv.EnvKV(t0.Add(year))}, 1.04},
		{"rate then APY compounds from the observed rate", nil,
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.2), testenv.EnvKV(t0.Add(year), adapters.FieldAPY, 0.1)}, 1.32},
		{"gross APY pays the protocol fee", map[string]float64{"gross_apy": 1, "fee_on_rewards": 0.1},
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldAPY, 0.05), testenv.EnvKV(t0.Add(year), adapters.FieldAPY, 0.05)}, 1.045},
		{"net APY ignores the fee", map[string]float64{"fee_on_rewards": 0.1},
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldAPY, 0.05), testenv.EnvKV(t0.Add(year), adapters.FieldAPY, 0.05)}, 1.05},
		{"an earlier time changes nothing", nil,
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.1), testenv.EnvKV(t0.Add(-day), adapters.FieldExchangeRate, 2.0)}, 1.1},
		{"negative APY shrinks", nil,
			[]*adapters.Env{testenv.EnvKV(t0, adapters.FieldAPY, -0.5), testenv.EnvKV(t0.Add(year), adapters.FieldAPY, -0.5)}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := custom(t, false, tt.params)
			pos, _, err := a.Deposit(a.NewPosition(), tt.steps[0], fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			start := pos.Index
			for _, e := range tt.steps[1:] {
				a.Accrue(&pos, e)
			}
			if !testenv.Near(pos.Index, tt.want, 1e-14) {
				t.Errorf("Index = %.17g, want %.17g", pos.Index, tt.want)
			}
			last := tt.steps[len(tt.steps)-1]
			got := a.Value(&pos, last, adapters.PriceRate).InexactFloat64()
			if want := 10 * pos.Index / start; !testenv.Near(got, want, 1e-14) {
				t.Errorf("Value = %.17g, want %.17g", got, want)
			}
		})
	}
}

func TestDriver_Withdraw(t *testing.T) {
	// Lido with its venue priced as constant-product depth (the model of
	// venues without a stableswap amplification); TestDriver_StableVenue
	// covers the Curve invariant.
	lido := func(t *testing.T) *adapters.Adapter {
		c := adapters.Builtin()
		m, err := c.Market("lido/steth")
		if err != nil {
			t.Fatal(err)
		}
		m.Params = maps.Clone(m.Params)
		if m.Params == nil {
			m.Params = map[string]float64{}
		}
		m.Params["venue_amplification"] = 0
		if err := c.AddMarket(m); err != nil {
			t.Fatal(err)
		}
		return testenv.Open(t, c, "lido/steth")
	}
	tests := []struct {
		name    string
		adapter func(*testing.T) *adapters.Adapter
		env     *adapters.Env
		w       adapters.Withdrawal
		// want: received amount, slippage, fee, gas, queued delay, partial
		amount, slippage, fee, gas float64
		delay                      time.Duration
		partial                    bool
		kind                       error
	}{
		{name: "instant: depth slippage plus depeg", adapter: lido,
			env: testenv.EnvKV(t0, adapters.FieldExitLiquidity, 100, adapters.FieldPrice, 0.98),
			w:   adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant},
			// 10 x 0.98 x 100/110
			amount: 10 * 0.98 * 100 / 110, slippage: 10 - 10*0.98*100/110},
		{name: "instant: exit liquidity from the profile", adapter: lido,
			env:    testenv.EnvKV(t0),
			w:      adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant},
			amount: 10 * 60000 / 60010.0, slippage: 10 - 10*60000/60010.0},
		{name: "instant: gas at the env's gas price", adapter: lido,
			env:    &adapters.Env{Time: t0, GasPrice: 20, Obs: testenv.EnvKV(t0, adapters.FieldExitLiquidity, 1e12).Obs},
			w:      adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant},
			amount: 10*1e12/(1e12+10) - 180000*20e-9, slippage: 10 - 10*1e12/(1e12+10), gas: 180000 * 20e-9},
		{name: "instant: more than liquidity", adapter: lido,
			env: testenv.EnvKV(t0, adapters.FieldExitLiquidity, 5),
			w:   adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant}, kind: adapters.ErrInsufficientLiquidity},
		{name: "instant: partial fill up to liquidity", adapter: lido,
			env:    testenv.EnvKV(t0, adapters.FieldExitLiquidity, 5),
			w:      adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant, AllowPartial: true},
			amount: 2.5, slippage: 2.5, partial: true},
		{name: "instant: slippage bound", adapter: lido,
			env: testenv.EnvKV(t0, adapters.FieldExitLiquidity, 100),
			w:   adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant, MaxSlippage: 0.05}, kind: adapters.ErrCapExceeded},
		{name: "instant: no venue", adapter: func(t *testing.T) *adapters.Adapter { return custom(t, false, nil) },
			env: testenv.EnvKV(t0),
			w:   adapters.Withdrawal{Amount: fixed.FromDec(dec("1")), Mode: adapters.ExitInstant}, kind: adapters.ErrInsufficientLiquidity},
		{name: "queue: profile delay", adapter: lido,
			env:   testenv.EnvKV(t0),
			w:     adapters.Withdrawal{Amount: fixed.FromDec(dec("4")), Mode: adapters.ExitQueue},
			delay: 3 * day},
		{name: "queue: observed delay", adapter: lido,
			env:   testenv.EnvKV(t0, adapters.FieldWithdrawalDays, 2.5),
			w:     adapters.Withdrawal{Amount: fixed.FromDec(dec("4")), Mode: adapters.ExitQueue},
			delay: 60 * time.Hour},
		{name: "auto: queue when the venue is dearer", adapter: lido,
			env:   testenv.EnvKV(t0, adapters.FieldExitLiquidity, 100),
			w:     adapters.Withdrawal{Amount: fixed.FromDec(dec("4")), Mode: adapters.ExitAuto},
			delay: 3 * day},
		{name: "auto: queue when the venue cannot take it", adapter: lido,
			env:   testenv.EnvKV(t0, adapters.FieldExitLiquidity, 1),
			w:     adapters.Withdrawal{Amount: fixed.FromDec(dec("4")), Mode: adapters.ExitAuto},
			delay: 3 * day},
		{name: "auto: instant when cheaper than two queue transactions", adapter: lido,
			env:    &adapters.Env{Time: t0, GasPrice: 20, Obs: testenv.EnvKV(t0, adapters.FieldExitLiquidity, 1e12).Obs},
			w:      adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitAuto},
			amount: 10*1e12/(1e12+10) - 180000*20e-9, slippage: 10 - 10*1e12/(1e12+10), gas: 180000 * 20e-9},
		{name: "more than held", adapter: lido, env: testenv.EnvKV(t0),
			w: adapters.Withdrawal{Amount: fixed.FromDec(dec("10.5")), Mode: adapters.ExitQueue}, kind: adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.adapter(t)
			pos, _, err := a.Deposit(a.NewPosition(), testenv.EnvKV(t0), fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			np, f, err := a.Withdraw(pos, tt.env, tt.w)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("error = %v, want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if tt.delay > 0 {
				if f.Queued == nil {
					t.Fatalf("Fill.Queued = nil, want a claim (fill %+v)", f)
				}
				if got := f.Queued.ReadyAt.Sub(tt.env.Time); got != tt.delay {
					t.Errorf("claim delay = %v, want %v", got, tt.delay)
				}
				if got, want := f.Queued.Amount(), f.Value.Sub(f.Gas); !got.Equal(want.Dec()) {
					t.Errorf("claim amount = %s, want value - gas = %s", got, want)
				}
				if len(np.Claims) != 1 {
					t.Errorf("claims = %d, want 1", len(np.Claims))
				}
				return
			}
			if f.Queued != nil {
				t.Fatalf("Fill.Queued = %+v, want an instant exit", f.Queued)
			}
			got := []float64{f.Amount.InexactFloat64(), f.Slippage.InexactFloat64(), f.Fee.InexactFloat64(), f.Gas.InexactFloat64()}
			want := []float64{tt.amount, tt.slippage, tt.fee, tt.gas}
			if !cmp.Equal(got, want, cmp.Comparer(func(x, y float64) bool { return testenv.Near(x, y, 1e-12) })) {
				t.Errorf("amount, slippage, fee, gas = %v, want %v", got, want)
			}
			if f.Partial != tt.partial {
				t.Errorf("Partial = %v, want %v", f.Partial, tt.partial)
			}
		})
	}
}

func TestDriver_Value(t *testing.T) {
	tests := []struct {
		name      string
		market    string
		deposit   *adapters.Env
		env       *adapters.Env
		wantRatio float64 // market value / rate value
	}{
		{"rebasing stETH: peg is the price", "lido/steth",
			testenv.EnvKV(t0), testenv.EnvKV(t0.Add(day), adapters.FieldPrice, 0.9306, adapters.FieldExchangeRate, 1.17), 0.9306},
		{"wstETH: price over exchange rate", "lido/wsteth",
			testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.17), testenv.EnvKV(t0.Add(day), adapters.FieldPrice, 1.16, adapters.FieldExchangeRate, 1.17), 1.16 / 1.17},
		// adapters.Peg: a value-accruing token's row without an observed
		// rate has no known peg (a loaded history carries the last rate
		// forward, so this is a row before any rate): it is valued at the
		// accrued index, never at price / an index that started at 1.
		{"rETH: no observed rate, peg unknown: at the accrued index", "rocketpool/reth",
			testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.1), testenv.EnvKV(t0.Add(day), adapters.FieldPrice, 1.089), 1},
		{"no price: at the rate", "coinbase/cbeth",
			testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.05), testenv.EnvKV(t0.Add(day), adapters.FieldExchangeRate, 1.06), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testenv.Open(t, nil, tt.market)
			pos, _, err := a.Deposit(a.NewPosition(), tt.deposit, fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			r := a.Value(&pos, tt.env, adapters.PriceRate).InexactFloat64()
			m := a.Value(&pos, tt.env, adapters.PriceMarket).InexactFloat64()
			if !testenv.Near(m/r, tt.wantRatio, 1e-12) {
				t.Errorf("market/rate value = %.15g, want %.15g", m/r, tt.wantRatio)
			}
		})
	}
}

func TestDriver_Apply(t *testing.T) {
	env := testenv.EnvKV(t0, adapters.FieldExitLiquidity, 1e6)
	ev := func(typ adapters.EventType, size float64, scope string) adapters.Event {
		return adapters.Event{Time: t0, Market: "test/tok", Type: typ, Size: size, Scope: scope}
	}
	tests := []struct {
		name     string
		params   map[string]float64
		ev       adapters.Event
		wantLoss string
		kind     error
	}{
		{"slash cuts by its size", nil, ev(adapters.EventSlash, 0.1, ""), "1", nil},
		{"slash scoped to a tag the market carries", nil, ev(adapters.EventSlash, 0.1, "operator:a"), "1", nil},
		{"slash scoped to the protocol tag", nil, ev(adapters.EventSlash, 0.2, "protocol:test"), "2", nil},
		{"slash scoped elsewhere misses", nil, ev(adapters.EventSlash, 0.1, "operator:b"), "0", nil},
		{"insurance covers a share", map[string]float64{"insurance_cap": 0.25}, ev(adapters.EventSlash, 0.4, ""), "3", nil},
		{"depeg is informational", nil, ev(adapters.EventDepeg, 0.05, ""), "0", nil},
		{"bad debt is not a staking event", nil, ev(adapters.EventBadDebt, 0.05, ""), "0", adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := custom(t, false, tt.params)
			pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			_, loss, err := a.Apply(pos, env, tt.ev)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Errorf("error = %v, want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !loss.Equal(dec(tt.wantLoss)) {
				t.Errorf("loss = %s, want %s", loss, tt.wantLoss)
			}
		})
	}
}

func TestDriver_Pause(t *testing.T) {
	a := custom(t, false, map[string]float64{"withdrawal_days": 1})
	env := testenv.EnvKV(t0, adapters.FieldExitLiquidity, 1e6)
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
	if err != nil {
		t.Fatal(err)
	}
	pos, _, err = a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(dec("1")), Mode: adapters.ExitQueue})
	if err != nil {
		t.Fatal(err)
	}
	paused, _, err := a.Apply(pos, env, adapters.Event{Time: t0, Market: "test/tok", Type: adapters.EventPause})
	if err != nil || !paused.Paused {
		t.Fatalf("Apply(pause) = paused %v, error %v; want paused", paused.Paused, err)
	}
	later := testenv.EnvKV(t0.Add(2*day), adapters.FieldExitLiquidity, 1e6)
	if _, _, err := a.Deposit(paused, later, fixed.FromDec(dec("1"))); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Deposit while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	if _, _, err := a.Withdraw(paused, later, adapters.Withdrawal{Amount: fixed.FromDec(dec("1")), Mode: adapters.ExitQueue}); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("queued Withdraw while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	if _, _, err := a.Claim(paused, later); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Claim while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	if _, _, err := a.Withdraw(paused, later, adapters.Withdrawal{Amount: fixed.FromDec(dec("1")), Mode: adapters.ExitInstant}); err != nil {
		t.Errorf("instant exit through the venue while paused: error = %v, want nil", err)
	}
	resumed, _, err := a.Apply(paused, later, adapters.Event{Time: later.Time, Market: "test/tok", Type: adapters.EventUnpause})
	if err != nil || resumed.Paused {
		t.Fatalf("Apply(unpause) = paused %v, error %v; want resumed", resumed.Paused, err)
	}
	if _, f, err := a.Claim(resumed, later); err != nil || !f.Value.Equal(fixed.FromDec(dec("1"))) {
		t.Errorf("Claim after unpause = %+v, %v; want a payout of 1", f, err)
	}
}

// TestProfiles exercises every built-in LST profile through adapters.Open
// on one of its markets: the quote reflects the profile's parameters and a
// month of accrual compounds the observed APY.
func TestProfiles(t *testing.T) {
	c := adapters.Builtin()
	seen := map[string]bool{}
	for _, m := range c.Markets() {
		if m.Kind != adapters.LST {
			continue
		}
		t.Run(m.ID, func(t *testing.T) {
			a := testenv.Open(t, nil, m.ID)
			p := a.Profile()
			seen[p.Name] = true
			env := &adapters.Env{Time: t0, GasPrice: 20, Obs: testenv.EnvKV(t0, adapters.FieldAPY, 0.03).Obs}
			q, err := a.Quote(env, fixed.FromDec(dec("1")))
			if err != nil {
				t.Fatal(err)
			}
			wantDelay := time.Duration(p.ParamAt("withdrawal_days", t0, 0) * float64(day))
			if p.ParamOr("queue", 1) == 0 {
				wantDelay = 0 // no queue a vault can use
			}
			if got, want := q.ExitDelay, wantDelay; got != want {
				t.Errorf("Quote.ExitDelay = %v, want withdrawal_days %v", got, want)
			}
			if got, want := q.MaxInstantExit.InexactFloat64(), p.ParamOr("exit_liquidity", 0); got != want {
				t.Errorf("Quote.MaxInstantExit = %g, want exit_liquidity %g", got, want)
			}
			if got, want := q.EntryCost.InexactFloat64(), p.ParamOr("gas_deposit", 0)*20e-9; !testenv.Near(got, want, 1e-12) {
				t.Errorf("Quote.EntryCost = %g, want gas_deposit x 20 gwei = %g", got, want)
			}
			apy := 0.03 * p.ParamAt("yield_paid", t0, 1) // Babylon paid nothing in 2024
			if q.APY != apy || q.RewardAPY != 0 {
				t.Errorf("Quote APY, RewardAPY = %g, %g, want %g, 0", q.APY, q.RewardAPY, apy)
			}
			pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("1")))
			if err != nil {
				t.Fatal(err)
			}
			end := testenv.EnvKV(t0.Add(30*day), adapters.FieldAPY, 0.03)
			a.Accrue(&pos, end)
			got := a.Value(&pos, end, adapters.PriceRate).InexactFloat64()
			if want := f.Value.InexactFloat64() * math.Pow(1+apy, 30.0/365); !testenv.Near(got, want, 1e-12) {
				t.Errorf("value after 30 days = %.15g, want %.15g", got, want)
			}
			if d, ok := a.Driver().(*lst.Driver); !ok || d == nil {
				t.Errorf("Driver() is %T, want *lst.Driver", a.Driver())
			}
		})
	}
	for _, p := range c.Profiles() {
		if p.Kind == adapters.LST && !seen[p.Name] {
			t.Errorf("LST profile %s has no built-in market exercised", p.Name)
		}
	}
}

func TestNew(t *testing.T) {
	c := adapters.Builtin()
	m, _ := c.Market("renzo/ezeth")
	p, _ := c.ProfileFor(m)
	if _, err := lst.New(m, p); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("New(LRT market) error = %v, want kind %v", err, adapters.KindInvalid)
	}
	m, _ = c.Market("lido/steth")
	bad := *p
	bad.Kind = adapters.LST
	bad.Params = map[string]adapters.Param{"fee_on_rewards": {Value: 1.5, Source: "test"}}
	if _, err := lst.New(m, &bad); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("New with fee_on_rewards 1.5: error = %v, want kind %v", err, adapters.KindInvalid)
	}
	if _, err := lst.New(m, nil); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("New with no profile: error = %v, want kind %v", err, adapters.KindInvalid)
	}
}

var _ = adaptertest.T0

func TestDriver_AccrueAllocs(t *testing.T) {
	a := testenv.Open(t, nil, "rocketpool/reth")
	env := testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.1, adapters.FieldAPY, 0.03)
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
	if err != nil {
		t.Fatal(err)
	}
	for _, withRate := range []bool{true, false} {
		if !withRate {
			env = testenv.EnvKV(t0, adapters.FieldAPY, 0.03)
		}
		got := testing.AllocsPerRun(100, func() {
			env.Time = env.Time.Add(time.Hour)
			a.Accrue(&pos, env)
		})
		if got != 0 {
			t.Errorf("Accrue (exchange rate observed: %v) allocations = %g, want 0", withRate, got)
		}
	}
	if got := testing.AllocsPerRun(100, func() { _ = a.Value(&pos, env, adapters.PriceRate) }); got > 2 {
		t.Errorf("Value allocations = %g, want <= 2", got)
	}
}

// A sale into a premium pays at most the exchange rate, and a buy below
// peg goes through the venue at its price, so buying and selling at once
// can never earn a riskless profit: a round trip brings back at most
// what it put in.
func TestLST_InstantExitCapsPremium(t *testing.T) {
	a := custom(t, false, map[string]float64{"exit_liquidity": 1e9, "withdrawal_days": 5})
	tests := []struct {
		name       string
		price      float64
		wantAtMost string // received for 10 at rate 1.1 with a negligible impact
	}{
		{"premium 2%", 1.122, "10"},
		{"at peg", 1.1, "10"},
		{"discount 3%", 1.067, "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.1, adapters.FieldPrice, tt.price)
			pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			_, f, err := a.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: adapters.ExitInstant})
			if err != nil {
				t.Fatal(err)
			}
			if f.Amount.GreaterThan(fixed.FromDec(dec(tt.wantAtMost))) {
				t.Errorf("round trip at price %g received %s, want at most %s", tt.price, f.Amount, tt.wantAtMost)
			}
			if f.Slippage.Sign() < 0 {
				t.Errorf("slippage %s is negative: a sale captured a premium", f.Slippage)
			}
		})
	}
}

// TestDriver_DatedQueue: Lido's withdrawal queue opened with Lido V2 on
// 2023-05-15. Before it stETH leaves only through the venue: a queue
// request fails, ExitAuto sells, and the quote says the queue is closed;
// after it the queue works.
func TestDriver_DatedQueue(t *testing.T) {
	a := testenv.Open(t, nil, "lido/steth")
	for _, tt := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2022, 6, 15, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2023, 5, 14, 23, 59, 0, 0, time.UTC), false},
		{time.Date(2023, 5, 15, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC), true},
	} {
		env := testenv.EnvKV(tt.at, adapters.FieldPrice, 0.95, adapters.FieldExitLiquidity, 1e6)
		pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("100")))
		if err != nil {
			t.Fatal(err)
		}
		q, err := a.Quote(env, fixed.FromDec(dec("100")))
		if err != nil {
			t.Fatal(err)
		}
		if q.QueueClosed == tt.open || (tt.open && q.ExitDelay != 3*day) || (!tt.open && q.ExitDelay != 0) {
			t.Errorf("%s: Quote QueueClosed, ExitDelay = %v, %v; want queue open %v", tt.at.Format(time.RFC3339), q.QueueClosed, q.ExitDelay, tt.open)
		}
		_, f, err := a.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: adapters.ExitQueue})
		if tt.open && (err != nil || f.Queued == nil) {
			t.Errorf("%s: queued exit = %+v, %v; want a claim", tt.at.Format(time.RFC3339), f, err)
		}
		if !tt.open && !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("%s: queued exit error = %v, want kind %v (no queue before Lido V2)", tt.at.Format(time.RFC3339), err, adapters.KindInvalid)
		}
		// The auto exit of a 5% discount: the queue at par while it exists,
		// else the venue at no better than the market price.
		_, f, err = a.Withdraw(pos, env, adapters.Withdrawal{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Queued != nil; got != tt.open {
			t.Errorf("%s: auto exit queued = %v, want %v", tt.at.Format(time.RFC3339), got, tt.open)
		}
		if !tt.open && f.Amount.InexactFloat64() > f.Value.InexactFloat64()*0.95 {
			t.Errorf("%s: sold %s stETH at price 0.95 for %s", tt.at.Format(time.RFC3339), f.Value, f.Amount)
		}
	}
}

// TestDriver_StableVenue prices stETH trades on the Curve ETH/stETH
// invariant (A = 50, fee 0.04%), computed here with the AMM package's own
// Curve functions: on a balanced pool of the profile's depth (60k a side)
// at the observed peg when the history has no balances, on the observed
// balances when it does (the 2022 snapshots), and buys below peg go
// through the pool (Fill.Route) when that beats minting at the rate.
func TestDriver_StableVenue(t *testing.T) {
	a := testenv.Open(t, nil, "lido/steth")
	swapOut := func(xIn, xOut, dx float64) float64 {
		d := amm.StableD(50, []float64{xOut, xIn})
		return (xOut - amm.StableY(50, []float64{xOut, xIn + dx}, 0, d)) * (1 - 0.0004)
	}
	t2024 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name               string
		env                *adapters.Env
		sell               float64
		wantSell, wantCost float64 // base received; and its cost as a fraction (0 = unchecked)
		buy                float64
		wantRoute          string
		wantBuyValue       float64
	}{
		{name: "1000 at peg: about 0.07%, not the 1.64% of constant-product depth",
			env: testenv.EnvKV(t2024), sell: 1000, wantSell: swapOut(60000, 60000, 1000), wantCost: 0.0008,
			buy: 1000, wantRoute: "mint", wantBuyValue: 1000},
		{name: "10k at peg: about 0.4%, not 14.3%",
			env: testenv.EnvKV(t2024), sell: 10000, wantSell: swapOut(60000, 60000, 10000), wantCost: 0.0045,
			buy: 10, wantRoute: "mint", wantBuyValue: 10},
		{name: "at a 5% discount, no balances: the depth model at the peg; a buy swaps below peg",
			env: testenv.EnvKV(t2024, adapters.FieldPrice, 0.95), sell: 100, wantSell: 0.95 * swapOut(60000, 60000, 100),
			buy: 100, wantRoute: "swap curve/steth-eth", wantBuyValue: swapOut(60000, 60000, 100) / 0.95},
		{name: "the pool's balances of 2022-07-29 (226k ETH, 592k stETH)",
			env:  testenv.EnvKV(t2024, adapters.FieldPrice, 0.97, adapters.FieldBalance0, 225886.985932, adapters.FieldBalance1, 591886.730514),
			sell: 1000, wantSell: swapOut(591886.730514, 225886.985932, 1000),
			buy: 1000, wantRoute: "swap curve/steth-eth", wantBuyValue: swapOut(225886.985932, 591886.730514, 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, f, err := a.Deposit(a.NewPosition(), tt.env, fixed.FromDec(dec("20000")))
			if err != nil {
				t.Fatal(err)
			}
			_, f, err = a.Withdraw(pos, tt.env, adapters.Withdrawal{Amount: fixed.FromDec(decimal.NewFromFloat(tt.sell)), Mode: adapters.ExitInstant})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Amount.InexactFloat64(); !testenv.Near(got, tt.wantSell, 1e-9) {
				t.Errorf("sale of %g brought %.9f, the invariant gives %.9f", tt.sell, got, tt.wantSell)
			}
			if cost := 1 - f.Amount.InexactFloat64()/tt.sell; tt.wantCost > 0 && cost > tt.wantCost {
				t.Errorf("sale of %g cost %.4f%%, want at most %.4f%%", tt.sell, 100*cost, 100*tt.wantCost)
			}
			if f.Route != "swap curve/steth-eth" {
				t.Errorf("sale route = %q", f.Route)
			}
			q, err := a.Quote(tt.env, fixed.FromDec(decimal.NewFromFloat(tt.buy)))
			if err != nil {
				t.Fatal(err)
			}
			_, bf, err := a.Deposit(a.NewPosition(), tt.env, fixed.FromDec(decimal.NewFromFloat(tt.buy)))
			if err != nil {
				t.Fatal(err)
			}
			if bf.Route != tt.wantRoute || !testenv.Near(bf.Value.InexactFloat64(), tt.wantBuyValue, 1e-9) {
				t.Errorf("buy of %g: route %q, value %.9f; want %q, %.9f", tt.buy, bf.Route, bf.Value.InexactFloat64(), tt.wantRoute, tt.wantBuyValue)
			}
			want := bf.Gas
			if bf.Slippage.Sign() > 0 {
				want = want.Add(bf.Slippage)
			}
			if !q.EntryCost.Equal(want) {
				t.Errorf("Quote.EntryCost = %s, want the buy's gas %s plus its slippage if positive %s", q.EntryCost, bf.Gas, bf.Slippage)
			}
			if !bf.Amount.Equal(bf.Value.Add(bf.Cost())) {
				t.Errorf("buy fill does not balance: %+v", bf)
			}
		})
	}
}

// TestDriver_NoQueueBurn: Rocket Pool has no withdrawal queue; rETH burns
// at the rate against the deposit pool's ETH (burn_liquidity) when the
// pool can take the amount, else sells on the venue. cbETH unwraps only
// through a Coinbase account, so a vault has no queue: it sells.
func TestDriver_NoQueueBurn(t *testing.T) {
	reth := testenv.Open(t, nil, "rocketpool/reth")
	env := &adapters.Env{Time: t0, GasPrice: 10, Obs: testenv.EnvKV(t0, adapters.FieldExchangeRate, 1.1, adapters.FieldPrice, 1.089).Obs}
	pos, _, err := reth.Deposit(reth.NewPosition(), env, fixed.FromDec(dec("3000")))
	if err != nil {
		t.Fatal(err)
	}
	gas := env.GasCost(110000) // gas_withdraw, the burn
	_, f, err := reth.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(dec("500")), Mode: adapters.ExitInstant})
	if err != nil {
		t.Fatal(err)
	}
	if f.Route != "burn" || !f.Amount.Equal(fixed.FromDec(dec("500").Sub(gas.Dec()))) || f.Slippage.Sign() != 0 {
		t.Errorf("burn of 500 within the deposit pool: %+v; want route burn, 500 - gas at the rate", f)
	}
	_, f, err = reth.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(dec("2000")), Mode: adapters.ExitInstant})
	if err != nil {
		t.Fatal(err)
	}
	if f.Route != "swap balancer/reth-weth" || f.Amount.InexactFloat64() > 2000*0.99 {
		t.Errorf("sale of 2000 beyond the deposit pool: %+v; want the venue at its 1%% discount", f)
	}
	for _, id := range []string{"rocketpool/reth", "coinbase/cbeth"} {
		a := testenv.Open(t, nil, id)
		pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{All: true, Mode: adapters.ExitQueue}); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("%s queued exit: error %v, want kind %v (no queue a vault can use)", id, err, adapters.KindInvalid)
		}
		q, err := a.Quote(env, fixed.FromDec(dec("10")))
		if err != nil || !q.QueueClosed {
			t.Errorf("%s Quote.QueueClosed = %v, %v; want true", id, q.QueueClosed, err)
		}
	}
}
