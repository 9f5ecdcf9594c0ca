package lending_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func relErr(got, want float64) float64 { return math.Abs(got-want) / math.Abs(want) }

// aaveWETH is the Aave v3 WETH reserve's model (adapters/builtin.go).
var aaveWETH = lending.IRM{Base: 0, Slope1: 0.027, Slope2: 0.80, Optimal: 0.90, ReserveFactor: 0.15}

func TestIRM_Borrow(t *testing.T) {
	tests := []struct {
		u, want float64
	}{
		{-0.1, 0},
		{0, 0},
		{0.45, 0.0135},
		{0.9, 0.027},
		{0.95, 0.027 + 0.8*0.05/0.1},
		{1, 0.827},
		{1.5, 0.827},
	}
	for _, tt := range tests {
		if got := aaveWETH.Borrow(tt.u); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("Borrow(%g) = %.17g, want %.17g", tt.u, got, tt.want)
		}
	}
	// A non-zero base shifts the whole curve.
	comet := lending.IRM{Base: 0.015, Slope1: 0.045, Slope2: 2, Optimal: 0.9, ReserveFactor: 0.15}
	if got, want := comet.Borrow(0), 0.015; got != want {
		t.Errorf("Borrow(0) with base = %g, want %g", got, want)
	}
	if got, want := comet.Borrow(1), 0.015+0.045+2.0; math.Abs(got-want) > 1e-15 {
		t.Errorf("Borrow(1) with base = %g, want %g", got, want)
	}
}

func TestIRM_Supply(t *testing.T) {
	tests := []struct {
		u, want float64
	}{
		{0, 0},
		{0.5, 0.027 * 0.5 / 0.9 * 0.5 * 0.85},
		{0.9, 0.027 * 0.9 * 0.85}, // 0.020655 at the kink
		{1, 0.827 * 0.85},
	}
	for _, tt := range tests {
		if got := aaveWETH.Supply(tt.u); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("Supply(%g) = %.17g, want %.17g", tt.u, got, tt.want)
		}
	}
	// Supply is non-decreasing in utilization.
	prev := -1.0
	for u := 0.0; u <= 1; u += 0.01 {
		s := aaveWETH.Supply(u)
		if s < prev {
			t.Fatalf("Supply(%g) = %g < Supply(%g) = %g", u, s, u-0.01, prev)
		}
		prev = s
	}
}

func TestIRM_Validate(t *testing.T) {
	tests := []struct {
		name string
		m    lending.IRM
		ok   bool
	}{
		{"aave weth", aaveWETH, true},
		{"optimal zero", lending.IRM{Slope1: 0.04, Optimal: 0}, false},
		{"optimal one", lending.IRM{Slope1: 0.04, Optimal: 1}, false},
		{"negative slope", lending.IRM{Slope1: -0.04, Optimal: 0.8}, false},
		{"NaN base", lending.IRM{Base: math.NaN(), Optimal: 0.8}, false},
		{"reserve factor one", lending.IRM{Optimal: 0.8, ReserveFactor: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("Validate() = %v, want kind %v", err, adapters.KindInvalid)
			}
		})
	}
}

func TestIRM_Calibrate(t *testing.T) {
	tests := []struct {
		name   string
		u, obs float64
		wantK  float64
		wantOK bool
	}{
		{"matches", 0.9, 0.020655, 1, true},
		{"double", 0.9, 0.04131, 2, true},
		{"half", 0.5, 0.027 * 0.5 / 0.9 * 0.5 * 0.85 / 2, 0.5, true},
		{"no borrows", 0, 0.01, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := aaveWETH.Calibrate(tt.u, tt.obs)
			if ok != tt.wantOK || math.Abs(k-tt.wantK) > 1e-12 {
				t.Errorf("Calibrate(%g, %g) = %g, %v, want %g, %v", tt.u, tt.obs, k, ok, tt.wantK, tt.wantOK)
			}
		})
	}
}

