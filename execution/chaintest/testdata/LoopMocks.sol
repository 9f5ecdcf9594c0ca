// SPDX-License-Identifier: MIT
// Small contracts with the exact ABIs of the mainnet contracts the Aave v3
// wstETH loop calls besides Aave (whose own published artifacts the test
// deploys): WETH9, Lido's stETH (submit and share accounting), wstETH
// (wrap, unwrap, getStETHByWstETH), the Curve stETH/ETH pool's exchange,
// and a price oracle standing in for Aave's (Chainlink-fed) AaveOracle.
// No npm package ships these compiled; each follows its source's logic
// where the test depends on it (cited per contract).
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// WETH9 (etherscan 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2, verified
/// source), in 0.8 syntax: deposit, withdraw and ERC-20 with its events.
contract LoopWETH9 {
    string public name = "Wrapped Ether";
    string public symbol = "WETH";
    uint8 public decimals = 18;

    event Approval(address indexed src, address indexed guy, uint256 wad);
    event Transfer(address indexed src, address indexed dst, uint256 wad);
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    receive() external payable {
        deposit();
    }

    function deposit() public payable {
        balanceOf[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 wad) public {
        require(balanceOf[msg.sender] >= wad);
        balanceOf[msg.sender] -= wad;
        payable(msg.sender).transfer(wad);
        emit Withdrawal(msg.sender, wad);
    }

    function totalSupply() public view returns (uint256) {
        return address(this).balance;
    }

    function approve(address guy, uint256 wad) public returns (bool) {
        allowance[msg.sender][guy] = wad;
        emit Approval(msg.sender, guy, wad);
        return true;
    }

    function transfer(address dst, uint256 wad) public returns (bool) {
        return transferFrom(msg.sender, dst, wad);
    }

    function transferFrom(address src, address dst, uint256 wad) public returns (bool) {
        require(balanceOf[src] >= wad);
        if (src != msg.sender && allowance[src][msg.sender] != type(uint256).max) {
            require(allowance[src][msg.sender] >= wad);
            allowance[src][msg.sender] -= wad;
        }
        balanceOf[src] -= wad;
        balanceOf[dst] += wad;
        emit Transfer(src, dst, wad);
        return true;
    }
}

/// Lido's stETH (lidofinance/core contracts/0.4.24/Lido.sol and
/// StETH.sol): balances are shares x total pooled ether / total shares,
/// submit mints getSharesByPooledEth(msg.value) shares, transfers move
/// getSharesByPooledEth(amount) shares. The pooled ether starts above the
/// shares (the constructor's), so one share is worth more than one ether,
/// as on mainnet; no oracle reports here.
contract LoopStETH {
    string public constant name = "Liquid staked Ether 2.0";
    string public constant symbol = "stETH";
    uint8 public constant decimals = 18;

    uint256 public totalShares;
    uint256 public totalPooledEther;
    mapping(address => uint256) private shares;
    mapping(address => mapping(address => uint256)) private allowances;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event Submitted(address indexed sender, uint256 amount, address referral);

    constructor(uint256 initialShares, uint256 initialPooledEther) {
        totalShares = initialShares;
        totalPooledEther = initialPooledEther;
        shares[address(0xdead)] = initialShares;
    }

    function getSharesByPooledEth(uint256 eth) public view returns (uint256) {
        return (eth * totalShares) / totalPooledEther;
    }

    function getPooledEthByShares(uint256 s) public view returns (uint256) {
        return (s * totalPooledEther) / totalShares;
    }

    function submit(address referral) external payable returns (uint256) {
        require(msg.value != 0, "ZERO_DEPOSIT");
        uint256 s = getSharesByPooledEth(msg.value);
        shares[msg.sender] += s;
        totalShares += s;
        totalPooledEther += msg.value;
        emit Submitted(msg.sender, msg.value, referral);
        emit Transfer(address(0), msg.sender, getPooledEthByShares(s));
        return s;
    }

    function totalSupply() external view returns (uint256) {
        return totalPooledEther;
    }

    function balanceOf(address a) external view returns (uint256) {
        return getPooledEthByShares(shares[a]);
    }

    function sharesOf(address a) external view returns (uint256) {
        return shares[a];
    }

    function allowance(address owner, address spender) external view returns (uint256) {
        return allowances[owner][spender];
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowances[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        require(allowances[from][msg.sender] >= amount, "ALLOWANCE_EXCEEDED");
        allowances[from][msg.sender] -= amount;
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) internal {
        uint256 s = getSharesByPooledEth(amount);
        require(shares[from] >= s, "BALANCE_EXCEEDED");
        shares[from] -= s;
        shares[to] += s;
        emit Transfer(from, to, amount);
    }
}

/// Lido's wstETH (lidofinance/core contracts/0.6.12/WstETH.sol): wrap
/// mints the stETH's shares as wstETH, unwrap pays the shares' stETH.
contract LoopWstETH is ERC20 {
    LoopStETH public stETH;

    constructor(LoopStETH s) ERC20("Wrapped liquid staked Ether 2.0", "wstETH") {
        stETH = s;
    }

    function wrap(uint256 _stETHAmount) external returns (uint256) {
        require(_stETHAmount > 0, "wstETH: can't wrap zero stETH");
        uint256 wstETHAmount = stETH.getSharesByPooledEth(_stETHAmount);
        _mint(msg.sender, wstETHAmount);
        stETH.transferFrom(msg.sender, address(this), _stETHAmount);
        return wstETHAmount;
    }

    function unwrap(uint256 _wstETHAmount) external returns (uint256) {
        require(_wstETHAmount > 0, "wstETH: zero amount unwrap not allowed");
        uint256 stETHAmount = stETH.getPooledEthByShares(_wstETHAmount);
        _burn(msg.sender, _wstETHAmount);
        stETH.transfer(msg.sender, stETHAmount);
        return stETHAmount;
    }

    function getStETHByWstETH(uint256 _wstETHAmount) external view returns (uint256) {
        return stETH.getPooledEthByShares(_wstETHAmount);
    }

    function stEthPerToken() external view returns (uint256) {
        return stETH.getPooledEthByShares(1 ether);
    }
}

/// The Curve stETH/ETH pool's exchange (curvefi/curve-contract
/// contracts/pools/steth/StableSwapSTETH.vy: exchange(i, j, dx, min_dy)
/// payable, TokenExchange event, the "Exchange resulted in fewer coins
/// than expected" revert), stETH (coin 1) to ether (coin 0) only, at a
/// fixed price in basis points in place of the pool's invariant.
contract LoopCurveStETHPool {
    LoopStETH public stETH;
    uint256 public priceBps;

    event TokenExchange(address indexed buyer, int128 sold_id, uint256 tokens_sold, int128 bought_id, uint256 tokens_bought);

    constructor(LoopStETH s, uint256 bps) {
        stETH = s;
        priceBps = bps;
    }

    receive() external payable {}

    function exchange(int128 i, int128 j, uint256 dx, uint256 min_dy) external payable returns (uint256) {
        require(i == 1 && j == 0, "only stETH to ETH here");
        uint256 dy = (dx * priceBps) / 10000;
        require(dy >= min_dy, "Exchange resulted in fewer coins than expected");
        stETH.transferFrom(msg.sender, address(this), dx);
        (bool ok, ) = msg.sender.call{value: dy}("");
        require(ok, "ether transfer failed");
        emit TokenExchange(msg.sender, i, dx, j, dy);
        return dy;
    }
}

/// Aave's IPriceOracleGetter (getAssetPrice, in the base currency's 8
/// decimals): ether at a set price, wstETH at ether's price x
/// stEthPerToken / 1e18 as Aave's wstETH price adapter prices it (stETH
/// at par with ether).
contract LoopPriceOracle {
    address public weth;
    LoopWstETH public wstETH;
    uint256 public ethPrice;

    constructor(address w, LoopWstETH wst, uint256 p) {
        weth = w;
        wstETH = wst;
        ethPrice = p;
    }

    function getAssetPrice(address asset) external view returns (uint256) {
        if (asset == address(wstETH)) {
            return (ethPrice * wstETH.stEthPerToken()) / 1 ether;
        }
        require(asset == weth, "no price");
        return ethPrice;
    }
}
