package adapters

// The built-in protocol profiles and markets. Every numeric parameter
// carries a one-line note naming where its value comes from. Values are
// typical settings at the time of writing; users override them per market
// (Market.Params) or replace a profile from YAML.

func p(v float64, source string) Param { return Param{Value: v, Source: source} }

// cometUSDC is a parameter of cUSDCv3's curves: the deployment's value
// (configuration.json field), changed on 2023-05-31 to the value of
// Gauntlet's IR recommendations of 2023-05-16.
func cometUSDC(v float64, field string, from20230531 float64) Param {
	return Param{Value: v, Source: cometUSDCNote + " " + field, Changes: []ParamChange{{
		From: "2023-05-31", Value: from20230531,
		Source: "Gauntlet Compound v3 USDC IR curve recommendations 5/16/23 (comp.xyz/t/4307), executed 2023-05-31; the Messari cUSDCv3 file matches it on 108 days of 2023. Later changes (2024: comp.xyz/t/5051, /t/5293) could not be matched to the file and are not modelled; the calibration to the observed rate absorbs the level",
	}}}
}

// since is a parameter that took effect on a date: before it the
// mechanism it describes did not exist.
func since(date string, v float64, source string) Param {
	return Param{Value: v, Source: source, Since: date}
}

// then returns prm with a later value from a date, with its own source.
func then(prm Param, from string, v float64, source string) Param {
	prm.Changes = append(prm.Changes, ParamChange{From: from, Value: v, Source: source})
	return prm
}

// Sources of the dated parameters, each named once.
const (
	srcMorphoWstETHBirth = "The market (id 0xc54d7acf..., oracle 0x2a01EB94..., the one execution names) was created at block 18919623, 2024-01-03 (its birthblock and birthday 1704240000 in public Morpho Blue indexer configurations; the first Morpho Blue market of all): the loop starts there, none existed before"
	srcLidoV2            = "Lido V2 (withdrawals) enacted by the Aragon vote closing 2023-05-15 ~14:00 UTC (research.lido.fi/t/lido-v2-voting-announcement/4576); before it stETH left only through a swap"
	srcRenzoWithdr       = "Renzo withdrawals: contract upgrade of 2024-06-10/11 (docs.renzoprotocol.com, Withdrawals > Solving the Cold Start Problem); WithdrawQueue cooldown 3 days when its buffer holds ETH, 10-15 days when empty (docs, Withdrawals); before it ezETH left only through a swap"
	srcEigenSlash        = "EigenLayer slashing upgrade live on mainnet 2025-04-17 (blog.eigencloud.xyz, 'Slashing on Mainnet is Coming Soon'); the minimum withdrawal delay is 14 days since (docs.renzoprotocol.com, Withdrawals)"
	srcEtherfiQueue      = "ether.fi eETH liquidity pool with its WithdrawRequestNFT queue launched 2023-11-15 (launch date from secondary sources; no primary source dates the queue's opening)"
	srcBabylonP1         = "Babylon phase 1 (caps from 2024-08-22) only locked BTC: no staking rewards (lombard.finance, 'Babylon's 3 phases explained', 2025-03-31)"
	srcBabylonP2         = "Babylon Genesis mainnet (phase 2) launched 2025-04-10 and began paying BABY rewards to BTC stakers (Babylon Genesis launch announcement, 2025-04-10)"
)

// Gas figures shared by simple ERC-20 vault-style interactions.
const gasNote = "typical mainnet gas for the call, from Etherscan transactions of the contract"

// Sources shared by several lending parameters.
const (
	// The Aave v3 WETH reserve's state (getReserveData) in the shared
	// AaveScan file; the model matches it from 2024-06-24 to 2025-07-16.
	aaveWETHNote = "Aave v3 WETH reserve state 2024-06-24..2025-07-16 (AaveScan getReserveData, shared/data aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily)"
	// Comet's deployment configuration; the shared Messari cUSDCv3 file
	// matches it (supply and borrow APR within 0.1%) on 123 of 128 days
	// of 2022. Governance changed the curves on 2023-05-31 (Gauntlet IR
	// recommendations 5/16/23: supply kink 0.95, slopes 0.034 and 0.76;
	// borrow base 0.01, slopes 0.0333 and 0, kink 0.9;
	// comp.xyz/t/4307) and again in 2024 (comp.xyz/t/5051, /t/5293); the
	// calibration to the observed rate absorbs the level, the shape
	// prices own impact.
	cometUSDCNote = "Compound v3 cUSDCv3 deployment 2022-08-26, compound-finance/comet deployments/mainnet/usdc/configuration.json (matches the Messari cUSDCv3 file until 2023-05-30)"
	cometWETHNote = "Compound v3 cWETHv3 deployment, compound-finance/comet deployments/mainnet/weth/configuration.json"
	// Morpho Blue's AdaptiveCurveIRM constants.
	morphoIRMNote = "AdaptiveCurveIRM, morpho-org/morpho-blue-irm src/adaptive-curve-irm/libraries/ConstantsLib.sol"
	// The wstETH reserve's first strategy, which the AaveScan file
	// matches (base + slope1 x u / optimal) from 2024-05-12 to
	// 2024-11-17; from 2024-11-18 the reserve ran a flatter curve.
	aaveWstETHNote = "Llama ARFC wETH & wstETH IR curve 2023-01-16 (governance.aave.com/t/11372); the AaveScan wstETH reserve matches it 2024-05-12..2024-11-17"
	aaveUSDTNote   = "AaveScan USDT reserve (shared/data aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily)"
	// The same file's WETH reserve after the Risk Stewards' changes of
	// July-September 2025 (see aaveWETHCurve).
	aaveWETH2025Note = "AaveScan WETH reserve (shared/data aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily)"
)

// Sources of the loop profiles.
const (
	aaveEModeNote     = "ACI ARFC Update stETH and WETH Risk Params on Aave v3 Ethereum (governance.aave.com/t/16168, 2024-01-12): ETH-correlated e-mode"
	aaveEMode2025Note = "AIP wstETH and weETH E-Modes and LT/LTV Adjustments on Ethereum, Arbitrum, Base (bgd-labs/aave-proposals-v3 src/20250318_Multi_WstETHAndWeETHEModesAndLTLTVAdjustmentsOnEthereumArbitrumBase, payload diff; dated by its payload, 2025-03-18)"
	aaveLiqNote       = "aave-dao/aave-v3-origin src/contracts/protocol/libraries/logic/LiquidationLogic.sol"
	uniWstETHNote     = "Uniswap v3 wstETH/WETH 0.01% pool: the swap fee of selling the collateral when unwinding (price impact beyond it is the observed exit liquidity's bound)"
	// The Aave v3 Ethereum WETH reserve's borrow cap.
	aaveWETHCapNote       = "Aave v3 Ethereum WETH reserve (0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2) borrowCap 1400000 (supplyCap 1800000) in the pool configuration snapshot of 2023-10-31: bgd-labs/aave-proposals-v3 commit b681de42adac45b9f8df586a0a8b53a7ca774fc4, reports/AaveV3Ethereum_UpgradeAaveV3ETHPooolWETHParameters_20231031_before.json and _after.json; no diff of that repository, aave-dao/aave-risk-stewards or aave-dao/aave-v3-risk-stewards changes it after (the value before the snapshot was not read)"
	aaveWETHCapRaisedNote = "raised on or before 2024-12-22, the first day the reserve's variable debt passed 1,400,000 WETH (AaveScan 1,415,913; shared/data aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily), by a Risk Steward or AIP whose value and date were not found (Chaos Labs raised it again 2025-07-15, governance.aave.com/t/22600, value not read): no cap is known from here, so none bounds the loop"
)

// aaveLoopParams adds to a loop profile's own parameters those every Aave
// v3 core loop shares: the WETH reserve's rate model (the debt), the
// liquidation rule, the flash-loan premium and the gas of each call.
// withMorphoIRM adds Morpho's AdaptiveCurveIRM constants (the same for
// every Morpho Blue market) to own.
func withMorphoIRM(own map[string]Param) map[string]Param {
	own["irm_optimal"] = p(0.90, morphoIRMNote+": TARGET_UTILIZATION = 0.9")
	own["irm_curve_steepness"] = p(4, morphoIRMNote+": CURVE_STEEPNESS = 4")
	own["irm_adjustment_speed"] = p(50, morphoIRMNote+": ADJUSTMENT_SPEED = 50/year")
	own["irm_rate_at_target"] = p(0.04, morphoIRMNote+": INITIAL_RATE_AT_TARGET = 4%/year")
	own["irm_min_rate_at_target"] = p(0.001, morphoIRMNote+": MIN_RATE_AT_TARGET = 0.1%/year")
	own["irm_max_rate_at_target"] = p(2.0, morphoIRMNote+": MAX_RATE_AT_TARGET = 200%/year")
	return own
}

