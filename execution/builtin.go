package execution

import (
	"github.com/ethereum/go-ethereum/common"
)

// Sources of the built-in addresses, each named once. Every address is
// written in its EIP-55 checksummed form and parsed with ParseAddress,
// so a typo in a character's case fails the package's tests at once.
const (
	srcAaveBook   = "bgd-labs/aave-address-book, AaveV3Ethereum (npm @bgd-labs/aave-address-book 4.44.22): POOL and ASSETS.<symbol>.UNDERLYING / A_TOKEN"
	srcSpark      = "SparkLend Pool, sparkdotfi spark-address-registry src/Ethereum.sol (SPARK_POOL); docs.spark.fi deployed contracts"
	srcComet      = "compound-finance/comet deployments/mainnet/<usdc|weth>/roots.json (comet); the shared Messari cUSDCv3 file names the same market id"
	srcLido       = "docs.lido.fi/deployed-contracts (Ethereum mainnet: Lido stETH, wstETH, WithdrawalQueueERC721)"
	srcCurve      = "Curve stETH/ETH pool, shared/data curve-steth-pool-snapshots-2022 PROVENANCE.md; LP token from curvefi/curve-contract contracts/pools/steth/pooldata.json"
	src3pool      = "Curve 3pool, shared/data curve-3pool-balances-messari-daily PROVENANCE.md; LP token 3CRV from curvefi/curve-contract contracts/pools/3pool/pooldata.json"
	srcUniswap    = "docs.uniswap.org/contracts/v3/reference/deployments (Ethereum: NonfungiblePositionManager); the pool from shared/data uniswap-v3-weth-usdt-hourly-geckoterminal PROVENANCE.md"
	srcRocket     = "docs.rocketpool.net, contracts and integrations (rETH token; rocketDepositPool as registered in RocketStorage 0x1d8f8f00cfa6758d7bE78336684788Fb0ee0Fa46 since Houston)"
	srcEtherFi    = "ether.fi docs, deployed contracts (LiquidityPool, eETH, weETH), the same in etherfi-protocol/smart-contracts script/deploys/Deployed.s.sol (commit 15ff96d4: LIQUIDITY_POOL, EETH, WEETH); weETH also in the Aave address book"
	srcCurveWeETH = "Curve weETH/WETH stableswap-ng pool (factory-stable-ng-157): sparkdotfi spark-address-registry src/Ethereum.sol CURVE_WEETHWETHNG; coin 0 WETH, coin 1 weETH as notional-finance/notional-exponent tests/TestSingleSidedLPStrategyImpl.sol (Test_LP_Convex_weETH_WETH: primaryIndex 0 = WETH, stakeTokenIndex 1) use it; the market price of weETH in shared/data lst-lrt-market-vs-aave-oracle-hourly is a Curve weETH/WETH pool's (PROVENANCE.md)"
	srcRenzo      = "docs.renzoprotocol.com/docs/contracts/ethereum (RestakeManager, ezETH)"
	srcKelp       = "Kelp DAO docs, contracts (LRTDepositPool, rsETH)"
	srcPuffer     = "PufferFinance Deployments-and-ACL docs/deployments (mainnet PufferVault = pufETH)"
	srcSwell      = "rswETH (the token is its own deposit contract): Swell's interface and implementation SwellNetwork/v3-core-public contracts/lrt (IrswETH.sol, RswETH.sol, commit ba1eeff, which publishes no addresses); the proxy address from Swell's GitHub organisation, SwellNetwork/paraswap-dex-lib src/dex/swell/config.ts (commit 8de1c556, SwellConfig.Swell[MAINNET].rswETH) and the same in Karak's own vault list karak-network/v1-contracts-public script/VaultData/ethereum_mainnet_data.json (commit e731d4e, rswETH); integrators publish the same (roycoprotocol/royco-sdk token map, Ion-Protocol's RswETHAdapter RSWETH_TOKEN)"
	srcEigen      = "Layr-Labs/eigenlayer-contracts README, mainnet deployments (StrategyManager, DelegationManager, stETH StrategyBaseTVLLimits)"
	srcTokenWETH  = "WETH9, etherscan token page; also ASSETS.WETH.UNDERLYING of the Aave address book"
	srcMorpho     = "morpho-org/sdks packages/blue-sdk/src/addresses.ts (commit 0205e12a), ChainId.EthMainnet: morpho, adaptiveCurveIrm; docs.morpho.org addresses"
	// srcMorphoWstETH is the wstETH/WETH 94.5% market the profile
	// morpho-blue-wsteth-weth models, the first one (created at block
	// 18919623, 2024-01-03, the market DefiLlama's Morpho Blue adapter
	// whitelists). A second 94.5% wstETH/WETH market exists with another
	// oracle (0xbD60A6770b27E084E8617335ddE769241B0e71D8, id 0xd0e50c...),
	// and a 96.5% one (id 0xb8fc70...); they are not this market.
	srcMorphoWstETH = "morpho-org/sdks packages/morpho-test/src/fixtures/markets.ts (commit 19315e40), EthMainnet eth_wstEth: loanToken wNative, collateralToken wstEth, oracle 0x2a01EB9496094dA03c4E364Def50f5aD1280AD72, irm adaptiveCurveIrm, lltv 94.5%; its id in DefiLlama/DefiLlama-Adapters projects/morpho-blue/addresses.js (wethWstethChainlinkAdaptiveCurveIRM945)"
)

