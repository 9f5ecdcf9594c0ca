// Package chaintest runs the execution layer against a real EVM: go-ethereum's
// in-process simulated backend, with contracts from the npm registry
// (scripts/evm-artifacts.sh: OpenZeppelin's ERC20PresetMinterPauser as
// published, OpenZeppelin's ERC4626 compiled from the same package, and
// Aave v3's Pool, PoolConfigurator, libraries and tokens as published in
// @aave/core-v3, deployed and wired as Aave's own deployment does).
// It holds only tests, so the heavy simulated backend is compiled for them
// alone.
package chaintest
