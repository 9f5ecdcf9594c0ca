package importers

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// dataset is an importer for one of the real datasets in shared/data,
// recognised by its exact header line: the rowSpec that reads its
// records, its steps the columns (with a hook where a dataset really
// differs).
type dataset struct {
	format Format
	header string
	// rank is the precedence of the dataset where ImportDir finds two
	// files giving the same field of the same market over the same time
	// (higher wins; see resolveOverlaps).
	rank int
	spec rowSpec
}

// Precedence ranks.
const (
	rankDefault   = 10
	rankSecondary = 20 // a copy or a coarser view of a primary source
	rankPrimary   = 30 // the authoritative source for its fields
)

var datasets []dataset

func init() {
	datasets = []dataset{
		// DefiLlama pool 747c1d2a… as CSV: date, APY %, TVL USD.
		{FormatLidoDefiLlama, "date,Lido_APY,Lido_TVL", rankDefault, rowSpec{
			market: "lido/steth", time: col{name: "date", unit: TimeDate}, empty: "no APY and no TVL",
			cols: []col{
				{name: "Lido_APY", field: adapters.FieldAPY, unit: UnitPercent},
				{name: "Lido_TVL", field: adapters.FieldTVL},
			},
		}},
		// Decoded RocketNetworkBalances events; eth_per_reth is the
		// exchange rate, empty while the rETH supply was 0.
		{FormatRethRate, "balances_block,event_time_unix,event_time_utc,slot_timestamp_unix,total_eth_wei,staking_eth_wei,reth_supply_wei,eth_per_reth", rankPrimary, rowSpec{
			market: "rocketpool/reth", time: col{name: "event_time_unix", unit: TimeUnixS},
			empty: "eth_per_reth empty (rETH supply 0 before the first deposit)",
			cols:  []col{{name: "eth_per_reth", field: adapters.FieldExchangeRate}},
		}},
		// Compound v3 oracle reads: market by symbol; the field too
		// (compoundOracleField).
		{FormatCompoundOracle, "symbol,timestamp,USD_price", rankDefault, rowSpec{
			before: []col{{name: "symbol", put: bySymbol(compoundOracleMarkets)}},
			time:   col{name: "timestamp", unit: TimeUnixS},
			empty:  "price empty (the asset was not yet listed on Compound v3)",
			cols:   []col{{name: "USD_price", put: compoundOracleField}},
		}},
		// CoinGecko USD prices, unix ms: WETH rows give lido/steth
		// base_usd; stETH rows are joined with the sibling WETH_usd.csv
		// (coinGeckoPrice).
		{FormatCoinGeckoUSD, "symbol,timestamp,USD_price", rankSecondary, rowSpec{
			market: "lido/steth",
			before: []col{{name: "symbol", put: stETHOrWETH}},
			time:   col{name: "timestamp", unit: TimeUnixMS},
			cols:   []col{{name: "USD_price", with: []string{"symbol"}, put: coinGeckoPrice}},
		}},
		// stETH/ETH derived from the two USD columns (stethPerETH).
		{FormatStethEthDerived, "steth_ts_ms,weth_ts_ms,time_utc,steth_usd,weth_usd,steth_per_eth", rankPrimary, rowSpec{
			market: "lido/steth", time: col{name: "steth_ts_ms", unit: TimeUnixMS}, empty: "no prices",
			cols: []col{{name: "steth_usd", with: []string{"weth_usd", "steth_per_eth"}, put: stethPerETH}},
		}},
		// ether.fi eETH APY chart export. Base 0.00 days are chart
		// artefacts (PROVENANCE.md): apy is left unobserved there, so the
		// store's forward fill carries the previous day's value.
		{FormatEtherfiAPY, "Timestamp,Date,Base,Reward", rankDefault, rowSpec{
			market: "etherfi/weeth", time: col{name: "Timestamp", unit: TimeUnixS}, empty: "no base and no reward APY",
			cols: []col{
				{name: "Base", field: adapters.FieldAPY, unit: UnitPercent, put: zeroUnobserved},
				{name: "Reward", field: adapters.FieldRewardAPY, unit: UnitPercent},
			},
		}},
		// Protocol (Aave oracle) rate and 24-hour median DEX price, both in
		// ETH.
		{FormatMarketVsOracle, "timestamp_utc,asset,protocol_rate_eth,market_rate_eth_24h_median,dex,peg_premium_percent", rankPrimary, rowSpec{
			before: []col{{name: "asset", put: bySymbol(marketVsOracleMarkets)}},
			time:   col{name: "timestamp_utc", unit: TimeDateTime},
			empty:  "no rate and no price",
			cols: []col{
				{name: "protocol_rate_eth", field: adapters.FieldExchangeRate},
				{name: "market_rate_eth_24h_median", field: adapters.FieldPrice},
			},
		}},
		// Daily getReserveData snapshots. liquidityIndex is kept exactly;
		// the rates are APRs compounded per second and become APYs;
		// utilization, supply and borrows come from the amounts
		// (aaveScanAmounts).
		{FormatAaveScan, "targetDate,timestamp,blockNumber,reserve,symbol,liquidityIndex,currentLiquidityRate,variableBorrowIndex,currentVariableBorrowRate,currentStableBorrowRate,totalAToken,totalStableDebt,totalVariableDebt,price,date", rankDefault, rowSpec{
			before: []col{{name: "symbol", put: bySymbol(aaveScanMarkets)}},
			time:   col{name: "timestamp", unit: TimeUnixS},
			empty:  "no values",
			cols: []col{
				{name: "liquidityIndex", field: adapters.FieldIndex},
				{name: "variableBorrowIndex", field: adapters.FieldBorrowIndex},
				{name: "currentLiquidityRate", field: adapters.FieldAPY, unit: UnitFraction, put: aprAPY},
				{name: "currentVariableBorrowRate", field: adapters.FieldBorrowAPY, unit: UnitFraction, put: aprAPY},
				{name: "totalAToken", with: []string{"totalStableDebt", "totalVariableDebt", "price"}, put: aaveScanAmounts},
			},
		}},
		// Messari-schema daily snapshots of Aave v3 USDC; APYs in percent,
		// utilization a fraction, amounts in USD.
		{FormatAaveMessari, "date,timestamp,token_symbol,Y_Aave_APY,X_Variable_Borrow_APY,X_Stable_Borrow_APY,X_Aave_Utilization,totalBorrowBalanceUSD,totalDepositBalanceUSD,totalValueLockedUSD,cumulativeSupplySideRevenueUSD,blockNumber", rankPrimary, rowSpec{
			time: col{name: "timestamp", unit: TimeUnixS}, empty: "no values",
			cols: []col{
				{name: "token_symbol", put: aaveMarket},
				{name: "Y_Aave_APY", field: adapters.FieldAPY, unit: UnitPercent},
				{name: "X_Variable_Borrow_APY", field: adapters.FieldBorrowAPY, unit: UnitPercent},
				{name: "X_Aave_Utilization", field: adapters.FieldUtilization, unit: UnitFraction},
				{name: "totalBorrowBalanceUSD", field: adapters.FieldBorrows},
				{name: "totalDepositBalanceUSD", field: adapters.FieldSupply},
				{name: "totalValueLockedUSD", field: adapters.FieldTVL},
			},
		}},
		// DefiLlama pool aa70268e… (Aave v3 USDC): APY % and tvlUsd, which
		// for a lending pool is supplied minus borrowed, the liquidity a
		// supplier can withdraw now: it becomes exit_liquidity.
		{FormatAaveDefiLlamaCSV, "date,Aave_USDC_APY,Aave_USDC_TVL", rankSecondary, rowSpec{
			market: "aave-v3/usdc", time: col{name: "date", unit: TimeDate}, empty: "no values",
			cols: []col{
				{name: "Aave_USDC_APY", field: adapters.FieldAPY, unit: UnitPercent},
				{name: "Aave_USDC_TVL", field: adapters.FieldExitLiquidity},
			},
		}},
		// Messari-schema daily snapshots of Comet cUSDCv3. The launch
		// snapshot has no APYs and is skipped; utilization is in percent
		// and can exceed 100% (USD aggregates exclude reserves): it is
		// clamped to 1 and counted.
		{FormatCompoundMessari, "timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,total_deposit_usd,total_borrow_usd,input_token_price_usd", rankDefault, rowSpec{
			market: "compound-v3/usdc", time: col{name: "timestamp", unit: TimeUnixS}, empty: "no values",
			cols: []col{
				{name: "deposit_apy", field: adapters.FieldAPY, unit: UnitPercent, with: []string{"borrow_apy"}, put: skipLaunchRow},
				{name: "borrow_apy", field: adapters.FieldBorrowAPY, unit: UnitPercent},
				{name: "utilization_rate", field: adapters.FieldUtilization, unit: UnitPercent, put: clampUtilization},
				{name: "total_deposit_usd", field: adapters.FieldSupply},
				{name: "total_borrow_usd", field: adapters.FieldBorrows},
				{name: "input_token_price_usd", field: adapters.FieldBaseUSD},
			},
			// The USDC price (Compound's Chainlink USDC/USD feed, the
			// only stablecoin price in the real files: 0.9555 on
			// 2023-03-11) is also the 3pool's coin 1 price, which its
			// LP share is marked to at market pricing.
			also: []alsoCopy{{market: "curve/3pool", from: adapters.FieldBaseUSD, to: adapters.FieldCoin1Price, move: true}},
		}},
		// Messari-schema daily balances of the 3pool in token units, which
		// are USD at peg. Coin order is the pool's: DAI, USDC, USDT.
		{FormatCurve3Pool, "date,timestamp,X_USDC_Depeg_Risk,balance_usdc_normalized,balance_dai_normalized,balance_usdt_normalized,balance_total_normalized,raw_balance_usdc,raw_balance_dai,raw_balance_usdt", rankDefault, rowSpec{
			market: "curve/3pool", time: col{name: "timestamp", unit: TimeUnixS}, empty: "no balances",
			cols: []col{
				{name: "balance_dai_normalized", field: adapters.FieldBalance0},
				{name: "balance_usdc_normalized", field: adapters.FieldBalance1},
				{name: "balance_usdt_normalized", field: adapters.FieldBalance2},
				{name: "balance_total_normalized", field: adapters.FieldTVL, with: []string{"balance_dai_normalized", "balance_usdc_normalized", "balance_usdt_normalized"}, put: sumOfBalances},
			},
		}},
		// Curve ETH/stETH pool snapshots. balance0 is ETH, balance1 is
		// stETH in token units (stETH redeems 1:1 for ETH through Lido, so
		// token units are base units at the protocol rate; the market
		// discount is in price); price is stETH USD / ETH USD; tvl is the
		// pool's USD total; base_usd is ETH USD.
		{FormatCurveStethPool, "commit,commit_time_unix,commit_time_utc,eth_balance,steth_balance,eth_usd_price,steth_usd_price,pool_usd_total", rankDefault, rowSpec{
			market: "curve/steth-eth", time: col{name: "commit_time_unix", unit: TimeUnixS}, empty: "no values",
			cols: []col{
				{name: "eth_balance", field: adapters.FieldBalance0},
				{name: "steth_balance", field: adapters.FieldBalance1},
				{name: "eth_usd_price", field: adapters.FieldBaseUSD},
				{name: "steth_usd_price", field: adapters.FieldPrice, put: perBaseUSD},
				{name: "pool_usd_total", field: adapters.FieldTVL},
			},
			// stETH's instant exits and venue buys swap on this pool (the
			// lido profile's venue): its balances also go to lido/steth's
			// rows, where the staking driver prices the swap on the
			// stableswap invariant with them. Its price stays the pool's:
			// lido/steth's is the market's (CoinGecko), whose own times
			// would interleave with the pool's. The ETH side is also
			// lido/steth's exit_liquidity, observed: the lido profile's
			// exit_liquidity is this pool's ETH side (adapters/builtin.go),
			// the most ETH a sale of stETH can take out of it, so its
			// trend is the monitors' exit-liquidity-falling.
			also: []alsoCopy{{market: "lido/steth", fields: adapters.FieldSet(0).With(adapters.FieldBalance0).With(adapters.FieldBalance1),
				from: adapters.FieldBalance0, to: adapters.FieldExitLiquidity, move: true}},
		}},
		// GeckoTerminal hourly OHLCV of a WETH/stablecoin Uniswap v3 pool.
		// price and base_usd are the close (stablecoin per WETH); volume is
		// the hour's USD volume as ETH per day (uniswapClose); fee_tier
		// comes from the "0.3%" column (feeTier).
		{FormatUniswapGecko, "timestamp,date_utc,open,high,low,close,volume,pool_address,dex,fee_tier,base_token,quote_token,source", rankDefault, rowSpec{
			market: "uniswap-v3/weth-usdt",
			before: []col{{name: "base_token", put: wethBase}, {name: "quote_token", put: usdQuote}},
			time:   col{name: "timestamp", unit: TimeUnixS},
			empty:  "no values",
			cols: []col{
				{name: "close", field: adapters.FieldPrice, with: []string{"volume"}, put: uniswapClose},
				{name: "fee_tier", field: adapters.FieldFeeTier, put: feeTier},
			},
		}},
	}
}

