package importers

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// dataset is an importer for one of the real datasets in shared/data,
// recognised by its exact header line.
type dataset struct {
	format Format
	header string
	// rank is the precedence of the dataset where ImportDir finds two
	// files giving the same field of the same market over the same time
	// (higher wins; see resolveOverlaps).
	rank int
	read func(c *readCtx, t *table, b *builder) error
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
		{FormatLidoDefiLlama, "date,Lido_APY,Lido_TVL", rankDefault, readLido},
		{FormatRethRate, "balances_block,event_time_unix,event_time_utc,slot_timestamp_unix,total_eth_wei,staking_eth_wei,reth_supply_wei,eth_per_reth", rankPrimary, readRethRate},
		{FormatCompoundOracle, "symbol,timestamp,USD_price", rankDefault, readCompoundOracle},
		{FormatCoinGeckoUSD, "symbol,timestamp,USD_price", rankSecondary, readCoinGeckoUSD},
		{FormatStethEthDerived, "steth_ts_ms,weth_ts_ms,time_utc,steth_usd,weth_usd,steth_per_eth", rankPrimary, readStethEthDerived},
		{FormatEtherfiAPY, "Timestamp,Date,Base,Reward", rankDefault, readEtherfi},
		{FormatMarketVsOracle, "timestamp_utc,asset,protocol_rate_eth,market_rate_eth_24h_median,dex,peg_premium_percent", rankPrimary, readMarketVsOracle},
		{FormatAaveScan, "targetDate,timestamp,blockNumber,reserve,symbol,liquidityIndex,currentLiquidityRate,variableBorrowIndex,currentVariableBorrowRate,currentStableBorrowRate,totalAToken,totalStableDebt,totalVariableDebt,price,date", rankDefault, readAaveScan},
		{FormatAaveMessari, "date,timestamp,token_symbol,Y_Aave_APY,X_Variable_Borrow_APY,X_Stable_Borrow_APY,X_Aave_Utilization,totalBorrowBalanceUSD,totalDepositBalanceUSD,totalValueLockedUSD,cumulativeSupplySideRevenueUSD,blockNumber", rankPrimary, readAaveMessari},
		{FormatAaveDefiLlamaCSV, "date,Aave_USDC_APY,Aave_USDC_TVL", rankSecondary, readAaveDefiLlamaCSV},
		{FormatCompoundMessari, "timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,total_deposit_usd,total_borrow_usd,input_token_price_usd", rankDefault, readCompoundMessari},
		{FormatCurve3Pool, "date,timestamp,X_USDC_Depeg_Risk,balance_usdc_normalized,balance_dai_normalized,balance_usdt_normalized,balance_total_normalized,raw_balance_usdc,raw_balance_dai,raw_balance_usdt", rankDefault, readCurve3Pool},
		{FormatCurveStethPool, "commit,commit_time_unix,commit_time_utc,eth_balance,steth_balance,eth_usd_price,steth_usd_price,pool_usd_total", rankDefault, readCurveSteth},
		{FormatUniswapGecko, "timestamp,date_utc,open,high,low,close,volume,pool_address,dex,fee_tier,base_token,quote_token,source", rankDefault, readUniswapGecko},
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
	t, err := newTable(op, c.name, r, ',', 0, 0)
	if err != nil {
		return nil, err
	}
	if h := strings.Join(t.header, ","); h != d.header {
		return nil, t.errLine(1, "header %q is not the %s header %q", h, d.format, d.header)
	}
	b := c.builder(op)
	if err := d.read(c, t, b); err != nil {
		return nil, err
	}
	return b.finish()
}

// cols returns the indices of the named headers.
func cols(t *table, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		j, err := t.col(n)
		if err != nil {
			return nil, err
		}
		out[i] = j
	}
	return out, nil
}

// eachRow calls fn for every record, polling the context.
func eachRow(c *readCtx, t *table, fn func() error) error {
	for n := 0; ; n++ {
		if n%ctxEvery == 0 {
			if err := c.ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := t.next()
		if err != nil || !ok {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
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

// readLido: DefiLlama pool 747c1d2a… as CSV: date, APY %, TVL USD.
func readLido(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "date", "Lido_APY", "Lido_TVL")
	if err != nil {
		return err
	}
	market := c.market("lido/steth")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeDate); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldAPY, ix[1], UnitPercent); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldTVL, ix[2], UnitNumber); err != nil {
			return err
		}
		b.add(market, o, t.line, "no APY and no TVL")
		return nil
	})
}

