package execution

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/yieldvault/yieldvault/adapters"
)

// Client is what the sender needs of an Ethereum node: go-ethereum's
// ethclient.Client (an RPC endpoint) and its simulated backend's client
// both have it.
type Client interface {
	ethereum.ChainIDReader
	ethereum.ContractCaller
	ethereum.GasEstimator
	ethereum.TransactionSender
	ethereum.TransactionReader
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// Signer signs transactions for one account.
type Signer interface {
	Address() common.Address
	SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error)
}

// KeystoreSigner signs with a key decrypted from an encrypted keystore
// file (Web3 Secret Storage, the format geth, Clef and most wallets
// write). The key stays in memory; it and the password never appear in
// an error, a log or a String.
type KeystoreSigner struct {
	addr common.Address
	key  *ecdsa.PrivateKey
}

// OpenKeystore decrypts a keystore file with its password.
func OpenKeystore(path, password string) (*KeystoreSigner, error) {
	const op = "execution.OpenKeystore"
	js, err := os.ReadFile(path)
	if err != nil {
		kind := adapters.KindInvalid
		if os.IsNotExist(err) {
			kind = adapters.KindNotFound
		}
		return nil, adapters.E(op, kind, "keystore %s: cannot read it", path)
	}
	k, err := keystore.DecryptKey(js, password)
	if err != nil {
		// DecryptKey's errors name neither the key nor the password;
		// say it in the user's words anyway.
		why := "not a keystore file"
		if errors.Is(err, keystore.ErrDecrypt) {
			why = "the password does not decrypt it"
		}
		return nil, adapters.E(op, adapters.KindInvalid, "keystore %s: %s", path, why)
	}
	return &KeystoreSigner{addr: k.Address, key: k.PrivateKey}, nil
}

// Address is the account's address.
func (s *KeystoreSigner) Address() common.Address { return s.addr }

// SignTx signs an EIP-1559 (or any typed) transaction for chainID.
func (s *KeystoreSigner) SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error) {
	return types.SignTx(tx, types.LatestSignerForChainID(chainID), s.key)
}

// String never shows the key.
func (s *KeystoreSigner) String() string { return "keystore signer " + s.addr.Hex() }

// Journal records every transaction durably before it is broadcast, so
// that an unknown outcome after a crash is resolved by querying the
// chain, never by sending again.
type Journal interface {
	// Record stores the signed transaction of call index i of intent key.
	// A journal that fences sending refuses it (an error wrapping
	// ErrFenced) when this process no longer holds the lease.
	Record(key string, i int, tx *types.Transaction) error
	// Lookup returns what Record stored, or nil.
	Lookup(key string, i int) (*types.Transaction, error)
	// MaxNonce is the highest nonce of a transaction recorded from
	// account from; ok is false when there is none.
	MaxNonce(from common.Address) (nonce uint64, ok bool, err error)
}

// ErrNonceTaken is wrapped by the error of a Record refused because the
// journal holds the transaction's nonce for another transaction of the
// account: two transactions on one nonce would orphan one of them.
var ErrNonceTaken = errors.New("the nonce is journalled for another transaction")

// ErrFenced is wrapped by the error of a Record refused because the
// process no longer holds the lease that entitles it to send (another
// process took it: this one was paused or cut off past its lease). The
// transaction was signed but is neither recorded nor broadcast, and the
// Sender stops the batch there: the lease holder resumes the intent.
var ErrFenced = errors.New("this process does not hold the lease, so it may not send: fenced out")

// Sent is one call's transaction and its receipt.
type Sent struct {
	Call    Call
	Tx      *types.Transaction
	Receipt *types.Receipt
	// Resumed is true when the transaction was found in the journal
	// (sent by an earlier run of the intent) rather than sent now.
	Resumed bool
}

