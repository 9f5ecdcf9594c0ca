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

contract SwellRswETH is ERC20 {
    error InvalidETHDeposit();
    error NotInWhitelist();

    uint256 private rswETHToETHRateFixed;
    bool public whitelistEnabled;
    mapping(address => bool) public whitelistedAddresses;
    uint256 public totalETHDeposited;

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