// rankOf returns a format's precedence.
func rankOf(f Format) int {
	if f == FormatRethBalances {
		return rankSecondary
	}
	for _, d := range datasets {
		if d.format == f {
			return d.rank
		}
	}
	return rankDefault
}

func importDataset(c *readCtx, d *dataset, r io.Reader) (*history.Batch, error) {
	op := "importers." + string(d.format)
	hint := sizeHint(r) // before the table buffers the input
	t, err := newTable(op, c.name, r, ',', 0, 0)
	if err != nil {
		return nil, err
	}
	if h := strings.Join(t.header, ","); h != d.header {
		return nil, t.errLine(1, "header %q is not the %s header %q", h, d.format, d.header)
	}
	s, err := d.spec.bind(t)
	if err != nil {
		return nil, err
	}
	b := c.builder(op)
	if err := readRows(c, t, s, b, hint); err != nil {
		return nil, err
	}
	return b.finish()
}

// secondsPerYear is the compounding period count of Aave's per-second
// interest (Aave's SECONDS_PER_YEAR, 365 days).
const secondsPerYear = 31536000

// aprToAPY converts an APR fraction compounded every second into an APY
// fraction: (1+apr/n)^n - 1 with n = 31,536,000, computed as
// expm1(n*log1p(apr/n)) so small rates keep full precision.
func aprToAPY(apr float64) float64 {
	return math.Expm1(secondsPerYear * math.Log1p(apr/secondsPerYear))
}