func TestDriver_Read(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/usdc")
	drv := a.Driver().(*lending.Harvesting)
	ethDrv := testenv.Open(t, nil, "aave-v3/weth").Driver().(*lending.Harvesting)
	inf := math.Inf(1)
	tests := []struct {
		name   string
		drv    *lending.Harvesting
		fields map[adapters.Field]float64
		want   lending.State
	}{
		{"supply and borrows", drv, map[adapters.Field]float64{adapters.FieldSupply: 1000, adapters.FieldBorrows: 800, adapters.FieldAPY: 0.05},
			lending.State{APY: 0.05, Observed: true, Utilization: 0.8, HasUtilization: true, Supply: 1000, Borrows: 800, HasSize: true, Available: 200}},
		{"utilization and USD tvl", drv, map[adapters.Field]float64{adapters.FieldUtilization: 0.5, adapters.FieldTVL: 2e6},
			lending.State{APY: drv.Model().Supply(0.5), Utilization: 0.5, HasUtilization: true, Supply: 2e6, Borrows: 1e6, HasSize: true, Available: 1e6}},
		{"ETH tvl with base_usd", ethDrv, map[adapters.Field]float64{adapters.FieldUtilization: 0.5, adapters.FieldTVL: 4e6, adapters.FieldBaseUSD: 2000, adapters.FieldAPY: 0.02},
			lending.State{APY: 0.02, Observed: true, Utilization: 0.5, HasUtilization: true, Supply: 2000, Borrows: 1000, HasSize: true, Available: 1000}},
		{"ETH tvl without base_usd", ethDrv, map[adapters.Field]float64{adapters.FieldUtilization: 0.5, adapters.FieldTVL: 4e6},
			lending.State{APY: ethDrv.Model().Supply(0.5), Utilization: 0.5, HasUtilization: true, Available: inf}},
		{"exit liquidity wins", drv, map[adapters.Field]float64{adapters.FieldSupply: 1000, adapters.FieldBorrows: 800, adapters.FieldExitLiquidity: 50, adapters.FieldRewardAPY: 0.01},
			lending.State{APY: drv.Model().Supply(0.8), Utilization: 0.8, HasUtilization: true, Supply: 1000, Borrows: 800, HasSize: true, Available: 50, RewardAPY: 0.01}},
		{"nothing", drv, nil, lending.State{Available: inf}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.drv.Read(&testenv.Env(t0, tt.fields).Obs)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(lending.State{}, "Model")); diff != "" {
				t.Errorf("Read() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriver_APYAfter(t *testing.T) {
	drv := testenv.Open(t, nil, "aave-v3/weth").Driver().(*lending.Harvesting)
	m := drv.Model()
	// The observed rate is twice the model at u = 0.8: the curve is scaled by 2.
	calibrated := lending.State{APY: 2 * m.Supply(0.8), Observed: true, Utilization: 0.8, HasUtilization: true, Supply: 1000, Borrows: 800, HasSize: true, Model: m}
	model := calibrated
	model.APY, model.Observed = m.Supply(0.8), false
	tests := []struct {
		name  string
		s     lending.State
		delta float64
		want  float64
	}{
		{"no change", calibrated, 0, 2 * m.Supply(0.8)},
		{"deposit doubles supply", calibrated, 1000, 2 * m.Supply(0.4)},
		{"withdraw to the kink", calibrated, -1000 + 800/0.9, 2 * m.Supply(0.9)},
		{"withdraw everything free", calibrated, -200, 2 * m.Supply(1)},
		{"withdraw more than supply", calibrated, -5000, 2 * m.Supply(1)},
		{"uncalibrated model", model, 1000, m.Supply(0.4)},
		{"size unknown", lending.State{APY: 0.03, Observed: true, Utilization: 0.8, HasUtilization: true, Model: m}, 1e6, 0.03},
		{"model zero at observed point", lending.State{APY: 0.01, Observed: true, HasUtilization: true, Supply: 100, HasSize: true, Model: m}, 100, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := drv.APYAfter(tt.s, tt.delta); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("APYAfter(%g) = %.17g, want %.17g", tt.delta, got, tt.want)
			}
		})
	}
}

func TestAdapter_QuoteRateImpact(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/usdc")
	env := testenv.Env(t0, map[adapters.Field]float64{
		adapters.FieldAPY: 0.05, adapters.FieldSupply: 1e6, adapters.FieldBorrows: 0.9e6, adapters.FieldRewardAPY: 0.01,
	})
	q0, err := a.Quote(env, fixed.Num{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q0.APY, 0.05+0.01; math.Abs(got-want) > 1e-15 {
		t.Errorf("Quote(0).APY = %g, want the observed rate plus rewards %g", got, want)
	}
	if got, want := q0.MaxInstantExit, d("100000"); !got.Equal(fixed.FromDec(want)) {
		t.Errorf("Quote(0).MaxInstantExit = %s, want supply - borrows = %s", got, want)
	}
	q, err := a.Quote(env, fixed.FromDec(d("1000000")))
	if err != nil {
		t.Fatal(err)
	}
	m := a.Driver().(*lending.Harvesting).Model()
	want := 0.05/m.Supply(0.9)*m.Supply(0.45) + 0.01
	if math.Abs(q.APY-want) > 1e-15 {
		t.Errorf("Quote(1e6).APY = %.17g, want the calibrated model at u = 0.45: %.17g", q.APY, want)
	}
	// Free 100000 plus the deposit's liquid part at the observed free
	// share 10%: 100000 more.
	if got, want := q.MaxInstantExit.InexactFloat64(), 200000.0; math.Abs(got-want) > 1e-6 {
		t.Errorf("Quote(1e6).MaxInstantExit = %g, want %g (the deposit adds its free share, 10%%, to the free liquidity)", got, want)
	}
	if q.RewardAPY != 0.01 {
		t.Errorf("RewardAPY = %g, want 0.01 (aave has no haircut)", q.RewardAPY)
	}
}

// TestAdapter_WithdrawLiquidity: history records the market without the
// vault; the protocol's cash for the position is the observed free
// liquidity plus its own supply's free share, own x (1 - utilization): the
// vault's supply borrowed as much as the market's was (ownLiquid).
func TestAdapter_WithdrawLiquidity(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/usdt")
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.05, adapters.FieldSupply: 1000, adapters.FieldBorrows: 750})
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("500")))
	if err != nil {
		t.Fatal(err)
	}
	// 1000 - 750 = 250 free, utilization 75%: 500 x 25% = 125 of the
	// position is cash too, 375 in all.
	np, f, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("375"))})
	if err != nil || f.Partial || !f.Value.Equal(fixed.FromDec(d("375"))) {
		t.Fatalf("Withdraw(375) with 250 free and 500 own at 75%%: fill %+v, error %v; want 375 in full", f, err)
	}
	if got, want := a.Value(&np, env, adapters.PriceRate), d("125"); !got.Equal(want) {
		t.Errorf("Value after Withdraw(375) = %s, want %s", got, want)
	}
	if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("376"))}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Errorf("Withdraw(376) with 375 of cash: error %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
	_, f, err = a.Withdraw(pos, env, adapters.Withdrawal{All: true, AllowPartial: true})
	if err != nil || !f.Partial || !f.Value.Equal(fixed.FromDec(d("375"))) {
		t.Errorf("Withdraw(All, partial) with 375 of cash: fill %+v, error %v; want a partial 375", f, err)
	}
	// At 100% utilization nothing is cash, the position's supply neither.
	dry := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.05, adapters.FieldSupply: 1000, adapters.FieldBorrows: 1000})
	if _, _, err := a.Withdraw(pos, dry, adapters.Withdrawal{All: true, AllowPartial: true}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Errorf("Withdraw(All) at 100%% utilization: error %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
	// Free liquidity observed, utilization unknown: the position's supply
	// counts for nothing.
	blind := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.05, adapters.FieldExitLiquidity: 100})
	if _, _, err := a.Withdraw(pos, blind, adapters.Withdrawal{Amount: fixed.FromDec(d("101"))}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Errorf("Withdraw(101) with 100 free, utilization unknown: error %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
	// Quotes: the free liquidity plus 25% of the holder's 500 and of a
	// deposit.
	for _, c := range []struct {
		name string
		env  *adapters.Env
		sell bool
		amt  string
		want string
	}{
		{"deposit quote, no holder", env, false, "200", "300"},
		{"deposit quote, holder", env, false, "200", "425"},
		{"sell quote, holder", env, true, "150", "375"},
		{"sell quote at 100%, holder", dry, true, "500", "0"},
	} {
		e := *c.env
		if !strings.HasSuffix(c.name, "no holder") {
			e.Held = &pos
		}
		quote := a.Quote
		if c.sell {
			quote = a.QuoteSell
		}
		q, err := quote(&e, fixed.FromDec(d(c.amt)))
		if err != nil {
			t.Fatal(err)
		}
		if !q.MaxInstantExit.Equal(fixed.FromDec(d(c.want))) {
			t.Errorf("%s: MaxInstantExit = %s, want %s", c.name, q.MaxInstantExit, c.want)
		}
	}
	if _, _, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(d("10")), Mode: adapters.ExitQueue}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Withdraw(ExitQueue) error = %v, want kind %v (no queue)", err, adapters.KindInvalid)
	}
}

