package importers

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// sharedData returns the shared data folder from YIELDVAULT_SHARED_DATA,
// skipping the test when it is unset.
func sharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the real-data test")
	}
	return dir
}

// sharedFile returns a file of the shared data, failing when it is missing.
func sharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedData(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared data file missing: %v", err)
	}
	return p
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestImportFile_SharedData imports every data file of shared/data alone
// and checks row counts and date ranges against each PROVENANCE.md.
func TestImportFile_SharedData(t *testing.T) {
	tests := []struct {
		file          string
		format        Format
		market        string
		rows, skipped int
		first, last   string // dates (UTC) of the first and last row
	}{
		{"lido-steth-apy-defillama-daily/dataset_lido.csv", FormatLidoDefiLlama, "lido/steth", 1261, 0, "2022-05-03", "2025-11-13"},
		// 1,245 events: 1 before the first deposit, 4 exact repeats.
		{"reth-exchange-rate/reth_exchange_rate.csv", FormatRethRate, "rocketpool/reth", 1240, 1, "2021-10-02", "2024-09-05"},
		{"reth-exchange-rate/balances.jsonl", FormatRethBalances, "rocketpool/reth", 1240, 1, "2021-10-02", "2024-09-05"},
		{"compound-v3-lst-lrt-oracle-hourly/cbETH_compoundv3_price.csv", FormatCompoundOracle, "coinbase/cbeth", 16170, 0, "2023-01-13", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/rETH_compoundv3_price.csv", FormatCompoundOracle, "rocketpool/reth", 9408, 6762, "2023-10-18", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/weETH_compoundv3_price.csv", FormatCompoundOracle, "etherfi/weeth", 3362, 12808, "2024-06-21", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/rsETH_compoundv3_price.csv", FormatCompoundOracle, "kelp/rseth", 3361, 12809, "2024-06-21", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/osETH_compoundv3_price.csv", FormatCompoundOracle, "stakewise/oseth", 3170, 13000, "2024-06-29", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/ezETH_compoundv3_price.csv", FormatCompoundOracle, "renzo/ezeth", 2937, 13233, "2024-07-08", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/rswETH_compoundv3_price.csv", FormatCompoundOracle, "swell/rsweth", 1003, 15167, "2024-09-25", "2024-11-05"},
		{"compound-v3-lst-lrt-oracle-hourly/WETH_compoundv3_price.csv", FormatCompoundOracle, "compound-v3/weth", 19831, 1, "2022-08-13", "2024-11-05"},
		// 482 days; 2024-08-24 has Base 0.00 and no reward: nothing to store.
		{"etherfi-eeth-apy-daily/bar-chart-supply-apy-2025-09-29-eeth.csv", FormatEtherfiAPY, "etherfi/weeth", 481, 1, "2024-06-05", "2025-09-29"},
		{"steth-usd-coingecko-hourly/steth_eth_hourly_derived.csv", FormatStethEthDerived, "lido/steth", 18141, 0, "2021-01-01", "2023-02-25"},
		// The raw files hold 18,410 and 18,861 points (PROVENANCE.md says one
		// fewer each; their last line has no newline); 269 stETH points have
		// no WETH point within 30 minutes, as in the derived file.
		{"steth-usd-coingecko-hourly/stETH_usd.csv", FormatCoinGeckoUSD, "lido/steth", 18141, 269, "2021-01-01", "2023-02-25"},
		{"steth-usd-coingecko-hourly/WETH_usd.csv", FormatCoinGeckoUSD, "lido/steth", 18861, 0, "2021-01-01", "2023-02-25"},
		{"lst-lrt-market-vs-aave-oracle-hourly/wstETH_market_vs_oracle_hourly.csv", FormatMarketVsOracle, "lido/wsteth", 12068, 0, "2024-05-12", "2025-09-27"},
		{"lst-lrt-market-vs-aave-oracle-hourly/weETH_market_vs_oracle_hourly.csv", FormatMarketVsOracle, "etherfi/weeth", 12063, 0, "2024-05-13", "2025-09-27"},
		{"aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily/aave_v3_aave-v3-ethereum_WETH_rates_2024-01-01_2025-09-18.csv", FormatAaveScan, "aave-v3/weth", 638, 0, "2024-01-01", "2025-09-29"},
		{"aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily/aave_v3_aave-v3-ethereum_USDT_rates_2024-01-01_2025-09-18.csv", FormatAaveScan, "aave-v3/usdt", 638, 0, "2024-01-01", "2025-09-29"},
		{"aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily/aave_v3_aave-v3-ethereum_wstETH_rates_2024-05-12_2025-09-18.csv", FormatAaveScan, "aave-v3/wsteth", 506, 0, "2024-05-12", "2025-09-29"},
		{"aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily/aave_v3_aave-v3-ethereum_weETH_rates_2024-05-12_2025-09-18.csv", FormatAaveScan, "aave-v3/weeth", 506, 0, "2024-05-12", "2025-09-29"},
		{"aave-v3-usdc-messari-daily/aave_usdc_dados_completos.csv", FormatAaveMessari, "aave-v3/usdc", 1022, 0, "2023-01-27", "2025-11-13"},
		{"aave-v3-usdc-messari-daily/dataset_aave_defillama.csv", FormatAaveDefiLlamaCSV, "aave-v3/usdc", 1012, 0, "2023-02-06", "2025-11-13"},
		// 1,178 rows; the launch row (2022-08-13) has no data.
		// Each row's USDC price also goes to the 3pool (coin 1): 1,177 more.
		{"compound-v3-usdc-messari-daily/compound_v3_data.csv", FormatCompoundMessari, "compound-v3/usdc curve/3pool", 2354, 1, "2022-08-26", "2025-11-14"},
		{"curve-3pool-balances-messari-daily/curve_3pool_balances.csv", FormatCurve3Pool, "curve/3pool", 1890, 0, "2020-09-06", "2025-11-13"},
		// 387 snapshots; their balances also go to lido/steth's rows (the
		// pool is stETH's venue): 387 more.
		{"curve-steth-pool-snapshots-2022/curve_steth_pool_snapshots.csv", FormatCurveStethPool, "curve/steth-eth lido/steth", 774, 0, "2022-07-29", "2023-01-12"},
		{"uniswap-v3-weth-usdt-hourly-geckoterminal/uniswapv3_WETHUSDT_1h_2024-01-01_2025-09-27.csv", FormatUniswapGecko, "uniswap-v3/weth-usdt", 15259, 0, "2024-01-01", "2025-09-27"},
	}
	sharedData(t)
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			p := sharedFile(t, tc.file)
			f, err := Detect(p)
			if err != nil || f != tc.format {
				t.Fatalf("Detect = %q, %v; want %q", f, err, tc.format)
			}
			b, err := ImportFile(context.Background(), p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Rows) != tc.rows || b.Skipped != tc.skipped {
				t.Errorf("rows %d, skipped %d; want %d, %d (notes %q)", len(b.Rows), b.Skipped, tc.rows, tc.skipped, b.Notes)
			}
			var ids []string
			for _, m := range b.Markets {
				ids = append(ids, m.ID)
			}
			if strings.Join(ids, " ") != tc.market {
				t.Fatalf("markets %v, want [%s]", b.Markets, tc.market)
			}
			first, last := b.Rows[0].Obs.Time, b.Rows[len(b.Rows)-1].Obs.Time
			if got := first.Format(time.DateOnly); got != tc.first {
				t.Errorf("first row on %s, want %s", got, tc.first)
			}
			if got := last.Format(time.DateOnly); got != tc.last {
				t.Errorf("last row on %s, want %s", got, tc.last)
			}
			checkBatch(t, b)
		})
	}
}