// symbolMarket looks a symbol up in a fixed table; an unknown symbol is
// an error at cell i.
func symbolMarket(t *table, i int, table map[string]string) (string, error) {
	s := t.cell(i)
	if m, ok := table[s]; ok {
		return m, nil
	}
	known := make([]string, 0, len(table))
	for k := range table {
		known = append(known, k)
	}
	sort.Strings(known)
	return "", t.errAt(i, "column %q: unknown symbol %q (this importer knows %s)", t.header[i], s, strings.Join(known, ", "))
}

// bySymbol is a step that sets the market from the symbol in its column,
// looked up in markets (an unknown symbol is an error), and keeps the
// symbol in row.sym for later steps.
func bySymbol(markets map[string]string) func(r *row, c *col) error {
	return func(r *row, c *col) error {
		m, err := symbolMarket(r.t, c.i, markets)
		if err != nil {
			return err
		}
		r.market, r.sym = r.c.market(m), r.t.cell(c.i)
		return nil
	}
}

// compoundOracleMarkets maps the symbols of the Compound v3 oracle files.
// The LST/LRT prices are in ETH (they come from the cWETHv3 market,
// despite the USD_price header); WETH is in USD and gives base_usd of
// compound-v3/weth. The rETH and cbETH feeds are market-price feeds: they
// jump by 0.2-1% within an hour (29 and 73 times) and rETH sits up to
// 104 bps above Rocket Pool's own rate in Nov 2023 - Jan 2024 (when rETH
// traded at a premium), so they become price. The other feeds move
// smoothly, like exchange rates, and become exchange_rate.
var compoundOracleMarkets = map[string]string{
	"cbETH":  "coinbase/cbeth",
	"rETH":   "rocketpool/reth",
	"weETH":  "etherfi/weeth",
	"rsETH":  "kelp/rseth",
	"ezETH":  "renzo/ezeth",
	"osETH":  "stakewise/oseth",
	"rswETH": "swell/rsweth",
	"wstETH": "lido/wsteth",
	"WETH":   "compound-v3/weth",
}

