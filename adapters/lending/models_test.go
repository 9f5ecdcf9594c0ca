package lending_test

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

// morphoIRM is the AdaptiveCurveIRM with the constants of
// morpho-org/morpho-blue-irm ConstantsLib.sol.
var morphoIRM = lending.AdaptiveCurve{Target: 0.9, Steepness: 4, Speed: 50, Initial: 0.04, MinRate: 0.001, MaxRate: 2}

func TestAdaptiveCurve_Curve(t *testing.T) {
	tests := []struct {
		u, want float64
	}{
		{0, 0.01},       // r/C
		{0.45, 0.025},   // err -0.5: (0.75 * -0.5 + 1) * 4%
		{0.9, 0.04},     // at target
		{0.95, 0.1},     // err 0.5: (3 * 0.5 + 1) * 4%
		{1, 0.16},       // C * r
		{1.2, 0.16},     // clamped
		{-0.1, 0.01},    // clamped
		{0.99, 0.148},   // err 0.9: (3 * 0.9 + 1) * 4%
		{0.18, 0.016},   // err -0.8: (0.75 * -0.8 + 1) * 4%
		{0.675, 0.0325}, // err -0.25
	}
	for _, tt := range tests {
		if got := morphoIRM.Curve(0.04, tt.u); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("Curve(4%%, %g) = %.17g, want %.17g", tt.u, got, tt.want)
		}
	}
	if got, want := morphoIRM.Supply(0.9), 0.04*0.9; math.Abs(got-want) > 1e-15 {
		t.Errorf("Supply(0.9) = %g, want %g (no fee)", got, want)
	}
}

// TestAdaptiveCurve_Advance checks the rate at target against values
// computed by hand from the contract's formula r_T * exp(50/yr * err * t),
// bounded to [0.1%, 200%]. At 95% utilization (err = 0.5) the rate at
// target grows by e^25 a year: it reaches the 200% bound after
// ln(50)/25 years = 57.1 days and stays there, so after a year it is
// 2.0, fifty times its starting 4%.
func TestAdaptiveCurve_Advance(t *testing.T) {
	const day = 1.0 / 365
	tests := []struct {
		name            string
		r, u, years     float64
		wantEnd, wantBr float64
	}{
		// exp(25) * 4% = 2.9e9 and exp(12.5) * 4% = 10733: both bounded
		// to 2; the charged rate is the curve at (0.04 + 2 + 2*2)/4 = 1.51.
		{"a year at 95%", 0.04, 0.95, 1, 2, 2.5 * 1.51},
		// exp(2.0547945) * 4% = 0.31220936, middle exp(1.0273973) * 4%
		// = 0.11175139; charged 2.5 * (0.04 + 0.31220936 + 2*0.11175139)/4.
		{"30 days at 95%", 0.04, 0.95, 30 * day, 0.3122093557066263, 0.35982009075243404},
		// err -1/9: exp(-0.15220700) * 4% = 0.03435242.
		{"10 days at 80%", 0.04, 0.8, 10 * day, 0.0343524194904786, math.NaN()},
		// exp(-50/9) * 4% = 0.000155: bounded to 0.1%.
		{"a year at 80%", 0.04, 0.8, 1, 0.001, math.NaN()},
		{"at target", 0.04, 0.9, 1, 0.04, 0.04},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, borrow := morphoIRM.Advance(tt.r, tt.u, tt.years)
			if math.Abs(end-tt.wantEnd) > 1e-12*tt.wantEnd {
				t.Errorf("rate at target = %.17g, want %.17g", end, tt.wantEnd)
			}
			if !math.IsNaN(tt.wantBr) && math.Abs(borrow-tt.wantBr) > 1e-12*tt.wantBr {
				t.Errorf("borrow rate charged = %.17g, want %.17g", borrow, tt.wantBr)
			}
		})
	}
	// A year at 95% in daily updates ends where one update does (the
	// exponential composes; the bound holds once reached).
	r := 0.04
	for i := 0; i < 365; i++ {
		r, _ = morphoIRM.Advance(r, 0.95, day)
	}
	if r != 2 {
		t.Errorf("a year of daily updates at 95%%: rate at target %.17g, want the 200%% bound", r)
	}
	r = 0.04
	for i := 0; i < 30; i++ {
		r, _ = morphoIRM.Advance(r, 0.95, day)
	}
	if want := 0.3122093557066263; math.Abs(r-want) > 1e-12 {
		t.Errorf("30 daily updates at 95%%: rate at target %.17g, want %.17g", r, want)
	}
}