// readRethRate: decoded RocketNetworkBalances events; eth_per_reth is the
// exchange rate, empty while the rETH supply was 0.
func readRethRate(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "event_time_unix", "eth_per_reth")
	if err != nil {
		return err
	}
	market := c.market("rocketpool/reth")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldExchangeRate, ix[1], UnitNumber); err != nil {
			return err
		}
		b.add(market, o, t.line, "eth_per_reth empty (rETH supply 0 before the first deposit)")
		return nil
	})
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

func readCompoundOracle(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "symbol", "timestamp", "USD_price")
	if err != nil {
		return err
	}
	return eachRow(c, t, func() error {
		market, err := symbolMarket(t, ix[0], compoundOracleMarkets)
		if err != nil {
			return err
		}
		field := adapters.FieldExchangeRate
		switch t.cell(ix[0]) {
		case "WETH":
			field = adapters.FieldBaseUSD
		case "rETH", "cbETH":
			field = adapters.FieldPrice
		}
		var o adapters.Observation
		if o.Time, err = t.time(ix[1], TimeUnixS); err != nil {
			return err
		}
		if err := t.putNum(&o, field, ix[2], UnitNumber); err != nil {
			return err
		}
		b.add(c.market(market), o, t.line, "price empty (the asset was not yet listed on Compound v3)")
		return nil
	})
}

// Bounds of a believable stETH/ETH price; CoinGecko's thin early-2021
// feed has a few points outside (PROVENANCE.md of steth-usd-coingecko-hourly).
const (
	stethMinRatio = 0.9
	stethMaxRatio = 1.1
)

const stethNoise = "stETH/ETH prices outside [0.9, 1.1] not stored (thin, noisy CoinGecko feed in early 2021; see PROVENANCE.md)"

