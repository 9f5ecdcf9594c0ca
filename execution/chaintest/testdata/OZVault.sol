// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

// OpenZeppelin's ERC4626 (package @openzeppelin/contracts 4.9.6) made deployable:
// the package ships it abstract, so this contract only adds a constructor
// naming the asset and the share token. Every function is OpenZeppelin's.
contract OZVault is ERC4626 {
    constructor(IERC20 asset_) ERC20("yieldvault test vault", "yvTEST") ERC4626(asset_) {}
}
