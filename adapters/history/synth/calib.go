package synth

import (
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// Calibration: the levels every process mean-reverts to. Protocol
// parameters (fees, interest-rate curves, fee tiers, exit depth, withdrawal
// delays, restaking APYs) come from the market's profile; the tables here
// hold only what profiles do not: the typical size of each built-in market,
// its usual utilization, incentive APYs and pool turnover, and when each
// token's exchange rate started at 1. Values are orders of magnitude for
// 2024-2025 from the protocols' dashboards (DefiLlama, Aave, Curve); a
// market missing from the tables gets the defaults of its kind and base.

// Staking yield of the consensus layer before protocol fees, by base asset.
var grossStaking = map[adapters.Asset]struct{ mean, sd, halfLifeDays float64 }{
	adapters.ETH: {0.034, 0.002, 60},  // consensus + execution rewards, 2023-2025 (beaconcha.in, Rated)
	adapters.BTC: {0.011, 0.0015, 60}, // Babylon finality-provider rewards, order of magnitude
	adapters.USD: {0.05, 0.01, 30},    // for user-defined yield-bearing stablecoins
}

// priceCalib calibrates the USD price of a base asset (priceProc).
type priceCalib struct {
	level       float64 // price at the start of a generated range
	vol         float64 // annualised volatility of log returns
	nu          int     // Student-t degrees of freedom of one step's return
	volSD       float64 // stationary sd of the log volatility
	volHalfLife float64 // years for a volatility shock to halve
	lo, hi      float64 // reflecting bounds, as multiples of level
}

// basePrices: fitted to the hourly closes of shared/data
// uniswap-v3-weth-usdt-hourly-geckoterminal (2024-01 .. 2025-09, 15,258
// hourly returns): annualised volatility 65.5% (hourly returns), excess
// kurtosis 17.4 hourly and 3.5 daily, no mean reversion (the variance of
// 30-day returns is 1.10 times 30 daily variances). vol and volSD are set
// so that the median of nine 3-year hourly paths measures as the file does
// (TestFit_ETHPrice, the table in docs/data.md): 64.9% volatility, daily
// excess kurtosis 3.6, hourly 13.1 (t(5) steps on a log volatility of sd
// 0.5); the volatility half-life (10 days) is an assumption (crypto
// volatility clusters over days to weeks). ../shared/data has no BTC
// price: BTC takes ETH's fitted shape, an assumption docs/data.md states.
// Levels are early-2024 prices; the reflecting bounds (0.05x, 10x) keep
// decades-long paths within plausible prices.
var basePrices = map[adapters.Asset]priceCalib{
	adapters.ETH: {level: 2900, vol: 0.67, nu: 5, volSD: 0.5, volHalfLife: 10.0 / 365, lo: 0.05, hi: 10},
	adapters.BTC: {level: 60000, vol: 0.67, nu: 5, volSD: 0.5, volHalfLife: 10.0 / 365, lo: 0.05, hi: 10},
}

// underCalib calibrates one staking underlying (a protocol whose token
// accrues staking yield). The exchange rate at From is the anchor rate
// carried forward (or back) at the underlying's mean net APY, so rates
// have realistic levels whatever the range.
type underCalib struct {
	anchor   string  // a day the token's exchange rate is known ...
	rate     float64 // ... and that rate
	offset   float64 // APY offset to the fee-adjusted common staking yield
	discount float64 // mean market discount to the exchange rate (peg = 1 - discount)
	pegSD    float64 // stationary sd of the peg
}

// Anchor rates: wstETH from shared/data lst-lrt-market-vs-aave-oracle-hourly
// (2024-05-12); rETH, cbETH, weETH, ezETH, rsETH, osETH and rswETH from
// shared/data compound-v3-lst-lrt-oracle-hourly (last row, 2024-11-05);
// pufETH an order of magnitude; Babylon stakes native BTC (rate 1 at launch).
var underCalibs = map[string]underCalib{
	"lido":       {"2024-05-12", 1.16639, 0, 0.0005, 0.0008},      // trades within 0.1% of rate since 2023
	"rocketpool": {"2024-11-05", 1.11622, 0.0005, -0.001, 0.0015}, // often a small premium
	"coinbase":   {"2024-11-05", 1.08305, 0, 0.002, 0.0015},
	"stakewise":  {"2024-11-05", 1.03077, 0, 0.002, 0.0015},
	"babylon":    {"2024-08-22", 1, 0, 0.003, 0.002},
	"etherfi":    {"2024-11-05", 1.05199, 0, 0.001, 0.001},
	"renzo":      {"2024-11-05", 1.02639, 0, 0.003, 0.002},
	"puffer":     {"2024-11-05", 1.02, 0, 0.004, 0.002},
	"kelp":       {"2024-11-05", 1.02841, 0, 0.004, 0.002},
	"swell":      {"2024-11-05", 1.02267, 0, 0.004, 0.002},
}

var defaultUnder = underCalib{"2024-01-01", 1, 0, 0.002, 0.0015}

// stableCalib calibrates a stablecoin's USD peg.
var stableCalibs = map[string]underCalib{
	"usdc": {discount: 0, pegSD: 0.0003},
	"usdt": {discount: 0.0002, pegSD: 0.0004},
	"dai":  {discount: 0, pegSD: 0.0004},
}

// tokenUnder maps a token name (lower case, as in market IDs) to the
// staking underlying it represents and whether it rebases (one token is
// worth one base unit at peg, so its market price is the peg alone).
var tokenUnder = map[string]struct {
	protocol string
	rebasing bool
}{
	"steth": {"lido", true}, "wsteth": {"lido", false},
	"reth": {"rocketpool", false}, "cbeth": {"coinbase", false},
	"eeth": {"etherfi", true}, "weeth": {"etherfi", false},
	"ezeth": {"renzo", false}, "pufeth": {"puffer", false}, "rseth": {"kelp", false},
	"oseth": {"stakewise", false}, "rsweth": {"swell", false},
}

// marketCalib calibrates one market.
type marketCalib struct {
	size     float64 // typical size in base units: tokens outstanding (LST/LRT), supply (lending), pool value (AMM)
	util     float64 // lending: mean utilization (0 = 0.8 x the curve's optimal)
	reward   float64 // lending and AMM: incentive APY level (LRTs use the profile's restaking_apy)
	turnover float64 // AMM: daily volume / pool value
	// Lending: the stationary sd of the utilization's logit and the
	// half-life (days) of its deviations (0: the defaults below).
	utilSD, utilHalfLife float64
}

// Utilization paths, fitted to the daily utilization of the real files
// (shared/data aave-v3-…-aavescan-daily, aave-v3-usdc-messari-daily,
// compound-v3-usdc-messari-daily), per market with a file: util is the
// file's median (the logistic of its mean logit), utilSD the sd of logit(u)
// that puts the file's share of days above the kink above it under a
// logit-normal law (Aave WETH 8.9% above 0.90; USDT 6.9%, USDC 8.5% and
// Compound USDC 20% above 0.92), utilHalfLife the half-life of logit(u)'s
// lag-1-day autocorrelation. Other markets take sd 0.6 and 9 days (the
// files' medians). The generator's former sd 0.2 and 2 days never reached
// the kink (0.3% of hours above 0.92; 99th percentile 0.91, Aave USDC's
// file 0.986).
const (
	defaultUtilSD       = 0.6
	defaultUtilHalfLife = 9.0
)

var marketCalibs = map[string]marketCalib{
	"lido/steth":       {size: 6.5e6},
	"lido/wsteth":      {size: 3.5e6},
	"rocketpool/reth":  {size: 5.5e5},
	"coinbase/cbeth":   {size: 1.5e5},
	"babylon/btc":      {size: 5.0e4},
	"etherfi/weeth":    {size: 1.8e6},
	"renzo/ezeth":      {size: 9.0e5},
	"puffer/pufeth":    {size: 4.0e5},
	"kelp/rseth":       {size: 3.0e5},
	"eigenlayer/steth": {size: 1.5e6},
	"symbiotic/wsteth": {size: 1.5e5},
	"karak/weth":       {size: 5.0e4},
	"stakewise/oseth":  {size: 5.0e4},
	"swell/rsweth":     {size: 1.0e5},

	"aave-v3/weth":     {size: 8.64e5, util: 0.854, utilSD: 0.32, utilHalfLife: 20}, // size: AaveScan 2024 median supply (the reserve grew from 0.5M to 2.7M WETH over 2024-01..2025-07; its 2024-01..2025-09 median, 2.0M, borrows past the 1,400,000 WETH cap in force through 2024); utilization: AaveScan 2024-01..2025-09
	"aave-v3/wsteth":   {size: 1.2e6, util: 0.15},
	"aave-v3/weeth":    {size: 1.0e6, util: 0.03},
	"aave-v3/usdc":     {size: 2.5e9, util: 0.853, utilSD: 0.50, utilHalfLife: 7.4}, // Messari 2023-01..2025-11
	"aave-v3/usdt":     {size: 2.0e9, util: 0.824, utilSD: 0.61, utilHalfLife: 8.8}, // AaveScan 2024-01..2025-09
	"aave-v3/wbtc":     {size: 4.0e4, util: 0.12},
	"compound-v3/usdc": {size: 1.0e9, util: 0.861, reward: 0.004, utilSD: 0.745, utilHalfLife: 8.5}, // Messari 2022-08..2025-11
	"compound-v3/weth": {size: 4.0e5, util: 0.85, reward: 0.002},
	"morpho/usdc":      {size: 5.0e8, util: 0.90, reward: 0.005},
	"morpho/weth":      {size: 1.0e5, util: 0.90, reward: 0.003},
	"morpho/wbtc":      {size: 5.0e3, util: 0.85, reward: 0.003},
	"spark/weth":       {size: 5.0e5, util: 0.80},
	"spark/usdc":       {size: 3.0e8, util: 0.85},
	"kamino/usdc":      {size: 2.0e8, util: 0.80, reward: 0.01},

	"curve/steth-eth":            {size: 1.2e5, turnover: 0.08, reward: 0.01},
	"curve/3pool":                {size: 2.0e8, turnover: 0.15, reward: 0.002},
	"uniswap-v3/weth-usdt":       {size: 1.2e4, turnover: 0.25},
	"uniswap-v3/weth-usdt-range": {size: 1.2e4, turnover: 0.25},
	"balancer/reth-weth":         {size: 2.0e4, turnover: 0.05, reward: 0.015},
}

// lendingInception is when each lending protocol's liquidity index was 1.
var lendingInception = map[string]string{
	"aave-v3":     "2023-01-27", // Aave v3 Ethereum market
	"compound-v3": "2022-08-26", // Comet USDC
	"morpho":      "2024-01-10", // MetaMorpho vaults
	"spark":       "2023-05-09", // SparkLend
	"kamino":      "2023-10-01", // Kamino Lend
}

func calibFor(m adapters.Market) marketCalib {
	c := marketCalibs[m.ID]
	if c.size == 0 {
		c.size = defaultSize(m.Kind, m.Base)
	}
	if m.Kind == adapters.AMM && c.turnover == 0 {
		c.turnover = 0.2
	}
	if c.utilSD == 0 {
		c.utilSD, c.utilHalfLife = defaultUtilSD, defaultUtilHalfLife
	}
	return c
}

func defaultSize(k adapters.Kind, base adapters.Asset) float64 {
	scale := map[adapters.Asset]float64{adapters.ETH: 1, adapters.BTC: 0.05, adapters.USD: 3000}[base]
	switch k {
	case adapters.LST, adapters.LRT:
		return 1e5 * scale
	case adapters.Lending:
		return 2e5 * scale
	}
	return 2e4 * scale
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("synth: bad calibration date " + s)
	}
	return t
}

// stableOf returns the stablecoin a USD-base market's name refers to
// (usdc, usdt, dai), or "".
func stableOf(m adapters.Market) string {
	if m.Base != adapters.USD {
		return ""
	}
	_, name, _ := strings.Cut(m.ID, "/")
	for _, tok := range strings.Split(strings.ToLower(name), "-") {
		if _, ok := stableCalibs[tok]; ok {
			return tok
		}
	}
	return ""
}