// readStethEthDerived: each stETH point divided by the nearest WETH point
// within 30 minutes. The price is recomputed from the two USD columns
// (steth_per_eth is rounded to 6 decimals) and must agree with it.
func readStethEthDerived(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "steth_ts_ms", "steth_usd", "weth_usd", "steth_per_eth")
	if err != nil {
		return err
	}
	market := c.market("lido/steth")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixMS); err != nil {
			return err
		}
		s, okS, err := t.num(ix[1], UnitNumber)
		if err != nil {
			return err
		}
		w, okW, err := t.num(ix[2], UnitNumber)
		if err != nil {
			return err
		}
		if okW {
			if err := t.put(&o, adapters.FieldBaseUSD, w, ix[2]); err != nil {
				return err
			}
		}
		if okS && okW {
			if msg := adapters.CheckValue(adapters.FieldPrice, s); msg != "" {
				return t.errAt(ix[1], "column %q: %s (%g)", t.header[ix[1]], msg, s)
			}
			ratio := s / w
			if r, ok, err := t.num(ix[3], UnitNumber); err != nil {
				return err
			} else if ok && math.Abs(r-ratio) > 1e-6 {
				return t.errAt(ix[3], "column %q: %g disagrees with steth_usd/weth_usd = %.7f", t.header[ix[3]], r, ratio)
			}
			if ratio < stethMinRatio || ratio > stethMaxRatio {
				b.count(stethNoise)
			} else if err := t.put(&o, adapters.FieldPrice, ratio, ix[1]); err != nil {
				return err
			}
		}
		b.add(market, o, t.line, "no prices")
		return nil
	})
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
	ix, err := cols(t, timeCol, valCol)
	if err != nil {
		return nil, "", err
	}
	var pts []pricePoint
	err = eachRow(c, t, func() error {
		tm, err := t.time(ix[0], timeUnit)
		if err != nil {
			return err
		}
		v, ok, err := t.num(ix[1], UnitNumber)
		if err != nil || !ok {
			return err
		}
		if msg := adapters.CheckValue(adapters.FieldBaseUSD, v); msg != "" {
			return t.errAt(ix[1], "column %q: %s (%g)", t.header[ix[1]], msg, v)
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

// readCoinGeckoUSD: CoinGecko USD prices, unix ms. WETH rows give
// lido/steth base_usd; stETH rows are joined with the nearest WETH point
// within 30 minutes of the sibling WETH_usd.csv (as the derived file of
// the dataset does) to give lido/steth price and base_usd.
func readCoinGeckoUSD(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "symbol", "timestamp", "USD_price")
	if err != nil {
		return err
	}
	market := c.market("lido/steth")
	var weth []pricePoint
	var wethNote string
	wethLoaded := false
	return eachRow(c, t, func() error {
		sym := t.cell(ix[0])
		if sym != "WETH" && sym != "stETH" {
			return t.errAt(ix[0], "column %q: unknown symbol %q (this importer knows stETH and WETH)", t.header[ix[0]], sym)
		}
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[1], TimeUnixMS); err != nil {
			return err
		}
		v, ok, err := t.num(ix[2], UnitNumber)
		if err != nil {
			return err
		}
		if !ok {
			b.skip("empty price")
			return nil
		}
		if msg := adapters.CheckValue(adapters.FieldBaseUSD, v); msg != "" {
			return t.errAt(ix[2], "column %q: %s (%g)", t.header[ix[2]], msg, v)
		}
		if sym == "WETH" {
			o.Put(adapters.FieldBaseUSD, v)
			b.add(market, o, t.line, "")
			return nil
		}
		if !wethLoaded {
			wethLoaded = true
			weth, wethNote, err = siblingPoints(c, "WETH_usd.csv", "timestamp", TimeUnixMS, "USD_price")
			if err != nil {
				return err
			}
			if weth == nil {
				return adapters.E("importers."+string(FormatCoinGeckoUSD), adapters.KindNotFound,
					"stETH USD prices need the ETH USD prices to give stETH/ETH: %s", wethNote).At(t.pos(ix[0]))
			}
			b.note("stETH/ETH = stETH USD / nearest WETH USD within 30 minutes from %s", wethNote)
		}
		w, found := nearest(weth, o.Time.Unix(), 30*60)
		if !found {
			b.skip("no WETH price within 30 minutes")
			return nil
		}
		o.Put(adapters.FieldBaseUSD, w)
		if r := v / w; r < stethMinRatio || r > stethMaxRatio {
			b.count(stethNoise)
		} else {
			o.Put(adapters.FieldPrice, r)
		}
		b.add(market, o, t.line, "")
		return nil
	})
}

// readEtherfi: ether.fi eETH APY chart export. Base 0.00 days are chart
// artefacts (PROVENANCE.md): apy is left unobserved there, so the store's
// forward fill carries the previous day's value.
func readEtherfi(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "Timestamp", "Base", "Reward")
	if err != nil {
		return err
	}
	market := c.market("etherfi/weeth")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		v, ok, err := t.num(ix[1], UnitPercent)
		if err != nil {
			return err
		}
		if ok && v == 0 {
			b.count("days with Base APY 0.00 (chart artefacts) left without apy")
		} else if ok {
			if err := t.put(&o, adapters.FieldAPY, v, ix[1]); err != nil {
				return err
			}
		}
		if err := t.putNum(&o, adapters.FieldRewardAPY, ix[2], UnitPercent); err != nil {
			return err
		}
		b.add(market, o, t.line, "no base and no reward APY")
		return nil
	})
}

var marketVsOracleMarkets = map[string]string{
	"wstETH": "lido/wsteth",
	"weETH":  "etherfi/weeth",
}

// readMarketVsOracle: protocol (Aave oracle) rate and 24-hour median DEX
// price, both in ETH.
func readMarketVsOracle(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "timestamp_utc", "asset", "protocol_rate_eth", "market_rate_eth_24h_median")
	if err != nil {
		return err
	}
	return eachRow(c, t, func() error {
		market, err := symbolMarket(t, ix[1], marketVsOracleMarkets)
		if err != nil {
			return err
		}
		var o adapters.Observation
		if o.Time, err = t.time(ix[0], TimeDateTime); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldExchangeRate, ix[2], UnitNumber); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldPrice, ix[3], UnitNumber); err != nil {
			return err
		}
		b.add(c.market(market), o, t.line, "no rate and no price")
		return nil
	})
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