// lidoQueueParams are the parameters of a wstETH loop's unwind through
// Lido's withdrawal queue (lending.Loop's queued unwind).
func lidoQueueParams() map[string]Param {
	return map[string]Param{
		"withdrawal_days": since("2023-05-15", 3, "the collateral's queue, Lido's (requestWithdrawalsWstETH): typically 1-5 days, longer in exit-queue surges (stake.lido.fi/withdrawals); "+srcLidoV2),
		"gas_queue":       p(200000, gasNote+" (Lido requestWithdrawalsWstETH, which unwraps)"),
		"gas_claim":       p(90000, gasNote+" (Lido claimWithdrawal)"),
	}
}

// merged is own with more's parameters added.
func merged(own, more map[string]Param) map[string]Param {
	for k, v := range more {
		own[k] = v
	}
	return own
}

func aaveLoopParams(own map[string]Param, more ...map[string]Param) map[string]Param {
	for _, m := range more {
		own = merged(own, m)
	}
	out := map[string]Param{
		"close_factor":         p(0.5, aaveLiqNote+": DEFAULT_LIQUIDATION_CLOSE_FACTOR = 0.5e4 (v3.0-v3.2; v3.3 lets positions under $2,000 be closed whole, not modelled)"),
		"close_factor_full_hf": p(0.95, aaveLiqNote+": CLOSE_FACTOR_HF_THRESHOLD = 0.95e18, at or below which the whole debt may be repaid"),
		"flash_loan_fee":       p(0.0005, "Aave v3 Ethereum Pool.FLASHLOAN_PREMIUM_TOTAL = 5 (0.05%)"),
		"borrow_cap":           then(since("2023-10-31", 1_400_000, aaveWETHCapNote), "2024-12-22", 0, aaveWETHCapRaisedNote),
		"unwind_swap_cost":     p(0.0001, uniWstETHNote),
		"slash_risk":           p(0.0005, "bad-debt and oracle risk, order of magnitude (Aave risk reports)"),
		"gas_deposit":          p(180000, gasNote+" (Pool.supply)"),
		"gas_withdraw":         p(200000, gasNote+" (Pool.withdraw)"),
		"gas_borrow":           p(250000, gasNote+" (Pool.borrow)"),
		"gas_repay":            p(180000, gasNote+" (Pool.repay)"),
		"gas_mint":             p(180000, gasNote+" (Lido submit then wstETH.wrap; ether.fi deposit then weETH.wrap)"),
		"gas_flash":            p(900000, "order of magnitude: one transaction of Pool.flashLoan with a supply, a borrow and a mint (the step calls summed, less the per-transaction overhead)"),
	}
	for k, v := range aaveWETHCurve() {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// withParams returns base with own's parameters added (own wins).
func withParams(base, own map[string]Param) map[string]Param {
	for k, v := range own {
		base[k] = v
	}
	return base
}

// aaveWETHCurve is the Aave v3 Ethereum core WETH reserve's rate model over
// time, read off the reserve's own state: the AaveScan file's daily
// getReserveData (borrow rate, total debt, totalAToken). Each change is
// dated by the first daily snapshot that shows it (the change itself
// happened in the day before). TestRealData_aaveReserveParams checks the
// model against every day of the file from 2024-06-24 to 2025-09-29
// within 0.06 points of borrow rate, but for 2025-07-21 and 2025-07-22.
//
// In July 2025 Risk Stewards raised the kink to take more of the WETH
// demand (first a temporary 93%, then 92%: governance.aave.com/t/22625,
// 2025-07-19) and lowered slope 2; from September they cut slope 1 in
// steps toward 2.50% (governance.aave.com/t/23129, 2025-09-14). The
// values between are what the reserve's state shows: no single post
// lists each step.
func aaveWETHCurve() map[string]Param {
	const (
		jul  = aaveWETH2025Note + ", 2025-07-17..2025-07-20"
		late = aaveWETH2025Note + ", 2025-07-23..2025-07-30 (2025-07-21 and 2025-07-22 fit no single curve: the stewards moved it within the day; this curve is 3.3 and 1.3 points below the reserve's borrow rate on those two days)"
		aug  = aaveWETH2025Note + ", 2025-08-01..2025-08-08"
	)
	return map[string]Param{
		"irm_base": p(0, aaveWETHNote+": borrow rate 0 at zero utilization (and after 2025-07-16: borrow / utilization constant below the kink)"),
		"irm_slope1": then(then(then(then(then(then(
			p(0.027, aaveWETHNote+": borrow rate / utilization = 0.030 below the kink, so 2.7% at 90%"),
			"2025-07-21", 0.030, late+": borrow / utilization 0.03158 below the kink up to u 0.9495, so 3.0% at 95%"),
			"2025-07-31", 0.0298, aaveWETH2025Note+", 2025-07-31: borrow / utilization 0.03136 (2.98% at 95%)"),
			"2025-08-01", 0.029, aug+": borrow / utilization 0.03085 below the kink, so 2.90% at 94%"),
			"2025-08-09", 0.0277, aaveWETH2025Note+", 2025-08-09..2025-08-11: borrow / utilization 0.03011, so 2.77% at 92%"),
			"2025-08-12", 0.027, aaveWETH2025Note+", 2025-08-12..2025-09-16: borrow / utilization 0.02935, so 2.70% at 92% (the \"current value 2.70%\" of governance.aave.com/t/23129)"),
			"2025-09-17", 0.026, aaveWETH2025Note+", 2025-09-17..2025-09-29: borrow / utilization 0.02826, so 2.60% at 92%: the first step of the cut to 2.50% proposed by governance.aave.com/t/23129"),
		"irm_slope2": then(then(
			p(0.80, aaveWETHNote+": slope above the kink 0.80 (2024-07-05 at u 0.925, borrow 22.6%)"),
			"2025-07-17", 0.60, jul+": 2025-07-18 at u 0.9343 borrows at 6.39%, 2025-07-19 at u 0.9329 at 5.14%, a slope of 0.60 above a 93% kink"),
			"2025-07-21", 0.20, late+": 2025-07-23 at u 0.9524 borrows at 3.93%, a slope of 0.19 above a 95% kink; 2025-08-03 (u 0.944, 4.22%) and 2025-08-20 (u 0.925, 3.96%) give 0.20 above 94% and 92%"),
		"irm_optimal": then(then(then(then(
			p(0.90, aaveWETHNote+": kink at 90%"),
			"2025-07-17", 0.93, jul+": below the kink at u 0.9216 and 0.9274, above it at 0.9329 (the temporary 93% of governance.aave.com/t/22625)"),
			"2025-07-21", 0.95, late+": below the kink at u 0.9495 (2025-07-24), above it at 0.9524 (2025-07-23)"),
			"2025-08-01", 0.94, aug+": below the kink at u 0.9403 by 0.03 points, above it at 0.944 (2025-08-03)"),
			"2025-08-09", 0.92, aaveWETH2025Note+", 2025-08-09..2025-09-29: above the kink at u 0.925 (2025-08-20), below at 0.9078; 92% as governance.aave.com/t/22625 proposed"),
		"reserve_factor": p(0.15, aaveWETHNote+": 1 - supply rate / (borrow rate x utilization) = 0.15 (through 2025-09-29)"),
	}
}

func builtinProfiles() []Profile {
	return []Profile{
		// Liquid staking.
		{Name: "lido", Display: "Lido (stETH, wstETH)", Kind: LST, Base: ETH, Venue: "curve/steth-eth", Rebasing: true,
			Tags: []string{"oracle:lido"}, Source: "https://docs.lido.fi",
			Params: map[string]Param{
				"fee_on_rewards":      p(0.10, "Lido docs: 10% of staking rewards (5% node operators, 5% DAO treasury)"),
				"withdrawal_days":     since("2023-05-15", 3, "Lido withdrawal queue: typically 1-5 days, longer in exit-queue surges (stake.lido.fi/withdrawals); "+srcLidoV2),
				"exit_liquidity":      p(60000, "Curve ETH/stETH pool ETH side, order of magnitude 2023-2025 (curve.fi)"),
				"venue_amplification": p(50, "Curve ETH/stETH pool A = 50 in 2022 (pool parameters; shared/data curve-steth-pool-snapshots-2022 prices within 0.16% of the market at A = 50)"),
				"venue_fee":           p(0.0004, "Curve ETH/stETH pool fee 0.04% (pool parameters)"),
				"slash_risk":          p(0.0005, "Lido validator slashings to date are far below 0.1% of stake a year (Rated, Lido reports)"),
				"depeg_risk":          p(0.07, "stETH/ETH fell to 0.9306 in June 2022 (shared/data steth-usd-coingecko-hourly)"),
				"gas_deposit":         p(90000, gasNote+" (Lido submit)"),
				"gas_withdraw":        p(180000, gasNote+" (Lido requestWithdrawals)"),
				"gas_claim":           p(90000, gasNote+" (Lido claimWithdrawal)"),
			}},
		{Name: "rocketpool", Display: "Rocket Pool (rETH)", Kind: LST, Base: ETH, Venue: "balancer/reth-weth",
			Tags: []string{"oracle:rocketpool"}, Source: "https://docs.rocketpool.net",
			Params: map[string]Param{
				"fee_on_rewards":      p(0.14, "Rocket Pool: node operator commission of 14% on pooled ETH rewards (pre-Saturn)"),
				"queue":               p(0, "Rocket Pool has no withdrawal queue: rETH burns at the rate against the deposit pool's ETH, else sells on a DEX (docs.rocketpool.net, rETH)"),
				"burn_liquidity":      p(1000, "ETH in the deposit pool a burn can draw, order of magnitude: the pool (capped at 18,000 ETH) is drained by new minipools; not observed in the data, so an assumption"),
				"exit_liquidity":      p(20000, "rETH DEX depth (Balancer/Curve/Uniswap), order of magnitude 2023-2025"),
				"venue_amplification": p(50, "Balancer rETH/WETH composable stable pool amplification 50"),
				"venue_fee":           p(0.0004, "Balancer rETH/WETH composable stable pool fee 0.04%"),
				"slash_risk":          p(0.0005, "8/16 ETH node-operator bonds absorb slashing before rETH holders"),
				"depeg_risk":          p(0.03, "rETH premium/discount history, usually within 1-3% (rocketpool.net)"),
				"gas_deposit":         p(130000, gasNote+" (RocketDepositPool.deposit)"),
				"gas_withdraw":        p(110000, gasNote+" (rETH burn)"),
				"gas_claim":           p(60000, gasNote),
			}},
		{Name: "coinbase", Display: "Coinbase Wrapped Staked ETH (cbETH)", Kind: LST, Base: ETH, Venue: "uniswap-v3/cbeth-weth",
			Tags: []string{"oracle:coinbase"}, Source: "https://www.coinbase.com/cbeth",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.25, "Coinbase: 25% commission on staking rewards (cbETH whitepaper)"),
				"withdrawal_days": p(5, "unwrap and unstake through Coinbase, subject to the beacon-chain exit queue (for a Coinbase account holder)"),
				"queue":           p(0, "cbETH unwraps only through a verified Coinbase account (coinbase.com/cbeth): a vault contract has none, so it leaves through a swap"),
				"exit_liquidity":  p(10000, "cbETH DEX depth, order of magnitude 2023-2025"),
				"slash_risk":      p(0.0005, "single professional operator, no slashing to date"),
				"depeg_risk":      p(0.03, "cbETH market vs rate history (Compound v3 oracle file)"),
				"gas_deposit":     p(120000, gasNote+" (DEX buy)"),
				"gas_withdraw":    p(120000, gasNote+" (DEX sell)"),
				"gas_claim":       p(60000, gasNote),
			}},
		{Name: "stakewise", Display: "StakeWise V3 (osETH)", Kind: LST, Base: ETH, Venue: "balancer/oseth-weth",
			Tags: []string{"oracle:stakewise"}, Source: "https://docs.stakewise.io",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.05, "StakeWise V3: osToken fee of 5% of the rewards earned by minted osETH (docs.stakewise.io, osToken)"),
				"withdrawal_days": p(3, "burn osETH and exit through the vault's validator exit queue: typically 1-5 days (docs)"),
				"exit_liquidity":  p(5000, "osETH DEX depth (Balancer osETH/WETH), order of magnitude 2024"),
				"slash_risk":      p(0.0005, "vault operators post no bond, but osETH is overcollateralised by vault stake (osETH LTV 90%)"),
				"depeg_risk":      p(0.03, "osETH rate range 1.0201-1.0308 in shared/data compound-v3-lst-lrt-oracle-hourly; market within a few percent"),
				"gas_deposit":     p(150000, gasNote+" (vault deposit + mint osETH)"),
				"gas_withdraw":    p(200000, gasNote+" (burn osETH + enter exit queue)"),
				"gas_claim":       p(100000, gasNote+" (claimExitedAssets)"),
			}},
		{Name: "babylon", Display: "Babylon (native BTC staking)", Kind: LST, Base: BTC,
			Tags: []string{"chain:bitcoin"}, Source: "https://docs.babylonlabs.io",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.10, "finality-provider commission, commonly 5-10% (Babylon explorer)"),
				"withdrawal_days": p(7, "Babylon unbonding time of 1008 Bitcoin blocks, about 7 days"),
				"yield_paid":      then(p(0, srcBabylonP1), "2025-04-10", 1, srcBabylonP2),
				"exit_liquidity":  p(0, "native BTC staking has no instant exit: it leaves only by unbonding (1008 Bitcoin blocks, docs.babylonlabs.io); liquid BTC staking tokens (LBTC, solvBTC.BBN) are other markets"),
				"slash_risk":      p(0.001, "slashing only for double-signing finality providers; extractable EOTS keys"),
				"depeg_risk":      p(0.02, "liquid staking BTC tokens trade within a few percent of BTC"),
				"gas_deposit":     p(0, "paid in BTC fees, modelled in withdraw costs"),
			}},

		// Liquid restaking.
		{Name: "etherfi", Display: "ether.fi (eETH, weETH)", Kind: LRT, Base: ETH, Venue: "curve/weeth-weth", Layer: "eigenlayer", Rebasing: true,
			RewardTokens: []string{"ETHFI", "EIGEN"}, Tags: []string{"oracle:etherfi"}, Source: "https://etherfi.gitbook.io",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.10, "ether.fi: 10% of staking rewards (5% node operators, 5% protocol)"),
				"withdrawal_days": since("2023-11-15", 7, "ether.fi withdrawal NFT finalisation, up to about a week; "+srcEtherfiQueue),
				"escrow_days":     p(0, "ether.fi native restaking exits through its own queue; escrow counted in withdrawal_days"),
				"exit_liquidity":  p(15000, "weETH DEX depth, order of magnitude 2024-2025"),
				"restaking_apy":   p(0.005, "EIGEN and AVS rewards distributed to eETH holders, order of magnitude"),
				"reward_haircut":  p(0.5, "points and reward tokens are illiquid and volatile: value them at half"),
				"slash_risk":      p(0.002, "EigenLayer slashing went live in 2025; operator-set risk on top of Ethereum slashing"),
				"depeg_risk":      p(0.03, "weETH market vs rate (shared/data lst-lrt-market-vs-aave-oracle-hourly)"),
				"gas_deposit":     p(150000, gasNote+" (LiquidityPool.deposit + wrap)"),
				"gas_withdraw":    p(200000, gasNote+" (requestWithdraw)"),
				"gas_claim":       p(100000, gasNote),
				"gas_harvest":     p(150000, gasNote+" (merkle claim + swap)"),
			}},
		{Name: "renzo", Display: "Renzo (ezETH)", Kind: LRT, Base: ETH, Venue: "balancer/ezeth-weth", Layer: "eigenlayer",
			RewardTokens: []string{"REZ", "EIGEN"}, Tags: []string{"oracle:renzo"}, Source: "https://docs.renzoprotocol.com",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.10, "Renzo: 10% fee on restaking rewards (docs)"),
				"withdrawal_days": since("2024-06-11", 3, srcRenzoWithdr),
				"escrow_days":     p(0, "EigenLayer's escrow is served from Renzo's withdrawal buffer, not added to the cooldown (docs, Withdrawals)"),
				"exit_liquidity":  p(5000, "ezETH DEX depth; near zero during the April 2024 depeg"),
				"restaking_apy":   p(0.005, "EIGEN and AVS rewards, order of magnitude"),
				"rewards_in_rate": p(1, "ezETH is reward-bearing: rewards from its restaking positions (ETH and AVS tokens) are captured by the protocol and reflected in ezETH's price against its collateral (docs.renzoprotocol.com, ezETH FAQ)"),
				"reward_haircut":  p(0.5, "points and reward tokens valued at half"),
				"slash_risk":      p(0.002, "EigenLayer operator slashing plus Ethereum slashing"),
				"depeg_risk":      p(0.25, "ezETH fell to about 0.75 ETH on some DEXs on 2024-04-24, before withdrawals opened"),
				"gas_deposit":     p(200000, gasNote+" (RestakeManager.depositETH)"),
				"gas_withdraw":    p(200000, gasNote),
				"gas_claim":       p(100000, gasNote),
				"gas_harvest":     p(150000, gasNote),
			}},
		{Name: "puffer", Display: "Puffer (pufETH)", Kind: LRT, Base: ETH, Venue: "curve/pufeth-wsteth", Layer: "eigenlayer",
			RewardTokens: []string{"PUFFER", "EIGEN"}, Tags: []string{"oracle:puffer"}, Source: "https://docs.puffer.fi",
			Params: map[string]Param{
				"fee_on_rewards":   p(0.10, "Puffer protocol fee on rewards, order of magnitude (docs)"),
				"withdrawal_days":  p(14, "Puffer 2-step withdrawals: about 14 days; the queue's opening date is not dated here: no source found"),
				"instant_exit_fee": p(0.01, "PufferVault instant withdrawal fee of 1% (docs)"),
				"exit_liquidity":   p(3000, "pufETH DEX depth, order of magnitude"),
				"insurance_cap":    p(0.5, "anti-slashing: Secure-Signer and node-operator bonds cover slashing up to the bond; modelled as half of a slash"),
				"restaking_apy":    p(0.005, "EIGEN and AVS rewards, order of magnitude"),
				"reward_haircut":   p(0.5, "points and reward tokens valued at half"),
				"slash_risk":       p(0.001, "anti-slashing technology halves expected loss against peers"),
				"depeg_risk":       p(0.05, "pufETH traded a few percent below rate in 2024"),
				"gas_deposit":      p(150000, gasNote),
				"gas_withdraw":     p(180000, gasNote),
				"gas_claim":        p(100000, gasNote),
				"gas_harvest":      p(150000, gasNote),
			}},
		{Name: "kelp", Display: "Kelp DAO (rsETH)", Kind: LRT, Base: ETH, Venue: "balancer/rseth-weth", Layer: "eigenlayer",
			RewardTokens: []string{"KEP", "EIGEN"}, Tags: []string{"oracle:kelp"}, Source: "https://kelp.gitbook.io",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.10, "Kelp fee on restaking rewards, order of magnitude (docs)"),
				"withdrawal_days": p(10, "Kelp withdrawals: 7-10 days (EigenLayer escrow plus batching); the date Kelp's queue opened and its lengthening with EigenLayer's 14-day escrow (2025-04-17) are not dated here: no source found"),
				"exit_liquidity":  p(4000, "rsETH DEX depth, order of magnitude"),
				"restaking_apy":   p(0.005, "EIGEN and AVS rewards, order of magnitude"),
				"reward_haircut":  p(0.5, "points and reward tokens valued at half"),
				"slash_risk":      p(0.002, "EigenLayer operator slashing plus Ethereum slashing"),
				"depeg_risk":      p(0.05, "rsETH market vs rate, order of magnitude"),
				"gas_deposit":     p(180000, gasNote),
				"gas_withdraw":    p(200000, gasNote),
				"gas_claim":       p(100000, gasNote),
				"gas_harvest":     p(150000, gasNote),
			}},
		{Name: "swell", Display: "Swell (rswETH)", Kind: LRT, Base: ETH, Venue: "balancer/rsweth-weth", Layer: "eigenlayer",
			RewardTokens: []string{"SWELL", "EIGEN"}, Tags: []string{"oracle:swell"}, Source: "https://docs.swellnetwork.io",
			Params: map[string]Param{
				"fee_on_rewards":  p(0.10, "Swell: 10% fee on staking and restaking rewards (docs.swellnetwork.io, fees)"),
				"withdrawal_days": p(12, "rswETH withdrawals: EigenLayer escrow plus batch processing, up to about 12 days (docs); the queue's opening date is not dated here: no source found"),
				"exit_liquidity":  p(2000, "rswETH DEX depth, order of magnitude 2024"),
				"restaking_apy":   p(0.005, "EIGEN and AVS rewards, order of magnitude"),
				"reward_haircut":  p(0.5, "points and reward tokens valued at half"),
				"slash_risk":      p(0.002, "EigenLayer operator slashing plus Ethereum slashing"),
				"depeg_risk":      p(0.05, "rswETH market vs rate, order of magnitude"),
				"gas_deposit":     p(150000, gasNote),
				"gas_withdraw":    p(200000, gasNote),
				"gas_claim":       p(100000, gasNote),
				"gas_harvest":     p(150000, gasNote),
			}},
		{Name: "eigenlayer", Display: "EigenLayer (restaking layer)", Kind: LRT, Base: ETH, Layer: "eigenlayer",
			RewardTokens: []string{"EIGEN"}, Source: "https://docs.eigenlayer.xyz",
			Params: map[string]Param{
				"withdrawal_days": p(0, "restaked LSTs exit after the escrow only"),
				"escrow_days":     then(p(7, "EigenLayer withdrawal escrow of 7 days (M1 and M2 mainnet, docs.eigenlayer.xyz); the layer's own launch is not dated here"), "2025-04-17", 14, srcEigenSlash),
				"restaking_apy":   p(0.004, "EIGEN programmatic incentives and AVS rewards, order of magnitude"),
				"reward_haircut":  p(0.5, "EIGEN and AVS tokens valued at half"),
				"slash_risk":      p(0.002, "operator-set slashing, live since April 2025"),
				"exit_liquidity":  p(0, "a restaked position has no instant exit; it leaves through the escrow"),
				"gas_deposit":     p(160000, gasNote+" (StrategyManager.depositIntoStrategy)"),
				"gas_withdraw":    p(250000, gasNote+" (queueWithdrawals)"),
				"gas_claim":       p(150000, gasNote+" (completeQueuedWithdrawal)"),
				"gas_harvest":     p(150000, gasNote+" (RewardsCoordinator.processClaim)"),
			}},
		{Name: "symbiotic", Display: "Symbiotic (restaking layer)", Kind: LRT, Base: ETH, Layer: "symbiotic",
			Source: "https://docs.symbiotic.fi",
			Params: map[string]Param{
				"withdrawal_days": p(0, "vault withdrawals wait for the epoch only"),
				"escrow_days":     p(7, "Symbiotic vault epochs, commonly 7 days"),
				"restaking_apy":   p(0.003, "network rewards, order of magnitude"),
				"reward_haircut":  p(0.5, "reward tokens and points valued at half"),
				"slash_risk":      p(0.002, "network-defined slashing through resolvers"),
				"exit_liquidity":  p(0, "no instant exit from a Symbiotic vault"),
				"gas_deposit":     p(150000, gasNote),
				"gas_withdraw":    p(150000, gasNote),
				"gas_claim":       p(100000, gasNote),
				"gas_harvest":     p(150000, gasNote),
			}},
		{Name: "karak", Display: "Karak (restaking layer)", Kind: LRT, Base: ETH, Layer: "karak",
			Source: "https://docs.karak.network",
			Params: map[string]Param{
				"withdrawal_days": p(0, "vault withdrawals wait for the delay only"),
				"escrow_days":     p(7, "Karak withdrawal delay of 7 days (docs)"),
				"restaking_apy":   p(0.003, "DSS rewards and points, order of magnitude"),
				"reward_haircut":  p(0.6, "mostly points: valued at 40%"),
				"slash_risk":      p(0.002, "DSS-defined slashing"),
				"exit_liquidity":  p(0, "no instant exit from a Karak vault"),
				"gas_deposit":     p(150000, gasNote),
				"gas_withdraw":    p(150000, gasNote),
				"gas_claim":       p(100000, gasNote),
				"gas_harvest":     p(150000, gasNote),
			}},

		// Lending.
		{Name: "aave-v3", Display: "Aave v3 (Ethereum core)", Kind: Lending, Tags: []string{"oracle:chainlink"},
			RewardTokens: []string{"AAVE"}, Source: "https://aave.com/docs",
			Params: withParams(aaveWETHCurve(), map[string]Param{
				"slash_risk":   p(0.0005, "bad-debt and oracle risk, order of magnitude (Aave risk reports)"),
				"gas_deposit":  p(180000, gasNote+" (Pool.supply)"),
				"gas_withdraw": p(200000, gasNote+" (Pool.withdraw)"),
				"gas_harvest":  p(150000, gasNote),
			})},
		{Name: "compound-v3", Display: "Compound v3 (Comet)", Kind: Lending, Tags: []string{"oracle:chainlink"},
			RewardTokens: []string{"COMP"}, Source: "https://docs.compound.finance",
			Params: map[string]Param{
				"comet_supply_base":       p(0, cometUSDCNote+" rates.supplyBase"),
				"comet_supply_slope_low":  cometUSDC(0.0325, "rates.supplySlopeLow", 0.034),
				"comet_supply_slope_high": cometUSDC(0.4, "rates.supplySlopeHigh", 0.76),
				"comet_supply_kink":       cometUSDC(0.8, "rates.supplyKink", 0.95),
				"comet_borrow_base":       cometUSDC(0.015, "rates.borrowBase", 0.01),
				"comet_borrow_slope_low":  cometUSDC(0.035, "rates.borrowSlopeLow", 0.0333),
				"comet_borrow_slope_high": cometUSDC(0.25, "rates.borrowSlopeHigh", 0),
				"comet_borrow_kink":       cometUSDC(0.8, "rates.borrowKink", 0.9),
				"slash_risk":              p(0.0005, "bad-debt and oracle risk, order of magnitude"),
				"reward_haircut":          p(0.1, "COMP rewards are liquid: 10% haircut for swap and price risk"),
				"gas_deposit":             p(120000, gasNote+" (Comet.supply)"),
				"gas_withdraw":            p(130000, gasNote+" (Comet.withdraw)"),
				"gas_harvest":             p(150000, gasNote+" (CometRewards.claim)"),
			}},
		{Name: "morpho", Display: "Morpho (MetaMorpho vaults)", Kind: Lending, Tags: []string{"oracle:morpho"},
			RewardTokens: []string{"MORPHO"}, Source: "https://docs.morpho.org",
			Params: withMorphoIRM(map[string]Param{
				"reserve_factor": p(0, "Morpho Blue market fee: off unless governance turns it on (Morpho.setFee); MetaMorpho curators' performance fees are not modelled"),
				"slash_risk":     p(0.001, "isolated markets: curator and oracle risk"),
				"gas_deposit":    p(200000, gasNote+" (MetaMorpho deposit)"),
				"gas_withdraw":   p(220000, gasNote),
				"gas_harvest":    p(150000, gasNote),
			})},
		// Leveraged loops: collateral and debt in one lending market.
		{Name: "aave-v3-emode-wsteth", Display: "Aave v3 core: wstETH collateral, WETH debt, ETH-correlated e-mode", Kind: Lending, Base: ETH,
			Tags: []string{"protocol:aave-v3", "oracle:capo"}, Source: "https://aave.com/docs",
			Params: aaveLoopParams(map[string]Param{
				"ltv": then(p(0.93, aaveEModeNote+": LTV 93% (90% before the ARFC; the AIP's execution date is not verified, so 2024-01-12..its execution may be off)"),
					"2025-03-18", 0.935, aaveEMode2025Note+": wstETH/ETH e-mode (id 8) LTV 93.5%"),
				"lltv": then(p(0.95, aaveEModeNote+": liquidation threshold 95%"),
					"2025-03-18", 0.955, aaveEMode2025Note+": wstETH/ETH e-mode (id 8) liquidation threshold 95.5%"),
				"liquidation_bonus":   p(0.01, aaveEModeNote+": liquidation bonus 1% (unchanged by "+aaveEMode2025Note+")"),
				"emode":               then(p(1, aaveEModeNote+": category 1, ETH correlated"), "2025-03-18", 8, aaveEMode2025Note+": category 8, wstETH/ETH"),
				"oracle_market_price": p(0, "Aave v3 wstETH price feed: the CAPO adapter (bgd-labs/aave-capo WstETHPriceCapAdapter) = stETH per wstETH x ETH/USD, the exchange rate capped in growth, not the market price"),
			}, lidoQueueParams())},
		{Name: "aave-v3-emode-weeth", Display: "Aave v3 core: weETH collateral, WETH debt, weETH/ETH e-mode", Kind: Lending, Base: ETH,
			Tags: []string{"protocol:aave-v3", "oracle:capo"}, Source: "https://aave.com/docs",
			Params: aaveLoopParams(map[string]Param{
				"ltv":                 since("2025-03-18", 0.93, aaveEMode2025Note+": weETH/ETH e-mode (id 7) created, LTV 93%; whether weETH was in the ETH-correlated category before is not established from the sources read, so the loop starts here"),
				"lltv":                since("2025-03-18", 0.95, aaveEMode2025Note+": weETH/ETH e-mode (id 7) liquidation threshold 95%"),
				"liquidation_bonus":   since("2025-03-18", 0.01, aaveEMode2025Note+": weETH/ETH e-mode (id 7) liquidation bonus 1% on Ethereum (1.25% on Base)"),
				"emode":               since("2025-03-18", 7, aaveEMode2025Note+": category 7, weETH/ETH"),
				"oracle_market_price": p(0, "Aave v3 weETH price feed: the CAPO adapter (bgd-labs/aave-capo WeETHPriceCapAdapter) = eETH per weETH x ETH/USD, the exchange rate capped in growth, not the market price"),
			}, map[string]Param{
				"withdrawal_days": since("2023-11-15", 7, "the collateral's queue, ether.fi's (unwrap weETH, then requestWithdraw): withdrawal NFT finalisation, up to about a week; "+srcEtherfiQueue),
				"gas_queue":       p(250000, gasNote+" (weETH.unwrap, then ether.fi requestWithdraw)"),
				"gas_claim":       p(100000, gasNote+" (ether.fi claimWithdraw)"),
			})},
		{Name: "morpho-blue-wsteth-weth", Display: "Morpho Blue wstETH/WETH 94.5% LLTV market", Kind: Lending, Base: ETH,
			Tags: []string{"protocol:morpho", "oracle:morpho"}, Source: "https://docs.morpho.org/learn/concepts/liquidation",
			Params: withMorphoIRM(merged(map[string]Param{
				"ltv":                       since("2024-01-03", 0.945, "Morpho Blue borrows up to the LLTV (Morpho.borrow requires _isHealthy: debt <= collateral x price x lltv); no separate LTV. "+srcMorphoWstETHBirth),
				"lltv":                      since("2024-01-03", 0.945, "Morpho Blue wstETH/WETH market: LLTV 94.5% (one of the governance-enabled LLTVs, Morpho.enableLltv). "+srcMorphoWstETHBirth),
				"liquidation_cursor":        p(0.3, "morpho-org/morpho-blue src/libraries/ConstantsLib.sol: LIQUIDATION_CURSOR = 0.3e18"),
				"max_liquidation_incentive": p(1.15, "morpho-org/morpho-blue src/libraries/ConstantsLib.sol: MAX_LIQUIDATION_INCENTIVE_FACTOR = 1.15e18"),
				"oracle_market_price":       p(0, "the market's MorphoChainlinkOracleV2 converts wstETH with the wstETH contract's stEthPerToken (an exchange-rate oracle), stETH taken at 1 ETH"),
				"flash_loan_fee":            p(0, "Morpho.flashLoan charges no fee (morpho-org/morpho-blue src/Morpho.sol)"),
				"borrow_cap":                p(0, "Morpho Blue markets have no borrow cap: Morpho.borrow checks only the position's health (_isHealthy) and the market's liquidity (totalBorrowAssets <= totalSupplyAssets) (morpho-org/morpho-blue src/Morpho.sol, borrow); a loop's size is bounded by the market's supply instead"),
				"reserve_factor":            p(0, "Morpho Blue market fee: off unless governance turns it on (Morpho.setFee)"),
				"slash_risk":                p(0.001, "isolated markets: oracle and liquidation risk, order of magnitude"),
				"unwind_swap_cost":          p(0.0001, uniWstETHNote),
				"gas_deposit":               p(120000, gasNote+" (Morpho.supplyCollateral)"),
				"gas_withdraw":              p(120000, gasNote+" (Morpho.withdrawCollateral)"),
				"gas_borrow":                p(150000, gasNote+" (Morpho.borrow)"),
				"gas_repay":                 p(120000, gasNote+" (Morpho.repay)"),
				"gas_mint":                  p(180000, gasNote+" (Lido submit, then wstETH.wrap)"),
				"gas_flash":                 p(700000, "order of magnitude: one transaction of Morpho.flashLoan with a supply, a borrow and a mint (the step calls summed, less the per-transaction overhead)"),
			}, lidoQueueParams()))},
		{Name: "spark", Display: "Spark (SparkLend)", Kind: Lending, Tags: []string{"oracle:chainlink"},
			RewardTokens: []string{"SPK"}, Source: "https://docs.spark.fi",
			Params: map[string]Param{
				"irm_base":       p(0, "SparkLend WETH: base rate 0% (Aave v3 fork; not verified against on-chain state: no Spark history in shared/data)"),
				"irm_slope1":     p(0.028, "SparkLend WETH: slope 1 near 2.8%, set near the stETH yield (not verified against on-chain state)"),
				"irm_slope2":     p(1.2, "SparkLend WETH: steep slope 2, order of magnitude (not verified against on-chain state)"),
				"irm_optimal":    p(0.90, "SparkLend WETH: optimal utilization 90% (not verified against on-chain state)"),
				"reserve_factor": p(0.05, "SparkLend WETH reserve factor 5% (not verified against on-chain state)"),
				"slash_risk":     p(0.0005, "Aave v3 fork: bad-debt and oracle risk"),
				"gas_deposit":    p(180000, gasNote),
				"gas_withdraw":   p(200000, gasNote),
			}},
		{Name: "kamino", Display: "Kamino Lend (Solana)", Kind: Lending, Tags: []string{"chain:solana", "oracle:pyth"},
			RewardTokens: []string{"KMNO"}, Source: "https://docs.kamino.finance",
			Params: map[string]Param{
				"irm_base":       p(0, "Kamino USDC reserve: 0% at zero utilization (order of magnitude; no Kamino history in shared/data)"),
				"irm_slope1":     p(0.08, "Kamino USDC reserve: about 8% at the kink (order of magnitude)"),
				"irm_slope2":     p(0.9, "Kamino USDC reserve: steep above the kink (order of magnitude)"),
				"irm_optimal":    p(0.85, "Kamino USDC reserve: kink near 85% utilization (order of magnitude)"),
				"reserve_factor": p(0.10, "Kamino protocol take rate, about 10%"),
				"slash_risk":     p(0.001, "Solana lending: oracle and bad-debt risk"),
				"reward_haircut": p(0.5, "KMNO farm rewards: a volatile token paid on a stablecoin deposit, sold on thin Solana markets after a bridge; valued at half, as the project values other incentive tokens (no KMNO depth in shared/data)"),
				"bridge_days":    p(19.0/(24*60), "Circle CCTP standard transfer Ethereum -> Solana: attestation after ~65 blocks, 13 to 19 minutes (developers.circle.com/cctp/v1/required-block-confirmations); the way back waits ~25 s (32 Solana blocks)"),
				"gas_deposit":    p(150000, gasNote+" (CCTP TokenMessenger.depositForBurn on Ethereum; the Solana side costs lamports)"),
				"gas_withdraw":   p(150000, gasNote+" (CCTP MessageTransmitter.receiveMessage on Ethereum; the Solana side costs lamports)"),
			}},

		// AMM pools.
		{Name: "curve", Display: "Curve (stableswap pools)", Kind: AMM, PoolType: PoolStableswap,
			RewardTokens: []string{"CRV"}, Source: "https://docs.curve.fi",
			Params: map[string]Param{
				"fee_tier":          p(0.0004, "Curve ETH/stETH pool fee 0.04% (pool parameters)"),
				"amplification":     p(50, "Curve ETH/stETH pool A = 50 in 2022 (pool parameters)"),
				"harvest_swap_cost": p(0.005, "CRV to base swap cost, about 0.5%"),
				"slash_risk":        p(0.0005, "smart-contract risk, order of magnitude"),
				"gas_deposit":       p(200000, gasNote+" (add_liquidity)"),
				"gas_withdraw":      p(200000, gasNote+" (remove_liquidity_one_coin)"),
				"gas_harvest":       p(250000, gasNote+" (gauge claim + swap)"),
			}},
		{Name: "uniswap-v3", Display: "Uniswap v3 (concentrated liquidity)", Kind: AMM, PoolType: PoolConcentrated,
			Source: "https://docs.uniswap.org",
			Params: map[string]Param{
				"fee_tier":     p(0.003, "Uniswap v3 0.3% fee tier"),
				"range_lower":  p(0, "0 means full range (Uniswap v3 MIN_TICK)"),
				"range_upper":  p(0, "0 means full range (Uniswap v3 MAX_TICK)"),
				"slash_risk":   p(0.0003, "smart-contract risk, order of magnitude"),
				"gas_deposit":  p(350000, gasNote+" (NonfungiblePositionManager.mint)"),
				"gas_withdraw": p(250000, gasNote+" (decreaseLiquidity + collect)"),
				"gas_harvest":  p(150000, gasNote+" (collect)"),
			}},
		{Name: "balancer-weighted", Display: "Balancer v2 weighted pools (constant weighted product)", Kind: AMM, PoolType: PoolConstantProduct,
			Source: "https://docs.balancer.fi/concepts/explore-available-balancer-pools/weighted-pool/weighted-pool.html",
			Params: map[string]Param{
				"weight0":      p(0.2, "B-80BAL-20WETH (pool id 0x5c6ee304399dbdb9c8ef030ab642b10820db8f56000200000000000000000014): 20% WETH (coin 0, the base), 80% BAL, as its name and normalized weights say"),
				"fee_tier":     p(0.005, "B-80BAL-20WETH swap fee 0.5% since 2024-09-26, 1% before (balancer/multisig-ops PR #1383, '80BAL20WETH-from-1-to-0.5-Sept26-2024')"),
				"slash_risk":   p(0.001, "smart-contract risk; Balancer v2 exploit of November 2025"),
				"gas_deposit":  p(250000, gasNote+" (joinPool)"),
				"gas_withdraw": p(250000, gasNote+" (exitPool)"),
				"gas_harvest":  p(150000, gasNote),
			}},
		{Name: "balancer", Display: "Balancer (weighted and composable stable pools)", Kind: AMM, PoolType: PoolStableswap,
			RewardTokens: []string{"BAL", "AURA"}, Source: "https://docs.balancer.fi",
			Params: map[string]Param{
				"fee_tier":          p(0.0004, "Balancer rETH/WETH composable stable pool fee 0.04%"),
				"amplification":     p(50, "Balancer rETH/WETH pool amplification 50"),
				"weight0":           p(0.5, "stable pools hold both coins in even value at peg"),
				"harvest_swap_cost": p(0.01, "BAL/AURA to base swap cost, about 1%"),
				"slash_risk":        p(0.001, "smart-contract risk; Balancer v2 exploit of November 2025"),
				"gas_deposit":       p(250000, gasNote+" (joinPool)"),
				"gas_withdraw":      p(250000, gasNote+" (exitPool)"),
				"gas_harvest":       p(300000, gasNote),
			}},
	}
}