// compoundOracleField stores a Compound oracle read in the field its
// symbol's feed gives (compoundOracleMarkets).
func compoundOracleField(r *row, c *col) error {
	field := adapters.FieldExchangeRate
	switch r.sym {
	case "WETH":
		field = adapters.FieldBaseUSD
	case "rETH", "cbETH":
		field = adapters.FieldPrice
	}
	return r.t.putNum(&r.o, field, c.i, UnitNumber)
}

// Bounds of a believable stETH/ETH price. Lido mints one stETH per ETH,
// so a premium beyond minting's gas cannot last: the points above 1.005
// are two unsynchronised CoinGecko feeds (stETH and WETH in USD, minutes
// apart in a moving market; 1.0885 on 2022-01-22 from a one-off WETH
// print), not trades. Below, the 2022 discount bottomed at 0.9306; the
// thin early-2021 feed has a few points under 0.9 (PROVENANCE.md of
// steth-usd-coingecko-hourly). A point outside keeps base_usd only: the
// store carries the previous price forward.
const (
	stethMinRatio = 0.9
	stethMaxRatio = 1.005
)

var stethNoise = "stETH/ETH prices outside [" + strconv.FormatFloat(stethMinRatio, 'g', -1, 64) + ", " +
	strconv.FormatFloat(stethMaxRatio, 'g', -1, 64) + "] not stored (two unsynchronised CoinGecko USD feeds; see PROVENANCE.md)"