// morphoWstETHWETHID is the Id of the Morpho Blue market of
// morpho/wsteth-weth-loop (srcMorphoWstETH), which TestBuiltin_MorphoMarketID
// recomputes from its MarketParams.
const morphoWstETHWETHID = "0xc54d7acf14de29e0e5527cabd7a576506870346a78a11a6762e2cca66322ec41"

// mustAddr parses a built-in address. A malformed one is a programming
// error that every test of the package reports.
func mustAddr(s string) common.Address {
	a, err := ParseAddress(s)
	if err != nil {
		panic("execution: built-in " + err.Error())
	}
	return a
}

func ct(name, addr, src string) Contract {
	return Contract{Name: name, Address: mustAddr(addr), Source: src}
}

func tok(sym, addr string, decimals int, src string) Token {
	return Token{Contract: ct(sym, addr, src), Symbol: sym, Decimals: decimals}
}

// ethToken stands for native ether (a Curve pool's coin 0, a value sent
// with a call): the zero address.
var ethToken = Token{Contract: Contract{Name: "ETH", Source: "native ether"}, Symbol: "ETH", Decimals: 18}

var (
	tWETH   = tok("WETH", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18, srcTokenWETH)
	tUSDC   = tok("USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6, srcAaveBook)
	tUSDT   = tok("USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", 6, srcAaveBook)
	tWBTC   = tok("WBTC", "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", 8, srcAaveBook)
	tDAI    = tok("DAI", "0x6B175474E89094C44Da98b954EedeAC495271d0F", 18, src3pool+" (coin 0)")
	tStETH  = tok("stETH", "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84", 18, srcLido)
	tWstETH = tok("wstETH", "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0", 18, srcLido+"; ASSETS.wstETH.UNDERLYING of the Aave address book")
	tWeETH  = tok("weETH", "0xCd5fE23C85820F7B72D0926FC9b05b43E359b7ee", 18, srcEtherFi)
	tEETH   = tok("eETH", "0x35fA164735182de50811E8e2E824cFb9B6118ac2", 18, srcEtherFi)

	cAavePool   = ct("Aave v3 Pool", "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", srcAaveBook)
	cSparkPool  = ct("SparkLend Pool", "0xC13e21B648A5Ee794902342038FF3aDAB66BE987", srcSpark)
	cLidoQueue  = ct("Lido WithdrawalQueueERC721", "0x889edC2eDab5f40e902b864aD4d7AdE8E412F9B1", srcLido)
	cCurveStETH = ct("Curve stETH/ETH pool", "0xDC24316b9AE028F1497c275EB9192a3Ea0f67022", srcCurve)
	cMorphoBlue = ct("Morpho Blue", "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb", srcMorpho)
	cCurveWeETH = ct("Curve weETH/WETH pool", "0xDB74dfDD3BB46bE8Ce6C33dC9D82777BCFc3dEd5", srcCurveWeETH)
	cEtherFiLP  = ct("ether.fi LiquidityPool", "0x308861A430be4cce5502d0A12724771Fc6DaF216", srcEtherFi)
)

// builtinDeployments are the deployments of the built-in markets on
// Ethereum mainnet.
func builtinDeployments() []Deployment {
	aave := func(market string, asset Token, aToken string) Deployment {
		return Deployment{Market: market, Protocol: AaveV3, Asset: asset,
			Position:  &Token{Contract: ct("a"+asset.Symbol, aToken, srcAaveBook), Symbol: "aEth" + asset.Symbol, Decimals: asset.Decimals},
			Contracts: map[string]Contract{"pool": cAavePool}}
	}
	lido := func(market string, wrapped bool) Deployment {
		d := Deployment{Market: market, Protocol: Lido, Asset: tWETH, Position: &tStETH, Wrapped: wrapped,
			Coins: []Token{ethToken, tStETH},
			Contracts: map[string]Contract{
				"lido":  tStETH.Contract,
				"queue": cLidoQueue,
				"weth":  tWETH.Contract,
				"curve": cCurveStETH, // the instant-exit venue
			}}
		if wrapped {
			p := tWstETH
			d.Position = &p
			d.Contracts["wsteth"] = tWstETH.Contract
		}
		return d
	}
	return []Deployment{
		// The wstETH loop: collateral wstETH and debt WETH in the same
		// Pool (the aTokens' and debt tokens' addresses are read from the
		// Pool's getReserveData by reconciliation); wstETH minted through
		// Lido and sold on the Curve stETH/ETH pool.
		{Market: "aave-v3/wsteth-loop", Protocol: AaveV3Loop, Asset: tWETH, Position: &tWstETH, Coins: []Token{ethToken, tStETH},
			Contracts: map[string]Contract{
				"pool":   cAavePool,
				"weth":   tWETH.Contract,
				"lido":   tStETH.Contract,
				"wsteth": tWstETH.Contract,
				"curve":  cCurveStETH,
				"queue":  cLidoQueue, // a queued unwind's rounds
			}},
		// The Morpho Blue wstETH loop: the same calls around the venue
		// (stake, wrap, unwrap, the Curve sale), supplyCollateral,
		// borrow, repay and withdrawCollateral on the market named by
		// its MarketParams.
		{Market: "morpho/wsteth-weth-loop", Protocol: MorphoBlueLoop, Asset: tWETH, Position: &tWstETH, Coins: []Token{ethToken, tStETH},
			Contracts: map[string]Contract{
				"morpho": cMorphoBlue,
				"weth":   tWETH.Contract,
				"lido":   tStETH.Contract,
				"wsteth": tWstETH.Contract,
				"curve":  cCurveStETH,
				"queue":  cLidoQueue,
			},
			MorphoMarket: &MorphoMarketParams{LoanToken: tWETH.Address, CollateralToken: tWstETH.Address,
				Oracle: mustAddr("0x2a01EB9496094dA03c4E364Def50f5aD1280AD72"), IRM: mustAddr("0x870aC11D48B15DB9a138Cf899d20F13F79Ba00BC"),
				LLTV: "945000000000000000", Source: srcMorphoWstETH}},
		// The weETH loop: collateral weETH (minted by ether.fi's
		// LiquidityPool.deposit and weETH.wrap) and debt WETH in the same
		// Pool, in e-mode category 7 (weETH/ETH, the profile's emode); the
		// exit sells weETH for WETH on the Curve weETH/WETH pool, the
		// venue the ether.fi profile names (curve/weeth-weth).
		{Market: "aave-v3/weeth-loop", Protocol: AaveV3LoopWeETH, Asset: tWETH, Position: &tWeETH, Coins: []Token{tWETH, tWeETH},
			Contracts: map[string]Contract{
				"pool":           cAavePool,
				"weth":           tWETH.Contract,
				"liquidity_pool": cEtherFiLP,
				"eeth":           tEETH.Contract,
				"weeth":          tWeETH.Contract,
				"curve":          cCurveWeETH,
			}},
		aave("aave-v3/weth", tWETH, "0x4d5F47FA6A74757f35C14fD3a6Ef8E3C9BC514E8"),
		aave("aave-v3/wsteth", tWstETH, "0x0B925eD163218f6662a35e0f0371Ac234f9E9371"),
		aave("aave-v3/weeth", tWeETH, "0xBdfa7b7893081B35Fb54027489e2Bc7A38275129"),
		aave("aave-v3/usdc", tUSDC, "0x98C23E9d8f34FEFb1B7BD6a91B7FF122F4e16F5c"),
		aave("aave-v3/usdt", tUSDT, "0x23878914EFE38d27C4D67Ab83ed1b93A74D4086a"),
		aave("aave-v3/wbtc", tWBTC, "0x5Ee5bf7ae06D1Be5997A1A72006FE6C607eC6DE8"),
		// SparkLend's spTokens are not in the table: the calls need only
		// the Pool and the underlying.
		{Market: "spark/weth", Protocol: AaveV3, Asset: tWETH, Contracts: map[string]Contract{"pool": cSparkPool}},
		{Market: "spark/usdc", Protocol: AaveV3, Asset: tUSDC, Contracts: map[string]Contract{"pool": cSparkPool}},
		{Market: "compound-v3/usdc", Protocol: CompoundV3, Asset: tUSDC,
			Contracts: map[string]Contract{"comet": ct("Compound v3 cUSDCv3", "0xc3d688B66703497DAA19211EEdff47f25384cdc3", srcComet)}},
		{Market: "compound-v3/weth", Protocol: CompoundV3, Asset: tWETH,
			Contracts: map[string]Contract{"comet": ct("Compound v3 cWETHv3", "0xA17581A9E3356d9A858b789D68B4d866e593aE94", srcComet)}},
		lido("lido/steth", false),
		lido("lido/wsteth", true),
		{Market: "rocketpool/reth", Protocol: RocketPool, Asset: tWETH,
			Position: &Token{Contract: ct("rETH", "0xae78736Cd615f374D3085123A210448E74Fc6393", srcRocket), Symbol: "rETH", Decimals: 18},
			Contracts: map[string]Contract{
				"deposit_pool": ct("Rocket Pool RocketDepositPool", "0xDD3f50F8A6CafbE9b31a427582963f465E745AF8", srcRocket),
				"reth":         ct("rETH", "0xae78736Cd615f374D3085123A210448E74Fc6393", srcRocket),
				"weth":         tWETH.Contract,
			}},
		{Market: "etherfi/weeth", Protocol: EtherFi, Asset: tWETH, Position: &tWeETH,
			Contracts: map[string]Contract{
				"liquidity_pool": cEtherFiLP,
				"eeth":           tEETH.Contract,
				"weeth":          tWeETH.Contract,
				"weth":           tWETH.Contract,
			}},
		{Market: "renzo/ezeth", Protocol: Renzo, Asset: tWETH,
			Position: &Token{Contract: ct("ezETH", "0xbf5495Efe5DB9ce00f80364C8B423567e58d2110", srcRenzo), Symbol: "ezETH", Decimals: 18},
			Contracts: map[string]Contract{
				"restake_manager": ct("Renzo RestakeManager", "0x74a09653A083691711cF8215a6ab074BB4e99ef5", srcRenzo),
				"weth":            tWETH.Contract,
			}},
		{Market: "kelp/rseth", Protocol: Kelp, Asset: tWETH,
			Position: &Token{Contract: ct("rsETH", "0xA1290d69c65A6Fe4DF752f95823fae25cB99e5A7", srcKelp), Symbol: "rsETH", Decimals: 18},
			Contracts: map[string]Contract{
				"deposit_pool": ct("Kelp LRTDepositPool", "0x036676389e48133B63a802f8635AD39E752D375D", srcKelp),
				"weth":         tWETH.Contract,
			}},
		{Market: "puffer/pufeth", Protocol: Puffer, Asset: tWETH,
			Position: &Token{Contract: ct("pufETH", "0xD9A442856C234a39a81a089C06451EBAa4306a72", srcPuffer), Symbol: "pufETH", Decimals: 18},
			Contracts: map[string]Contract{
				"vault": ct("PufferVault (pufETH)", "0xD9A442856C234a39a81a089C06451EBAa4306a72", srcPuffer),
				"weth":  tWETH.Contract,
			}},
		// rswETH's deposit() mints to the sender at rswETHToETHRate; it
		// reverts while Swell's whitelist is on for an unlisted sender,
		// which the simulation before sending catches.
		{Market: "swell/rsweth", Protocol: Swell, Asset: tWETH,
			Position: &Token{Contract: ct("rswETH", "0xFAe103DC9cf190eD75350761e95403b7b8aFa6c0", srcSwell), Symbol: "rswETH", Decimals: 18},
			Contracts: map[string]Contract{
				"rsweth": ct("rswETH", "0xFAe103DC9cf190eD75350761e95403b7b8aFa6c0", srcSwell),
				"weth":   tWETH.Contract,
			}},
		{Market: "eigenlayer/steth", Protocol: EigenLayer, Asset: tStETH,
			Contracts: map[string]Contract{
				"strategy_manager":   ct("EigenLayer StrategyManager", "0x858646372CC42E1A627fcE94aa7A7033e7CF075A", srcEigen),
				"delegation_manager": ct("EigenLayer DelegationManager", "0x39053D51B77DC0d36036Fc1fCc8Cb819df8Ef37A", srcEigen),
				"strategy":           ct("EigenLayer stETH strategy", "0x93c4b944D05dfe6df7645A86cd2206016c51564D", srcEigen),
			}},
		{Market: "curve/steth-eth", Protocol: Curve, Asset: tWETH,
			Position:  &Token{Contract: ct("steCRV", "0x06325440D014e39736583c165C2963BA99fAf14E", srcCurve), Symbol: "steCRV", Decimals: 18},
			Coins:     []Token{ethToken, tStETH},
			Contracts: map[string]Contract{"pool": cCurveStETH, "weth": tWETH.Contract}},
		{Market: "curve/3pool", Protocol: Curve, Asset: tUSDC,
			Position:  &Token{Contract: ct("3CRV", "0x6c3F90f043a72FA612cbac8115EE7e52BDe6E490", src3pool), Symbol: "3CRV", Decimals: 18},
			Coins:     []Token{tDAI, tUSDC, tUSDT},
			Contracts: map[string]Contract{"pool": ct("Curve 3pool", "0xbEbc44782C7dB0a1A60Cb6fe97d0b483032FF1C7", src3pool)}},
		uniswap("uniswap-v3/weth-usdt"),
		uniswap("uniswap-v3/weth-usdt-range"),
	}
}

func uniswap(market string) Deployment {
	return Deployment{Market: market, Protocol: UniswapV3, Asset: tWETH, FeeTier: 3000,
		Coins: []Token{tWETH, tUSDT}, // token0 < token1 by address, as the pool orders them
		Contracts: map[string]Contract{
			"npm":  ct("Uniswap v3 NonfungiblePositionManager", "0xC36442b4a4522E871399CD717aBDD847Ab11FE88", srcUniswap),
			"pool": ct("Uniswap v3 WETH/USDT 0.3% pool", "0x4e68Ccd3E89f51C3074ca5072bbAC773960dFa36", srcUniswap),
		}}
}

// karakWhy is why karak/weth has no deployment. Karak v1's calls are
// known (karak-network/v1-contracts-public, commit e731d4e,
// src/VaultSupervisor.sol: deposit(vault, amount, minSharesOut),
// gimmieShares(vault, shares); DelegationSupervisor.sol: startWithdraw
// and finishWithdraw after the withdrawal delay), but the market cannot
// be tied to a contract from Karak's own material: the repository's
// Ethereum vault list has no WETH or ETH vault, and neither it nor
// Karak's other public repositories (karak-rs 9ec74ae, v2-contracts
// 3b3b78f, karak-onchain-sdk f069adc) publish a deployed address.
const karakWhy = "Karak's own published material names no Ethereum vault for ETH or WETH: karak-network/v1-contracts-public (commit e731d4e) lists the Ethereum vaults its deploy script creates in script/VaultData/ethereum_mainnet_data.json (USDT, wstETH, stETH, cbETH, wBETH, rswETH, weETH, ezETH: no WETH) and publishes no deployed address (script/deploy.sol deploys the VaultSupervisor and logs it), nor do karak-network/karak-onchain-sdk, karak-rs or v2-contracts; so neither the VaultSupervisor nor a vault for this market is sourced and no VaultSupervisor.deposit, gimmieShares, startWithdraw or finishWithdraw is encoded. No announcement that Karak's Ethereum vaults stopped taking deposits was found either; add the vault of your choice (its asset and the VaultSupervisor with their sources) when one is published"

// swellExitSource is where swell/rsweth's exit contract (rswEXIT) comes
// from: Swell publishes no address for it off chain (v3-core-public:
// interfaces and implementations only; swell-chain-docs
// contract-addresses.mdx over its history: the Swellchain L2's rswETH and
// the L1 bridge only; the SwellNetwork paraswap-dex-lib fork: rswETH
// only; SwellNetwork/subgraph: swNFT only), but its own contracts name it
// on chain: the sourced rswETH's AccessControlManager() and that
// manager's rswEXIT() (SwellNetwork/v3-core-public commit ba1eeff,
// Whitelist.sol and IAccessControlManager.sol). ReadChainContracts reads
// it at start; the address integrators use (Ion-Protocol's RswETHAdapter
// RSWEXIT, Veda's boring-vault addresses) is not Swell's and is not used.
const swellExitSource = "read from rswETH.AccessControlManager().rswEXIT() at start (SwellNetwork/v3-core-public ba1eeff, Whitelist.sol and IAccessControlManager.sol)"

// swellExitWhy is why rswETH's exit is refused where no node is
// configured: the exit contract's address is read from the chain.
const swellExitWhy = "rswETH's exit is Swell's withdrawal queue rswEXIT (createWithdrawRequest, then finalizeWithdrawal on the request NFT once processed, SwellNetwork/v3-core-public IrswEXIT.sol), whose address Swell's own material searched names only on chain: it is read at start from rswETH.AccessControlManager().rswEXIT(), and no rpc is set (execution.rpc), so no exit is encoded: set rpc, sell rswETH by hand or hold it"

// etherfiNFTSource is where ether.fi's WithdrawRequestNFT comes from:
// the sourced LiquidityPool's public immutable withdrawRequestNFT
// (etherfi-protocol/smart-contracts commit b4a0968,
// src/core/LiquidityPool.sol), read by ReadChainContracts.
const etherfiNFTSource = "read from LiquidityPool.withdrawRequestNFT() at start (etherfi-protocol/smart-contracts b4a0968, src/core/LiquidityPool.sol)"

// etherfiClaimWhy is why an ether.fi claim is refused where no node is
// configured.
const etherfiClaimWhy = "a claim of an ether.fi withdrawal request is WithdrawRequestNFT.claimWithdraw(tokenId) once finalized (etherfi-protocol/smart-contracts src/withdrawals/WithdrawRequestNFT.sol), on the NFT contract whose address is read at start from LiquidityPool.withdrawRequestNFT(), and no rpc is set (execution.rpc): set rpc, or claim by hand"

// unmapped says, for each built-in market without a deployment, why.
var unmapped = map[string]string{
	"morpho/usdc":                    "the built-in market models a MetaMorpho vault without naming one: add the chosen vault (protocol erc4626) to the execution contracts",
	"morpho/weth":                    "the built-in market models a MetaMorpho vault without naming one: add the chosen vault (protocol erc4626) to the execution contracts",
	"morpho/wbtc":                    "the built-in market models a MetaMorpho vault without naming one: add the chosen vault (protocol erc4626) to the execution contracts",
	"symbiotic/wsteth":               "the built-in market models a Symbiotic vault without naming one: add the chosen vault (protocol erc4626 where it is one) to the execution contracts",
	"coinbase/cbeth":                 "cbETH is minted and redeemed only by Coinbase for verified customers (coinbase.com/cbeth), so a vault's address has no mint or redeem to call; it enters and leaves through a swap in a DEX pool (the profile's venue uniswap-v3/cbeth-weth), which is not a built-in market with a named pool, and swaps are not encoded",
	"stakewise/oseth":                "StakeWise v3 mints osETH only against a position in one of its vaults (deposit into the vault, then mintOsToken up to the vault's loan-to-value), so ETH in does not become the same value of osETH held alone, which is what the market models; the swap route, Balancer's osETH/WETH pool, was drained on 2025-11-03 (Balancer's post-mortem) and is not encoded",
	"karak/weth":                     karakWhy,
	"balancer/reth-weth":             "the B-rETH-STABLE pool (0x1E19CF2D73a72Ef1332C882F20534B6519Be0276) is one of the Balancer v2 metastable pools emptied by the rescue after the exploit of 2025-11-03 (BIP-892, forum.balancer.fi/t/6883), and Balancer v2's pool factories are disabled (BIP-887): no join into it is encoded",
	"balancer-weighted/80bal-20weth": "Balancer v2 joins and exits (Vault.joinPool and exitPool with the pool id and a join kind) are not encoded; after the exploit of 2025-11-03 Balancer moves its pools to v3 and disabled v2's pool factories (BIP-887, forum.balancer.fi/t/6874)",
	"kamino/usdc":                    "Kamino is on Solana, not Ethereum",
	"babylon/btc":                    "Babylon stakes native BTC on Bitcoin, not through an EVM contract",
}

// Builtin returns the book of the built-in markets' deployments.
func Builtin() *Book {
	b := NewBook()
	for _, d := range builtinDeployments() {
		if err := b.Add(d); err != nil {
			panic("execution: built-in deployment " + d.Market + ": " + err.Error())
		}
	}
	return b
}