// readAaveScan: daily getReserveData snapshots. liquidityIndex is kept
// exactly; the rates are APRs compounded per second and become APYs;
// utilization is total debt / totalAToken; supply and borrows are in base
// units (token units, times token/ETH price for wstETH and weETH).
func readAaveScan(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "timestamp", "symbol", "liquidityIndex", "currentLiquidityRate", "currentVariableBorrowRate",
		"totalAToken", "totalStableDebt", "totalVariableDebt", "price")
	if err != nil {
		return err
	}
	const (
		cTime, cSym, cIndex, cRate, cBorrow, cAToken, cStable, cVar, cPrice = 0, 1, 2, 3, 4, 5, 6, 7, 8
	)
	var eth []pricePoint
	ethLoaded := false
	return eachRow(c, t, func() error {
		market, err := symbolMarket(t, ix[cSym], aaveScanMarkets)
		if err != nil {
			return err
		}
		sym := t.cell(ix[cSym])
		var o adapters.Observation
		if o.Time, err = t.time(ix[cTime], TimeUnixS); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldIndex, ix[cIndex], UnitNumber); err != nil {
			return err
		}
		for _, rc := range []struct {
			col   int
			field adapters.Field
		}{{cRate, adapters.FieldAPY}, {cBorrow, adapters.FieldBorrowAPY}} {
			apr, ok, err := t.num(ix[rc.col], UnitFraction)
			if err != nil {
				return err
			}
			if ok {
				if msg := adapters.CheckValue(rc.field, apr); msg != "" {
					return t.errAt(ix[rc.col], "column %q: %s %s (%g)", t.header[ix[rc.col]], rc.field, msg, apr)
				}
				if err := t.put(&o, rc.field, aprToAPY(apr), ix[rc.col]); err != nil {
					return err
				}
			}
		}
		var amt [3]float64
		var have [3]bool
		for k, col := range []int{cAToken, cStable, cVar} {
			if amt[k], have[k], err = t.num(ix[col], UnitNumber); err != nil {
				return err
			}
			if have[k] && (amt[k] < 0 || math.IsNaN(amt[k]) || math.IsInf(amt[k], 0)) {
				return t.errAt(ix[col], "column %q: amount %g must be a finite number >= 0", t.header[ix[col]], amt[k])
			}
		}
		supply, debt := amt[0], amt[1]+amt[2]
		if have[0] && have[2] && supply > 0 {
			if err := t.put(&o, adapters.FieldUtilization, debt/supply, ix[cVar]); err != nil {
				return err
			}
		}
		price, havePrice, err := t.num(ix[cPrice], UnitNumber)
		if err != nil {
			return err
		}
		if havePrice {
			if msg := adapters.CheckValue(adapters.FieldBaseUSD, price); msg != "" {
				return t.errAt(ix[cPrice], "column %q: %s (%g)", t.header[ix[cPrice]], msg, price)
			}
		}
		toBase, baseUSD, haveBase := 1.0, price, havePrice
		if ethPriced[sym] {
			if !ethLoaded {
				ethLoaded = true
				var note string
				eth, note, err = siblingPoints(c, "aave_v3_*_WETH_rates_*.csv", "timestamp", TimeUnixS, "price")
				if err != nil {
					return err
				}
				if eth == nil {
					b.note("supply, borrows and base_usd not stored: %s (they need the ETH USD price)", note)
				} else {
					b.note("supply and borrows in ETH = token amount × %s price / WETH price from %s at the same time", sym, note)
				}
			}
			ethUSD, ok := nearest(eth, o.Time.Unix(), 0)
			switch {
			case ok && havePrice:
				toBase, baseUSD, haveBase = price/ethUSD, ethUSD, true
			case eth != nil:
				b.count("rows without a WETH price at the same time: supply, borrows and base_usd not stored")
				haveBase = false
			default:
				haveBase = false
			}
			if !haveBase {
				b.add(c.market(market), o, t.line, "no values")
				return nil
			}
		}
		if have[0] {
			if err := t.put(&o, adapters.FieldSupply, supply*toBase, ix[cAToken]); err != nil {
				return err
			}
		}
		if have[1] || have[2] {
			if err := t.put(&o, adapters.FieldBorrows, debt*toBase, ix[cVar]); err != nil {
				return err
			}
		}
		if haveBase {
			if err := t.put(&o, adapters.FieldBaseUSD, baseUSD, ix[cPrice]); err != nil {
				return err
			}
		}
		b.add(c.market(market), o, t.line, "no values")
		return nil
	})
}