func TestAdapter_Pause(t *testing.T) {
	a := testenv.Open(t, nil, "spark/weth")
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.02, adapters.FieldRewardAPY: 0.01})
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("10")))
	if err != nil {
		t.Fatal(err)
	}
	ev := adapters.Event{Time: t0, Market: "spark/weth", Type: adapters.EventPause}
	paused, loss, err := a.Apply(pos, env, ev)
	if err != nil || loss.Sign() != 0 || !paused.Paused {
		t.Fatalf("Apply(pause) = paused %v, loss %s, err %v; want paused, no loss", paused.Paused, loss, err)
	}
	if pos.Paused {
		t.Errorf("Apply changed the caller's position")
	}
	if _, _, err := a.Deposit(paused, env, fixed.FromDec(d("1"))); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Deposit while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	if _, _, err := a.Withdraw(paused, env, adapters.Withdrawal{All: true}); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Withdraw while paused: error = %v, want kind %v", err, adapters.KindPaused)
	}
	// Interest keeps accruing while paused.
	later := testenv.Env(t0.Add(365*24*time.Hour), map[adapters.Field]float64{adapters.FieldAPY: 0.02})
	if got, want := a.Value(&paused, later, adapters.PriceRate), d("10.2"); !got.Equal(want) {
		t.Errorf("Value a year into the pause = %s, want %s", got, want)
	}
	ev.Type, ev.Time = adapters.EventUnpause, later.Time
	open, _, err := a.Apply(paused, later, ev)
	if err != nil || open.Paused {
		t.Fatalf("Apply(unpause) = paused %v, err %v", open.Paused, err)
	}
	if _, _, err := a.Withdraw(open, later, adapters.Withdrawal{All: true}); err != nil {
		t.Errorf("Withdraw after unpause: error = %v", err)
	}
}