// checkBatch checks what every batch promises: rows valid, sorted and
// unique per market, markets from the catalog.
func checkBatch(t testing.TB, b *history.Batch) {
	t.Helper()
	checkBatchRows(t, b)
	if hs, ws := history.CheckBatch(b); len(hs) > 0 {
		t.Fatalf("history.CheckBatch errors: %v (warnings %d)", hs, len(ws))
	}
}

// checkFuzzBatch is checkBatch for fuzzed input: the batch is well formed,
// but its values may be implausible, which the store refuses unless the
// user allows them (and then stores them with a warning), and its times
// may lie outside the plausible range, which the store always refuses.
func checkFuzzBatch(t testing.TB, b *history.Batch) {
	t.Helper()
	checkBatchRows(t, b)
	implausibleTime := func(h history.Issue) bool {
		return h.Kind == history.IssueBadTime && h.Msg != "row has no time"
	}
	hs, ws := history.CheckBatch(b)
	values := 0
	for _, h := range hs {
		switch {
		case h.Kind == history.IssueImplausible:
			values++
		case implausibleTime(h):
		default:
			t.Fatalf("history.CheckBatch errors: %v (warnings %d)", hs, len(ws))
		}
	}
	if values > 0 {
		allowed := *b
		allowed.AllowImplausible = true
		hs, _ := history.CheckBatch(&allowed)
		for _, h := range hs {
			if !implausibleTime(h) {
				t.Fatalf("history.CheckBatch errors with implausible values allowed: %v", hs)
			}
		}
	}
}

