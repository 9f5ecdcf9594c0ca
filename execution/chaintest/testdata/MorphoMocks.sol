// SPDX-License-Identifier: MIT
// A small contract with Morpho Blue's exact ABI for the functions the
// Morpho wstETH loop calls and reads (morpho-org/morpho-blue
// src/interfaces/IMorpho.sol), written for the test, not copied: no npm
// package ships Morpho Blue compiled. It keeps the logic the test depends
// on, each function citing what it follows in morpho-org/morpho-blue
// src/Morpho.sol and src/libraries: shares with virtual shares and
// assets, the rounding direction of each conversion, interest accrued
// through the market's IRM before each borrow, repay and collateral
// withdrawal, and the health check of a borrow and of a collateral
// withdrawal against the LLTV at the oracle's price. Left out: fees,
// liquidations, flash loans, authorizations of others, callbacks.
pragma solidity ^0.8.20;

struct MorphoMarketParams {
    address loanToken;
    address collateralToken;
    address oracle;
    address irm;
    uint256 lltv;
}

struct MorphoMarket {
    uint128 totalSupplyAssets;
    uint128 totalSupplyShares;
    uint128 totalBorrowAssets;
    uint128 totalBorrowShares;
    uint128 lastUpdate;
    uint128 fee;
}

interface IMorphoToken {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// src/interfaces/IOracle.sol: the price of 1 unit of collateral in
/// units of loan token, scaled by 1e36.
interface IMorphoOracle {
    function price() external view returns (uint256);
}

/// src/interfaces/IIrm.sol: the borrow rate per second, scaled by 1e18.
interface IMorphoIrm {
    function borrowRate(MorphoMarketParams memory marketParams, MorphoMarket memory market) external returns (uint256);
}

contract MorphoBlueMock {
    // src/libraries/SharesMathLib.sol: VIRTUAL_SHARES and VIRTUAL_ASSETS.
    uint256 internal constant VIRTUAL_SHARES = 1e6;
    uint256 internal constant VIRTUAL_ASSETS = 1;
    // src/libraries/ConstantsLib.sol: ORACLE_PRICE_SCALE.
    uint256 internal constant ORACLE_PRICE_SCALE = 1e36;
    uint256 internal constant WAD = 1e18;

    struct Pos {
        uint256 supplyShares;
        uint128 borrowShares;
        uint128 collateral;
    }

    mapping(bytes32 => MorphoMarket) internal markets;
    mapping(bytes32 => MorphoMarketParams) public idToMarketParams;
    mapping(bytes32 => mapping(address => Pos)) internal positions;

    // src/interfaces/IMorpho.sol: position and market as the static-typed
    // getters return them.
    function position(bytes32 id, address user) external view returns (uint256 supplyShares, uint128 borrowShares, uint128 collateral) {
        Pos storage p = positions[id][user];
        return (p.supplyShares, p.borrowShares, p.collateral);
    }

    function market(bytes32 id)
        external
        view
        returns (uint128, uint128, uint128, uint128, uint128, uint128)
    {
        MorphoMarket storage m = markets[id];
        return (m.totalSupplyAssets, m.totalSupplyShares, m.totalBorrowAssets, m.totalBorrowShares, m.lastUpdate, m.fee);
    }

    // src/libraries/MarketParamsLib.sol: the Id is keccak256 of the
    // ABI-encoded params.
    function idOf(MorphoMarketParams memory mp) public pure returns (bytes32) {
        return keccak256(abi.encode(mp));
    }

    // Morpho.createMarket: registers the params, starts the clock.
    function createMarket(MorphoMarketParams memory mp) external {
        bytes32 id = idOf(mp);
        require(markets[id].lastUpdate == 0, "market already created");
        markets[id].lastUpdate = uint128(block.timestamp);
        idToMarketParams[id] = mp;
    }

    // SharesMathLib: toSharesDown, toSharesUp, toAssetsDown, toAssetsUp.
    function _toSharesDown(uint256 a, uint256 ta, uint256 ts) internal pure returns (uint256) {
        return (a * (ts + VIRTUAL_SHARES)) / (ta + VIRTUAL_ASSETS);
    }

    function _toSharesUp(uint256 a, uint256 ta, uint256 ts) internal pure returns (uint256) {
        uint256 d = ta + VIRTUAL_ASSETS;
        return (a * (ts + VIRTUAL_SHARES) + d - 1) / d;
    }

    function _toAssetsDown(uint256 s, uint256 ta, uint256 ts) internal pure returns (uint256) {
        return (s * (ta + VIRTUAL_ASSETS)) / (ts + VIRTUAL_SHARES);
    }

    function _toAssetsUp(uint256 s, uint256 ta, uint256 ts) internal pure returns (uint256) {
        uint256 d = ts + VIRTUAL_SHARES;
        return (s * (ta + VIRTUAL_ASSETS) + d - 1) / d;
    }

    // Morpho._accrueInterest: interest = totalBorrowAssets x
    // wTaylorCompounded(borrowRate, elapsed) (MathLib: the first three
    // terms of e^(rt) - 1), added to the borrow and the supply totals.
    function _accrue(MorphoMarketParams memory mp, bytes32 id) internal {
        MorphoMarket storage m = markets[id];
        uint256 elapsed = block.timestamp - m.lastUpdate;
        if (elapsed == 0) return;
        if (mp.irm != address(0)) {
            uint256 rate = IMorphoIrm(mp.irm).borrowRate(mp, m);
            uint256 first = rate * elapsed;
            uint256 second = (first * first) / (2 * WAD);
            uint256 third = (second * first) / (3 * WAD);
            uint256 interest = (uint256(m.totalBorrowAssets) * (first + second + third)) / WAD;
            m.totalBorrowAssets += uint128(interest);
            m.totalSupplyAssets += uint128(interest);
        }
        m.lastUpdate = uint128(block.timestamp);
    }

    // Morpho._isHealthy: the debt (borrow shares to assets, rounded up)
    // at most the collateral at the oracle's price (rounded down) times
    // the LLTV (rounded down).
    function _isHealthy(MorphoMarketParams memory mp, bytes32 id, address user) internal view returns (bool) {
        Pos storage p = positions[id][user];
        if (p.borrowShares == 0) return true;
        MorphoMarket storage m = markets[id];
        uint256 borrowed = _toAssetsUp(p.borrowShares, m.totalBorrowAssets, m.totalBorrowShares);
        uint256 maxBorrow = (((uint256(p.collateral) * IMorphoOracle(mp.oracle).price()) / ORACLE_PRICE_SCALE) * mp.lltv) / WAD;
        return maxBorrow >= borrowed;
    }

    function _created(bytes32 id) internal view {
        require(markets[id].lastUpdate != 0, "market not created");
    }

    // Morpho.supply: for the lender the loop borrows from.
    function supply(MorphoMarketParams memory mp, uint256 assets, uint256 shares, address onBehalf, bytes memory)
        external
        returns (uint256, uint256)
    {
        bytes32 id = idOf(mp);
        _created(id);
        require((assets == 0) != (shares == 0), "inconsistent input");
        _accrue(mp, id);
        MorphoMarket storage m = markets[id];
        if (assets > 0) shares = _toSharesDown(assets, m.totalSupplyAssets, m.totalSupplyShares);
        else assets = _toAssetsUp(shares, m.totalSupplyAssets, m.totalSupplyShares);
        positions[id][onBehalf].supplyShares += shares;
        m.totalSupplyShares += uint128(shares);
        m.totalSupplyAssets += uint128(assets);
        require(IMorphoToken(mp.loanToken).transferFrom(msg.sender, address(this), assets), "transferFrom");
        return (assets, shares);
    }

    // Morpho.borrow: assets to shares rounding up, then the health and
    // liquidity checks; only onBehalf itself may borrow here.
    function borrow(MorphoMarketParams memory mp, uint256 assets, uint256 shares, address onBehalf, address receiver)
        external
        returns (uint256, uint256)
    {
        bytes32 id = idOf(mp);
        _created(id);
        require((assets == 0) != (shares == 0), "inconsistent input");
        require(msg.sender == onBehalf, "unauthorized");
        _accrue(mp, id);
        MorphoMarket storage m = markets[id];
        if (assets > 0) shares = _toSharesUp(assets, m.totalBorrowAssets, m.totalBorrowShares);
        else assets = _toAssetsDown(shares, m.totalBorrowAssets, m.totalBorrowShares);
        positions[id][onBehalf].borrowShares += uint128(shares);
        m.totalBorrowShares += uint128(shares);
        m.totalBorrowAssets += uint128(assets);
        require(_isHealthy(mp, id, onBehalf), "insufficient collateral");
        require(m.totalBorrowAssets <= m.totalSupplyAssets, "insufficient liquidity");
        require(IMorphoToken(mp.loanToken).transfer(receiver, assets), "transfer");
        return (assets, shares);
    }

    // Morpho.repay: assets to shares rounding down, shares to assets
    // rounding up; the total borrow floors at zero (zeroFloorSub); more
    // shares than the position holds revert (the subtraction underflows).
    function repay(MorphoMarketParams memory mp, uint256 assets, uint256 shares, address onBehalf, bytes memory)
        external
        returns (uint256, uint256)
    {
        bytes32 id = idOf(mp);
        _created(id);
        require((assets == 0) != (shares == 0), "inconsistent input");
        _accrue(mp, id);
        MorphoMarket storage m = markets[id];
        if (assets > 0) shares = _toSharesDown(assets, m.totalBorrowAssets, m.totalBorrowShares);
        else assets = _toAssetsUp(shares, m.totalBorrowAssets, m.totalBorrowShares);
        positions[id][onBehalf].borrowShares -= uint128(shares);
        m.totalBorrowShares -= uint128(shares);
        m.totalBorrowAssets = assets >= m.totalBorrowAssets ? 0 : m.totalBorrowAssets - uint128(assets);
        require(IMorphoToken(mp.loanToken).transferFrom(msg.sender, address(this), assets), "transferFrom");
        return (assets, shares);
    }

    // Morpho.supplyCollateral: no interest accrues (collateral earns
    // none).
    function supplyCollateral(MorphoMarketParams memory mp, uint256 assets, address onBehalf, bytes memory) external {
        bytes32 id = idOf(mp);
        _created(id);
        require(assets != 0, "zero assets");
        positions[id][onBehalf].collateral += uint128(assets);
        require(IMorphoToken(mp.collateralToken).transferFrom(msg.sender, address(this), assets), "transferFrom");
    }

    // Morpho.withdrawCollateral: accrue, take the collateral, then the
    // health check.
    function withdrawCollateral(MorphoMarketParams memory mp, uint256 assets, address onBehalf, address receiver) external {
        bytes32 id = idOf(mp);
        _created(id);
        require(assets != 0, "zero assets");
        require(msg.sender == onBehalf, "unauthorized");
        _accrue(mp, id);
        positions[id][onBehalf].collateral -= uint128(assets);
        require(_isHealthy(mp, id, onBehalf), "insufficient collateral");
        require(IMorphoToken(mp.collateralToken).transfer(receiver, assets), "transfer");
    }
}

/// An IRM at a fixed rate per second (scaled by 1e18), standing in for
/// the AdaptiveCurveIrm (morpho-org/morpho-blue-irm), whose rate moves
/// with utilization: the test needs interest to accrue, not its curve.
contract MorphoFixedRateIrm {
    uint256 public rate;

    constructor(uint256 r) {
        rate = r;
    }

    function borrowRate(MorphoMarketParams memory, MorphoMarket memory) external view returns (uint256) {
        return rate;
    }

    function borrowRateView(MorphoMarketParams memory, MorphoMarket memory) external view returns (uint256) {
        return rate;
    }
}

interface IStEthPerToken {
    function stEthPerToken() external view returns (uint256);
}

/// The wstETH/WETH market's oracle as an exchange-rate oracle prices it
/// (morpho-org/morpho-blue-oracles MorphoChainlinkOracleV2 with the
/// wstETH/stETH exchange-rate feed and stETH at par with ether): 1 wei
/// of wstETH is stEthPerToken / 1e18 wei of WETH, scaled by 1e36.
contract MorphoWstETHOracle {
    IStEthPerToken public wstETH;

    constructor(IStEthPerToken w) {
        wstETH = w;
    }

    function price() external view returns (uint256) {
        return wstETH.stEthPerToken() * 1e18;
    }
}