func TestAdapter_BadDebt(t *testing.T) {
	a := testenv.Open(t, nil, "morpho/usdc")
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.06})
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("1000")))
	if err != nil {
		t.Fatal(err)
	}
	later := testenv.Env(t0.Add(90*24*time.Hour), map[adapters.Field]float64{adapters.FieldAPY: 0.06})
	before := a.Value(&pos, later, adapters.PriceRate)
	np, loss, err := a.Apply(pos, later, adapters.Event{Time: later.Time, Market: "morpho/usdc", Type: adapters.EventBadDebt, Size: 0.125})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := np.Units.Dec(), pos.Units.Dec().Mul(d("0.875")); !got.Equal(want) {
		t.Errorf("Units after a 12.5%% bad debt = %s, want %s", got, want)
	}
	after := a.Value(&np, later, adapters.PriceRate)
	if !loss.Equal(before.Sub(after)) {
		t.Errorf("loss = %s, want value before - after = %s", loss, before.Sub(after))
	}
	if got, want := after, adapters.Quantize(before.Mul(d("0.875"))); got.Sub(want).Abs().GreaterThan(d("1e-15")) {
		t.Errorf("value after = %s, want %s", got, want)
	}
	// A depeg event changes nothing for a supply position.
	same, loss, err := a.Apply(np, later, adapters.Event{Time: later.Time, Market: "morpho/usdc", Type: adapters.EventDepeg, Size: 0.05})
	if err != nil || loss.Sign() != 0 || !same.Units.Equal(np.Units) {
		t.Errorf("Apply(depeg) = units %s, loss %s, err %v; want no change", same.Units, loss, err)
	}
}