// readAaveMessari: Messari-schema daily snapshots of Aave v3 USDC; APYs in
// percent, utilization a fraction, amounts in USD.
func readAaveMessari(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "timestamp", "token_symbol", "Y_Aave_APY", "X_Variable_Borrow_APY", "X_Aave_Utilization",
		"totalBorrowBalanceUSD", "totalDepositBalanceUSD", "totalValueLockedUSD")
	if err != nil {
		return err
	}
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		market := "aave-v3/" + strings.ToLower(t.cell(ix[1]))
		if _, _, err := adapters.SplitID(market); err != nil {
			return t.errAt(ix[1], "column %q: bad token symbol %q", t.header[ix[1]], t.cell(ix[1]))
		}
		for _, fc := range []struct {
			f adapters.Field
			i int
			u Unit
		}{
			{adapters.FieldAPY, ix[2], UnitPercent},
			{adapters.FieldBorrowAPY, ix[3], UnitPercent},
			{adapters.FieldUtilization, ix[4], UnitFraction},
			{adapters.FieldBorrows, ix[5], UnitNumber},
			{adapters.FieldSupply, ix[6], UnitNumber},
			{adapters.FieldTVL, ix[7], UnitNumber},
		} {
			if err := t.putNum(&o, fc.f, fc.i, fc.u); err != nil {
				return err
			}
		}
		b.add(c.market(market), o, t.line, "no values")
		return nil
	})
}

// readAaveDefiLlamaCSV: DefiLlama pool aa70268e… (Aave v3 USDC): APY % and
// tvlUsd, which for a lending pool is supplied minus borrowed, the
// liquidity a supplier can withdraw now: it becomes exit_liquidity.
func readAaveDefiLlamaCSV(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "date", "Aave_USDC_APY", "Aave_USDC_TVL")
	if err != nil {
		return err
	}
	market := c.market("aave-v3/usdc")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeDate); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldAPY, ix[1], UnitPercent); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldExitLiquidity, ix[2], UnitNumber); err != nil {
			return err
		}
		b.add(market, o, t.line, "no values")
		return nil
	})
}

// readCompoundMessari: Messari-schema daily snapshots of Comet cUSDCv3.
// Utilization is in percent and can exceed 100% (USD aggregates exclude
// reserves): it is clamped to 1 and counted.
func readCompoundMessari(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "timestamp", "deposit_apy", "borrow_apy", "utilization_rate", "total_deposit_usd", "total_borrow_usd", "input_token_price_usd")
	if err != nil {
		return err
	}
	market := c.market("compound-v3/usdc")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		if t.cell(ix[1]) == "" && t.cell(ix[2]) == "" {
			b.skip("no deposit or borrow APY (the market's launch snapshot)")
			return nil
		}
		if err := t.putNum(&o, adapters.FieldAPY, ix[1], UnitPercent); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldBorrowAPY, ix[2], UnitPercent); err != nil {
			return err
		}
		u, ok, err := t.num(ix[3], UnitPercent)
		if err != nil {
			return err
		}
		if ok {
			if u > 1 && u <= 1.2 {
				b.count("utilization values above 100% clamped to 1 (USD aggregates exclude reserves; PROVENANCE.md)")
				u = 1
			}
			if err := t.put(&o, adapters.FieldUtilization, u, ix[3]); err != nil {
				return err
			}
		}
		if err := t.putNum(&o, adapters.FieldSupply, ix[4], UnitNumber); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldBorrows, ix[5], UnitNumber); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldBaseUSD, ix[6], UnitNumber); err != nil {
			return err
		}
		b.add(market, o, t.line, "no values")
		return nil
	})
}