// checkBatchRows checks what every importer's batch holds: valid rows that
// observe something, of known markets, in time order, at whole UTC seconds.
func checkBatchRows(t testing.TB, b *history.Batch) {
	t.Helper()
	known := map[string]bool{}
	for _, m := range b.Markets {
		known[m.ID] = true
	}
	last := map[string]int64{}
	for _, r := range b.Rows {
		if err := r.Obs.Validate(); err != nil {
			t.Fatalf("line %d: row does not validate: %v", r.Line, err)
		}
		if r.Obs.Set == 0 {
			t.Fatalf("line %d: row observes nothing", r.Line)
		}
		if !known[r.Market] {
			t.Fatalf("line %d: market %q not in Batch.Markets", r.Line, r.Market)
		}
		ts := r.Obs.Time.Unix()
		if p, ok := last[r.Market]; ok && ts <= p {
			t.Fatalf("line %d: %s time %d not after %d", r.Line, r.Market, ts, p)
		}
		last[r.Market] = ts
		if r.Obs.Time.Location() != time.UTC || r.Obs.Time.Nanosecond() != 0 {
			t.Fatalf("line %d: time %v is not whole UTC seconds", r.Line, r.Obs.Time)
		}
	}
}

// series returns (time, value) of field f for market in b.
func series(b *history.Batch, market string, f adapters.Field) (ts []time.Time, vs []float64) {
	for _, r := range b.Rows {
		if v, ok := r.Obs.Get(f); ok && r.Market == market {
			ts, vs = append(ts, r.Obs.Time), append(vs, v)
		}
	}
	return ts, vs
}