// Sender sends a batch of calls as EIP-1559 transactions from the
// signer's account, one after the other: each is simulated (eth_call,
// then eth_estimateGas) on the state the previous ones left, recorded in
// the journal, broadcast, and waited for.
type Sender struct {
	Client  Client
	Signer  Signer
	Journal Journal
	// MaxFeePerGas is the gas gate: when the fee a transaction needs
	// (twice the base fee plus the tip) is above it, nothing is sent.
	// Nil: no gate.
	MaxFeePerGas *big.Int
	// Poll is how often a receipt is looked for (default 1s); Timeout
	// bounds the wait for one (default 10 min).
	Poll, Timeout time.Duration

	// mu makes one batch at a time: vaults sharing the signer (each
	// through its own Safe) would otherwise draw the same nonce.
	mu sync.Mutex
}

// RevertError is a call that reverted in simulation or on chain.
type RevertError struct {
	Index  int // the call's index in the batch
	Call   string
	Reason string // the revert reason when the contract gave one
	Mined  bool   // reverted on chain (a receipt with status 0), not in simulation
	Hash   common.Hash
}

func (e *RevertError) Error() string {
	where := "in simulation; nothing was sent"
	if e.Mined {
		where = "on chain in " + e.Hash.Hex()
	}
	r := e.Reason
	if r == "" {
		r = "no reason given"
	}
	return fmt.Sprintf("call %d (%s) reverts %s: %s", e.Index+1, e.Call, where, r)
}

// BatchSimulator is a node that simulates a batch of calls in sequence,
// each on the state the ones before it left, sending nothing
// (eth_simulateV1, which geth serves from 1.14.6; execution/node's client
// has it). The outcomes are in the calls' order. A node without the
// method answers an error wrapping ErrNoBatchSimulation.
type BatchSimulator interface {
	SimulateCalls(ctx context.Context, calls []ethereum.CallMsg) ([]SimulatedCall, error)
}

// SimulatedCall is one call's outcome in a batch simulation.
type SimulatedCall struct {
	Reverted bool
	Reason   string // the revert's decoded reason, or the node's message
}

// ErrNoBatchSimulation is wrapped by a BatchSimulator's error when the
// node does not serve batch simulation.
var ErrNoBatchSimulation = errors.New("the node does not simulate batches (eth_simulateV1)")

