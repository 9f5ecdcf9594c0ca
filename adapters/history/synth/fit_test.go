package synth

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
)

// Statistics of a price path, computed the same way on the real file and on
// the generator's output.
type priceStats struct {
	annVol    float64 // annualised sd of hourly log returns
	kurtHour  float64 // excess kurtosis of hourly log returns
	kurtDay   float64 // excess kurtosis of daily log returns
	varRatio  float64 // var(30-day returns) / (30 x var(daily returns)): 1 for a random walk, < 1 with mean reversion
	dailyVol  float64 // annualised sd of daily log returns
	hourlyObs int
}

func moments(xs []float64) (mean, variance, exKurt float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += x
	}
	mean /= n
	var m2, m4 float64
	for _, x := range xs {
		d := x - mean
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m4 /= n
	return mean, m2, m4/(m2*m2) - 3
}

// statsOf computes priceStats from times (unix seconds) and prices; only
// steps of exactly one hour count as hourly returns, and daily returns are
// between the last prices of consecutive UTC days.
func statsOf(ts []int64, ps []float64) priceStats {
	var hr []float64
	last := map[int64]float64{}
	var days []int64
	for i := range ts {
		if i > 0 && ts[i]-ts[i-1] == 3600 {
			hr = append(hr, math.Log(ps[i]/ps[i-1]))
		}
		d := ts[i] / 86400
		if _, ok := last[d]; !ok {
			days = append(days, d)
		}
		last[d] = ps[i]
	}
	var dr, lp []float64
	for i, d := range days {
		lp = append(lp, math.Log(last[d]))
		if i > 0 && d-days[i-1] == 1 {
			dr = append(dr, math.Log(last[d]/last[days[i-1]]))
		}
	}
	var s priceStats
	_, vh, kh := moments(hr)
	_, vd, kd := moments(dr)
	var r30 []float64
	for i := 0; i+30 < len(lp); i += 30 {
		r30 = append(r30, lp[i+30]-lp[i])
	}
	_, v30, _ := moments(r30)
	s.annVol, s.kurtHour, s.kurtDay = math.Sqrt(vh*24*365), kh, kd
	s.dailyVol = math.Sqrt(vd * 365)
	s.varRatio = v30 / (30 * vd)
	s.hourlyObs = len(hr)
	return s
}

// realETH reads the hourly WETH/USDT closes of the GeckoTerminal file.
func realETH(t *testing.T) ([]int64, []float64) {
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the fit to the real data")
	}
	path := filepath.Join(dir, "uniswap-v3-weth-usdt-hourly-geckoterminal", "uniswapv3_WETHUSDT_1h_2024-01-01_2025-09-27.csv")
	b, err := importers.ImportFile(context.Background(), path, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ts []int64
	var ps []float64
	for _, r := range b.Rows {
		if v, ok := r.Obs.Get(adapters.FieldBaseUSD); ok {
			ts = append(ts, r.Obs.Time.Unix())
			ps = append(ps, v)
		}
	}
	return ts, ps
}

// synthETH generates years of hourly ETH prices (base_usd) with seed.
func synthETH(t *testing.T, seed uint64, years int) ([]int64, []float64) {
	m, err := adapters.Builtin().Market("aave-v3/weth")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err := Generate(Config{Scenario: "calm", From: from, To: from.AddDate(years, 0, 0), Step: time.Hour, Seed: seed, Markets: []adapters.Market{m}})
	if err != nil {
		t.Fatal(err)
	}
	var ts []int64
	var ps []float64
	for _, r := range b.Rows {
		if v, ok := r.Obs.Get(adapters.FieldBaseUSD); ok {
			ts = append(ts, r.Obs.Time.Unix())
			ps = append(ps, v)
		}
	}
	return ts, ps
}

