package service

import (
	"context"
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/vault"
)

// Orders is one batch of orders for an executor: a rebalance decision of
// one vault, under the idempotency key of the intent that decided it.
type Orders struct {
	// Key is the intent's idempotency key (vault/action/tick or
	// vault/api/<request key>). An executor that submits anything
	// anywhere must tag it with Key and never submit twice under one key.
	Key      string
	Time     time.Time
	Decision vault.Decision
	// Book is the vault as restored from the state database, with the
	// market data of Time observed. The executor applies the fills it
	// obtained to it (through the adapters); the service then commits
	// Book's state, its new ledger entries and the intent as done in one
	// transaction.
	Book *vault.Vault
}

// Executor carries out a vault's orders. The service calls Execute inside
// an intent: the intent is journalled (pending) before, and marked done in
// the same transaction as Book's new state after. If the process dies in
// between, the intent is re-run on restart from the persisted pre-state,
// so Execute may be called again with the same Key.
//
// The paper executor trades against the adapters' models, so calling it
// again from the same pre-state gives the same fills: nothing can be
// doubled. An on-chain executor must guarantee, per Key:
//
//   - idempotency by key: a second Execute with a Key it has seen submits
//     nothing new and returns the fills of the first (it looks the key up
//     in its own durable submission log, or on chain by a nonce or salt
//     derived from Key, before submitting);
//   - at-most-once submission: the key is recorded durably before a
//     transaction is broadcast, and a broadcast whose outcome is unknown
//     is resolved by querying, never by resubmitting blindly;
//   - reporting fills: the amounts actually received or spent, gas and
//     slippage, per order (adapters.Fill), which Book is brought in line
//     with; the ledger records fills, not intentions;
//   - partial fills: an order filled in part is reported as such
//     (Executed.Err, Fill.Partial) and the rest is left to the next
//     decision, never retried silently;
//   - reconciliation: positions read back from chain after execution are
//     compared with Book; a difference is an error that stops the vault
//     (pause) for an operator instead of being papered over.
type Executor interface {
	Execute(ctx context.Context, vaultID string, o Orders) (vault.Result, error)
}

// PaperExecutor executes orders against the adapters' market models
// (vault.Execute): fills, slippage and gas come from the models and the
// positions live in the state database. It is deterministic.
type PaperExecutor struct{}

// Execute applies the decision's orders to Book.
func (PaperExecutor) Execute(ctx context.Context, vaultID string, o Orders) (vault.Result, error) {
	if err := ctx.Err(); err != nil {
		return vault.Result{}, adapters.Wrap("service.PaperExecutor", adapters.KindOther, err)
	}
	if o.Book == nil {
		return vault.Result{}, adapters.E("service.PaperExecutor", adapters.KindInvalid, "vault %s: no book", vaultID)
	}
	return o.Book.Execute(o.Time, o.Decision)
}

// ProposeExecutor is propose mode: each decision's orders become a Safe
// Transaction Builder batch and a human summary in the proposals folder
// (execution.Config.Propose), checked against the allowlist; nothing is
// sent. A decision the allowlist refuses fails (journalled with the
// reason) and changes nothing. Otherwise the book is brought forward as
// the paper executor fills it: it assumes the Safe's owners execute the
// batch as proposed, until reconciliation reads the chain back.
type ProposeExecutor struct {
	Config *execution.Config
}

// Execute writes the proposal, then applies the orders as PaperExecutor.
func (e ProposeExecutor) Execute(ctx context.Context, vaultID string, o Orders) (vault.Result, error) {
	if err := ctx.Err(); err != nil {
		return vault.Result{}, adapters.Wrap("service.ProposeExecutor", adapters.KindOther, err)
	}
	if o.Book == nil {
		return vault.Result{}, adapters.E("service.ProposeExecutor", adapters.KindInvalid, "vault %s: no book", vaultID)
	}
	if _, err := e.Config.Propose(vaultID, o.Key, o.Decision, o.Book.Config().MaxLoss); err != nil {
		return vault.Result{}, err
	}
	return PaperExecutor{}.Execute(ctx, vaultID, o)
}

// SendExecutor is send mode: each decision's calls, checked against the
// allowlist, are sent from the keystore's account as EIP-1559
// transactions by execution.Sender (each simulated first, each recorded
// in the journal before its broadcast; the intent's key tags them, so a
// re-run after a crash sends nothing twice). A revert in simulation, a
// refusal or the gas gate fails the decision (journalled with the
// reason). Once every transaction is mined, the book is brought forward
// as the paper executor fills the orders; reading the positions back
// from the chain (reconciliation) is not built yet.
type SendExecutor struct {
	Config *execution.Config
	Sender *execution.Sender
}

// NewSendExecutor opens the journal and builds the sender.
func NewSendExecutor(cfg *execution.Config, client execution.Client) (*SendExecutor, error) {
	j, err := execution.OpenFileJournal(cfg.JournalPath)
	if err != nil {
		return nil, err
	}
	return &SendExecutor{Config: cfg, Sender: &execution.Sender{Client: client, Signer: cfg.Signer, Journal: j, MaxFeePerGas: cfg.MaxFeePerGas}}, nil
}

// Execute sends the decision's calls, then applies the orders as
// PaperExecutor.
func (e *SendExecutor) Execute(ctx context.Context, vaultID string, o Orders) (vault.Result, error) {
	const op = "service.SendExecutor"
	if o.Book == nil {
		return vault.Result{}, adapters.E(op, adapters.KindInvalid, "vault %s: no book", vaultID)
	}
	calls, err := e.Config.Plan(vaultID, o.Decision, o.Book.Config().MaxLoss)
	if err != nil {
		return vault.Result{}, err
	}
	sent, err := e.Sender.Send(ctx, o.Key, calls)
	if err != nil {
		if len(sent) > 0 && adapters.KindOf(err) != adapters.KindOther {
			// Part of the batch is mined and the book does not show it.
			return vault.Result{}, adapters.Wrap(op, adapters.KindOf(err), fmt.Errorf("%w; %d of the %d transactions were mined before (the last %s): the book does not show them, reconcile by hand", err, len(sent), len(calls), sent[len(sent)-1].Tx.Hash().Hex()))
		}
		return vault.Result{}, err
	}
	return PaperExecutor{}.Execute(ctx, vaultID, o)
}
