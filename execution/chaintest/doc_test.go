// Package chaintest runs the execution layer against a real EVM: go-ethereum's
// in-process simulated backend, with contracts from the npm registry
// (scripts/evm-artifacts.sh: OpenZeppelin's ERC20PresetMinterPauser as
// published, and OpenZeppelin's ERC4626 compiled from the same package).
// It holds only tests, so the heavy simulated backend is compiled for them
// alone.
package chaintest
