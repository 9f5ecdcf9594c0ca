// SPDX-License-Identifier: MIT
// Small contracts with the exact ABIs of the mainnet contracts the Aave v3
// wstETH and weETH loops call besides Aave (whose own published artifacts
// the test deploys): WETH9, Lido's stETH (submit and share accounting),
// wstETH (wrap, unwrap, getStETHByWstETH), the Curve stETH/ETH pool's
// exchange; ether.fi's LiquidityPool (deposit and share accounting),
// eETH, weETH (wrap, unwrap, getEETHByWeETH, getRate), the Curve
// weETH/WETH pool's exchange; and a price oracle standing in for Aave's
// (Chainlink-fed) AaveOracle.
// No npm package ships these compiled; each follows its source's logic
// where the test depends on it (cited per contract).
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import "@openzeppelin/contracts/token/ERC721/ERC721.sol";

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

/// A share token as Lido's stETH and ether.fi's eETH are: a balance is the
/// holder's shares valued at the pooled ether, a transfer moves the
/// shares of its amount (_sharesFor), with ERC-20's approve, allowance
/// and events; the two tokens' revert reasons are the constructor's.
abstract contract LoopShareToken {
    uint256 public totalShares;
    mapping(address => uint256) internal shareOf;
    mapping(address => mapping(address => uint256)) private allowances;
    string private allowanceError;
    string private balanceError;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(uint256 initialShares, string memory allowanceErr, string memory balanceErr) {
        totalShares = initialShares;
        shareOf[address(0xdead)] = initialShares;
        allowanceError = allowanceErr;
        balanceError = balanceErr;
    }

    function _sharesFor(uint256 amount) internal view virtual returns (uint256);

    function _mintShares(address to, uint256 s, uint256 value) internal {
        shareOf[to] += s;
        totalShares += s;
        emit Transfer(address(0), to, value);
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
        require(allowances[from][msg.sender] >= amount, allowanceError);
        allowances[from][msg.sender] -= amount;
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) internal {
        uint256 s = _sharesFor(amount);
        require(shareOf[from] >= s, balanceError);
        shareOf[from] -= s;
        shareOf[to] += s;
        emit Transfer(from, to, amount);
    }
}

/// Lido's stETH (lidofinance/core contracts/0.4.24/Lido.sol and
/// StETH.sol): balances are shares x total pooled ether / total shares,
/// submit mints getSharesByPooledEth(msg.value) shares, transfers move
/// getSharesByPooledEth(amount) shares. The pooled ether starts above the
/// shares (the constructor's), so one share is worth more than one ether,
/// as on mainnet; no oracle reports here.
contract LoopStETH is LoopShareToken {
    string public constant name = "Liquid staked Ether 2.0";
    string public constant symbol = "stETH";
    uint8 public constant decimals = 18;

    uint256 public totalPooledEther;

    event Submitted(address indexed sender, uint256 amount, address referral);

    constructor(uint256 initialShares, uint256 initialPooledEther) LoopShareToken(initialShares, "ALLOWANCE_EXCEEDED", "BALANCE_EXCEEDED") {
        totalPooledEther = initialPooledEther;
    }

    function _sharesFor(uint256 amount) internal view override returns (uint256) {
        return getSharesByPooledEth(amount);
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
        totalPooledEther += msg.value;
        emit Submitted(msg.sender, msg.value, referral);
        _mintShares(msg.sender, s, getPooledEthByShares(s));
        return s;
    }

    function totalSupply() external view returns (uint256) {
        return totalPooledEther;
    }

    function balanceOf(address a) external view returns (uint256) {
        return getPooledEthByShares(shareOf[a]);
    }

    function sharesOf(address a) external view returns (uint256) {
        return shareOf[a];
    }
}

