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
}

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

	"aave-v3/weth":     {size: 2.0e6, util: 0.86},
	"aave-v3/wsteth":   {size: 1.2e6, util: 0.15},
	"aave-v3/weeth":    {size: 1.0e6, util: 0.03},
	"aave-v3/usdc":     {size: 2.5e9, util: 0.86},
	"aave-v3/usdt":     {size: 2.0e9, util: 0.86},
	"aave-v3/wbtc":     {size: 4.0e4, util: 0.12},
	"compound-v3/usdc": {size: 1.0e9, util: 0.86, reward: 0.004},
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