// stethPerETH: each stETH point divided by the nearest WETH point within
// 30 minutes. The price is recomputed from the two USD columns (steth_usd,
// with weth_usd; steth_per_eth is rounded to 6 decimals and must agree
// with it); base_usd is weth_usd.
func stethPerETH(r *row, c *col) error {
	t := r.t
	wethCol, ratioCol := c.w[0], c.w[1]
	s, okS, err := t.num(c.i, UnitNumber)
	if err != nil {
		return err
	}
	w, okW, err := t.num(wethCol, UnitNumber)
	if err != nil {
		return err
	}
	if okW {
		if err := t.put(&r.o, adapters.FieldBaseUSD, w, wethCol); err != nil {
			return err
		}
	}
	if okS && okW {
		if msg := adapters.CheckValue(adapters.FieldPrice, s); msg != "" {
			return t.errAt(c.i, "column %q: %s (%g)", t.header[c.i], msg, s)
		}
		ratio := s / w
		if v, ok, err := t.num(ratioCol, UnitNumber); err != nil {
			return err
		} else if ok && math.Abs(v-ratio) > 1e-6 {
			return t.errAt(ratioCol, "column %q: %g disagrees with steth_usd/weth_usd = %.7f", t.header[ratioCol], v, ratio)
		}
		if ratio < stethMinRatio || ratio > stethMaxRatio {
			r.b.count(stethNoise)
		} else if err := t.put(&r.o, adapters.FieldPrice, ratio, c.i); err != nil {
			return err
		}
	}
	return nil
}

// pricePoint is one (unix seconds, value) sample.
type pricePoint struct {
	t int64
	v float64
}

// nearest returns the value of the point nearest t within tol seconds.
func nearest(pts []pricePoint, t, tol int64) (float64, bool) {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].t >= t })
	best, bestD := 0.0, int64(-1)
	for _, j := range []int{i - 1, i} {
		if j < 0 || j >= len(pts) {
			continue
		}
		d := pts[j].t - t
		if d < 0 {
			d = -d
		}
		if d <= tol && (bestD < 0 || d < bestD) {
			best, bestD = pts[j].v, d
		}
	}
	return best, bestD >= 0
}

// siblingPoints reads a sibling file (the first match of pattern in dir)
// of the same dataset: time column timeCol, value column valCol. It
// returns nil and a reason when there is no such file.
func siblingPoints(c *readCtx, pattern, timeCol string, timeUnit Unit, valCol string) ([]pricePoint, string, error) {
	if c.dir == "" {
		return nil, "read from a stream, so the sibling file " + pattern + " was not looked for", nil
	}
	matches, _ := filepath.Glob(filepath.Join(c.dir, pattern))
	if len(matches) == 0 {
		return nil, "no sibling file " + pattern + " in " + c.dir, nil
	}
	path := matches[0]
	f, err := os.Open(path)
	if err != nil {
		return nil, "", adapters.Wrap("importers.sibling", adapters.KindNotFound, err)
	}
	defer f.Close()
	t, err := newTable("importers.sibling", path, f, ',', 0, 0)
	if err != nil {
		return nil, "", err
	}
	ti, err := t.col(timeCol)
	if err != nil {
		return nil, "", err
	}
	vi, err := t.col(valCol)
	if err != nil {
		return nil, "", err
	}
	var pts []pricePoint
	err = eachRow(c, t, func(int) error {
		tm, err := t.time(ti, timeUnit)
		if err != nil {
			return err
		}
		v, ok, err := t.num(vi, UnitNumber)
		if err != nil || !ok {
			return err
		}
		if msg := adapters.CheckValue(adapters.FieldBaseUSD, v); msg != "" {
			return t.errAt(vi, "column %q: %s (%g)", t.header[vi], msg, v)
		}
		pts = append(pts, pricePoint{tm.Unix(), v})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].t < pts[j].t })
	return pts, filepath.Base(path), nil
}