// readCurve3Pool: Messari-schema daily balances of the 3pool in token
// units, which are USD at peg. Coin order is the pool's: DAI, USDC, USDT.
func readCurve3Pool(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "timestamp", "balance_dai_normalized", "balance_usdc_normalized", "balance_usdt_normalized", "balance_total_normalized")
	if err != nil {
		return err
	}
	market := c.market("curve/3pool")
	fields := []adapters.Field{adapters.FieldBalance0, adapters.FieldBalance1, adapters.FieldBalance2, adapters.FieldTVL}
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		for k, f := range fields {
			if err := t.putNum(&o, f, ix[k+1], UnitNumber); err != nil {
				return err
			}
		}
		b.add(market, o, t.line, "no balances")
		return nil
	})
}

// readCurveSteth: Curve ETH/stETH pool snapshots. balance0 is ETH,
// balance1 is stETH in token units (stETH redeems 1:1 for ETH through
// Lido, so token units are base units at the protocol rate; the market
// discount is in price); price is stETH USD / ETH USD; tvl is the pool's
// USD total; base_usd is ETH USD.
func readCurveSteth(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "commit_time_unix", "eth_balance", "steth_balance", "eth_usd_price", "steth_usd_price", "pool_usd_total")
	if err != nil {
		return err
	}
	market := c.market("curve/steth-eth")
	return eachRow(c, t, func() error {
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldBalance0, ix[1], UnitNumber); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldBalance1, ix[2], UnitNumber); err != nil {
			return err
		}
		if err := t.putNum(&o, adapters.FieldBaseUSD, ix[3], UnitNumber); err != nil {
			return err
		}
		if eth, ok := o.Get(adapters.FieldBaseUSD); ok {
			s, okS, err := t.num(ix[4], UnitNumber)
			if err != nil {
				return err
			}
			if okS {
				if err := t.put(&o, adapters.FieldPrice, s/eth, ix[4]); err != nil {
					return err
				}
			}
		}
		if err := t.putNum(&o, adapters.FieldTVL, ix[5], UnitNumber); err != nil {
			return err
		}
		b.add(market, o, t.line, "no values")
		return nil
	})
}

// readUniswapGecko: GeckoTerminal hourly OHLCV of a WETH/stablecoin
// Uniswap v3 pool. price and base_usd are the close (stablecoin per
// WETH); volume is the hour's USD volume as ETH per day (× 24 / close);
// fee_tier comes from the "0.3%" column.
func readUniswapGecko(c *readCtx, t *table, b *builder) error {
	ix, err := cols(t, "timestamp", "close", "volume", "fee_tier", "base_token", "quote_token")
	if err != nil {
		return err
	}
	market := c.market("uniswap-v3/weth-usdt")
	return eachRow(c, t, func() error {
		if s := t.cell(ix[4]); s != "WETH" {
			return t.errAt(ix[4], "column %q: base token %q is not WETH", t.header[ix[4]], s)
		}
		switch s := t.cell(ix[5]); s {
		case "USDT", "USDC", "DAI":
		default:
			return t.errAt(ix[5], "column %q: quote token %q is not a USD stablecoin", t.header[ix[5]], s)
		}
		var o adapters.Observation
		var err error
		if o.Time, err = t.time(ix[0], TimeUnixS); err != nil {
			return err
		}
		close, okC, err := t.num(ix[1], UnitNumber)
		if err != nil {
			return err
		}
		if okC {
			if err := t.put(&o, adapters.FieldPrice, close, ix[1]); err != nil {
				return err
			}
			o.Put(adapters.FieldBaseUSD, close)
			vol, okV, err := t.num(ix[2], UnitNumber)
			if err != nil {
				return err
			}
			if okV {
				if err := t.put(&o, adapters.FieldVolume, vol*24/close, ix[2]); err != nil {
					return err
				}
			}
		}
		if s := t.cell(ix[3]); s != "" {
			unit := UnitFraction
			if strings.HasSuffix(s, "%") {
				s, unit = strings.TrimSpace(strings.TrimSuffix(s, "%")), UnitPercent
			}
			v, err := ParseValue(s, unit)
			if err != nil {
				return t.errAt(ix[3], "column %q: bad fee tier %q", t.header[ix[3]], t.cell(ix[3]))
			}
			if err := t.put(&o, adapters.FieldFeeTier, v, ix[3]); err != nil {
				return err
			}
		}
		b.add(market, o, t.line, "no values")
		return nil
	})
}

// timeString formats a time for notes.
func timeString(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
