// SPDX-License-Identifier: MIT
// A small contract with the exact ABI of Swell's rswETH as the executor
// calls it: deposit() payable and rswETHToETHRate(), with the ERC-20 the
// vault holds. Swell publishes no compiled artifact on npm; the logic the
// test depends on follows SwellNetwork/v3-core-public (commit ba1eeff)
// contracts/lrt/contracts/implementations/RswETH.sol and Whitelist.sol,
// written here anew:
//   - _deposit mints msg.value x 1e18 / rswETHToETHRate (PRB UD60x18 mul
//     then div, both rounding down) to msg.sender, and reverts on a zero
//     value (InvalidETHDeposit) or, while the whitelist is enabled, for a
//     sender not in it (NotInWhitelist);
//   - rswETHToETHRate is the stored rate, 1e18 before any reprice.
// The repricing oracle's reprice(...) is not modelled: setRate stands in
// for it so that the test can move the rate between deposits.
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import "@openzeppelin/contracts/token/ERC721/ERC721.sol";

contract SwellRswETH is ERC20 {
    error InvalidETHDeposit();
    error NotInWhitelist();

    uint256 private rswETHToETHRateFixed;
    bool public whitelistEnabled;
    mapping(address => bool) public whitelistedAddresses;
    uint256 public totalETHDeposited;
    // Whitelist.sol (which RswETH inherits): IAccessControlManager
    // public AccessControlManager, the getter the executor reads rswEXIT
    // through. setAccessControlManager stands in for initialize.
    address public AccessControlManager;

    function setAccessControlManager(address acm) external {
        AccessControlManager = acm;
    }

    // RswETH.sol burn(uint256 amount): reverts on zero
    // (CannotBurnZeroRswETH), burns from msg.sender (rswEXIT, after
    // pulling the request's rswETH).
    error CannotBurnZeroRswETH();

    function burn(uint256 amount) external {
        if (amount == 0) {
            revert CannotBurnZeroRswETH();
        }
        _burn(msg.sender, amount);
    }

    constructor(uint256 rate) ERC20("rswETH", "rswETH") {
        rswETHToETHRateFixed = rate;
    }

    function setRate(uint256 rate) external {
        rswETHToETHRateFixed = rate;
    }

    function setWhitelist(bool enabled, address who, bool listed) external {
        whitelistEnabled = enabled;
        whitelistedAddresses[who] = listed;
    }

    function rswETHToETHRate() public view returns (uint256) {
        if (rswETHToETHRateFixed == 0) {
            return 1 ether;
        }
        return rswETHToETHRateFixed;
    }

    function deposit() external payable {
        if (whitelistEnabled && !whitelistedAddresses[msg.sender]) {
            revert NotInWhitelist();
        }
        if (msg.value == 0) {
            revert InvalidETHDeposit();
        }
        // UD60x18: wrap(v).mul(wrap(1e18)) = v x 1e18 / 1e18 = v; then
        // .div(rate) = v x 1e18 / rate, rounded down.
        uint256 rswETHAmount = (msg.value * 1 ether) / rswETHToETHRate();
        _mint(msg.sender, rswETHAmount);
        totalETHDeposited += msg.value;
    }
}

// Swell's access control manager as the executor reads it:
// IAccessControlManager.sol rswEXIT() returns the exit contract (set by
// setRswEXIT, PLATFORM_ADMIN only in Swell's; unrestricted here), and
// rswETH() the token.
contract SwellAccessControlManager {
    address public rswEXIT;
    address public rswETH;

    constructor(address token) {
        rswETH = token;
    }

    function setRswEXIT(address exit) external {
        rswEXIT = exit;
    }
}

// Swell's rswEXIT with the ABI of IrswEXIT.sol for the calls the executor
// makes; the logic follows RswEXIT.sol (commit ba1eeff), written anew:
//   - createWithdrawRequest(amount): reverts below withdrawRequestMinimum
//     or above withdrawRequestMaximum (WithdrawRequestTooSmall/TooLarge),
//     pulls amount of rswETH from the sender (safeTransferFrom), burns
//     it, stores the request at the rate when created and mints the
//     next token id (from 1) to the sender;
//   - processWithdrawals(lastTokenId): records rswETH's current rate as
//     the processed rate of every request up to lastTokenId (Swell's
//     takes the ether from the DepositManager; here the call is payable
//     and the test sends the ether with it);
//   - finalizeWithdrawal(tokenId): reverts unless the request exists,
//     the sender owns it and it is processed; pays amount x min(processed
//     rate, rate when created) / 1e18 to the owner and burns the NFT.
contract SwellRswEXIT is ERC721 {
    error WithdrawRequestTooSmall(uint256 amount, uint256 minimum);
    error WithdrawRequestTooLarge(uint256 amount, uint256 maximum);
    error WithdrawalRequestDoesNotExist();
    error WithdrawalRequestFinalizationOnlyAllowedForNFTOwner();
    error WithdrawalRequestNotProcessed();

    struct WithdrawRequest {
        uint256 amount;
        uint256 rateWhenCreated;
    }

    SwellRswETH public rswETH;
    uint256 public withdrawRequestMinimum;
    uint256 public withdrawRequestMaximum;
    uint256 private lastTokenIdCreated;
    uint256 private lastTokenIdProcessed;
    uint256 private processedRate;
    mapping(uint256 => WithdrawRequest) public withdrawalRequests;

    constructor(SwellRswETH token, uint256 minimum, uint256 maximum) ERC721("rswETH Exit Queue", "rswETHexit") {
        rswETH = token;
        withdrawRequestMinimum = minimum;
        withdrawRequestMaximum = maximum;
    }

    function createWithdrawRequest(uint256 amount) external {
        if (amount < withdrawRequestMinimum) {
            revert WithdrawRequestTooSmall(amount, withdrawRequestMinimum);
        }
        if (amount > withdrawRequestMaximum) {
            revert WithdrawRequestTooLarge(amount, withdrawRequestMaximum);
        }
        require(rswETH.transferFrom(msg.sender, address(this), amount), "transfer");
        rswETH.burn(amount);
        uint256 tokenId = ++lastTokenIdCreated;
        withdrawalRequests[tokenId] = WithdrawRequest({amount: amount, rateWhenCreated: rswETH.rswETHToETHRate()});
        _safeMint(msg.sender, tokenId);
    }

    function processWithdrawals(uint256 lastTokenIdToProcess) external payable {
        require(lastTokenIdToProcess >= lastTokenIdProcessed && lastTokenIdToProcess <= lastTokenIdCreated, "range");
        lastTokenIdProcessed = lastTokenIdToProcess;
        processedRate = rswETH.rswETHToETHRate();
    }

    function finalizeWithdrawal(uint256 tokenId) external {
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) {
            revert WithdrawalRequestDoesNotExist();
        }
        if (owner != msg.sender) {
            revert WithdrawalRequestFinalizationOnlyAllowedForNFTOwner();
        }
        if (tokenId > lastTokenIdProcessed) {
            revert WithdrawalRequestNotProcessed();
        }
        WithdrawRequest memory r = withdrawalRequests[tokenId];
        uint256 finalRate = processedRate > r.rateWhenCreated ? r.rateWhenCreated : processedRate;
        uint256 ethClaim = (r.amount * finalRate) / 1 ether;
        _burn(tokenId);
        (bool ok, ) = payable(owner).call{value: ethClaim}("");
        require(ok, "send");
    }
}