// Send carries out calls under intent key. Calls already in the journal
// are not sent again: a mined one is reported from its receipt, a pending
// one waited for (broadcast again, the same signed bytes, if the node no
// longer has it while its nonce is unused); one whose nonce another
// transaction took fails (replaced or dropped) for an operator.
//
// A new batch (none of its calls journalled) is simulated whole first
// when the node can (BatchSimulator): a revert anywhere in it stops it
// before its first transaction (a *RevertError, KindInvalid), so a batch
// whose third call would revert does not leave the first two done (an
// unwrapped WETH, an approval). Each call is simulated again just before
// it is sent, on the state then; a revert there (the chain moved between,
// or a node without batch simulation) stops the batch before anything of
// that call is sent, and the calls before it stay done.
func (s *Sender) Send(ctx context.Context, key string, calls []Call) ([]Sent, error) {
	const op = "execution.Sender.Send"
	s.mu.Lock()
	defer s.mu.Unlock()
	chainID, err := s.Client.ChainID(ctx)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	from := s.Signer.Address()
	if err := s.simulateBatch(ctx, key, from, calls); err != nil {
		return nil, err
	}
	var out []Sent
	for i, c := range calls {
		prev, err := s.Journal.Lookup(key, i)
		if err != nil {
			return out, err
		}
		if prev != nil {
			if !SameCall(prev, c) {
				return out, adapters.E(op, adapters.KindOther, "intent %s: the journal holds another transaction (%s) for call %d than %s.%s: reconcile by hand", key, prev.Hash().Hex(), i+1, c.Contract, c.Method.RawName)
			}
			rc, err := s.resume(ctx, from, prev)
			if err != nil {
				return out, err
			}
			out = append(out, Sent{Call: c, Tx: prev, Receipt: rc, Resumed: true})
			if rc.Status != types.ReceiptStatusSuccessful {
				return out, adapters.Wrap(op, adapters.KindInvalid, &RevertError{Index: i, Call: c.Contract + "." + c.Method.RawName, Mined: true, Hash: prev.Hash()})
			}
			continue
		}
		to := c.To
		msg := ethereum.CallMsg{From: from, To: &to, Value: valueOf(c.Value), Data: c.Data}
		if _, err := s.Client.CallContract(ctx, msg, nil); err != nil {
			return out, s.revert(op, i, c, err)
		}
		gas, err := s.Client.EstimateGas(ctx, msg)
		if err != nil {
			return out, s.revert(op, i, c, err)
		}
		head, err := s.Client.HeaderByNumber(ctx, nil)
		if err != nil {
			return out, adapters.Wrap(op, adapters.KindOther, err)
		}
		tip, err := s.Client.SuggestGasTipCap(ctx)
		if err != nil {
			return out, adapters.Wrap(op, adapters.KindOther, err)
		}
		base := head.BaseFee
		if base == nil {
			base = new(big.Int)
		}
		feeCap := new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
		if s.MaxFeePerGas != nil && feeCap.Cmp(s.MaxFeePerGas) > 0 {
			return out, adapters.E(op, adapters.KindCapExceeded, "call %d: the fee it needs, %s wei per gas (base fee %s, tip %s), is above the gas gate %s: nothing sent", i+1, feeCap, base, tip, s.MaxFeePerGas)
		}
		tx, err := s.signAndRecord(ctx, key, i, from, chainID, &types.DynamicFeeTx{
			ChainID: chainID, GasTipCap: tip, GasFeeCap: feeCap,
			Gas: gas + gas/5 + c.ExtraGas, To: &to, Value: valueOf(c.Value), Data: c.Data,
		})
		if err != nil {
			return out, err
		}
		if err := s.Client.SendTransaction(ctx, tx); err != nil && !knownTx(err) {
			return out, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("call %d: broadcast: %w (the transaction is journalled; the intent's re-run resolves it)", i+1, err))
		}
		rc, err := s.wait(ctx, tx.Hash())
		if err != nil {
			return out, err
		}
		out = append(out, Sent{Call: c, Tx: tx, Receipt: rc})
		if rc.Status != types.ReceiptStatusSuccessful {
			reason := ""
			if _, err := s.Client.CallContract(ctx, msg, rc.BlockNumber); err != nil {
				reason = revertReason(err)
			}
			return out, adapters.Wrap(op, adapters.KindInvalid, &RevertError{Index: i, Call: c.Contract + "." + c.Method.RawName, Reason: reason, Mined: true, Hash: tx.Hash()})
		}
	}
	return out, nil
}

// signAndRecord signs call i of intent key as tx at the account's next
// nonce and records it in the journal, durably before the broadcast: a
// crash from there on is resolved by resume, never by a second
// transaction. When the journal holds the nonce for another transaction
// already (another instance recorded it between the nonce's choice and
// this record) the signed transaction is dropped, never broadcast, and
// the call is signed again at the next nonce.
func (s *Sender) signAndRecord(ctx context.Context, key string, i int, from common.Address, chainID *big.Int, tx *types.DynamicFeeTx) (*types.Transaction, error) {
	const op = "execution.Sender.Send"
	for attempt := 0; ; attempt++ {
		nonce, err := s.nextNonce(ctx, from)
		if err != nil {
			return nil, err
		}
		tx.Nonce = nonce
		signed, err := s.Signer.SignTx(types.NewTx(tx), chainID)
		if err != nil {
			if _, ext := s.Signer.(*RPCSigner); ext {
				// Its errors name the signer (URL without credentials)
				// and what it refused; no key is in this process.
				return nil, err
			}
			return nil, adapters.Wrap(op, adapters.KindOther, errors.New("signing failed"))
		}
		err = s.Journal.Record(key, i, signed)
		switch {
		case err == nil:
			return signed, nil
		case errors.Is(err, ErrFenced):
			return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("intent %s call %d: signed with nonce %d, neither recorded nor broadcast, and nothing more is sent: %w", key, i+1, nonce, err))
		case errors.Is(err, ErrNonceTaken) && attempt < 4:
			continue
		}
		return nil, err
	}
}