/// A wrapper of a share token as Lido's wstETH and ether.fi's weETH are:
/// wrap mints the shares of the amount wrapped (_sharesFor) and pulls the
/// amount, unwrap burns and pays the amount of the shares (_amountFor);
/// the two tokens' revert reasons on zero are the constructor's.
abstract contract LoopShareWrapper is ERC20 {
    LoopShareToken private token;
    string private zeroWrap;
    string private zeroUnwrap;

    constructor(string memory n, string memory sym, LoopShareToken t, string memory zw, string memory zu) ERC20(n, sym) {
        token = t;
        zeroWrap = zw;
        zeroUnwrap = zu;
    }

    function _sharesFor(uint256 amount) internal view virtual returns (uint256);

    function _amountFor(uint256 wrapped) internal view virtual returns (uint256);

    function wrap(uint256 amount) external returns (uint256) {
        require(amount > 0, zeroWrap);
        uint256 wrapped = _sharesFor(amount);
        _mint(msg.sender, wrapped);
        token.transferFrom(msg.sender, address(this), amount);
        return wrapped;
    }

    function unwrap(uint256 wrapped) external returns (uint256) {
        require(wrapped > 0, zeroUnwrap);
        uint256 amount = _amountFor(wrapped);
        _burn(msg.sender, wrapped);
        token.transfer(msg.sender, amount);
        return amount;
    }
}

