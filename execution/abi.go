package execution

import (
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// The ABIs the executor encodes calls with: for each contract kind, the
// functions it calls, as fragments of the protocol's published ABI (the
// names and types of the source below; a function's selector is the
// Keccak-256 of its canonical signature, which go-ethereum's abi derives
// from these types). TestABI_Selectors checks every selector against the
// one Etherscan and the 4byte directory publish.
var (
	// ERC-20 (EIP-20): approve, transfer, balanceOf.
	erc20ABI = mustABI("erc20", `[
{"type":"function","name":"approve","stateMutability":"nonpayable","inputs":[{"name":"spender","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"transfer","stateMutability":"nonpayable","inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"allowance","stateMutability":"view","inputs":[{"name":"owner","type":"address"},{"name":"spender","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// WETH9 (etherscan 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2,
	// verified source): deposit() payable, withdraw(uint wad).
	weth9ABI = mustABI("weth9", `[
{"type":"function","name":"deposit","stateMutability":"payable","inputs":[],"outputs":[]},
{"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[{"name":"wad","type":"uint256"}],"outputs":[]}]`)

	// Aave v3 Pool (aave/aave-v3-core contracts/interfaces/IPool.sol);
	// SparkLend's Pool is the same code (a fork of Aave v3).
	aavePoolABI = mustABI("aave-v3-pool", `[
{"type":"function","name":"supply","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"onBehalfOf","type":"address"},{"name":"referralCode","type":"uint16"}],"outputs":[]},
{"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"to","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"borrow","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"interestRateMode","type":"uint256"},{"name":"referralCode","type":"uint16"},{"name":"onBehalfOf","type":"address"}],"outputs":[]},
{"type":"function","name":"repay","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address"},{"name":"amount","type":"uint256"},{"name":"interestRateMode","type":"uint256"},{"name":"onBehalfOf","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"setUserEMode","stateMutability":"nonpayable","inputs":[{"name":"categoryId","type":"uint8"}],"outputs":[]}]`)

	// Compound v3 Comet (compound-finance/comet
	// contracts/CometMainInterface.sol): supply, supplyTo, withdraw,
	// withdrawTo. Borrowing the base asset is a withdraw beyond the
	// supplied balance, repaying it a supply.
	cometABI = mustABI("compound-v3-comet", `[
{"type":"function","name":"supply","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[]},
{"type":"function","name":"supplyTo","stateMutability":"nonpayable","inputs":[{"name":"dst","type":"address"},{"name":"asset","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[]},
{"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[{"name":"asset","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[]},
{"type":"function","name":"withdrawTo","stateMutability":"nonpayable","inputs":[{"name":"to","type":"address"},{"name":"asset","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[]}]`)

	// Morpho Blue (morpho-org/morpho-blue src/interfaces/IMorpho.sol):
	// every entry point takes the market as its MarketParams struct.
	morphoMarketParams = `{"name":"marketParams","type":"tuple","components":[{"name":"loanToken","type":"address"},{"name":"collateralToken","type":"address"},{"name":"oracle","type":"address"},{"name":"irm","type":"address"},{"name":"lltv","type":"uint256"}]}`
	morphoBlueABI      = mustABI("morpho-blue", `[
{"type":"function","name":"supply","stateMutability":"nonpayable","inputs":[`+morphoMarketParams+`,{"name":"assets","type":"uint256"},{"name":"shares","type":"uint256"},{"name":"onBehalf","type":"address"},{"name":"data","type":"bytes"}],"outputs":[{"name":"assetsSupplied","type":"uint256"},{"name":"sharesSupplied","type":"uint256"}]},
{"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[`+morphoMarketParams+`,{"name":"assets","type":"uint256"},{"name":"shares","type":"uint256"},{"name":"onBehalf","type":"address"},{"name":"receiver","type":"address"}],"outputs":[{"name":"assetsWithdrawn","type":"uint256"},{"name":"sharesWithdrawn","type":"uint256"}]},
{"type":"function","name":"borrow","stateMutability":"nonpayable","inputs":[`+morphoMarketParams+`,{"name":"assets","type":"uint256"},{"name":"shares","type":"uint256"},{"name":"onBehalf","type":"address"},{"name":"receiver","type":"address"}],"outputs":[{"name":"assetsBorrowed","type":"uint256"},{"name":"sharesBorrowed","type":"uint256"}]},
{"type":"function","name":"repay","stateMutability":"nonpayable","inputs":[`+morphoMarketParams+`,{"name":"assets","type":"uint256"},{"name":"shares","type":"uint256"},{"name":"onBehalf","type":"address"},{"name":"data","type":"bytes"}],"outputs":[{"name":"assetsRepaid","type":"uint256"},{"name":"sharesRepaid","type":"uint256"}]},
{"type":"function","name":"supplyCollateral","stateMutability":"nonpayable","inputs":[`+morphoMarketParams+`,{"name":"assets","type":"uint256"},{"name":"onBehalf","type":"address"},{"name":"data","type":"bytes"}],"outputs":[]},
{"type":"function","name":"withdrawCollateral","stateMutability":"nonpayable","inputs":[`+morphoMarketParams+`,{"name":"assets","type":"uint256"},{"name":"onBehalf","type":"address"},{"name":"receiver","type":"address"}],"outputs":[]}]`)

	// ERC-4626 (EIP-4626): deposit, redeem, withdraw. MetaMorpho vaults,
	// Spark's sDAI and OpenZeppelin's ERC4626 implement it.
	erc4626ABI = mustABI("erc4626", `[
{"type":"function","name":"deposit","stateMutability":"nonpayable","inputs":[{"name":"assets","type":"uint256"},{"name":"receiver","type":"address"}],"outputs":[{"name":"shares","type":"uint256"}]},
{"type":"function","name":"redeem","stateMutability":"nonpayable","inputs":[{"name":"shares","type":"uint256"},{"name":"receiver","type":"address"},{"name":"owner","type":"address"}],"outputs":[{"name":"assets","type":"uint256"}]},
{"type":"function","name":"withdraw","stateMutability":"nonpayable","inputs":[{"name":"assets","type":"uint256"},{"name":"receiver","type":"address"},{"name":"owner","type":"address"}],"outputs":[{"name":"shares","type":"uint256"}]},
{"type":"function","name":"previewRedeem","stateMutability":"view","inputs":[{"name":"shares","type":"uint256"}],"outputs":[{"name":"assets","type":"uint256"}]},
{"type":"function","name":"asset","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]}]`)

	// Lido stETH (lidofinance/core contracts/0.4.24/Lido.sol): submit.
	lidoABI = mustABI("lido", `[
{"type":"function","name":"submit","stateMutability":"payable","inputs":[{"name":"_referral","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Lido wstETH (lidofinance/core contracts/0.6.12/WstETH.sol).
	wstETHABI = mustABI("wsteth", `[
{"type":"function","name":"wrap","stateMutability":"nonpayable","inputs":[{"name":"_stETHAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"unwrap","stateMutability":"nonpayable","inputs":[{"name":"_wstETHAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Lido WithdrawalQueueERC721 (lidofinance/core
	// contracts/0.8.9/WithdrawalQueue.sol and WithdrawalQueueBase.sol).
	lidoQueueABI = mustABI("lido-withdrawal-queue", `[
{"type":"function","name":"requestWithdrawals","stateMutability":"nonpayable","inputs":[{"name":"_amounts","type":"uint256[]"},{"name":"_owner","type":"address"}],"outputs":[{"name":"requestIds","type":"uint256[]"}]},
{"type":"function","name":"requestWithdrawalsWstETH","stateMutability":"nonpayable","inputs":[{"name":"_amounts","type":"uint256[]"},{"name":"_owner","type":"address"}],"outputs":[{"name":"requestIds","type":"uint256[]"}]},
{"type":"function","name":"claimWithdrawals","stateMutability":"nonpayable","inputs":[{"name":"_requestIds","type":"uint256[]"},{"name":"_hints","type":"uint256[]"}],"outputs":[]},
{"type":"function","name":"findCheckpointHints","stateMutability":"view","inputs":[{"name":"_requestIds","type":"uint256[]"},{"name":"_firstIndex","type":"uint256"},{"name":"_lastIndex","type":"uint256"}],"outputs":[{"name":"hintIds","type":"uint256[]"}]},
{"type":"function","name":"getLastCheckpointIndex","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Curve stableswap pools (curvefi/curve-contract
	// contracts/pools/steth/StableSwapSTETH.vy and pools/3pool/StableSwap3Pool.vy):
	// the two-coin ETH/stETH pool is payable (coin 0 is ETH); the
	// three-coin 3pool is not.
	curve2ABI = mustABI("curve-stableswap-2", `[
{"type":"function","name":"exchange","stateMutability":"payable","inputs":[{"name":"i","type":"int128"},{"name":"j","type":"int128"},{"name":"dx","type":"uint256"},{"name":"min_dy","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"add_liquidity","stateMutability":"payable","inputs":[{"name":"amounts","type":"uint256[2]"},{"name":"min_mint_amount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"remove_liquidity_one_coin","stateMutability":"nonpayable","inputs":[{"name":"_token_amount","type":"uint256"},{"name":"i","type":"int128"},{"name":"_min_amount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"get_dy","stateMutability":"view","inputs":[{"name":"i","type":"int128"},{"name":"j","type":"int128"},{"name":"dx","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]}]`)
	curve3ABI = mustABI("curve-stableswap-3", `[
{"type":"function","name":"exchange","stateMutability":"nonpayable","inputs":[{"name":"i","type":"int128"},{"name":"j","type":"int128"},{"name":"dx","type":"uint256"},{"name":"min_dy","type":"uint256"}],"outputs":[]},
{"type":"function","name":"add_liquidity","stateMutability":"nonpayable","inputs":[{"name":"amounts","type":"uint256[3]"},{"name":"min_mint_amount","type":"uint256"}],"outputs":[]},
{"type":"function","name":"remove_liquidity_one_coin","stateMutability":"nonpayable","inputs":[{"name":"_token_amount","type":"uint256"},{"name":"i","type":"int128"},{"name":"min_amount","type":"uint256"}],"outputs":[]}]`)

	// Curve stableswap-ng pools (curvefi/stableswap-ng
	// contracts/main/CurveStableSwapNG.vy): exchange(i, j, _dx, _min_dy)
	// with its _receiver defaulting to the sender, not payable (the
	// weETH/WETH pool holds WETH, not ether). The selector is the old
	// pools' (the same four types).
	curveNGABI = mustABI("curve-stableswap-ng", `[
{"type":"function","name":"exchange","stateMutability":"nonpayable","inputs":[{"name":"i","type":"int128"},{"name":"j","type":"int128"},{"name":"_dx","type":"uint256"},{"name":"_min_dy","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Uniswap v3 NonfungiblePositionManager (Uniswap/v3-periphery
	// contracts/interfaces/INonfungiblePositionManager.sol).
	uniNPMABI = mustABI("uniswap-v3-npm", `[
{"type":"function","name":"mint","stateMutability":"payable","inputs":[{"name":"params","type":"tuple","components":[{"name":"token0","type":"address"},{"name":"token1","type":"address"},{"name":"fee","type":"uint24"},{"name":"tickLower","type":"int24"},{"name":"tickUpper","type":"int24"},{"name":"amount0Desired","type":"uint256"},{"name":"amount1Desired","type":"uint256"},{"name":"amount0Min","type":"uint256"},{"name":"amount1Min","type":"uint256"},{"name":"recipient","type":"address"},{"name":"deadline","type":"uint256"}]}],"outputs":[{"name":"tokenId","type":"uint256"},{"name":"liquidity","type":"uint128"},{"name":"amount0","type":"uint256"},{"name":"amount1","type":"uint256"}]},
{"type":"function","name":"decreaseLiquidity","stateMutability":"payable","inputs":[{"name":"params","type":"tuple","components":[{"name":"tokenId","type":"uint256"},{"name":"liquidity","type":"uint128"},{"name":"amount0Min","type":"uint256"},{"name":"amount1Min","type":"uint256"},{"name":"deadline","type":"uint256"}]}],"outputs":[{"name":"amount0","type":"uint256"},{"name":"amount1","type":"uint256"}]},
{"type":"function","name":"collect","stateMutability":"payable","inputs":[{"name":"params","type":"tuple","components":[{"name":"tokenId","type":"uint256"},{"name":"recipient","type":"address"},{"name":"amount0Max","type":"uint128"},{"name":"amount1Max","type":"uint128"}]}],"outputs":[{"name":"amount0","type":"uint256"},{"name":"amount1","type":"uint256"}]}]`)

	// Rocket Pool (rocket-pool/rocketpool contracts/contract/deposit/
	// RocketDepositPool.sol deposit(); contracts/contract/token/
	// RocketTokenRETH.sol burn).
	rocketDepositABI = mustABI("rocketpool-deposit-pool", `[
{"type":"function","name":"deposit","stateMutability":"payable","inputs":[],"outputs":[]}]`)
	rethABI = mustABI("reth", `[
{"type":"function","name":"burn","stateMutability":"nonpayable","inputs":[{"name":"_rethAmount","type":"uint256"}],"outputs":[]}]`)

	// ether.fi (etherfi-protocol/smart-contracts src/LiquidityPool.sol
	// deposit() and requestWithdraw; src/WeETH.sol wrap/unwrap).
	etherfiPoolABI = mustABI("etherfi-liquidity-pool", `[
{"type":"function","name":"deposit","stateMutability":"payable","inputs":[],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"requestWithdraw","stateMutability":"nonpayable","inputs":[{"name":"recipient","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"withdrawRequestNFT","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]}]`)
	// ether.fi's WithdrawRequestNFT (etherfi-protocol/smart-contracts
	// commit b4a0968, src/withdrawals/WithdrawRequestNFT.sol):
	// claimWithdraw(uint256 tokenId) burns a finalized request and pays
	// its ether to the NFT's owner. Its address is LiquidityPool's public
	// immutable withdrawRequestNFT (src/core/LiquidityPool.sol).
	etherfiNFTABI = mustABI("etherfi-withdraw-request-nft", `[
{"type":"function","name":"claimWithdraw","stateMutability":"nonpayable","inputs":[{"name":"tokenId","type":"uint256"}],"outputs":[]}]`)
	weETHABI = mustABI("weeth", `[
{"type":"function","name":"wrap","stateMutability":"nonpayable","inputs":[{"name":"_eETHAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"unwrap","stateMutability":"nonpayable","inputs":[{"name":"_weETHAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Renzo RestakeManager (Renzo-Protocol/contracts-public
	// contracts/RestakeManager.sol): depositETH() payable.
	renzoABI = mustABI("renzo-restake-manager", `[
{"type":"function","name":"depositETH","stateMutability":"payable","inputs":[],"outputs":[]}]`)

	// Kelp LRTDepositPool (Kelp-DAO/LRT-rsETH contracts/LRTDepositPool.sol).
	kelpABI = mustABI("kelp-deposit-pool", `[
{"type":"function","name":"depositETH","stateMutability":"payable","inputs":[{"name":"minRSETHAmountExpected","type":"uint256"},{"name":"referralId","type":"string"}],"outputs":[]}]`)

	// PufferVaultV2 (PufferFinance/pufETH src/PufferVaultV2.sol):
	// depositETH(receiver) payable; exits are ERC-4626 redeem.
	pufferABI = mustABI("puffer-vault", `[
{"type":"function","name":"depositETH","stateMutability":"payable","inputs":[{"name":"receiver","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Swell rswETH (SwellNetwork/v3-core-public, commit ba1eeff,
	// contracts/lrt/contracts/interfaces/IrswETH.sol): deposit() payable
	// mints rswETH at the current rate; rswETHToETHRate() is the ETH
	// value of one rswETH (1e18 scale), read back by reconciliation.
	swellABI = mustABI("swell-rsweth", `[
{"type":"function","name":"deposit","stateMutability":"payable","inputs":[],"outputs":[]},
{"type":"function","name":"rswETHToETHRate","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"AccessControlManager","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]}]`)

	// Swell's exit, named on chain (SwellNetwork/v3-core-public commit
	// ba1eeff, contracts/lrt/contracts): rswETH's public
	// AccessControlManager (implementations/Whitelist.sol, which RswETH
	// inherits) returns the access control manager, whose rswEXIT()
	// (interfaces/IAccessControlManager.sol) returns the exit contract;
	// rswEXIT's createWithdrawRequest(uint256 amount) pulls and burns the
	// rswETH and mints a request NFT to the sender, finalizeWithdrawal(
	// uint256 tokenId) burns a processed one for its ether, paid to its
	// owner (interfaces/IrswEXIT.sol, implementations/RswEXIT.sol).
	swellACMABI = mustABI("swell-access-control-manager", `[
{"type":"function","name":"rswEXIT","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]}]`)
	swellExitABI = mustABI("swell-rswexit", `[
{"type":"function","name":"createWithdrawRequest","stateMutability":"nonpayable","inputs":[{"name":"amount","type":"uint256"}],"outputs":[]},
{"type":"function","name":"finalizeWithdrawal","stateMutability":"nonpayable","inputs":[{"name":"tokenId","type":"uint256"}],"outputs":[]}]`)

	// EigenLayer (Layr-Labs/eigenlayer-contracts
	// src/contracts/interfaces/IStrategyManager.sol and
	// IDelegationManager.sol): deposit into a strategy, queue withdrawals.
	eigenStrategyManagerABI = mustABI("eigenlayer-strategy-manager", `[
{"type":"function","name":"depositIntoStrategy","stateMutability":"nonpayable","inputs":[{"name":"strategy","type":"address"},{"name":"token","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"name":"shares","type":"uint256"}]}]`)
	eigenDelegationABI = mustABI("eigenlayer-delegation-manager", `[
{"type":"function","name":"queueWithdrawals","stateMutability":"nonpayable","inputs":[{"name":"params","type":"tuple[]","components":[{"name":"strategies","type":"address[]"},{"name":"depositShares","type":"uint256[]"},{"name":"withdrawer","type":"address"}]}],"outputs":[{"name":"","type":"bytes32[]"}]}]`)
)

// mustABI parses a constant ABI fragment; a malformed constant is a
// programming error caught by every test of the package.
func mustABI(name, js string) *abi.ABI {
	a, err := abi.JSON(strings.NewReader(js))
	if err != nil {
		panic("execution: ABI " + name + ": " + err.Error())
	}
	return &a
}

// The views reconciliation reads positions back with.
var (
	// Aave v3 Pool.getReserveData (aave/aave-v3-core
	// contracts/interfaces/IPool.sol, DataTypes.ReserveData; v3.2+ keeps
	// the layout as ReserveDataLegacy): the reserve's aToken and
	// variable debt token.
	aaveReserveABI = mustABI("aave-v3-pool-reserve", `[
{"type":"function","name":"getReserveData","stateMutability":"view","inputs":[{"name":"asset","type":"address"}],"outputs":[{"name":"","type":"tuple","components":[
{"name":"configuration","type":"tuple","components":[{"name":"data","type":"uint256"}]},
{"name":"liquidityIndex","type":"uint128"},{"name":"currentLiquidityRate","type":"uint128"},{"name":"variableBorrowIndex","type":"uint128"},
{"name":"currentVariableBorrowRate","type":"uint128"},{"name":"currentStableBorrowRate","type":"uint128"},{"name":"lastUpdateTimestamp","type":"uint40"},
{"name":"id","type":"uint16"},{"name":"aTokenAddress","type":"address"},{"name":"stableDebtTokenAddress","type":"address"},
{"name":"variableDebtTokenAddress","type":"address"},{"name":"interestRateStrategyAddress","type":"address"},{"name":"accruedToTreasury","type":"uint128"},
{"name":"unbacked","type":"uint128"},{"name":"isolationModeTotalDebt","type":"uint128"}]}]}]`)

	// Morpho Blue's views (morpho-org/morpho-blue
	// src/interfaces/IMorpho.sol, IMorphoStaticTyping): a user's position
	// in a market (supply shares, borrow shares, collateral in the
	// collateral token's units) and the market's totals (borrow shares
	// convert to assets at totalBorrowAssets / totalBorrowShares, with
	// SharesMathLib's virtual shares).
	morphoViewABI = mustABI("morpho-blue-views", `[
{"type":"function","name":"position","stateMutability":"view","inputs":[{"name":"id","type":"bytes32"},{"name":"user","type":"address"}],"outputs":[{"name":"supplyShares","type":"uint256"},{"name":"borrowShares","type":"uint128"},{"name":"collateral","type":"uint128"}]},
{"type":"function","name":"market","stateMutability":"view","inputs":[{"name":"id","type":"bytes32"}],"outputs":[{"name":"totalSupplyAssets","type":"uint128"},{"name":"totalSupplyShares","type":"uint128"},{"name":"totalBorrowAssets","type":"uint128"},{"name":"totalBorrowShares","type":"uint128"},{"name":"lastUpdate","type":"uint128"},{"name":"fee","type":"uint128"}]}]`)

	// A Morpho Blue IRM's borrowRateView (morpho-org/morpho-blue
	// src/interfaces/IIrm.sol): the borrow rate per second (1e18 = 100%)
	// for a market's params and state, without writing (the
	// AdaptiveCurveIrm's view of what borrowRate would answer).
	morphoIrmABI = mustABI("morpho-blue-irm", `[
{"type":"function","name":"borrowRateView","stateMutability":"view","inputs":[`+morphoMarketParams+`,{"name":"market","type":"tuple","components":[{"name":"totalSupplyAssets","type":"uint128"},{"name":"totalSupplyShares","type":"uint128"},{"name":"totalBorrowAssets","type":"uint128"},{"name":"totalBorrowShares","type":"uint128"},{"name":"lastUpdate","type":"uint128"},{"name":"fee","type":"uint128"}]}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Comet (compound-finance/comet contracts/CometMainInterface.sol):
	// balanceOf is an account's base supply at its present value,
	// borrowBalanceOf its base debt.
	cometViewABI = mustABI("compound-v3-comet-views", `[
{"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"borrowBalanceOf","stateMutability":"view","inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// ERC-4626 (EIP-4626) share balance and its value in assets.
	erc4626ViewABI = mustABI("erc4626-views", `[
{"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"account","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"convertToAssets","stateMutability":"view","inputs":[{"name":"shares","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// The ETH value of an LST balance: wstETH.getStETHByWstETH
	// (lidofinance/core contracts/0.6.12/WstETH.sol), rETH.getEthValue
	// (rocket-pool/rocketpool RocketTokenRETH.sol), weETH.getEETHByWeETH
	// (etherfi-protocol/smart-contracts src/WeETH.sol). stETH and eETH
	// rebase: their balance is the ETH value.
	lstValueABI = mustABI("lst-value", `[
{"type":"function","name":"getStETHByWstETH","stateMutability":"view","inputs":[{"name":"_wstETHAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"getEthValue","stateMutability":"view","inputs":[{"name":"_rethAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"getEETHByWeETH","stateMutability":"view","inputs":[{"name":"_weETHAmount","type":"uint256"}],"outputs":[{"name":"","type":"uint256"}]}]`)

	// Lido WithdrawalQueueERC721 (lidofinance/core
	// contracts/0.8.9/WithdrawalQueue.sol and WithdrawalQueueBase.sol): an
	// owner's requests and their status (the stETH each holds, finalized,
	// claimed), the ether finalized ones pay, and the events a request and
	// a claim emit.
	lidoQueueViewABI = mustABI("lido-withdrawal-queue-views", `[
{"type":"function","name":"getWithdrawalRequests","stateMutability":"view","inputs":[{"name":"_owner","type":"address"}],"outputs":[{"name":"requestsIds","type":"uint256[]"}]},
{"type":"function","name":"getWithdrawalStatus","stateMutability":"view","inputs":[{"name":"_requestIds","type":"uint256[]"}],"outputs":[{"name":"statuses","type":"tuple[]","components":[
{"name":"amountOfStETH","type":"uint256"},{"name":"amountOfShares","type":"uint256"},{"name":"owner","type":"address"},{"name":"timestamp","type":"uint256"},{"name":"isFinalized","type":"bool"},{"name":"isClaimed","type":"bool"}]}]},
{"type":"function","name":"getClaimableEther","stateMutability":"view","inputs":[{"name":"_requestIds","type":"uint256[]"},{"name":"_hints","type":"uint256[]"}],"outputs":[{"name":"claimableEthValues","type":"uint256[]"}]},
{"type":"event","name":"WithdrawalRequested","anonymous":false,"inputs":[{"name":"requestId","type":"uint256","indexed":true},{"name":"requestor","type":"address","indexed":true},{"name":"owner","type":"address","indexed":true},{"name":"amountOfStETH","type":"uint256","indexed":false},{"name":"amountOfShares","type":"uint256","indexed":false}]},
{"type":"event","name":"WithdrawalClaimed","anonymous":false,"inputs":[{"name":"requestId","type":"uint256","indexed":true},{"name":"owner","type":"address","indexed":true},{"name":"receiver","type":"address","indexed":true},{"name":"amountOfETH","type":"uint256","indexed":false}]}]`)

	// The events fills are read from: ERC-20 Transfer (EIP-20) and
	// WETH9's Deposit and Withdrawal.
	transferEventABI = mustABI("erc20-events", `[
{"type":"event","name":"Transfer","anonymous":false,"inputs":[{"name":"from","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},{"name":"value","type":"uint256","indexed":false}]},
{"type":"event","name":"Deposit","anonymous":false,"inputs":[{"name":"dst","type":"address","indexed":true},{"name":"wad","type":"uint256","indexed":false}]},
{"type":"event","name":"Withdrawal","anonymous":false,"inputs":[{"name":"src","type":"address","indexed":true},{"name":"wad","type":"uint256","indexed":false}]}]`)
)