func TestImportFile_SharedDataLandmarks(t *testing.T) {
	ctx := context.Background()
	load := func(rel string) *history.Batch {
		t.Helper()
		b, err := ImportFile(ctx, sharedFile(t, rel), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.6f, want %.6f ± %g", name, got, want, tol)
		}
	}

	// stETH/ETH: minimum 0.9306 at 2022-06-18 20:00 UTC.
	b := load("steth-usd-coingecko-hourly/steth_eth_hourly_derived.csv")
	ts, vs := series(b, "lido/steth", adapters.FieldPrice)
	lo := 0
	for i := range vs {
		if ts[i].Year() != 2022 {
			continue // early 2021 is thin and noisy (PROVENANCE.md); the landmark is 2022's
		}
		if vs[i] < vs[lo] || ts[lo].Year() != 2022 {
			lo = i
		}
	}
	near("stETH/ETH low", vs[lo], 0.9306, 0.00005)
	if got := ts[lo].Format("2006-01-02 15"); got != "2022-06-18 20" {
		t.Errorf("stETH/ETH low at %s, want 2022-06-18 20h", got)
	}
	// And the stETH USD file joined with WETH USD gives the same series.
	j := load("steth-usd-coingecko-hourly/stETH_usd.csv")
	jts, jvs := series(j, "lido/steth", adapters.FieldPrice)
	if len(jvs) != len(vs) {
		t.Fatalf("joined stETH/ETH has %d points, the derived file %d", len(jvs), len(vs))
	}
	for i := range vs {
		if !jts[i].Equal(ts[i]) || jvs[i] != vs[i] {
			t.Fatalf("point %d: joined %v %.9f, derived %v %.9f", i, jts[i], jvs[i], ts[i], vs[i])
		}
	}

	// rETH: 1.0 at launch, 1.115283 on 2024-09-05; the JSONL decodes to the
	// same rates as the CSV.
	b = load("reth-exchange-rate/reth_exchange_rate.csv")
	_, vs = series(b, "rocketpool/reth", adapters.FieldExchangeRate)
	near("rETH first", vs[0], 1.0, 0)
	near("rETH last", vs[len(vs)-1], 1.1153, 0.0001)
	jb := load("reth-exchange-rate/balances.jsonl")
	_, jvs = series(jb, "rocketpool/reth", adapters.FieldExchangeRate)
	for i := range vs {
		if math.Abs(jvs[i]-vs[i]) > 1e-15 {
			t.Fatalf("rETH point %d: JSONL %.18f, CSV %.18f", i, jvs[i], vs[i])
		}
	}
	// Compound's rETH feed is a market price: against the Rocket Pool rate
	// (the last event before each read) its median gap is within the 13 bps
	// PROVENANCE.md quotes, and the largest premium is about 1% (Nov 2023).
	cb := load("compound-v3-lst-lrt-oracle-hourly/rETH_compoundv3_price.csv")
	rts, rvs := series(b, "rocketpool/reth", adapters.FieldExchangeRate)
	cts, cvs := series(cb, "rocketpool/reth", adapters.FieldPrice)
	var gaps []float64
	for i, ct := range cts {
		if ct.After(rts[len(rts)-1]) {
			break
		}
		k := 0
		for k+1 < len(rts) && !rts[k+1].After(ct) {
			k++
		}
		gaps = append(gaps, cvs[i]/rvs[k]-1)
	}
	med, _ := minMax([]float64{math.Abs(median(gaps))})
	_, top := minMax(gaps)
	if med > 0.0013 || top < 0.009 || top > 0.011 {
		t.Errorf("Compound rETH price vs Rocket Pool rate: median gap %.1f bps, top %.1f bps; want <= 13 and about 100", med*1e4, top*1e4)
	}

	// AaveScan WETH: the borrow APR peaks at 22.6% on 2024-07-05; index
	// kept exactly; utilization median 0.861.
	b = load("aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily/aave_v3_aave-v3-ethereum_WETH_rates_2024-01-01_2025-09-18.csv")
	ts, vs = series(b, "aave-v3/weth", adapters.FieldBorrowAPY)
	hi := 0
	for i := range vs {
		if vs[i] > vs[hi] {
			hi = i
		}
	}
	if got := ts[hi].Format(time.DateOnly); got != "2024-07-05" {
		t.Errorf("WETH borrow peak on %s, want 2024-07-05", got)
	}
	near("WETH borrow APY peak (APR 22.6%)", vs[hi], aprToAPY(0.226), 0.003)
	_, idx := series(b, "aave-v3/weth", adapters.FieldIndex)
	near("WETH liquidityIndex 2024-01-01", idx[0], 1.0180859234631308, 0)
	_, us := series(b, "aave-v3/weth", adapters.FieldUtilization)
	near("WETH utilization median", median(us), 0.861, 0.005)
	// wstETH supply in ETH: token amount times the wstETH/ETH ratio of
	// 1.1663 on 2024-05-12.
	b = load("aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily/aave_v3_aave-v3-ethereum_wstETH_rates_2024-05-12_2025-09-18.csv")
	_, sup := series(b, "aave-v3/wsteth", adapters.FieldSupply)
	near("wstETH supply 2024-05-12 (ETH)", sup[0]/985781.8188216442, 1.1663, 0.0005)

	// Lido: 10.2% on 2022-11-13 (FTX), median 3.5%.
	b = load("lido-steth-apy-defillama-daily/dataset_lido.csv")
	ts, vs = series(b, "lido/steth", adapters.FieldAPY)
	near("Lido APY median", median(vs), 0.035, 0.001)
	for i := range ts {
		if ts[i].Equal(day("2022-11-13")) {
			near("Lido APY 2022-11-13", vs[i], 0.102, 0.0015)
		}
	}

	// Curve 3pool: USDC share jumps from 0.297 (2023-03-09) to about 0.48.
	b = load("curve-3pool-balances-messari-daily/curve_3pool_balances.csv")
	share := func(d string) float64 {
		for _, r := range b.Rows {
			if r.Obs.Time.Format(time.DateOnly) == d {
				return r.Obs.Values[adapters.FieldBalance1] / r.Obs.Values[adapters.FieldTVL]
			}
		}
		t.Fatalf("no 3pool row on %s", d)
		return 0
	}
	near("3pool USDC share 2023-03-09", share("2023-03-09"), 0.297, 0.002)
	if s := share("2023-03-11"); s < 0.47 {
		t.Errorf("3pool USDC share 2023-03-11 = %.3f, want >= 0.47 (SVB depeg)", s)
	}

	// Curve stETH pool: stETH/ETH about 0.974 in late July 2022.
	b = load("curve-steth-pool-snapshots-2022/curve_steth_pool_snapshots.csv")
	_, vs = series(b, "curve/steth-eth", adapters.FieldPrice)
	near("Curve stETH/ETH 2022-07-29", vs[0], 0.974, 0.002)

	// ether.fi: base APY median 2.88% over the days with a value.
	b = load("etherfi-eeth-apy-daily/bar-chart-supply-apy-2025-09-29-eeth.csv")
	_, vs = series(b, "etherfi/weeth", adapters.FieldAPY)
	near("eETH base APY median", median(vs), 0.0288, 0.0005)

	// Compound USDC: utilization median 88.9%, never above 1 after clamping.
	b = load("compound-v3-usdc-messari-daily/compound_v3_data.csv")
	_, vs = series(b, "compound-v3/usdc", adapters.FieldUtilization)
	near("Compound USDC utilization median", median(vs), 0.889, 0.005)

	// Uniswap: close within 1,417..4,935; volume per day in ETH.
	b = load("uniswap-v3-weth-usdt-hourly-geckoterminal/uniswapv3_WETHUSDT_1h_2024-01-01_2025-09-27.csv")
	_, vs = series(b, "uniswap-v3/weth-usdt", adapters.FieldPrice)
	if mn, mx := minMax(vs); mn < 1417 || mx > 4936 || mn > 1418 || mx < 4934 {
		t.Errorf("Uniswap close range %.0f..%.0f, want 1,417..4,935", mn, mx)
	}
	_, vol := series(b, "uniswap-v3/weth-usdt", adapters.FieldVolume)
	near("Uniswap first volume (ETH/day)", vol[0], 990471.9674403033*24/2289.29694049011, 1e-6)

	// market vs oracle: wstETH premium median -0.049%.
	b = load("lst-lrt-market-vs-aave-oracle-hourly/wstETH_market_vs_oracle_hourly.csv")
	var prem []float64
	for _, r := range b.Rows {
		p, _ := r.Obs.Peg(adapters.PegRate) // wstETH accrues value
		prem = append(prem, p-1)
	}
	near("wstETH peg premium median", median(prem), -0.00049, 0.00002)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(v []float64) (float64, float64) {
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		mn, mx = math.Min(mn, x), math.Max(mx, x)
	}
	return mn, mx
}

