package amm_test

import (
	"context"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// independentValueRatio values a two-coin stableswap pool without the
// package's solvers: D by bisection on the invariant
// A n^n S + D = A n^n D + D^(n+1) / (n^n prod x), the marginal prices by
// central differences of D, and the pool value in coin 0 over D.
// The invariant, with the contract's A: A n S + D = A n D + D^3 / (4 x0 x1).
func independentValueRatio(amp, x0, x1 float64) float64 {
	solveD := func(x0, x1 float64) float64 {
		// The contract's A is A_paper n^(n-1), so A_paper n^n = A n; n^n = 4.
		const n = 2.0
		s := x0 + x1
		f := func(d float64) float64 {
			return amp*n*s + d - amp*n*d - d*d*d/(n*n*x0*x1)
		}
		lo, hi := 0.0, s
		for i := 0; i < 200; i++ {
			mid := (lo + hi) / 2
			if f(mid) > 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		return (lo + hi) / 2
	}
	h0, h1 := 1e-5*x0, 1e-5*x1
	g0 := (solveD(x0+h0, x1) - solveD(x0-h0, x1)) / (2 * h0)
	g1 := (solveD(x0, x1+h1) - solveD(x0, x1-h1)) / (2 * h1)
	return (x0 + x1*g1/g0) / solveD(x0, x1)
}

// TestRealData_curveStethImbalance holds a Curve ETH/stETH LP position over
// the 2022 pool snapshots. With no fee data in the file, its value moves
// only with the pool's balance: it must follow the pool-imbalance loss the
// balances imply, computed independently, and the curve's marginal stETH
// price must track the market price the snapshots carry.
func TestRealData_curveStethImbalance(t *testing.T) {
	path := testenv.SharedFile(t, "curve-steth-pool-snapshots-2022", "curve_steth_pool_snapshots.csv")
	b, err := importers.ImportFile(context.Background(), path, importers.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	var rows []adapters.Observation
	for _, r := range b.Rows {
		if r.Market == "curve/steth-eth" {
			rows = append(rows, r.Obs)
		}
	}
	if len(rows) < 380 {
		t.Fatalf("imported %d curve/steth-eth snapshots, want the file's 387", len(rows))
	}
	a := testenv.Open(t, nil, "curve/steth-eth")
	amp := a.Profile().ParamOr("amplification", 0)
	first := &adapters.Env{Time: rows[0].Time, Obs: rows[0]}
	pos, f, err := a.Deposit(a.NewPosition(), first, fixed.FromDec(d("100")))
	if err != nil {
		t.Fatal(err)
	}
	v0 := f64(f.Value.Dec())
	vr0 := independentValueRatio(amp, rows[0].Values[adapters.FieldBalance0], rows[0].Values[adapters.FieldBalance1])
	var (
		worst, minVR, maxShare float64 = 0, 1, 0
		priceErr               []float64
	)
	for _, o := range rows {
		env := &adapters.Env{Time: o.Time, Obs: o}
		a.Accrue(&pos, env)
		x0, x1 := o.Values[adapters.FieldBalance0], o.Values[adapters.FieldBalance1]
		vr := independentValueRatio(amp, x0, x1)
		got := f64(a.Value(&pos, env, adapters.PriceMarket)) / v0
		if e := math.Abs(got-vr/vr0) / (vr / vr0); e > worst {
			worst = e
		}
		minVR = math.Min(minVR, vr)
		maxShare = math.Max(maxShare, x1/(x0+x1))
		if p, ok := o.Get(adapters.FieldPrice); ok {
			curve := (vr*(x0+x1) - x0) / x1 // the marginal price: V = x0 + x1 p
			priceErr = append(priceErr, math.Abs(curve-p))
		}
	}
	if worst > 1e-8 {
		t.Errorf("position value departs from the independently computed imbalance loss by %.3g (relative), want <= 1e-8", worst)
	}
	sort.Float64s(priceErr)
	med := priceErr[len(priceErr)/2]
	t.Logf("snapshots %d: stETH share up to %.3f, pool value ratio down to %.5f (a %.2f%% imbalance loss); "+
		"curve price vs market price: median |diff| %.4f, max %.4f", len(rows), maxShare, minVR, 100*(1-minVR), med, priceErr[len(priceErr)-1])
	if !(minVR < 0.99 && minVR > 0.95) {
		t.Errorf("lowest value ratio %.5f: want the 2022 imbalance (about 72-74%% stETH) to cost between 1%% and 5%%", minVR)
	}
	if med > 0.005 {
		t.Errorf("median |curve marginal price - market price| = %.4f, want <= 0.005 with A = %g", med, amp)
	}
	// After the Merge the pool rebalanced: a position opened at the
	// imbalanced start gains the difference.
	last := rows[len(rows)-1]
	end := &adapters.Env{Time: last.Time, Obs: last}
	if got, want := f64(a.Value(&pos, end, adapters.PriceMarket))/v0, independentValueRatio(amp, last.Values[adapters.FieldBalance0], last.Values[adapters.FieldBalance1])/vr0; math.Abs(got-want) > 1e-8*want {
		t.Errorf("end value ratio %.9f, want %.9f", got, want)
	}
}

// TestRealData_uniswapWethUsdt holds Uniswap v3 WETH/USDT LP positions in
// an ETH vault over 2024-2025, hour by hour. The file has no TVL, so no fee
// share can be computed: the value moves with the price alone and must be
// exactly the v3 value of the position at each close (USDT per WETH,
// inverted to USDT's price in ETH): sqrt(close0/close) for full range.
func TestRealData_uniswapWethUsdt(t *testing.T) {
	path := testenv.SharedFile(t, "uniswap-v3-weth-usdt-hourly-geckoterminal", "uniswapv3_WETHUSDT_1h_2024-01-01_2025-09-27.csv")
	closes := testenv.Column(t, path, "close")
	b, err := importers.ImportFile(context.Background(), path, importers.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	var rows []adapters.Observation
	for _, r := range b.Rows {
		if r.Market == "uniswap-v3/weth-usdt" {
			rows = append(rows, r.Obs)
		}
	}
	if len(rows) != len(closes) || len(rows) != 15259 {
		t.Fatalf("imported %d rows, file has %d closes, want 15259", len(rows), len(closes))
	}
	for _, tc := range []struct {
		market string
		g      amm.Range
	}{
		{"uniswap-v3/weth-usdt", amm.Range{}},
		{"uniswap-v3/weth-usdt-range", amm.Range{Lower: 0.8, Upper: 1.25}},
	} {
		t.Run(tc.market, func(t *testing.T) {
			a := testenv.Open(t, nil, tc.market)
			first := &adapters.Env{Time: rows[0].Time, Obs: rows[0]}
			pos, f, err := a.Deposit(a.NewPosition(), first, fixed.FromDec(d("10")))
			if err != nil {
				t.Fatal(err)
			}
			v0 := f64(f.Value.Dec())
			worst, inRange := 0.0, 0
			for i, o := range rows {
				env := &adapters.Env{Time: o.Time, Obs: o}
				a.Accrue(&pos, env)
				// No pool size: the fee APY is unknown, quoted as 0 with the
				// reason (it read 5.6e43 or +Inf, volume x fee / the deposit).
				if i%97 == 0 {
					q, err := a.Quote(env, fixed.FromDec(d("10")))
					if err != nil || q.APY != 0 || !strings.Contains(q.Unknown, "no pool size") {
						t.Fatalf("hour %d: Quote = APY %g, Unknown %q, err %v; want 0 with the reason", i, q.APY, q.Unknown, err)
					}
				}
				r := closes[0] / closes[i] // USDT's price in ETH, relative to entry
				want := tc.g.Value(r) / tc.g.Value(1)
				got := f64(a.Value(&pos, env, adapters.PriceMarket)) / v0
				if e := math.Abs(got-want) / want; e > worst {
					worst = e
				}
				if tc.g.In(r) {
					inRange++
				}
			}
			if worst > 1e-9 {
				t.Errorf("value departs from the v3 value at the file's closes by %.3g (relative), want <= 1e-9", worst)
			}
			if pos.Index != 1 {
				t.Errorf("fee index = %g, want 1: the file has no TVL to share fees over", pos.Index)
			}
			rEnd := closes[0] / closes[len(closes)-1]
			t.Logf("%s: ETH %.0f -> %.0f USDT; LP worth %.4f of its entry value in ETH (loss against holding %.2f%%); in range %d of %d hours",
				tc.market, closes[0], closes[len(closes)-1], tc.g.Value(rEnd)/tc.g.Value(1), 100*tc.g.IL(rEnd), inRange, len(rows))
		})
	}
}