// stETHOrWETH checks the symbol of a CoinGecko file: stETH or WETH.
func stETHOrWETH(r *row, c *col) error {
	sym := r.t.cell(c.i)
	if sym != "WETH" && sym != "stETH" {
		return r.t.errAt(c.i, "column %q: unknown symbol %q (this importer knows stETH and WETH)", r.t.header[c.i], sym)
	}
	r.sym = sym
	return nil
}

// coinGeckoPrice: a WETH price is lido/steth base_usd; a stETH price is
// joined with the nearest WETH point within 30 minutes of the sibling
// WETH_usd.csv (as the derived file of the dataset does) to give
// lido/steth price and base_usd. A record without a price is skipped.
func coinGeckoPrice(r *row, c *col) error {
	t := r.t
	v, ok, err := t.num(c.i, UnitNumber)
	if err != nil {
		return err
	}
	if !ok {
		r.skip("empty price")
		return nil
	}
	if msg := adapters.CheckValue(adapters.FieldBaseUSD, v); msg != "" {
		return t.errAt(c.i, "column %q: %s (%g)", t.header[c.i], msg, v)
	}
	if r.sym == "WETH" {
		r.o.Put(adapters.FieldBaseUSD, v)
		return nil
	}
	first, err := r.sibling("WETH_usd.csv", "timestamp", TimeUnixMS, "USD_price")
	if err != nil {
		return err
	}
	if r.sib == nil {
		return adapters.E("importers."+string(FormatCoinGeckoUSD), adapters.KindNotFound,
			"stETH USD prices need the ETH USD prices to give stETH/ETH: %s", r.sibNote).At(t.pos(c.w[0]))
	}
	if first {
		r.b.note("stETH/ETH = stETH USD / nearest WETH USD within 30 minutes from %s", r.sibNote)
	}
	w, found := nearest(r.sib, r.o.Time.Unix(), 30*60)
	if !found {
		r.skip("no WETH price within 30 minutes")
		return nil
	}
	r.o.Put(adapters.FieldBaseUSD, w)
	if ratio := v / w; ratio < stethMinRatio || ratio > stethMaxRatio {
		r.b.count(stethNoise)
	} else {
		r.o.Put(adapters.FieldPrice, ratio)
	}
	return nil
}

// zeroUnobserved stores the column like a plain step except a 0, which is
// counted and left unobserved (ether.fi's Base 0.00 days).
func zeroUnobserved(r *row, c *col) error {
	v, ok, err := r.t.num(c.i, c.unit)
	if err != nil || !ok {
		return err
	}
	if v == 0 {
		r.b.count("days with Base APY 0.00 (chart artefacts) left without apy")
		return nil
	}
	return r.t.put(&r.o, c.field, v, c.i)
}

var marketVsOracleMarkets = map[string]string{
	"wstETH": "lido/wsteth",
	"weETH":  "etherfi/weeth",
}

// aaveScanMarkets maps AaveScan reserve symbols to markets; ethPriced
// marks ETH-base reserves other than WETH, whose token amounts are turned
// into ETH with the WETH file's price.
var aaveScanMarkets = map[string]string{
	"WETH":   "aave-v3/weth",
	"USDT":   "aave-v3/usdt",
	"USDC":   "aave-v3/usdc",
	"WBTC":   "aave-v3/wbtc",
	"wstETH": "aave-v3/wsteth",
	"weETH":  "aave-v3/weeth",
}

var ethPriced = map[string]bool{"wstETH": true, "weETH": true}

// aprAPY stores an APR compounded every second (Aave's rates) as an APY.
// The APR itself must pass the field's range check.
func aprAPY(r *row, c *col) error {
	apr, ok, err := r.t.num(c.i, c.unit)
	if err != nil || !ok {
		return err
	}
	if msg := adapters.CheckValue(c.field, apr); msg != "" {
		return r.t.errAt(c.i, "column %q: %s %s (%g)", r.t.header[c.i], c.field, msg, apr)
	}
	return r.t.put(&r.o, c.field, aprToAPY(apr), c.i)
}