/// Lido's wstETH (lidofinance/core contracts/0.6.12/WstETH.sol): wrap
/// mints the stETH's shares as wstETH, unwrap pays the shares' stETH.
contract LoopWstETH is LoopShareWrapper {
    LoopStETH public stETH;

    constructor(LoopStETH s)
        LoopShareWrapper("Wrapped liquid staked Ether 2.0", "wstETH", s, "wstETH: can't wrap zero stETH", "wstETH: zero amount unwrap not allowed")
    {
        stETH = s;
    }

    function _sharesFor(uint256 amount) internal view override returns (uint256) {
        return stETH.getSharesByPooledEth(amount);
    }

    function _amountFor(uint256 wrapped) internal view override returns (uint256) {
        return stETH.getPooledEthByShares(wrapped);
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
/// decimals): ether at a set price, the loop's collateral at ether's
/// price x its exchange rate / 1e18 as Aave's CAPO price adapters price
/// it (bgd-labs/aave-capo: WstETHPriceCapAdapter reads wstETH's
/// stEthPerToken, WeETHPriceCapAdapter weETH's getRate; the underlying
/// at par with ether; the growth cap never binds here). rateSelector is
/// the collateral's rate view.
contract LoopPriceOracle {
    address public weth;
    address public collateral;
    bytes4 public rateSelector;
    uint256 public ethPrice;

    constructor(address w, address c, bytes4 sel, uint256 p) {
        weth = w;
        collateral = c;
        rateSelector = sel;
        ethPrice = p;
    }

    function getAssetPrice(address asset) external view returns (uint256) {
        if (asset == collateral) {
            (bool ok, bytes memory out) = collateral.staticcall(abi.encodeWithSelector(rateSelector));
            require(ok, "rate");
            return (ethPrice * abi.decode(out, (uint256))) / 1 ether;
        }
        require(asset == weth, "no price");
        return ethPrice;
    }
}

/// ether.fi's LiquidityPool (etherfi-protocol/smart-contracts
/// src/LiquidityPool.sol): deposit() payable mints eETH shares for the
/// ether at _sharesForDepositAmount (the amount x total shares / the
/// pooled ether before it), sharesForAmount and amountForShare value
/// shares at getTotalPooledEther / eETH.totalShares. The pooled ether
/// starts above the shares (the constructor's), so one share is worth
/// more than one ether, as on mainnet; no oracle rebases it here. It
/// deploys its eETH.
///
/// The withdrawal queue (etherfi-protocol/smart-contracts commit b4a0968,
/// src/core/LiquidityPool.sol): the public immutable withdrawRequestNFT
/// (deployed here by the constructor); requestWithdraw(recipient, amount)
/// reverts on a zero amount or share, moves the amount of eETH from the
/// sender to the NFT contract and has it mint a request of (amount,
/// sharesForAmount(amount)) to recipient; withdraw(amount, share), only
/// from the NFT contract, burns the NFT contract's share of eETH and takes
/// the amount off the pooled ether; amountPerShareCeil is the share rate
/// rounded up. Unlike ether.fi's (which sends the ether to the NFT
/// contract when requests are finalized), withdraw here sends the amount
/// to the NFT contract as the claim is made.
contract LoopEtherFiLiquidityPool {
    LoopEETH public eETH;
    uint256 public totalPooledEther;
    LoopWithdrawRequestNFT public withdrawRequestNFT;

    event Deposit(address indexed sender, uint256 amount, uint8 source, address referral);

    constructor(uint256 initialShares, uint256 initialPooledEther) {
        eETH = new LoopEETH(initialShares);
        totalPooledEther = initialPooledEther;
        withdrawRequestNFT = new LoopWithdrawRequestNFT(this);
    }

    function amountPerShareCeil() public view returns (uint256) {
        uint256 t = eETH.totalShares();
        if (t == 0) return 0;
        return (1e18 * totalPooledEther + t - 1) / t;
    }

    function requestWithdraw(address recipient, uint256 amount) external returns (uint256) {
        require(amount > 0, "InvalidWithdrawalAmount");
        uint256 share = sharesForAmount(amount);
        require(share > 0, "InvalidShareAmount");
        require(eETH.transferFrom(msg.sender, address(withdrawRequestNFT), amount), "transfer");
        return withdrawRequestNFT.requestWithdraw(uint96(amount), uint96(share), recipient);
    }

    function withdraw(uint256 _amount, uint256 _share) external {
        require(msg.sender == address(withdrawRequestNFT), "IncorrectCaller");
        require(_amount > 0 && _share > 0, "InvalidAmount");
        totalPooledEther -= _amount;
        eETH.burnShares(msg.sender, _share);
        (bool ok, ) = msg.sender.call{value: _amount}("");
        require(ok, "send");
    }

    function getTotalPooledEther() public view returns (uint256) {
        return totalPooledEther;
    }

    function sharesForAmount(uint256 _amount) public view returns (uint256) {
        if (totalPooledEther == 0) return 0;
        return (_amount * eETH.totalShares()) / totalPooledEther;
    }

    function amountForShare(uint256 _share) public view returns (uint256) {
        uint256 t = eETH.totalShares();
        if (t == 0) return 0;
        return (_share * totalPooledEther) / t;
    }

    function getTotalEtherClaimOf(address _user) external view returns (uint256) {
        return amountForShare(eETH.shares(_user));
    }

    function deposit() external payable returns (uint256) {
        uint256 share = (msg.value * eETH.totalShares()) / totalPooledEther;
        require(share > 0, "InvalidAmount");
        totalPooledEther += msg.value;
        eETH.mintShares(msg.sender, share);
        emit Deposit(msg.sender, msg.value, 0, address(0));
        return share;
    }
}

/// ether.fi's eETH (etherfi-protocol/smart-contracts src/EETH.sol): a
/// share token whose balanceOf is liquidityPool.getTotalEtherClaimOf and
/// whose transfers move liquidityPool.sharesForAmount(amount) shares;
/// only the pool mints.
contract LoopEETH is LoopShareToken {
    string public constant name = "ether.fi ETH";
    string public constant symbol = "eETH";
    uint8 public constant decimals = 18;

    LoopEtherFiLiquidityPool public liquidityPool;

    constructor(uint256 initialShares) LoopShareToken(initialShares, "TRANSFER_AMOUNT_EXCEEDS_ALLOWANCE", "TRANSFER_AMOUNT_EXCEEDS_BALANCE") {
        liquidityPool = LoopEtherFiLiquidityPool(msg.sender);
    }

    function _sharesFor(uint256 amount) internal view override returns (uint256) {
        return liquidityPool.sharesForAmount(amount);
    }

    function mintShares(address _user, uint256 _share) external {
        require(msg.sender == address(liquidityPool), "Only pool contract function");
        _mintShares(_user, _share, liquidityPool.amountForShare(_share));
    }

    function burnShares(address _user, uint256 _share) external {
        require(msg.sender == address(liquidityPool), "Only pool contract function");
        require(shareOf[_user] >= _share, "BURN_AMOUNT_EXCEEDS_BALANCE");
        shareOf[_user] -= _share;
        totalShares -= _share;
    }

    function shares(address _user) external view returns (uint256) {
        return shareOf[_user];
    }

    function totalSupply() external view returns (uint256) {
        return liquidityPool.getTotalPooledEther();
    }

    function balanceOf(address _user) external view returns (uint256) {
        return liquidityPool.getTotalEtherClaimOf(_user);
    }
}

/// ether.fi's weETH (etherfi-protocol/smart-contracts src/WeETH.sol):
/// wrap mints liquidityPool.sharesForAmount(eETH) weETH, unwrap pays
/// amountForShare(weETH) eETH, getEETHByWeETH and getRate value it.
contract LoopWeETH is LoopShareWrapper {
    LoopEtherFiLiquidityPool public liquidityPool;
    LoopEETH public eETH;

    constructor(LoopEtherFiLiquidityPool lp)
        LoopShareWrapper("Wrapped eETH", "weETH", lp.eETH(), "weETH: can't wrap zero eETH", "Cannot unwrap a zero amount")
    {
        liquidityPool = lp;
        eETH = lp.eETH();
    }

    function _sharesFor(uint256 amount) internal view override returns (uint256) {
        return liquidityPool.sharesForAmount(amount);
    }

    function _amountFor(uint256 wrapped) internal view override returns (uint256) {
        return liquidityPool.amountForShare(wrapped);
    }

    function getEETHByWeETH(uint256 _weETHAmount) public view returns (uint256) {
        return liquidityPool.amountForShare(_weETHAmount);
    }

    function getRate() external view returns (uint256) {
        return getEETHByWeETH(1 ether);
    }
}

/// The Curve weETH/WETH stableswap-ng pool's exchange (curvefi/stableswap-ng
/// contracts/main/CurveStableSwapNG.vy: exchange(i, j, _dx, _min_dy),
/// TokenExchange event, the "Exchange resulted in fewer coins than
/// expected" revert; coin 0 WETH, coin 1 weETH, priced through weETH's
/// getRate as the pool's rate oracle), weETH to WETH only, at a fixed
/// price in basis points of the rate in place of the pool's invariant.
contract LoopCurveWeETHPool {
    IERC20 public weth;
    LoopWeETH public weETH;
    uint256 public priceBps;

    event TokenExchange(address indexed buyer, int128 sold_id, uint256 tokens_sold, int128 bought_id, uint256 tokens_bought);

    constructor(IERC20 w, LoopWeETH e, uint256 bps) {
        weth = w;
        weETH = e;
        priceBps = bps;
    }

    function exchange(int128 i, int128 j, uint256 _dx, uint256 _min_dy) external returns (uint256) {
        require(i == 1 && j == 0, "only weETH to WETH here");
        uint256 dy = (((_dx * weETH.getRate()) / 1 ether) * priceBps) / 10000;
        require(dy >= _min_dy, "Exchange resulted in fewer coins than expected");
        weETH.transferFrom(msg.sender, address(this), _dx);
        require(weth.transfer(msg.sender, dy), "WETH transfer failed");
        emit TokenExchange(msg.sender, i, _dx, j, dy);
        return dy;
    }
}

/// Lido's WithdrawalQueueERC721 (lidofinance/core contracts/0.8.9/
/// WithdrawalQueue.sol, WithdrawalQueueBase.sol and
/// WithdrawalQueueERC721.sol), the parts the queued loop unwind calls and
/// reads, with their ABI: requestWithdrawalsWstETH pulls each amount of
/// wstETH, unwraps it and enqueues its stETH for the owner if it is within
/// MIN_STETH_WITHDRAWAL_AMOUNT and MAX_STETH_WITHDRAWAL_AMOUNT (100 wei,
/// 1000 stETH; RequestAmountTooSmall, RequestAmountTooLarge), emitting
/// WithdrawalRequested and the request NFT's ERC-721 Transfer;
/// getWithdrawalRequests (the owner's unclaimed requests),
/// getWithdrawalStatus, getLastCheckpointIndex, findCheckpointHints and
/// getClaimableEther; claimWithdrawals by the requests' owner, each
/// finalized and unclaimed with the checkpoint that covers it
/// (RequestNotFoundOrNotFinalized, RequestAlreadyClaimed, NotOwner,
/// InvalidHint), paying the request's ether and emitting
/// WithdrawalClaimed. finalize(lastId, maxShareRate) stands in for the
/// oracle report's call (Lido.sol handleOracleReport, with the ether the
/// withdrawal vault pays): it takes exactly the requests' stETH in ether
/// and writes a checkpoint from the first request it finalizes; the
/// discount a loss reported after the request applies (the checkpoint's
/// share rate below the requests') is left out, so a claim pays the
/// request's stETH. Roles, pausing and the NFT's transfers are left out.
contract LoopWithdrawalQueue {
    uint256 public constant MIN_STETH_WITHDRAWAL_AMOUNT = 100;
    uint256 public constant MAX_STETH_WITHDRAWAL_AMOUNT = 1000 * 1e18;

    LoopStETH public immutable STETH;
    LoopWstETH public immutable WSTETH;

    struct Request {
        uint128 amountOfStETH;
        uint128 amountOfShares;
        address owner;
        uint64 timestamp;
        bool claimed;
    }

    struct WithdrawalRequestStatus {
        uint256 amountOfStETH;
        uint256 amountOfShares;
        address owner;
        uint256 timestamp;
        bool isFinalized;
        bool isClaimed;
    }

    // requests[id], ids from 1; checkpoints[i].fromId, indexes from 1.
    mapping(uint256 => Request) private requests;
    uint256 public getLastRequestId;
    uint256 public getLastFinalizedRequestId;
    uint256[] private checkpointFrom;
    mapping(address => uint256[]) private byOwner;

    event WithdrawalRequested(uint256 indexed requestId, address indexed requestor, address indexed owner, uint256 amountOfStETH, uint256 amountOfShares);
    event WithdrawalsFinalized(uint256 indexed from, uint256 indexed to, uint256 amountOfETHLocked, uint256 sharesToBurn, uint256 timestamp);
    event WithdrawalClaimed(uint256 indexed requestId, address indexed owner, address indexed receiver, uint256 amountOfETH);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);

    error RequestAmountTooSmall(uint256 _amountOfStETH);
    error RequestAmountTooLarge(uint256 _amountOfStETH);
    error InvalidRequestId(uint256 _requestId);
    error RequestNotFoundOrNotFinalized(uint256 _requestId);
    error RequestAlreadyClaimed(uint256 _requestId);
    error NotOwner(address _sender, address _owner);
    error InvalidHint(uint256 _hint);
    error ArraysLengthMismatch(uint256 _firstArrayLength, uint256 _secondArrayLength);
    error RequestIdsNotSorted();
    error NotEnoughEther();

    constructor(LoopWstETH wst) {
        WSTETH = wst;
        STETH = wst.stETH();
    }

    function requestWithdrawalsWstETH(uint256[] calldata _amounts, address _owner) external returns (uint256[] memory requestIds) {
        if (_owner == address(0)) _owner = msg.sender;
        requestIds = new uint256[](_amounts.length);
        for (uint256 i = 0; i < _amounts.length; ++i) {
            WSTETH.transferFrom(msg.sender, address(this), _amounts[i]);
            uint256 st = WSTETH.unwrap(_amounts[i]);
            if (st < MIN_STETH_WITHDRAWAL_AMOUNT) revert RequestAmountTooSmall(st);
            if (st > MAX_STETH_WITHDRAWAL_AMOUNT) revert RequestAmountTooLarge(st);
            uint256 sh = STETH.getSharesByPooledEth(st);
            uint256 id = ++getLastRequestId;
            requests[id] = Request(uint128(st), uint128(sh), _owner, uint64(block.timestamp), false);
            byOwner[_owner].push(id);
            emit WithdrawalRequested(id, msg.sender, _owner, st, sh);
            emit Transfer(address(0), _owner, id);
            requestIds[i] = id;
        }
    }

    function finalize(uint256 _lastRequestIdToBeFinalized, uint256) external payable {
        uint256 from = getLastFinalizedRequestId + 1;
        if (_lastRequestIdToBeFinalized < from || _lastRequestIdToBeFinalized > getLastRequestId) revert InvalidRequestId(_lastRequestIdToBeFinalized);
        uint256 eth;
        uint256 sh;
        for (uint256 id = from; id <= _lastRequestIdToBeFinalized; ++id) {
            eth += requests[id].amountOfStETH;
            sh += requests[id].amountOfShares;
        }
        if (msg.value != eth) revert NotEnoughEther();
        checkpointFrom.push(from);
        getLastFinalizedRequestId = _lastRequestIdToBeFinalized;
        emit WithdrawalsFinalized(from, _lastRequestIdToBeFinalized, eth, sh, block.timestamp);
    }

    function getLastCheckpointIndex() public view returns (uint256) {
        return checkpointFrom.length;
    }

    function getWithdrawalRequests(address _owner) external view returns (uint256[] memory requestsIds) {
        uint256[] storage all = byOwner[_owner];
        uint256 n;
        for (uint256 i = 0; i < all.length; ++i) {
            if (!requests[all[i]].claimed) n++;
        }
        requestsIds = new uint256[](n);
        n = 0;
        for (uint256 i = 0; i < all.length; ++i) {
            if (!requests[all[i]].claimed) requestsIds[n++] = all[i];
        }
    }

    function getWithdrawalStatus(uint256[] calldata _requestIds) external view returns (WithdrawalRequestStatus[] memory statuses) {
        statuses = new WithdrawalRequestStatus[](_requestIds.length);
        for (uint256 i = 0; i < _requestIds.length; ++i) {
            uint256 id = _requestIds[i];
            if (id == 0 || id > getLastRequestId) revert InvalidRequestId(id);
            Request storage r = requests[id];
            statuses[i] = WithdrawalRequestStatus(r.amountOfStETH, r.amountOfShares, r.owner, r.timestamp, id <= getLastFinalizedRequestId, r.claimed);
        }
    }

    // The checkpoint index covering id in [first, last], 0 if none
    // (WithdrawalQueueBase._findCheckpointHint, linearly).
    function _hint(uint256 id, uint256 first, uint256 last) internal view returns (uint256) {
        if (id == 0 || id > getLastRequestId) revert InvalidRequestId(id);
        if (id > getLastFinalizedRequestId || first == 0 || last > checkpointFrom.length || first > last) return 0;
        for (uint256 i = last; i >= first; --i) {
            if (checkpointFrom[i - 1] <= id) return i;
        }
        return 0;
    }

    function findCheckpointHints(uint256[] calldata _requestIds, uint256 _firstIndex, uint256 _lastIndex) external view returns (uint256[] memory hintIds) {
        hintIds = new uint256[](_requestIds.length);
        uint256 prev = 0;
        for (uint256 i = 0; i < _requestIds.length; ++i) {
            if (_requestIds[i] < prev) revert RequestIdsNotSorted();
            hintIds[i] = _hint(_requestIds[i], _firstIndex, _lastIndex);
            if (hintIds[i] != 0) _firstIndex = hintIds[i];
            prev = _requestIds[i];
        }
    }

    function _validHint(uint256 id, uint256 hint) internal view returns (bool) {
        if (hint == 0 || hint > checkpointFrom.length) return false;
        if (id < checkpointFrom[hint - 1]) return false;
        return hint == checkpointFrom.length || id < checkpointFrom[hint];
    }

    function getClaimableEther(uint256[] calldata _requestIds, uint256[] calldata _hints) external view returns (uint256[] memory claimableEthValues) {
        claimableEthValues = new uint256[](_requestIds.length);
        for (uint256 i = 0; i < _requestIds.length; ++i) {
            uint256 id = _requestIds[i];
            if (id == 0 || id > getLastRequestId) revert InvalidRequestId(id);
            if (id > getLastFinalizedRequestId || requests[id].claimed) continue;
            if (!_validHint(id, _hints[i])) revert InvalidHint(_hints[i]);
            claimableEthValues[i] = requests[id].amountOfStETH;
        }
    }

    function claimWithdrawals(uint256[] calldata _requestIds, uint256[] calldata _hints) external {
        if (_requestIds.length != _hints.length) revert ArraysLengthMismatch(_requestIds.length, _hints.length);
        for (uint256 i = 0; i < _requestIds.length; ++i) {
            uint256 id = _requestIds[i];
            if (id == 0) revert InvalidRequestId(id);
            if (id > getLastFinalizedRequestId) revert RequestNotFoundOrNotFinalized(id);
            Request storage r = requests[id];
            if (r.claimed) revert RequestAlreadyClaimed(id);
            if (r.owner != msg.sender) revert NotOwner(msg.sender, r.owner);
            if (!_validHint(id, _hints[i])) revert InvalidHint(_hints[i]);
            r.claimed = true;
            (bool ok, ) = msg.sender.call{value: r.amountOfStETH}("");
            require(ok, "CantSendValueRecipientMayHaveReverted");
            emit WithdrawalClaimed(id, msg.sender, msg.sender, r.amountOfStETH);
            emit Transfer(msg.sender, address(0), id);
        }
    }
}

/// ether.fi's WithdrawRequestNFT (etherfi-protocol/smart-contracts commit
/// b4a0968, src/withdrawals/WithdrawRequestNFT.sol), the parts the
/// executor calls, with their ABI, written anew: requestWithdraw (the
/// pool only) stores (amountOfEEth, shareOfEEth) and mints the next id
/// (from 1) to the recipient; finalizeRequests(requestId) finalizes up to
/// it at the pool's amountPerShareCeil (CannotUndoFinalization,
/// CannotFinalizeFutureRequests; any caller here, the admin in
/// ether.fi's); claimWithdraw(tokenId) reverts unless finalized
/// (RequestNotFinalized), pays the owner min(amountOfEEth, shareOfEEth x
/// the frozen rate / 1e18), burns the NFT and the request's shares
/// through the pool's withdraw.
contract LoopWithdrawRequestNFT is ERC721 {
    struct WithdrawRequest {
        uint96 amountOfEEth;
        uint96 shareOfEEth;
    }

    LoopEtherFiLiquidityPool public liquidityPool;
    uint256 public nextRequestId = 1;
    uint256 public lastFinalizedRequestId;
    mapping(uint256 => WithdrawRequest) private requests;
    mapping(uint256 => uint256) private frozenRate;

    constructor(LoopEtherFiLiquidityPool lp) ERC721("Withdraw Request NFT", "WithdrawRequestNFT") {
        liquidityPool = lp;
    }

    receive() external payable {}

    function requestWithdraw(uint96 amountOfEEth, uint96 shareOfEEth, address recipient) external returns (uint256) {
        require(msg.sender == address(liquidityPool), "IncorrectCaller");
        uint256 id = nextRequestId++;
        requests[id] = WithdrawRequest(amountOfEEth, shareOfEEth);
        _safeMint(recipient, id);
        return id;
    }

    function finalizeRequests(uint256 requestId) external {
        require(requestId >= lastFinalizedRequestId, "CannotUndoFinalization");
        require(requestId < nextRequestId, "CannotFinalizeFutureRequests");
        uint256 rate = liquidityPool.amountPerShareCeil();
        for (uint256 i = lastFinalizedRequestId + 1; i <= requestId; i++) {
            frozenRate[i] = rate;
        }
        lastFinalizedRequestId = requestId;
    }

    function getClaimableAmount(uint256 tokenId) public view returns (uint256) {
        require(tokenId <= lastFinalizedRequestId, "RequestNotFinalized");
        WithdrawRequest memory r = requests[tokenId];
        uint256 forShares = (uint256(r.shareOfEEth) * frozenRate[tokenId]) / 1e18;
        return forShares < r.amountOfEEth ? forShares : r.amountOfEEth;
    }

    function claimWithdraw(uint256 tokenId) external {
        address recipient = ownerOf(tokenId);
        uint256 amount = getClaimableAmount(tokenId);
        uint256 share = requests[tokenId].shareOfEEth;
        _burn(tokenId);
        delete requests[tokenId];
        liquidityPool.withdraw(amount, share);
        (bool ok, ) = payable(recipient).call{value: amount}("");
        require(ok, "EthTransferFailed");
    }
}