func TestAdapter_LiquidityIndex(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/weth")
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldIndex: 1.01, adapters.FieldAPY: 0.5})
	pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("101")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pos.Units.Dec(), d("100"); !got.Equal(want) {
		t.Errorf("Units = %s, want amount / index = %s", got, want)
	}
	if !f.Value.Equal(fixed.FromDec(d("101"))) {
		t.Errorf("Fill.Value = %s, want 101", f.Value)
	}
	// The index is used exactly, whatever the observed apy says.
	later := testenv.Env(t0.Add(24*time.Hour), map[adapters.Field]float64{adapters.FieldIndex: 1.0201, adapters.FieldAPY: 0.5})
	a.Accrue(&pos, later)
	if pos.Index != 1.0201 {
		t.Errorf("Index after Accrue = %g, want the observed 1.0201", pos.Index)
	}
	if got, want := a.Value(&pos, later, adapters.PriceMarket), d("102.01"); !got.Equal(want) {
		t.Errorf("Value = %s, want %s", got, want)
	}
	// Without an index, the last known rate carries forward.
	gap := testenv.Env(t0.Add(24*time.Hour+365*24*time.Hour), nil)
	a.Accrue(&pos, gap)
	if got, want := pos.Index, 1.0201*1.5; relErr(got, want) > 1e-15 {
		t.Errorf("Index after a year with no data = %.17g, want %.17g at the last rate", got, want)
	}
}

func TestAdapter_Rewards(t *testing.T) {
	a := testenv.Open(t, nil, "compound-v3/usdc") // reward_haircut 0.1, gas_harvest 150000
	env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0, adapters.FieldRewardAPY: 0.02})
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("1000")))
	if err != nil {
		t.Fatal(err)
	}
	half := testenv.Env(t0.Add(365*12*time.Hour), map[adapters.Field]float64{adapters.FieldAPY: 0, adapters.FieldRewardAPY: 0.02})
	a.Accrue(&pos, half)
	if got, want := pos.Rewards.Dec(), d("9"); !got.Equal(want) {
		t.Errorf("Rewards after half a year = %s, want 1000 x 2%% x 0.5 x (1 - 0.1) = %s", got, want)
	}
	q, _ := a.Quote(env, fixed.Num{})
	if math.Abs(q.RewardAPY-0.018) > 1e-15 || math.Abs(q.APY-0.018) > 1e-15 {
		t.Errorf("Quote reward APY %g, APY %g, want 0.018 after the haircut", q.RewardAPY, q.APY)
	}
	// Gas is paid in ETH; the vault is USD: 150000 gas x 20 gwei x 3000 = 9.
	half.GasPrice, half.GasAssetPrice = 20, 3000
	kept, _, err := a.Harvest(pos, half)
	if !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Harvest costing all of the rewards: error = %v, want kind %v", err, adapters.KindInvalid)
	}
	if !kept.Rewards.Equal(pos.Rewards) {
		t.Errorf("refused Harvest left rewards %s, want %s", kept.Rewards, pos.Rewards)
	}
	half.GasPrice = 10
	np, f, err := a.Harvest(pos, half)
	if err != nil {
		t.Fatal(err)
	}
	want := adapters.Fill{Amount: fixed.FromDec(d("4.5")), Value: fixed.FromDec(d("9")), Gas: fixed.FromDec(d("4.5"))}
	if diff := cmp.Diff(want, f, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("Harvest fill mismatch (-want +got):\n%s", diff)
	}
	if np.Rewards.Sign() != 0 {
		t.Errorf("Rewards after Harvest = %s, want 0", np.Rewards)
	}
}