// aaveScanAmounts reads totalAToken with totalStableDebt,
// totalVariableDebt and price: utilization is total debt / totalAToken;
// supply and borrows are in base units (token units, times token/ETH
// price for wstETH and weETH, from the sibling WETH file's price at the
// same time); base_usd is the reserve's price (WETH's for wstETH and
// weETH).
func aaveScanAmounts(r *row, c *col) error {
	t := r.t
	aTokenCol, stableCol, varCol, priceCol := c.i, c.w[0], c.w[1], c.w[2]
	var amt [3]float64
	var have [3]bool
	for k, i := range [3]int{aTokenCol, stableCol, varCol} {
		var err error
		if amt[k], have[k], err = t.num(i, UnitNumber); err != nil {
			return err
		}
		if have[k] && (amt[k] < 0 || math.IsNaN(amt[k]) || math.IsInf(amt[k], 0)) {
			return t.errAt(i, "column %q: amount %g must be a finite number >= 0", t.header[i], amt[k])
		}
	}
	supply, debt := amt[0], amt[1]+amt[2]
	if have[0] && have[2] && supply > 0 {
		if err := t.put(&r.o, adapters.FieldUtilization, debt/supply, varCol); err != nil {
			return err
		}
	}
	price, havePrice, err := t.num(priceCol, UnitNumber)
	if err != nil {
		return err
	}
	if havePrice {
		if msg := adapters.CheckValue(adapters.FieldBaseUSD, price); msg != "" {
			return t.errAt(priceCol, "column %q: %s (%g)", t.header[priceCol], msg, price)
		}
	}
	toBase, baseUSD, haveBase := 1.0, price, havePrice
	if ethPriced[r.sym] {
		first, err := r.sibling("aave_v3_*_WETH_rates_*.csv", "timestamp", TimeUnixS, "price")
		if err != nil {
			return err
		}
		if first && r.sib == nil {
			r.b.note("supply, borrows and base_usd not stored: %s (they need the ETH USD price)", r.sibNote)
		} else if first {
			r.b.note("supply and borrows in ETH = token amount × %s price / WETH price from %s at the same time", r.sym, r.sibNote)
		}
		ethUSD, ok := nearest(r.sib, r.o.Time.Unix(), 0)
		switch {
		case ok && havePrice:
			toBase, baseUSD = price/ethUSD, ethUSD
			// The token's USD price over WETH's is its value in ETH: an
			// LST/LRT rate, within the exchange rate's plausible [0.5, 5]
			// (history's plausibility bounds); outside, one price is in
			// another unit.
			if toBase < 0.5 || toBase > 5 {
				return t.errAt(priceCol, "column %q: %s's price %g is %.4g times WETH's (%g) on the same day; a staking token trades within 0.5 to 5 ETH: a price in the wrong unit?",
					t.header[priceCol], r.sym, price, toBase, ethUSD)
			}
		case r.sib != nil:
			r.b.count("rows without a WETH price at the same time: supply, borrows and base_usd not stored")
			return nil
		default:
			return nil
		}
	}
	if ethPriced[r.sym] {
		// The Aave oracle's price of the token over WETH's: the
		// exchange rate Aave values the token at as collateral (its CAPO
		// feed of the token's own rate), what a borrow against it is
		// measured by.
		if err := t.put(&r.o, adapters.FieldExchangeRate, toBase, priceCol); err != nil {
			return err
		}
	}
	if have[0] {
		if err := t.put(&r.o, adapters.FieldSupply, supply*toBase, aTokenCol); err != nil {
			return err
		}
	}
	if have[1] || have[2] {
		if err := t.put(&r.o, adapters.FieldBorrows, debt*toBase, varCol); err != nil {
			return err
		}
	}
	if haveBase {
		if err := t.put(&r.o, adapters.FieldBaseUSD, baseUSD, priceCol); err != nil {
			return err
		}
	}
	return nil
}

// aaveMarket sets the market of a Messari Aave file from its token
// symbol: aave-v3/<symbol in lower case>.
func aaveMarket(r *row, c *col) error {
	market := "aave-v3/" + strings.ToLower(r.t.cell(c.i))
	if _, _, err := adapters.SplitID(market); err != nil {
		return r.t.errAt(c.i, "column %q: bad token symbol %q", r.t.header[c.i], r.t.cell(c.i))
	}
	r.market = r.c.market(market)
	return nil
}

