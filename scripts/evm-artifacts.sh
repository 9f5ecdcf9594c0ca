#!/usr/bin/env bash
# Fetches the compiled contracts the execution integration tests deploy on
# go-ethereum's simulated backend (execution/chaintest), from the npm
# registry: OpenZeppelin's ERC20PresetMinterPauser as published in
# @openzeppelin/contracts 4.9.6 (build/contracts), and OpenZeppelin's ERC4626
# from the same package compiled with solc-js 0.8.20 (the package ships it
# abstract; testdata/OZVault.sol only adds a constructor); and Aave v3's own
# compiled contracts as published in @aave/core-v3 1.19.3 (artifacts/: the
# Pool and its logic libraries, PoolConfigurator, PoolAddressesProvider,
# ACLManager, the token implementations, the interest rate strategy); and the
# Safe's own compiled contracts as published in @gnosis.pm/safe-contracts
# 1.3.0 (build/artifacts: the GnosisSafe singleton, GnosisSafeProxyFactory and
# MultiSendCallOnly, which the Safe's Transaction Builder batches run through).
#
# Writes execution/chaintest/testdata/artifacts/ (not in git). Outside CI,
# when npm or the registry cannot be reached, it says so and exits 0 (the
# tests then skip with the same message); under CI=true it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

OZ_VERSION=4.9.6
SOLC_VERSION=0.8.20
AAVE_VERSION=1.19.3
SAFE_VERSION=1.3.0
out=execution/chaintest/testdata/artifacts
# The stamp names the test contracts' sources too, so that an edit or a new
# file under testdata/ recompiles them.
stamp="oz-$OZ_VERSION solc-$SOLC_VERSION aave-$AAVE_VERSION safe-$SAFE_VERSION+multisendcallonly sol-$(cat execution/chaintest/testdata/*.sol | sha256sum | cut -c1-16)"

if [ -f "$out/STAMP" ] && [ "$(cat "$out/STAMP")" = "$stamp" ]; then
  echo "evm artifacts: up to date ($stamp)"
  exit 0
fi

skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "evm artifacts: $*" >&2
    exit 1
  fi
  echo "evm artifacts: $*; the EVM integration tests will skip" >&2
  exit 0
}

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    sudo=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
  else
    skip "node and npm are not installed (apt-get install nodejs npm)"
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && timeout 300 npm install --no-audit --no-fund --silent \
  "@openzeppelin/contracts@$OZ_VERSION" "solc@$SOLC_VERSION" "@aave/core-v3@$AAVE_VERSION" "@gnosis.pm/safe-contracts@$SAFE_VERSION" >/dev/null 2>&1); then
  skip "npm could not install @openzeppelin/contracts@$OZ_VERSION, solc@$SOLC_VERSION, @aave/core-v3@$AAVE_VERSION and @gnosis.pm/safe-contracts@$SAFE_VERSION (is the npm registry reachable?)"
fi

mkdir -p "$out"
rm -f "$out"/*.json "$out/STAMP"
cp "$work/node_modules/@openzeppelin/contracts/build/contracts/ERC20PresetMinterPauser.json" "$out/"
aave="$work/node_modules/@aave/core-v3/artifacts/contracts/protocol"
for f in configuration/PoolAddressesProvider configuration/ACLManager pool/Pool pool/PoolConfigurator \
  pool/DefaultReserveInterestRateStrategy tokenization/AToken tokenization/StableDebtToken tokenization/VariableDebtToken \
  libraries/logic/SupplyLogic libraries/logic/BorrowLogic libraries/logic/LiquidationLogic libraries/logic/EModeLogic \
  libraries/logic/BridgeLogic libraries/logic/FlashLoanLogic libraries/logic/PoolLogic libraries/logic/ConfiguratorLogic; do
  name=$(basename "$f")
  cp "$aave/$f.sol/$name.json" "$out/Aave$name.json"
done
safe="$work/node_modules/@gnosis.pm/safe-contracts/build/artifacts/contracts"
cp "$safe/GnosisSafe.sol/GnosisSafe.json" "$out/SafeGnosisSafe.json"
cp "$safe/proxies/GnosisSafeProxyFactory.sol/GnosisSafeProxyFactory.json" "$out/SafeGnosisSafeProxyFactory.json"
cp "$safe/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json" "$out/SafeMultiSendCallOnly.json"
node scripts/evm-compile.js "$work/node_modules" execution/chaintest/testdata "$out"
echo "$stamp" > "$out/STAMP"
echo "evm artifacts: $(ls "$out" | tr '\n' ' ')"
