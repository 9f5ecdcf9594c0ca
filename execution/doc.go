// Package execution turns a vault's actions on markets into the calls a
// real chain executes: for each built-in market on Ethereum mainnet the
// protocol's deployed contracts (Deployment, with the source of every
// address, checked for its EIP-55 checksum), and for each action (supply,
// withdraw, borrow, repay, stake, wrap, unwrap, withdrawal-queue request
// and claim, Curve swap, add and remove, Uniswap v3 mint, decrease and
// collect, ERC-20 approvals) the ABI-encoded calls, encoded with
// go-ethereum's accounts/abi from fragments of the protocols' published
// ABIs (Encoder.Calls).
//
// Every call's recipient, owner or onBehalfOf is the vault's own address.
// An ETH-base vault holds WETH: a native-ETH entry (Lido's submit, Rocket
// Pool's deposit, ...) is preceded by WETH.withdraw of the amount it
// sends.
//
// Markets without a deployment say why (Book.Deployment's error): a
// built-in market that models a protocol's vault without naming one
// (MetaMorpho, Symbiotic) needs the chosen vault's address; a market off
// Ethereum (Kamino, Babylon) has none.
//
// It sits beside service, above vault: service may import it, nothing
// below vault does, and it is the only package of the module that imports
// go-ethereum (internal/archtest checks both).
package execution