// skipLaunchRow skips a record whose column and with column are both
// empty (Compound's launch snapshot, without APYs); otherwise it stores
// the column like a plain step.
func skipLaunchRow(r *row, c *col) error {
	if r.t.cell(c.i) == "" && r.t.cell(c.w[0]) == "" {
		r.skip("no deposit or borrow APY (the market's launch snapshot)")
		return nil
	}
	return r.t.putNum(&r.o, c.field, c.i, c.unit)
}

// clampUtilization stores a utilization, clamping values in (1, 1.2] to 1
// and counting them (Compound's USD aggregates exclude reserves;
// PROVENANCE.md); larger values fail the range check.
func clampUtilization(r *row, c *col) error {
	u, ok, err := r.t.num(c.i, c.unit)
	if err != nil || !ok {
		return err
	}
	if u > 1 && u <= 1.2 {
		r.b.count("utilization values above 100% clamped to 1 (USD aggregates exclude reserves; PROVENANCE.md)")
		u = 1
	}
	return r.t.put(&r.o, c.field, u, c.i)
}

// perBaseUSD stores the column's USD price divided by the row's base_usd
// (a USD price in base units); without a base_usd it is not read.
func perBaseUSD(r *row, c *col) error {
	base, ok := r.o.Get(adapters.FieldBaseUSD)
	if !ok {
		return nil
	}
	v, ok, err := r.t.num(c.i, c.unit)
	if err != nil || !ok {
		return err
	}
	return r.t.put(&r.o, c.field, v/base, c.i)
}

// sumOfBalances reads a pool's total with the balances it adds up, and
// refuses a total that is not their sum (one of them in another unit).
func sumOfBalances(r *row, c *col) error {
	total, ok, err := r.t.num(c.i, c.unit)
	if err != nil || !ok {
		return err
	}
	sum := 0.0
	for _, i := range c.w {
		v, ok, err := r.t.num(i, c.unit)
		if err != nil {
			return err
		}
		if ok {
			sum += v
		}
	}
	if math.Abs(total-sum) > 1e-6*math.Max(math.Abs(total), math.Abs(sum)) {
		return r.t.errAt(c.i, "column %q: total %g is not the sum of the balances (%g): a balance or the total in another unit?", r.t.header[c.i], total, sum)
	}
	return r.t.put(&r.o, c.field, total, c.i)
}

// wethBase checks that a pool's base token is WETH.
func wethBase(r *row, c *col) error {
	if s := r.t.cell(c.i); s != "WETH" {
		return r.t.errAt(c.i, "column %q: base token %q is not WETH", r.t.header[c.i], s)
	}
	return nil
}

// usdQuote checks that a pool's quote token is a USD stablecoin.
func usdQuote(r *row, c *col) error {
	switch s := r.t.cell(c.i); s {
	case "USDT", "USDC", "DAI":
		return nil
	default:
		return r.t.errAt(c.i, "column %q: quote token %q is not a USD stablecoin", r.t.header[c.i], s)
	}
}

// uniswapClose stores the close as price (field) and base_usd, and the
// with column's USD volume per hour as base units per day: × 24 / close.
// Without a close the volume is not read.
func uniswapClose(r *row, c *col) error {
	t := r.t
	close, ok, err := t.num(c.i, UnitNumber)
	if err != nil || !ok {
		return err
	}
	if err := t.put(&r.o, c.field, close, c.i); err != nil {
		return err
	}
	r.o.Put(adapters.FieldBaseUSD, close)
	vol, ok, err := t.num(c.w[0], UnitNumber)
	if err != nil || !ok {
		return err
	}
	return t.put(&r.o, adapters.FieldVolume, vol*24/close, c.w[0])
}

// feeTier stores a fee tier written as a fraction or with a percent sign
// ("0.3%").
func feeTier(r *row, c *col) error {
	s := r.t.cell(c.i)
	if s == "" {
		return nil
	}
	unit := UnitFraction
	if strings.HasSuffix(s, "%") {
		s, unit = strings.TrimSpace(strings.TrimSuffix(s, "%")), UnitPercent
	}
	v, err := ParseValue(s, unit)
	if err != nil {
		return r.t.errAt(c.i, "column %q: bad fee tier %q", r.t.header[c.i], r.t.cell(c.i))
	}
	return r.t.put(&r.o, c.field, v, c.i)
}

// timeString formats a time for notes.
func timeString(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