// TestImportDir_SharedData imports the whole folder and checks what was
// skipped and how overlapping sources were settled.
func TestImportDir_SharedData(t *testing.T) {
	dir := sharedData(t)
	var skipped []string
	bs, err := ImportDir(context.Background(), dir, Options{OnSkip: func(p, reason string) {
		skipped = append(skipped, filepath.Base(p))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 27 {
		t.Errorf("%d batches, want 27 (one per data file)", len(bs))
	}
	for _, want := range []string{"README.md", "PROVENANCE.md", "LICENSE.upstream", "aavescan_report_upstream.json", "weETH_peg_analysis_summary.upstream.json"} {
		found := false
		for _, s := range skipped {
			found = found || s == want
		}
		if !found {
			t.Errorf("%s was not reported as skipped (skipped: %v)", want, skipped)
		}
	}
	// After settling, no value of a (market, field) lies inside the span
	// of a file of higher precedence for the same (market, field).
	type key struct {
		m string
		f adapters.Field
	}
	type span struct {
		lo, hi int64
		rank   int
		src    string
	}
	spans := map[key][]span{}
	byName := map[string]*history.Batch{}
	for _, b := range bs {
		checkBatch(t, b)
		byName[filepath.Base(b.Source)] = b
		local := map[key]*span{}
		for _, r := range b.Rows {
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if !r.Obs.Set.Has(f) {
					continue
				}
				k, ts := key{r.Market, f}, r.Obs.Time.Unix()
				if s := local[k]; s != nil {
					s.lo, s.hi = min(s.lo, ts), max(s.hi, ts)
				} else {
					local[k] = &span{ts, ts, rankOf(Format(b.Format)), b.Source}
				}
			}
		}
		for k, s := range local {
			spans[k] = append(spans[k], *s)
		}
	}
	for _, b := range bs {
		rank := rankOf(Format(b.Format))
		for _, r := range b.Rows {
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if !r.Obs.Set.Has(f) {
					continue
				}
				for _, s := range spans[key{r.Market, f}] {
					if ts := r.Obs.Time.Unix(); s.rank > rank && ts >= s.lo && ts <= s.hi {
						t.Fatalf("%s line %d: %s %s lies inside the span of %s", filepath.Base(b.Source), r.Line, r.Market, f, filepath.Base(s.src))
					}
				}
			}
		}
	}
	// Compound's weETH rate yields to the market-vs-oracle file, which
	// covers its whole range; its rETH and cbETH prices have no rival.
	if b := byName["weETH_compoundv3_price.csv"]; b == nil || len(b.Rows) != 0 {
		t.Errorf("Compound weETH after settling: %v rows, want 0", len(b.Rows))
	}
	if b := byName["rETH_compoundv3_price.csv"]; b == nil || len(b.Rows) != 9408 {
		t.Errorf("Compound rETH after settling: %d rows, want 9408", len(b.Rows))
	}
	if b := byName["dataset_aave_defillama.csv"]; b == nil || !strings.Contains(strings.Join(b.Notes, "\n"), "aave-v3/usdc apy values dropped") {
		t.Errorf("DefiLlama Aave USDC APY should yield to Messari's")
	}
	if _, err := ImportDir(context.Background(), dir, Options{Market: "lido/steth"}); err == nil {
		t.Error("ImportDir with a market override: no error")
	}
}