// nextNonce is the nonce of the account's next transaction: the node's
// pending nonce, or one above the highest the journal holds for the
// account when that is higher. A journalled transaction that is not
// mined and not in the node's pool (another instance recorded it and
// has not broadcast it yet, or died before it did; the node dropped it)
// is not counted by the node, and its nonce must not be signed again:
// that would orphan one of the two. The transaction signed above it
// waits until the journalled one is mined (the intent that recorded it
// broadcasts it again when it is re-run).
func (s *Sender) nextNonce(ctx context.Context, from common.Address) (uint64, error) {
	const op = "execution.Sender.nextNonce"
	nonce, err := s.Client.PendingNonceAt(ctx, from)
	if err != nil {
		return 0, adapters.Wrap(op, adapters.KindOther, err)
	}
	top, ok, err := s.Journal.MaxNonce(from)
	if err != nil {
		return 0, err
	}
	if ok && top+1 > nonce {
		nonce = top + 1
	}
	return nonce, nil
}

// simulateBatch simulates a new batch of calls whole (Send), when the
// node can and the batch has more than one call.
func (s *Sender) simulateBatch(ctx context.Context, key string, from common.Address, calls []Call) error {
	const op = "execution.Sender.Send"
	bs, ok := s.Client.(BatchSimulator)
	if !ok || len(calls) < 2 {
		return nil
	}
	// Calls are journalled in order: the first one's record says whether
	// this is a new batch or a resumed one, whose journalled calls may be
	// pending (the rest simulated on "latest" would miss their effects).
	if prev, err := s.Journal.Lookup(key, 0); err != nil || prev != nil {
		return err
	}
	msgs := make([]ethereum.CallMsg, len(calls))
	for i, c := range calls {
		to := c.To
		msgs[i] = ethereum.CallMsg{From: from, To: &to, Value: valueOf(c.Value), Data: c.Data}
	}
	res, err := bs.SimulateCalls(ctx, msgs)
	if errors.Is(err, ErrNoBatchSimulation) {
		return nil // each call is simulated before it is sent
	}
	if err != nil {
		return adapters.Wrap(op, adapters.KindOther, fmt.Errorf("simulating the batch of %d calls: %w (nothing was sent)", len(calls), err))
	}
	if len(res) != len(calls) {
		return adapters.E(op, adapters.KindOther, "simulating the batch of %d calls: the node answered %d outcomes (nothing was sent)", len(calls), len(res))
	}
	for i, r := range res {
		if r.Reverted {
			c := calls[i]
			return adapters.Wrap(op, adapters.KindInvalid, &RevertError{Index: i, Call: c.Contract + "." + c.Method.RawName, Reason: r.Reason})
		}
	}
	return nil
}

// RevertReason decodes a revert's data (Error(string) or Panic(uint256),
// 0x-hex), or returns msg.
func RevertReason(data, msg string) string {
	if b, err := hex.DecodeString(strings.TrimPrefix(data, "0x")); err == nil && len(b) > 0 {
		if r, err := abi.UnpackRevert(b); err == nil {
			return r
		}
	}
	return msg
}

func (s *Sender) revert(op string, i int, c Call, err error) error {
	var de dataError
	if !errors.As(err, &de) && !strings.Contains(err.Error(), "revert") {
		return adapters.Wrap(op, adapters.KindOther, fmt.Errorf("call %d: simulation: %w", i+1, err))
	}
	return adapters.Wrap(op, adapters.KindInvalid, &RevertError{Index: i, Call: c.Contract + "." + c.Method.RawName, Reason: revertReason(err)})
}

