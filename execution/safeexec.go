package execution

import (
	"context"
	"math/big"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/yieldvault/yieldvault/adapters"
)

// safeABI is the Safe's (safe-global/safe-smart-account v1.3.0
// contracts/GnosisSafe.sol) execTransaction and the views the executor
// checks an owner with. Later versions (1.4.1) keep these signatures.
var safeABI = mustABI("safe", `[
{"type":"function","name":"execTransaction","stateMutability":"payable","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"},{"name":"data","type":"bytes"},{"name":"operation","type":"uint8"},{"name":"safeTxGas","type":"uint256"},{"name":"baseGas","type":"uint256"},{"name":"gasPrice","type":"uint256"},{"name":"gasToken","type":"address"},{"name":"refundReceiver","type":"address"},{"name":"signatures","type":"bytes"}],"outputs":[{"name":"success","type":"bool"}]},
{"type":"function","name":"getThreshold","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"isOwner","stateMutability":"view","inputs":[{"name":"owner","type":"address"}],"outputs":[{"name":"","type":"bool"}]}]`)

// ownerSignature is the Safe's pre-validated signature of an owner that
// sends the transaction itself (Safe's signature docs, "Pre-Validated
// Signatures": r is the owner's address left-padded to 32 bytes, s is
// zero, v is 1; GnosisSafe.checkNSignatures accepts it when msg.sender is
// that owner). With a threshold of one, the owner's own transaction is
// the whole approval: nothing is signed off chain, so any signer that
// signs transactions (a keystore, Clef, web3signer) can execute.
func ownerSignature(owner common.Address) []byte {
	sig := make([]byte, 65)
	copy(sig[12:32], owner.Bytes())
	sig[64] = 1
	return sig
}

// ViaSafe wraps calls for execution through the Safe at safe by one of
// its owners: each becomes Safe.execTransaction(to, value, data, CALL,
// safeTxGas 0, baseGas 0, gasPrice 0 (no refund), gasToken 0,
// refundReceiver 0, the owner's pre-validated signature). The Safe
// spends its own tokens and ether; with safeTxGas and gasPrice zero a
// failing inner call reverts the whole transaction (GS013), so the
// simulation before sending catches it. Each wrapped call keeps its
// order.
func ViaSafe(safe, owner common.Address, calls []Call) ([]Call, error) {
	out := make([]Call, 0, len(calls))
	sc := Contract{Name: "Safe " + safe.Hex(), Address: safe, Source: "the vault's own Safe (execution.vaults[].safe)"}
	zero := new(big.Int)
	for _, c := range calls {
		w, err := newCall(safeABI, sc, nil, "execTransaction", c.To, valueOf(c.Value), c.Data, uint8(0), zero, zero, zero, common.Address{}, common.Address{}, ownerSignature(owner))
		if err != nil {
			return nil, err
		}
		w.Order, w.ExtraGas = c.Order, c.ExtraGas
		w.Contract = "Safe(" + c.Contract + "." + c.Method.RawName + ")"
		out = append(out, w)
	}
	return out, nil
}

// CheckSafe checks on chain that owner can execute alone through the
// Safe at safe: it is an owner and the threshold is one.
func CheckSafe(ctx context.Context, cl ethereum.ContractCaller, vaultID string, safe, owner common.Address) error {
	const op = "execution.CheckSafe"
	rd := reader{ctx: ctx, cl: cl, vault: safe}
	th, err := rd.uint(safeABI, safe, "getThreshold")
	if err != nil {
		return adapters.E(op, adapters.KindInvalid, "vault %s: %s does not answer as a Safe (getThreshold): %v", vaultID, safe.Hex(), trimOp(err))
	}
	vals, err := rd.call(safeABI, safe, "isOwner", owner)
	if err != nil {
		return adapters.E(op, adapters.KindInvalid, "vault %s: %s does not answer as a Safe (isOwner): %v", vaultID, safe.Hex(), trimOp(err))
	}
	if ok, _ := vals[0].(bool); !ok {
		return adapters.E(op, adapters.KindInvalid, "vault %s: the keystore's account %s is not an owner of the Safe %s", vaultID, owner.Hex(), safe.Hex())
	}
	if th.Cmp(big.NewInt(1)) != 0 {
		return adapters.E(op, adapters.KindInvalid, "vault %s: the Safe %s needs %s signatures; send mode executes through a Safe whose threshold is 1 (use propose mode for a multisig)", vaultID, safe.Hex(), th)
	}
	return nil
}