// Market tags say what a market is exposed to, so that a scoped slash
// reaches every market it should:
//   - what backs an LRT: Kelp's rsETH holds a basket of ETH, Lido's stETH
//     and Stader's ETHx (Kelp docs: rsETH accepts ETH, stETH and ETHx);
//     Puffer's pufETH vault held stETH (Puffer docs, PufferVault), so both
//     carry protocol:lido;
//   - shared node operators: the LRTs that delegate to EigenLayer's large
//     professional operators (ether.fi, Renzo, Kelp, Swell) share
//     operator:eigenlayer-large. That they share operators is public (the
//     EigenLayer app lists the same large operators behind several LRTs);
//     the split per operator is not sourced here, so one tag stands for
//     the group, an order of magnitude. Each keeps its own operator tag
//     too, for a slash of its own set.
//
// Exposure (Market.ExposureTo) is the share of a market's backing a tag
// names, which a slash scoped to the tag cuts. Only shares true by
// construction are set: a market's own operator-set tag names all of its
// delegations (1), and a market that is one LST restaked (eigenlayer/steth,
// symbiotic/wsteth) is wholly that LST (1). The rest are not sourced here
// and stay unknown (a slash applies fully, with a warning): rsETH's and
// pufETH's basket shares in stETH and ETHx change with deposits and are
// in no file; the share of each LRT's stake delegated to EigenLayer's
// large operators or securing EigenDA is not published per LRT.
func builtinMarkets() []Market {
	own := func(tag, who string) (map[string]float64, map[string]string) {
		return map[string]float64{tag: 1}, map[string]string{tag: "the tag names " + who + "'s own operator set: all of its delegations"}
	}
	weethExp, weethSrc := own("operator:etherfi-nodes", "ether.fi")
	ezethExp, ezethSrc := own("operator:renzo-set", "Renzo")
	pufExp, pufSrc := own("operator:puffer-nodes", "Puffer")
	rsExp, rsSrc := own("operator:kelp-set", "Kelp")
	swExp, swSrc := own("operator:swell-set", "Swell")
	return []Market{
		{ID: "lido/steth", Kind: LST, Base: ETH, Token: "stETH", Name: "Lido staked ETH",
			Params:  map[string]float64{"typical_tvl": 1.9e10},
			Sources: map[string]string{"typical_tvl": "DefiLlama yields pool 747c1d2a-c668-4682-b9f9-296708a3dd90 (Lido stETH), tvlUsd: median $19.0B over 1,261 days 2022-05-03..2025-11-13, range $3.9B-$42.4B (dataset lido-steth-apy-defillama-daily)"}},
		{ID: "lido/wsteth", Kind: LST, Base: ETH, Token: "wstETH", Name: "Lido wrapped staked ETH", Params: map[string]float64{"rebasing": 0},
			Sources: map[string]string{"rebasing": "wstETH is the value-accruing wrapper of stETH: its balance is fixed, its stETH value grows (docs.lido.fi, wstETH)"}},
		{ID: "rocketpool/reth", Kind: LST, Base: ETH, Token: "rETH", Name: "Rocket Pool ETH"},
		{ID: "coinbase/cbeth", Kind: LST, Base: ETH, Token: "cbETH", Name: "Coinbase wrapped staked ETH"},
		{ID: "stakewise/oseth", Kind: LST, Base: ETH, Token: "osETH", Name: "StakeWise staked ETH (osETH)"},
		{ID: "babylon/btc", Kind: LST, Base: BTC, Token: "BTC", Name: "Babylon native BTC staking"},

		{ID: "etherfi/weeth", Kind: LRT, Base: ETH, Token: "weETH", Name: "ether.fi wrapped eETH", Tags: []string{"avs:eigenda", "operator:etherfi-nodes", "operator:eigenlayer-large"},
			Exposure: weethExp, ExposureSources: weethSrc,
			Params:  map[string]float64{"rebasing": 0},
			Sources: map[string]string{"rebasing": "weETH is the non-rebasing wrapper of eETH: its eETH value grows (etherfi.gitbook.io, weETH)"}},
		{ID: "renzo/ezeth", Kind: LRT, Base: ETH, Token: "ezETH", Name: "Renzo restaked ETH", Tags: []string{"avs:eigenda", "operator:renzo-set", "operator:eigenlayer-large"},
			Exposure: ezethExp, ExposureSources: ezethSrc},
		{ID: "puffer/pufeth", Kind: LRT, Base: ETH, Token: "pufETH", Name: "Puffer restaked ETH", Tags: []string{"avs:eigenda", "operator:puffer-nodes", "protocol:lido"},
			Exposure: pufExp, ExposureSources: pufSrc},
		{ID: "kelp/rseth", Kind: LRT, Base: ETH, Token: "rsETH", Name: "Kelp restaked ETH", Tags: []string{"avs:eigenda", "operator:kelp-set", "operator:eigenlayer-large", "protocol:lido", "protocol:stader"},
			Exposure: rsExp, ExposureSources: rsSrc},
		{ID: "swell/rsweth", Kind: LRT, Base: ETH, Token: "rswETH", Name: "Swell restaked ETH", Tags: []string{"avs:eigenda", "operator:swell-set", "operator:eigenlayer-large"},
			Exposure: swExp, ExposureSources: swSrc},
		{ID: "eigenlayer/steth", Kind: LRT, Base: ETH, Token: "stETH", Name: "stETH restaked in EigenLayer", Tags: []string{"avs:eigenda", "protocol:lido"},
			Exposure:        map[string]float64{"protocol:lido": 1},
			ExposureSources: map[string]string{"protocol:lido": "the market is stETH restaked: wholly Lido's stETH"},
			Params:          map[string]float64{"rebasing": 1},
			Sources:         map[string]string{"rebasing": "stETH restaked in EigenLayer is still stETH, which rebases (docs.lido.fi)"}},
		{ID: "symbiotic/wsteth", Kind: LRT, Base: ETH, Token: "wstETH", Name: "wstETH in a Symbiotic vault", Tags: []string{"protocol:lido"},
			Exposure:        map[string]float64{"protocol:lido": 1},
			ExposureSources: map[string]string{"protocol:lido": "the market is a wstETH vault: wholly Lido's stETH"}},
		{ID: "karak/weth", Kind: LRT, Base: ETH, Token: "WETH", Name: "ETH in a Karak vault"},

		{ID: "aave-v3/weth", Kind: Lending, Base: ETH, Token: "aEthWETH", Name: "Aave v3 WETH supply"},
		{ID: "aave-v3/wsteth", Kind: Lending, Base: ETH, Token: "aEthwstETH", Name: "Aave v3 wstETH supply",
			Params: map[string]float64{"irm_base": 0.0025, "irm_slope1": 0.045, "irm_slope2": 0.80, "irm_optimal": 0.45, "reserve_factor": 0.05},
			Sources: map[string]string{
				"irm_base":       aaveWstETHNote + ": base 0.25%",
				"irm_slope1":     aaveWstETHNote + ": slope 1 4.5%",
				"irm_slope2":     "Llama ARFC wETH & wstETH IR curve 2023-01-16 (governance.aave.com/t/11372): slope 2 80% (utilization never reached the kink in the AaveScan file)",
				"irm_optimal":    aaveWstETHNote + ": optimal 45%",
				"reserve_factor": "AaveScan wstETH reserve: 1 - supply / (borrow x utilization) = 0.05 from 2024-08-13 (0.15 before, 0.35 from 2025-08-05)",
			}},
		{ID: "aave-v3/weeth", Kind: Lending, Base: ETH, Token: "aEthweETH", Name: "Aave v3 weETH supply",
			Params: map[string]float64{"irm_slope1": 0.09, "irm_slope2": 0.80, "irm_optimal": 0.45, "reserve_factor": 0.45},
			Sources: map[string]string{
				"irm_slope2":     "not identifiable from the AaveScan weETH file (utilization stayed below 20%, far from the kink): assumed 80%, the WETH and wstETH reserves' slope 2 of the time (governance.aave.com/t/11372)",
				"irm_slope1":     "AaveScan weETH reserve 2024-05..2024-08: borrow rate / utilization = 0.200 (base 0), so 9% at a 45% optimal; base rose to 1% from 2024-09",
				"irm_optimal":    "Aave v3 weETH listing: optimal 45% (not identifiable from the AaveScan file: utilization stayed below 20%)",
				"reserve_factor": "AaveScan weETH reserve: 1 - supply / (borrow x utilization) = 0.45 throughout 2024-05..2025-09",
			}},
		{ID: "aave-v3/usdc", Kind: Lending, Base: USD, Token: "aEthUSDC", Name: "Aave v3 USDC supply",
			Params: map[string]float64{"irm_slope1": 0.065, "irm_slope2": 0.60, "irm_optimal": 0.92, "reserve_factor": 0.10},
			Sources: map[string]string{
				"irm_slope1":     "Messari Aave v3 USDC file (shared/data aave-v3-usdc-messari-daily): borrow / utilization 0.058-0.069 below the kink 2024-09..2025-10; slope 1 moved with governance (up to 15% in 2024-03)",
				"irm_slope2":     "as Aave v3 USDT (same stablecoin strategy): slope 2 of 0.61 at 2024-11-11 in the AaveScan USDT file",
				"irm_optimal":    "as Aave v3 USDT: kink at 92% in the AaveScan USDT file",
				"reserve_factor": "Messari Aave v3 USDC file: 1 - supply / (borrow x utilization) = 0.09-0.10 throughout",
			}},
		{ID: "aave-v3/usdt", Kind: Lending, Base: USD, Token: "aEthUSDT", Name: "Aave v3 USDT supply",
			Params: map[string]float64{"irm_slope1": 0.065, "irm_slope2": 0.60, "irm_optimal": 0.92, "reserve_factor": 0.10},
			Sources: map[string]string{
				"irm_slope1":     aaveUSDTNote + ": borrow / utilization = 0.0707 below the kink (2024-08-13, 2025-03-26, 2025-09-22), 6.5% at 92%; 5.5% and 9% at other times",
				"irm_slope2":     aaveUSDTNote + ": 2024-11-11 at u 0.926 borrows at 11.07%, a slope of 0.61 above the kink",
				"irm_optimal":    aaveUSDTNote + ": the rate leaves the 6.5% line above 92%",
				"reserve_factor": aaveUSDTNote + ": 1 - supply / (borrow x utilization) = 0.10 throughout 2024-01..2025-09",
			}},
		{ID: "aave-v3/wbtc", Kind: Lending, Base: BTC, Token: "aEthWBTC", Name: "Aave v3 WBTC supply",
			Params: map[string]float64{"irm_slope1": 0.04, "irm_slope2": 3.0, "irm_optimal": 0.80, "reserve_factor": 0.20},
			Sources: map[string]string{
				"irm_slope1":     "Aave v3 WBTC reserve strategy, order of magnitude (not verified: no WBTC reserve history in shared/data)",
				"irm_slope2":     "Aave v3 WBTC reserve strategy, order of magnitude (not verified)",
				"irm_optimal":    "Aave v3 WBTC reserve strategy, order of magnitude (not verified)",
				"reserve_factor": "Aave v3 WBTC reserve factor, order of magnitude (not verified)",
			}},
		{ID: "compound-v3/usdc", Kind: Lending, Base: USD, Token: "cUSDCv3", Name: "Compound v3 USDC"},
		{ID: "compound-v3/weth", Kind: Lending, Base: ETH, Token: "cWETHv3", Name: "Compound v3 WETH",
			Params: map[string]float64{
				"comet_supply_base": 0, "comet_supply_slope_low": 0.0283824, "comet_supply_slope_high": 0.6066567706, "comet_supply_kink": 0.9,
				"comet_borrow_base": 0.009945209674, "comet_borrow_slope_low": 0.05171500002, "comet_borrow_slope_high": 0.5171500339, "comet_borrow_kink": 0.9,
			},
			Sources: map[string]string{
				"comet_supply_base": cometWETHNote + " rates.supplyBase", "comet_supply_slope_low": cometWETHNote + " rates.supplySlopeLow",
				"comet_supply_slope_high": cometWETHNote + " rates.supplySlopeHigh", "comet_supply_kink": cometWETHNote + " rates.supplyKink",
				"comet_borrow_base": cometWETHNote + " rates.borrowBase", "comet_borrow_slope_low": cometWETHNote + " rates.borrowSlopeLow",
				"comet_borrow_slope_high": cometWETHNote + " rates.borrowSlopeHigh", "comet_borrow_kink": cometWETHNote + " rates.borrowKink",
			}},
		{ID: "morpho/usdc", Kind: Lending, Base: USD, Token: "USDC vault", Name: "MetaMorpho USDC vault"},
		{ID: "morpho/weth", Kind: Lending, Base: ETH, Token: "WETH vault", Name: "MetaMorpho WETH vault"},
		{ID: "morpho/wbtc", Kind: Lending, Base: BTC, Token: "WBTC vault", Name: "MetaMorpho WBTC vault"},
		{ID: "spark/weth", Kind: Lending, Base: ETH, Token: "spWETH", Name: "SparkLend WETH supply"},
		{ID: "spark/usdc", Kind: Lending, Base: USD, Token: "spUSDC", Name: "SparkLend USDC supply",
			Params: map[string]float64{"irm_slope1": 0.06, "irm_slope2": 0.5},
			Sources: map[string]string{
				"irm_slope1": "SparkLend USDC: order of magnitude (not verified: Spark's USDC rate follows the Sky savings rate; no Spark history in shared/data)",
				"irm_slope2": "SparkLend USDC: order of magnitude (not verified)",
			}},
		{ID: "kamino/usdc", Kind: Lending, Base: USD, Token: "kUSDC", Name: "Kamino USDC supply"},
		{ID: "aave-v3/wsteth-loop", Kind: Lending, Base: ETH, Protocol: "aave-v3-emode-wsteth", Token: "aEthwstETH + variableDebtEthWETH",
			Name: "Aave v3 wstETH/WETH loop (e-mode)", Tags: []string{"protocol:lido"},
			Legs:            &Legs{Collateral: "aave-v3/wsteth", Debt: "aave-v3/weth", Token: "lido/wsteth"},
			Exposure:        map[string]float64{"protocol:lido": 1},
			ExposureSources: map[string]string{"protocol:lido": "the collateral is wholly wstETH"}},
		{ID: "aave-v3/weeth-loop", Kind: Lending, Base: ETH, Protocol: "aave-v3-emode-weeth", Token: "aEthweETH + variableDebtEthWETH",
			Name: "Aave v3 weETH/WETH loop (e-mode)", Tags: []string{"protocol:etherfi", "layer:eigenlayer"},
			Legs:            &Legs{Collateral: "aave-v3/weeth", Debt: "aave-v3/weth", Token: "etherfi/weeth"},
			Exposure:        map[string]float64{"protocol:etherfi": 1, "layer:eigenlayer": 1},
			ExposureSources: map[string]string{"protocol:etherfi": "the collateral is wholly weETH", "layer:eigenlayer": "ether.fi restakes its ETH through EigenLayer"}},
		{ID: "morpho/wsteth-weth-loop", Kind: Lending, Base: ETH, Protocol: "morpho-blue-wsteth-weth", Token: "wstETH collateral + WETH debt",
			Name: "Morpho Blue wstETH/WETH 94.5% loop", Tags: []string{"protocol:lido"},
			Legs:            &Legs{Collateral: "lido/wsteth", Debt: "morpho/weth"},
			Exposure:        map[string]float64{"protocol:lido": 1},
			ExposureSources: map[string]string{"protocol:lido": "the collateral is wholly wstETH"}},

		{ID: "curve/steth-eth", Kind: AMM, Base: ETH, Token: "steCRV", Name: "Curve ETH/stETH pool", Tags: []string{"protocol:lido"}},
		{ID: "curve/3pool", Kind: AMM, Base: USD, Token: "3CRV", Name: "Curve DAI/USDC/USDT 3pool",
			Params: map[string]float64{"amplification": 2000, "fee_tier": 0.0001},
			Sources: map[string]string{
				"amplification": "Curve 3pool (0xbEbc44782C7dB0a1A60Cb6fe97d0b483032FF1C7) A() = 2000 after its ramps (100 -> 200 by CIP#25, gov.curve.fi/t/940, then 2000); not verified against chain state here",
				"fee_tier":      "Curve 3pool fee() = 1000000 / 1e10 = 0.01% (pool parameters); not verified against chain state here",
			}},
		{ID: "uniswap-v3/weth-usdt", Kind: AMM, Base: ETH, Token: "UNI-V3-POS", Name: "Uniswap v3 WETH/USDT 0.3% (full range)",
			Params: map[string]float64{"price_inverted": 1, "typical_volume": 4850},
			Sources: map[string]string{
				"price_inverted": "the GeckoTerminal WETH/USDT file and the synthetic generator quote USDT per WETH",
				"typical_volume": uniVolumeSource,
			}},
		{ID: "uniswap-v3/weth-usdt-range", Kind: AMM, Base: ETH, Token: "UNI-V3-POS", Name: "Uniswap v3 WETH/USDT 0.3% (range 0.8x-1.25x)",
			Params: map[string]float64{"range_lower": 0.8, "range_upper": 1.25, "price_inverted": 1, "typical_volume": 4850},
			Sources: map[string]string{
				"typical_volume": uniVolumeSource,
				"range_lower":    "the example range position's choice: 0.8x the entry price (not a protocol parameter)",
				"range_upper":    "the example range position's choice: 1.25x the entry price (not a protocol parameter)",
				"price_inverted": "the GeckoTerminal WETH/USDT file and the synthetic generator quote USDT per WETH",
			}},
		{ID: "balancer/reth-weth", Kind: AMM, Base: ETH, Token: "B-rETH-STABLE", Name: "Balancer rETH/WETH stable pool", Tags: []string{"protocol:rocketpool"}},
		{ID: "balancer-weighted/80bal-20weth", Kind: AMM, Base: ETH, Token: "B-80BAL-20WETH", Name: "Balancer 80/20 BAL/WETH weighted pool (the veBAL pool)", Tags: []string{"protocol:balancer"}},
	}
}

// uniVolumeSource is where the typical volume of the Uniswap v3 WETH/USDT
// 0.3% pool comes from.
const uniVolumeSource = "GeckoTerminal OHLCV of pool 0x4e68ccd3e89f51c3074ca5072bbac773960dfa36 (Uniswap v3 WETH/USDT 0.3%): median hourly volume x 24 / close = 4,845 ETH a day over 15,259 hours 2024-01..2025-09, 1st-99th percentile 5-92,670 (dataset uniswap-v3-weth-usdt-hourly-geckoterminal)"