// dataError is go-ethereum's rpc.DataError: an RPC error with data (a
// revert's ABI-encoded reason), declared here to keep the rpc package's
// dependencies out of the build.
type dataError interface {
	Error() string
	ErrorData() interface{}
}

// revertReason decodes a revert's Error(string) or Panic(uint256) data
// carried by an RPC error, or the node's message.
func revertReason(err error) string {
	var de dataError
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			return RevertReason(s, err.Error())
		}
	}
	return err.Error()
}

// SameCall reports whether a transaction carries call c: the same
// contract, value and data.
func SameCall(tx *types.Transaction, c Call) bool {
	return tx.To() != nil && *tx.To() == c.To && bytes.Equal(tx.Data(), c.Data) && tx.Value().Cmp(valueOf(c.Value)) == 0
}

func knownTx(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "already known") || strings.Contains(m, "known transaction")
}

// resume resolves a journalled transaction: its receipt if it was mined;
// if not, while its nonce is unused, the same signed bytes are broadcast
// again (the node may have dropped them) and waited for; a nonce used by
// another transaction means it was replaced or dropped.
func (s *Sender) resume(ctx context.Context, from common.Address, tx *types.Transaction) (*types.Receipt, error) {
	const op = "execution.Sender.resume"
	rc, err := s.Client.TransactionReceipt(ctx, tx.Hash())
	if err == nil {
		return rc, nil
	}
	if !errors.Is(err, ethereum.NotFound) {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	mined, err := s.Client.NonceAt(ctx, from, nil)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	if mined > tx.Nonce() {
		// The receipt may only be late: look once more before saying so.
		if rc, err := s.Client.TransactionReceipt(ctx, tx.Hash()); err == nil {
			return rc, nil
		}
		return nil, adapters.E(op, adapters.KindOther, "transaction %s (nonce %d) was replaced or dropped: nonce %d is used by another transaction; reconcile by hand", tx.Hash().Hex(), tx.Nonce(), tx.Nonce())
	}
	if err := s.Client.SendTransaction(ctx, tx); err != nil && !knownTx(err) {
		return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("re-broadcast of %s: %w", tx.Hash().Hex(), err))
	}
	return s.wait(ctx, tx.Hash())
}

func (s *Sender) wait(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	poll, timeout := s.Poll, s.Timeout
	if poll <= 0 {
		poll = time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(poll)
	defer t.Stop()
	var rc *types.Receipt
	for {
		if rc == nil {
			r, err := s.Client.TransactionReceipt(ctx, h)
			if err != nil && !errors.Is(err, ethereum.NotFound) {
				return nil, adapters.Wrap("execution.Sender.wait", adapters.KindOther, err)
			}
			rc = r
		}
		if rc != nil {
			// A node can serve the receipt before its head reaches the
			// receipt's block (geth writes a block's transaction lookups
			// before it moves its in-memory head: core/blockchain.go,
			// writeHeadBlock; behind a load balancer the next request may
			// reach a node a block behind). The next
			// call's simulation, gas estimate and nonce read "latest", so
			// wait for the head: simulated against the state before this
			// transaction, an approve's spender would find no allowance.
			head, err := s.Client.HeaderByNumber(ctx, nil)
			if err != nil && ctx.Err() == nil {
				return nil, adapters.Wrap("execution.Sender.wait", adapters.KindOther, err)
			}
			if head != nil && rc.BlockNumber != nil && head.Number.Cmp(rc.BlockNumber) >= 0 {
				return rc, nil
			}
		}
		select {
		case <-ctx.Done():
			if rc != nil {
				return nil, adapters.E("execution.Sender.wait", adapters.KindOther, "transaction %s is mined in block %s but the node's head did not reach that block within %s (it stays journalled; the intent's re-run resolves it)", h.Hex(), rc.BlockNumber, timeout)
			}
			return nil, adapters.E("execution.Sender.wait", adapters.KindOther, "no receipt for %s within %s (it stays journalled; the intent's re-run resolves it)", h.Hex(), timeout)
		case <-t.C:
		}
	}
}