func TestAdaptiveCurve_Validate(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    lending.AdaptiveCurve
		ok   bool
	}{
		{"morpho", morphoIRM, true},
		{"steepness 1", lending.AdaptiveCurve{Target: 0.9, Steepness: 1, Speed: 50, Initial: 0.04, MinRate: 0.001, MaxRate: 2}, false},
		{"target 1", lending.AdaptiveCurve{Target: 1, Steepness: 4, Speed: 50, Initial: 0.04, MinRate: 0.001, MaxRate: 2}, false},
		{"initial above max", lending.AdaptiveCurve{Target: 0.9, Steepness: 4, Speed: 50, Initial: 3, MinRate: 0.001, MaxRate: 2}, false},
		{"no min", lending.AdaptiveCurve{Target: 0.9, Steepness: 4, Speed: 50, Initial: 0.04, MaxRate: 2}, false},
		{"NaN", lending.AdaptiveCurve{Target: math.NaN(), Steepness: 4, Speed: 50, Initial: 0.04, MinRate: 0.001, MaxRate: 2}, false},
	} {
		if err := tt.m.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestAdapter_MorphoOwnSupplyAdapts holds four times a Morpho market's
// supply for ten days, hour by hour: the position lowers utilization
// from the 90% target to 18%, so its rate at target falls at
// 50/yr x (err(0.18) - err(0.9)) = -40/yr against the market's, and the
// position earns the curve at its own utilization times that falling
// ratio (the contract's trapezoid over each hour), computed here from the
// AdaptiveCurveIRM formula.
func TestAdapter_MorphoOwnSupplyAdapts(t *testing.T) {
	a := testenv.Open(t, nil, "morpho/weth")
	if _, ok := a.Driver().(*lending.Harvesting).Model().(lending.AdaptiveCurve); !ok {
		t.Fatalf("morpho/weth's model is %T, want lending.AdaptiveCurve", a.Driver().(*lending.Harvesting).Model())
	}
	// The market: 1000 supplied, 900 borrowed, rate at target 4%.
	fields := map[adapters.Field]float64{
		adapters.FieldSupply: 1000, adapters.FieldBorrows: 900, adapters.FieldUtilization: 0.9,
		adapters.FieldBorrowAPY: 0.04, adapters.FieldAPY: 0.04 * 0.9,
	}
	env := testenv.Env(t0, fields)
	pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("4000")))
	if err != nil {
		t.Fatal(err)
	}
	v, lnm := f.Value.InexactFloat64(), 0.0
	const hour = 1.0 / (365 * 24)
	for h := 1; h <= 240; h++ {
		u1 := 900 / (1000 + v)
		err1 := (u1 - 0.9) / 0.9
		next := math.Max(lnm+50*err1*hour, math.Log(0.001/0.04))
		mid := math.Max(lnm+50*err1*hour/2, math.Log(0.001/0.04))
		trap := (math.Exp(lnm) + math.Exp(next) + 2*math.Exp(mid)) / 4
		// supply = curve(r_T, u1) * u1; the market's is 4% * 0.9.
		rate := 0.036 * ((1-0.25)*err1 + 1) * u1 / 0.9 * trap
		v *= math.Exp(hour * math.Log1p(rate))
		lnm = next
		a.Accrue(&pos, testenv.Env(t0.Add(time.Duration(h)*time.Hour), fields))
	}
	end := testenv.Env(t0.Add(240*time.Hour), fields)
	if got := a.Value(&pos, end, adapters.PriceRate).InexactFloat64(); relErr(got, v) > 1e-9 {
		t.Errorf("value after 10 days = %.12f, want %.12f", got, v)
	}
	if want := -40.0 * 10 / 365; math.Abs(pos.Adapt-want) > 0.01*math.Abs(want) {
		t.Errorf("Position.Adapt after 10 days = %g, want about %g (its own supply pulls the rate at target down at 40/yr)", pos.Adapt, want)
	}
	if math.Abs(pos.Adapt-lnm) > 1e-12 {
		t.Errorf("Position.Adapt = %.15g, want %.15g", pos.Adapt, lnm)
	}
	// The quote promises the rate the position now earns.
	end.Held = &pos
	q, err := a.Quote(end, fixed.FromDec(d("0")))
	if err != nil {
		t.Fatal(err)
	}
	u1 := 900 / (1000 + v)
	want := 0.036*((1-0.25)*(u1-0.9)/0.9+1)*u1/0.9*math.Exp(lnm) + q.RewardAPY
	if relErr(q.APY, want) > 1e-6 {
		t.Errorf("Quote APY holding the position = %.9g, want %.9g", q.APY, want)
	}
}