// TestFit_ETHPrice keeps the generator's ETH price within stated
// tolerances of the real 2024-25 file's statistics (the table in
// docs/data.md): the median over seeds of 3-year hourly paths.
func TestFit_ETHPrice(t *testing.T) {
	real := statsOf(realETH(t))
	var vols, kh, kd, vr []float64
	for seed := uint64(1); seed <= 9; seed++ {
		s := statsOf(synthETH(t, seed, 3))
		vols, kh, kd, vr = append(vols, s.annVol), append(kh, s.kurtHour), append(kd, s.kurtDay), append(vr, s.varRatio)
	}
	med := func(xs []float64) float64 {
		c := append([]float64(nil), xs...)
		for i := range c {
			for j := i + 1; j < len(c); j++ {
				if c[j] < c[i] {
					c[i], c[j] = c[j], c[i]
				}
			}
		}
		return c[len(c)/2]
	}
	tests := []struct {
		name       string
		real, synt float64
		lo, hi     float64 // tolerance on synthetic / real, or (for the variance ratio) on the synthetic value
	}{
		{"annualised volatility (hourly)", real.annVol, med(vols), 0.9, 1.1},
		{"excess kurtosis, hourly", real.kurtHour, med(kh), 0.5, 2},
		{"excess kurtosis, daily", real.kurtDay, med(kd), 0.4, 2.5},
	}
	for _, tt := range tests {
		t.Logf("%-32s real %8.4f  synthetic %8.4f", tt.name, tt.real, tt.synt)
		if r := tt.synt / tt.real; r < tt.lo || r > tt.hi {
			t.Errorf("%s: synthetic %.4g is %.3g times the real %.4g, want %g to %g", tt.name, tt.synt, r, tt.real, tt.lo, tt.hi)
		}
	}
	// No mean reversion: a random walk's 30-day variance is 30 daily ones.
	t.Logf("%-32s real %8.4f  synthetic %8.4f", "variance ratio 30d / 30 x 1d", real.varRatio, med(vr))
	if v := med(vr); v < 0.75 || v > 1.3 {
		t.Errorf("variance ratio %.3g: the price mean-reverts (or trends); want 0.75 to 1.3", v)
	}
}

// TestGenerate_WeightedPoolBalances: a constant-product pool with weight0
// (Balancer weighted) gets its balances at its weights, not 50/50.
func TestGenerate_WeightedPoolBalances(t *testing.T) {
	cat := adapters.NewCatalog()
	if err := cat.AddProfile(adapters.Profile{Name: "weighted", Kind: adapters.AMM, Base: adapters.ETH, PoolType: adapters.PoolConstantProduct,
		Params: map[string]adapters.Param{
			"fee_tier": {Value: 0.003, Source: "test"},
			"weight0":  {Value: 0.8, Source: "test: an 80/20 pool, 80% base"},
		}}); err != nil {
		t.Fatal(err)
	}
	m := adapters.Market{ID: "weighted/weth-bal", Kind: adapters.AMM, Base: adapters.ETH}
	if err := cat.AddMarket(m); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err := Generate(Config{From: from, To: from.AddDate(0, 0, 10), Step: 6 * time.Hour, Seed: 3, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range b.Rows {
		b0, ok0 := r.Obs.Get(adapters.FieldBalance0)
		b1, ok1 := r.Obs.Get(adapters.FieldBalance1)
		if !ok0 || !ok1 {
			continue
		}
		n++
		if w := b0 / (b0 + b1); math.Abs(w-0.8) > 1e-6 {
			t.Fatalf("%s: balance0 share %.7f, want the pool's weight 0.8", r.Obs.Time, w)
		}
	}
	if n == 0 {
		t.Fatal("no balances generated")
	}
}

// utilStats: the share of days whose utilization is above kink, and the
// 99th percentile of daily utilization (the last value of each UTC day).
func utilStats(ts []int64, us []float64, kink float64) (above, p99 float64) {
	last := map[int64]float64{}
	for i := range ts {
		last[ts[i]/86400] = us[i]
	}
	var ds []float64
	for _, u := range last {
		ds = append(ds, u)
		if u > kink {
			above++
		}
	}
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			if ds[j] < ds[i] {
				ds[i], ds[j] = ds[j], ds[i]
			}
		}
	}
	return above / float64(len(ds)), ds[int(0.99*float64(len(ds)))]
}