// cometUSDC is Compound v3 cUSDCv3's deployment configuration
// (compound-finance/comet deployments/mainnet/usdc/configuration.json).
var cometUSDC = lending.Comet{
	SupplyBase: 0, SupplySlopeLow: 0.0325, SupplySlopeHigh: 0.4, SupplyKink: 0.8,
	BorrowBase: 0.015, BorrowSlopeLow: 0.035, BorrowSlopeHigh: 0.25, BorrowKink: 0.8,
}

func TestComet_Rates(t *testing.T) {
	tests := []struct {
		u, supply, borrow float64
	}{
		{0, 0, 0.015},
		{0.5, 0.01625, 0.0325},
		{0.8, 0.026, 0.043},
		{0.9, 0.066, 0.068},
		{0.99, 0.102, 0.0905},
		{1, 0.106, 0.093},
	}
	for _, tt := range tests {
		if got := cometUSDC.Supply(tt.u); math.Abs(got-tt.supply) > 1e-15 {
			t.Errorf("Supply(%g) = %.17g, want %.17g", tt.u, got, tt.supply)
		}
		if got := cometUSDC.Borrow(tt.u); math.Abs(got-tt.borrow) > 1e-15 {
			t.Errorf("Borrow(%g) = %.17g, want %.17g", tt.u, got, tt.borrow)
		}
	}
	// The built-in profile is that configuration.
	drv := testenv.Open(t, nil, "compound-v3/usdc").Driver().(*lending.Harvesting)
	if got, ok := drv.Model().(lending.Comet); !ok || got != cometUSDC {
		t.Errorf("compound-v3/usdc model = %+v, want %+v", drv.Model(), cometUSDC)
	}
	for _, u := range []float64{0.1, 0.5, 0.85, 0.95} {
		if got := cometUSDC.Invert(cometUSDC.Supply(u)); math.Abs(got-u) > 1e-12 {
			t.Errorf("Invert(Supply(%g)) = %.15g", u, got)
		}
	}
}

// TestRealData_cometUSDC compares the Compound v3 USDC market's dated
// curves with the Messari cUSDCv3 file: the deployment configuration
// (2022-08-26 to 2023-05-30) and Gauntlet's curves from 2023-05-31 to
// 2023-11-27. The deposit and borrow APRs (the file's APYs, continuously
// compounded back) at the file's utilization must be within 0.15% of the
// model in force that day on at least 90% of days of the first period,
// and of the second's days below the 90% borrow kink (above it the
// Messari utilization, from USD aggregates that exclude reserves and
// reach 101%, departs from the one the contract used).
func TestRealData_cometUSDC(t *testing.T) {
	path := testenv.SharedFile(t, "compound-v3-usdc-messari-daily", "compound_v3_data.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	drv := testenv.Open(t, nil, "compound-v3/usdc").Driver().(*lending.Harvesting)
	change := time.Date(2023, 5, 31, 0, 0, 0, 0, time.UTC)
	end := time.Date(2023, 11, 28, 0, 0, 0, 0, time.UTC)
	var n, ok [2]int
	// timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,...;
	// the first row (launch) is empty.
	for _, r := range recs[2:] {
		var row [4]float64
		for k, c := range []int{0, 2, 3, 4} {
			if row[k], err = strconv.ParseFloat(r[c], 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		at := time.Unix(int64(row[0]), 0).UTC()
		if !at.Before(end) || row[3] <= 0 {
			continue
		}
		k := 0
		if !at.Before(change) {
			k = 1
		}
		m := drv.ModelAt(at)
		u := math.Min(row[3]/100, 1)
		if k == 1 && u >= 0.9 {
			continue
		}
		s, b := math.Log1p(row[1]/100), math.Log1p(row[2]/100)
		n[k]++
		if math.Abs(s-m.Supply(u)) < 0.0015 && math.Abs(b-m.Borrow(u)) < 0.0015 {
			ok[k]++
		}
	}
	if got, ok := drv.ModelAt(change.Add(-time.Second)).(lending.Comet); !ok || got != cometUSDC {
		t.Errorf("model before 2023-05-31 = %+v, want the deployment's %+v", got, cometUSDC)
	}
	t.Logf("Comet USDC vs the Messari file: deployment curves %d of %d days within 0.15%% APR; 2023-05-31 curves %d of %d (days below the kink)", ok[0], n[0], ok[1], n[1])
	if n[0] < 250 || n[1] < 60 {
		t.Fatalf("%d and %d days in the two periods, want the file's ~270 and ~70", n[0], n[1])
	}
	if float64(ok[0]) < 0.9*float64(n[0]) || float64(ok[1]) < 0.9*float64(n[1]) {
		t.Errorf("%d of %d and %d of %d days within 0.15%%, want at least 90%% of each", ok[0], n[0], ok[1], n[1])
	}
}