// TestFit_Utilization: the generator's utilization reaches the kink and
// spikes as the real files do: the share of days above the kink and the
// 99th percentile, real vs 3 synthetic years (the table in docs/data.md).
func TestFit_Utilization(t *testing.T) {
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the fit to the real data")
	}
	ctx := context.Background()
	realBatches, err := importers.ImportDir(ctx, filepath.Join(dir, "aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily"), importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"aave-v3-usdc-messari-daily", "compound-v3-usdc-messari-daily"} {
		bs, err := importers.ImportDir(ctx, filepath.Join(dir, sub), importers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		realBatches = append(realBatches, bs...)
	}
	series := func(rows func(yield func(string, int64, float64))) map[string][2][]float64 {
		out := map[string][2][]float64{}
		rows(func(id string, ts int64, u float64) {
			s := out[id]
			s[0], s[1] = append(s[0], float64(ts)), append(s[1], u)
			out[id] = s
		})
		return out
	}
	realS := series(func(y func(string, int64, float64)) {
		for _, b := range realBatches {
			for _, r := range b.Rows {
				if u, ok := r.Obs.Get(adapters.FieldUtilization); ok {
					y(r.Market, r.Obs.Time.Unix(), u)
				}
			}
		}
	})
	cat := adapters.Builtin()
	var ms []adapters.Market
	for _, id := range []string{"aave-v3/weth", "aave-v3/usdt", "aave-v3/usdc", "compound-v3/usdc"} {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err := Generate(Config{Scenario: "calm", From: from, To: from.AddDate(3, 0, 0), Step: time.Hour, Seed: 1, Markets: ms})
	if err != nil {
		t.Fatal(err)
	}
	synS := series(func(y func(string, int64, float64)) {
		for _, r := range b.Rows {
			if u, ok := r.Obs.Get(adapters.FieldUtilization); ok {
				y(r.Market, r.Obs.Time.Unix(), u)
			}
		}
	})
	for _, tc := range []struct {
		id   string
		kink float64
	}{{"aave-v3/weth", 0.90}, {"aave-v3/usdt", 0.92}, {"aave-v3/usdc", 0.92}, {"compound-v3/usdc", 0.92}} {
		conv := func(s [2][]float64) ([]int64, []float64) {
			ts := make([]int64, len(s[0]))
			for i, v := range s[0] {
				ts[i] = int64(v)
			}
			return ts, s[1]
		}
		rts, rus := conv(realS[tc.id])
		sts, sus := conv(synS[tc.id])
		ra, r99 := utilStats(rts, rus, tc.kink)
		sa, s99 := utilStats(sts, sus, tc.kink)
		t.Logf("%-17s days above %.2f: real %5.1f%% synthetic %5.1f%%; 99th percentile real %.3f synthetic %.3f", tc.id, tc.kink, 100*ra, 100*sa, r99, s99)
		if sa < ra/2 || sa > ra*2 {
			t.Errorf("%s: %.1f%% of synthetic days above the kink %.2f, real %.1f%%: want within a factor 2", tc.id, 100*sa, tc.kink, 100*ra)
		}
		if math.Abs(s99-r99) > 0.04 { // a logit-normal path has a lighter top tail than USDC's liquidity crunches (0.951 vs 0.986)
			t.Errorf("%s: 99th percentile %.3f, real %.3f: want within 0.04", tc.id, s99, r99)
		}
	}
}

// TestFit_StakingRateGrowth: the generator's LST/LRT exchange rates grow
// as the real files' did (annualised, the table in docs/data.md).
func TestFit_StakingRateGrowth(t *testing.T) {
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the fit to the real data")
	}
	growth := func(ts []int64, rs []float64) float64 {
		yrs := float64(ts[len(ts)-1]-ts[0]) / (365 * 86400)
		return math.Pow(rs[len(rs)-1]/rs[0], 1/yrs) - 1
	}
	rateOf := func(b []*history.Batch, id string) ([]int64, []float64) {
		var ts []int64
		var rs []float64
		for _, bb := range b {
			for _, r := range bb.Rows {
				if v, ok := r.Obs.Get(adapters.FieldExchangeRate); ok && r.Market == id {
					ts, rs = append(ts, r.Obs.Time.Unix()), append(rs, v)
				}
			}
		}
		return ts, rs
	}
	realB, err := importers.ImportDir(context.Background(), filepath.Join(dir, "lst-lrt-market-vs-aave-oracle-hourly"), importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := adapters.Builtin()
	for _, id := range []string{"lido/wsteth", "etherfi/weeth"} {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		sb, err := Generate(Config{Scenario: "calm", From: from, To: from.AddDate(3, 0, 0), Step: 24 * time.Hour, Seed: 1, Markets: []adapters.Market{m}})
		if err != nil {
			t.Fatal(err)
		}
		rg, sg := growth(rateOf(realB, id)), growth(rateOf([]*history.Batch{sb}, id))
		t.Logf("%-14s exchange rate growth a year: real %.2f%% synthetic %.2f%%", id, 100*rg, 100*sg)
		if math.Abs(sg-rg) > 0.005 {
			t.Errorf("%s: synthetic rate growth %.2f%% a year, real %.2f%%: want within 0.5 point", id, 100*sg, 100*rg)
		}
	}
}

// tvlDays is the day-over-day relative changes of the TVL rows of
// batches (rows exactly a day apart; the generator's hourly rows are taken
// at midnight UTC).
func tvlDays(bs []*history.Batch) []float64 {
	var ts []int64
	var vs []float64
	for _, b := range bs {
		for _, r := range b.Rows {
			if v, ok := r.Obs.Get(adapters.FieldTVL); ok && r.Obs.Time.Unix()%86400 == 0 {
				ts, vs = append(ts, r.Obs.Time.Unix()), append(vs, v)
			}
		}
	}
	var out []float64
	for i := 1; i < len(ts); i++ {
		if ts[i]-ts[i-1] == 86400 && vs[i-1] > 0 {
			out = append(out, vs[i]/vs[i-1]-1)
		}
	}
	return out
}

// tvlStats are the sd of the log day-over-day changes, their 1st
// percentile and the count of days below -20% (the built-in tvl-drop's
// threshold).
func tvlStats(ch []float64) (sd, p1 float64, below20 int) {
	lr := make([]float64, len(ch))
	for i, c := range ch {
		lr[i] = math.Log1p(c)
		if c < -0.2 {
			below20++
		}
	}
	_, v, _ := moments(lr)
	s := append([]float64(nil), ch...)
	slices.Sort(s)
	return math.Sqrt(v), s[len(s)/100], below20
}

// TestFit_TVLDayOverDay keeps the generator's TVL (a staking market's
// size x the ETH price) within stated tolerances of Lido stETH's real TVL
// in USD (DefiLlama, daily, 2022-05..2025-11; the table in docs/data.md):
// the median over 9 seeds of 3-year paths of the sd of the day-over-day
// log change and of its 1st percentile, and no day below -20% in any
// seed, as in the real file (the built-in tvl-drop monitor's threshold).
func TestFit_TVLDayOverDay(t *testing.T) {
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the fit to the real data")
	}
	realB, err := importers.ImportDir(context.Background(), filepath.Join(dir, "lido-steth-apy-defillama-daily"), importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rch := tvlDays(realB)
	rsd, rp1, rbelow := tvlStats(rch)
	m, err := adapters.Builtin().Market("lido/steth")
	if err != nil {
		t.Fatal(err)
	}
	var sds, p1s []float64
	below, days := 0, 0
	for seed := uint64(1); seed <= 9; seed++ {
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		b, err := Generate(Config{Scenario: "calm", From: from, To: from.AddDate(3, 0, 0), Step: time.Hour, Seed: seed, Markets: []adapters.Market{m}})
		if err != nil {
			t.Fatal(err)
		}
		ch := tvlDays([]*history.Batch{b})
		sd, p1, n := tvlStats(ch)
		sds, p1s, below, days = append(sds, sd), append(p1s, p1), below+n, days+len(ch)
	}
	slices.Sort(sds)
	slices.Sort(p1s)
	sd, p1 := sds[len(sds)/2], p1s[len(p1s)/2]
	t.Logf("TVL day-over-day: real sd %.4f p1 %.4f below -20%% %d of %d days; synthetic (median of 9 seeds) sd %.4f p1 %.4f below -20%% %d of %d days",
		rsd, rp1, rbelow, len(rch), sd, p1, below, days)
	if r := sd / rsd; r < 0.75 || r > 1.33 {
		t.Errorf("sd of the day-over-day log change: synthetic %.4f is %.3g times the real %.4f, want 0.75 to 1.33", sd, r, rsd)
	}
	if r := p1 / rp1; r < 0.6 || r > 1.6 {
		t.Errorf("1st percentile of the day-over-day change: synthetic %.4f is %.3g times the real %.4f, want 0.6 to 1.6", p1, r, rp1)
	}
	// The real file has no day below -20% in n days: the rate's 95% upper
	// bound is 3/n (Poisson). The generator's fat-tailed ETH price makes
	// such days rare, not impossible (ETH fell 27% on 2021-05-19, before
	// the file starts).
	if rbelow != 0 {
		t.Errorf("the real file has %d days below -20%%, the table says none", rbelow)
	}
	if rate, bound := float64(below)/float64(days), 3/float64(len(rch)); rate >= bound {
		t.Errorf("days below -20%%: synthetic %d of %d (%.3g%%), want under the real file's 95%% bound %.3g%% (none in %d days)", below, days, 100*rate, 100*bound, len(rch))
	}
}
