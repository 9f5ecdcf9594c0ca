package service

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
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
//     compared with Book; a difference stops the vault (pause) for an
//     operator instead of being papered over (implement Reconciler: the
//     service then reconciles before and after trading).
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
	if err := queuedLoops(e.Config, o.Decision); err != nil {
		return vault.Result{}, err
	}
	if _, err := e.Config.ProposeLoops(vaultID, o.Key, o.Decision, o.Book.Config().MaxLoss, loopBooks(o.Book, o.Decision)); err != nil {
		return vault.Result{}, err
	}
	return PaperExecutor{}.Execute(ctx, vaultID, o)
}

// SendExecutor is send mode: each decision's calls, checked against the
// allowlist, are sent from the keystore's account as EIP-1559
// transactions by execution.Sender (each simulated first, each recorded
// in the journal before its broadcast; the intent's key tags them, so a
// re-run after a crash sends nothing twice). A revert in simulation, a
// refusal or a gas gate fails the decision (journalled with the reason).
//
// The book moves by what the receipts say: each order's amount is what
// its transactions' events show the vault's address spent (a buy) or
// received (a sell; for a queued sell, the tokens sent to the queue),
// applied to the book through the adapters at a zero gas price, since
// the gas is paid in ether by the sending account, not from the vault's
// tokens: each order's ledger reason names its transactions and the gas
// they used and paid. After the decision, and before every rebalance and
// exit check, Reconcile reads the positions back (the service pauses
// the vault on a difference beyond the tolerance).
type SendExecutor struct {
	Config *execution.Config
	Sender *execution.Sender
	Client execution.Client
}

// NewSendExecutor builds the sender with its journal js in the state
// database st (execution.StoreJournal; the service passes st.Fenced, so
// that only the lease holder records, and so sends, a transaction),
// after importing into st the records of a journal file an earlier
// version wrote (cfg.JournalPath, when present).
func NewSendExecutor(cfg *execution.Config, client execution.Client, st *Store, js execution.JournalStore) (*SendExecutor, error) {
	if _, err := execution.Import(cfg.JournalPath, st); err != nil {
		return nil, err
	}
	j := execution.StoreJournal{S: js}
	// A vault executed through its Safe: the signer must be able to
	// execute alone (an owner, threshold 1), checked at start.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for id := range cfg.Safes {
		if err := execution.CheckSafe(ctx, client, id, cfg.Vaults[id], cfg.Signer.Address()); err != nil {
			return nil, err
		}
	}
	return &SendExecutor{Config: cfg, Client: client, Sender: &execution.Sender{Client: client, Signer: cfg.Signer, Journal: j, MaxFeePerGas: cfg.MaxFeePerGas}}, nil
}

// plan is Config.Plan, the calls wrapped for the vault's Safe when it
// executes through one.
func (e *SendExecutor) plan(ctx context.Context, vaultID, key string, book *vault.Vault, d vault.Decision, maxLoss float64) ([]execution.Call, error) {
	if err := queuedLoops(e.Config, d); err != nil {
		return nil, err
	}
	loops := loopBooks(book, d)
	if len(loops) > 0 {
		if err := e.loopRates(ctx, vaultID, key, loops); err != nil {
			return nil, err
		}
	}
	calls, err := e.Config.PlanLoops(vaultID, d, maxLoss, loops)
	if err != nil || !e.Config.Safes[vaultID] {
		return calls, err
	}
	return execution.ViaSafe(e.Config.Vaults[vaultID], e.Config.Signer.Address(), calls)
}

// loopRates sets the loops' rates: those intent key's calls were first
// encoded at, when the journal holds them (a re-run encodes the same
// calls); else the rates read on chain now (the wrap and supply amounts
// at the rate the transactions meet), journalled before anything is sent.
func (e *SendExecutor) loopRates(ctx context.Context, vaultID, key string, loops map[string]execution.LoopBook) error {
	j, _ := e.Sender.Journal.(ratesJournal)
	if j != nil {
		rs, ok, err := j.RatesOf(key)
		if err != nil {
			return err
		}
		if ok {
			execution.SetChainReadings(loops, rs)
			return nil
		}
	}
	if err := e.Config.ChainRates(ctx, e.Client, vaultID, loops); err != nil {
		return err
	}
	if j == nil {
		return nil
	}
	return j.RecordRates(key, execution.ChainReadings(loops))
}

// Execute applies the gas gate, sends the decision's calls, and applies
// the fills the receipts show to the book.
func (e *SendExecutor) Execute(ctx context.Context, vaultID string, o Orders) (vault.Result, error) {
	const op = "service.SendExecutor"
	if o.Book == nil {
		return vault.Result{}, adapters.E(op, adapters.KindInvalid, "vault %s: no book", vaultID)
	}
	d, calls, gated, err := e.gasGate(ctx, vaultID, o.Key, o.Book, o.Decision, o.Book.Config())
	if err != nil {
		return vault.Result{}, err
	}
	if j, ok := e.Sender.Journal.(gasJournal); ok {
		if err := j.RecordGas(o.Key, decimal.NewFromFloat(o.Book.GasPrice())); err != nil {
			return vault.Result{}, err
		}
	}
	sent, err := e.Sender.Send(ctx, o.Key, calls)
	if err != nil {
		if len(sent) > 0 && adapters.KindOf(err) != adapters.KindOther {
			// Part of the batch is mined and the book does not show it:
			// the next action's reconciliation pauses the vault on it.
			return vault.Result{}, adapters.Wrap(op, adapters.KindOf(err), fmt.Errorf("%w; %d of the %d transactions were mined before (the last %s): the book does not show them, the next reconciliation compares it with the chain", err, len(sent), len(calls), sent[len(sent)-1].Tx.Hash().Hex()))
		}
		return vault.Result{}, err
	}
	fills, err := e.Config.Fills(e.Config.Vaults[vaultID], d, sent)
	if err != nil {
		return vault.Result{}, err
	}
	filled, err := filledDecision(e.Config, d, fills)
	if err != nil {
		return vault.Result{}, err
	}
	v := o.Book
	price, assetPrice := v.GasPrice(), v.GasAssetPrice()
	if err := v.SetGas(0, assetPrice); err != nil {
		return vault.Result{}, err
	}
	res, err := v.Execute(o.Time, filled)
	if gerr := v.SetGas(price, assetPrice); err == nil && gerr != nil {
		err = gerr
	}
	res.Failed = append(res.Failed, gated...)
	return res, err
}

// gasGate drops a decision's non-urgent orders while the chain's gas
// price (the latest base fee plus the suggested tip) is above the
// strategy's gate (rebalance.max_gas_price, gwei; execution.gas_gate_gwei
// when it has none): as the rebalancer's own gate, only exits trade
// above it. With nothing left the decision fails with the reason and
// nothing is sent. A re-run of an intent whose transactions are already
// journalled is not gated again: what was sent is resolved.
func (e *SendExecutor) gasGate(ctx context.Context, vaultID, key string, book *vault.Vault, d vault.Decision, vc vault.Config) (vault.Decision, []execution.Call, []vault.Rejection, error) {
	const op = "service.SendExecutor"
	gate := vc.Rebalance.MaxGasPrice
	if gate <= 0 {
		gate = e.Config.GasGate
	}
	if gate <= 0 {
		gate = execution.DefaultGasGateGwei
	}
	calls, err := e.plan(ctx, vaultID, key, book, d, vc.MaxLoss)
	if err != nil {
		return d, nil, nil, err
	}
	urgent := d
	urgent.Orders = nil
	var dropped []vault.Rejection
	for _, o := range d.Orders {
		if o.Urgent {
			urgent.Orders = append(urgent.Orders, o)
		} else {
			dropped = append(dropped, vault.Rejection{Market: o.Market, Reason: fmt.Sprintf("%s of %s not sent", o.Side, o.Amount)})
		}
	}
	if len(dropped) == 0 {
		return d, calls, nil, nil
	}
	var ucalls []execution.Call
	if len(urgent.Orders) > 0 {
		if ucalls, err = e.plan(ctx, vaultID, key, book, urgent, vc.MaxLoss); err != nil {
			return d, nil, nil, err
		}
	}
	gatedNow := func(why string) (vault.Decision, []execution.Call, []vault.Rejection, error) {
		for i := range dropped {
			dropped[i].Reason += ": " + why
		}
		if len(urgent.Orders) == 0 {
			return d, nil, nil, adapters.E(op, adapters.KindCapExceeded, "%s: nothing sent", why)
		}
		return urgent, ucalls, dropped, nil
	}
	// A re-run of an intent whose first transaction is journalled
	// resolves what the first run sent: the whole decision, or its
	// urgent orders alone if the gate held the rest then.
	if tx, err := e.Sender.Journal.Lookup(key, 0); err != nil {
		return d, nil, nil, err
	} else if tx != nil {
		if len(ucalls) > 0 && execution.SameCall(tx, ucalls[0]) && !execution.SameCall(tx, calls[0]) {
			return gatedNow("the gas gate held them when the intent first ran")
		}
		return d, calls, nil, nil
	}
	gwei, err := e.gasPrice(ctx)
	if err != nil {
		return d, nil, nil, err
	}
	if gwei.Cmp(decimal.NewFromFloat(gate)) <= 0 {
		return d, calls, nil, nil
	}
	return gatedNow(fmt.Sprintf("gas %s gwei (base fee plus tip) is above the gas gate %g gwei", gwei.StringFixed(3), gate))
}

// filledDecision is d with each order's amount replaced by what the
// chain's receipts show it moved (a buy: the asset spent; an instant
// sell: the asset received; a queued sell: the tokens sent to the
// queue), and the transactions and their gas added to its reason. An
// order without a fill (no transaction carried it out) is left out.
func filledDecision(cfg *execution.Config, d vault.Decision, fills []execution.Fill) (vault.Decision, error) {
	out := d
	out.Orders = nil
	for _, f := range fills {
		o := d.Orders[f.Order]
		dep, err := cfg.Book.Deployment(o.Market)
		if err != nil {
			return d, err
		}
		if o.Side == vault.Relever {
			// The book relevers through the adapter (constant equity);
			// reconciliation compares the loop's collateral less debt.
			o.Reason += fmt.Sprintf("; on chain: %s, gas %d paid %s ETH by the sending account (not charged to the book)", strings.Join(f.HashHex(), ", "), f.GasUsed, decimal.NewFromBigInt(f.GasPaid, -18).String())
			out.Orders = append(out.Orders, o)
			continue
		}
		amt := f.Spent
		if o.Side == vault.Buy && execution.IsLoop(dep.Protocol) {
			// A loop's buy spends its equity: the ether staked less the
			// WETH borrowed back.
			amt = new(big.Int).Sub(f.Spent, f.Received)
		}
		if o.Side == vault.Sell {
			amt = new(big.Int).Sub(f.Received, f.Spent)
			if o.Mode == adapters.ExitQueue {
				amt = f.Queued
			}
		}
		dec := dep.Asset.Decimals
		if o.Side == vault.Sell && o.Mode == adapters.ExitQueue && dep.Position != nil {
			dec = dep.Position.Decimals
		}
		if amt.Sign() <= 0 {
			return d, adapters.E("service.SendExecutor", adapters.KindOther, "order %d (%s %s %s): its transactions %v moved none of %s to or from the vault's address: reconcile by hand", f.Order+1, o.Side, o.Market, o.Amount, f.Hashes, dep.Asset.Symbol)
		}
		hashes := f.HashHex()
		o.Amount = fixed.FromDec(decimal.NewFromBigInt(amt, int32(-dec)))
		o.Reason += fmt.Sprintf("; on chain: %s, gas %d paid %s ETH by the sending account (not charged to the book)", strings.Join(hashes, ", "), f.GasUsed, decimal.NewFromBigInt(f.GasPaid, -18).String())
		out.Orders = append(out.Orders, o)
	}
	return out, nil
}

// queuedLoops refuses a decision that sells a loop through its
// collateral's withdrawal queue. execution encodes the queued unwind's
// rounds (its first withdrawal and request, then each claim, repayment
// and next round: execution.PlanLoopClaim), but the service books a
// queued sell and pays its claims by the model's clock and sends no
// claim, so the book would credit claims the chain has not paid and
// reconciliation would pause the vault. Until the service follows the
// chain's requests, such a decision fails with the reason (journalled)
// and nothing is sent.
func queuedLoops(cfg *execution.Config, d vault.Decision) error {
	for _, o := range d.Orders {
		if o.Side != vault.Sell || o.Mode != adapters.ExitQueue {
			continue
		}
		if dep, err := cfg.Book.Deployment(o.Market); err == nil && execution.IsLoop(dep.Protocol) {
			return adapters.E("service.Executor", adapters.KindInvalid, "market %s: a queued unwind of a loop is not sent by the service yet (it would book the queue's claims by the model's clock, not the chain's): exit instantly, or unwind by hand through the queue (docs/operations.md, the loop section)", o.Market)
		}
	}
	return nil
}

// loopBooks are the books of the decision's loop markets (loopBook).
func loopBooks(v *vault.Vault, d vault.Decision) map[string]execution.LoopBook {
	var out map[string]execution.LoopBook
	for _, o := range d.Orders {
		if _, done := out[o.Market]; done {
			continue
		}
		lb, ok := loopBook(v, o.Market, o.Leverage)
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]execution.LoopBook{}
		}
		out[o.Market] = lb
	}
	return out
}

// heldLoops are the books of the loops v holds (loopBook), for
// reconciliation.
func heldLoops(v *vault.Vault) map[string]execution.LoopBook {
	var out map[string]execution.LoopBook
	for _, id := range v.Markets() {
		if pos, _ := v.Position(id); pos.Units.Sign() == 0 {
			continue
		}
		if lb, ok := loopBook(v, id, 0); ok {
			if out == nil {
				out = map[string]execution.LoopBook{}
			}
			out[id] = lb
		}
	}
	return out
}

// loopBook is the book of a loop market (one whose adapter borrows,
// adapters.Leverer): the position's collateral at its exchange rate and
// its debt, the collateral's rate and peg, and the market's LTV,
// liquidation threshold and e-mode category, from v as it is now; lev is the leverage an
// order aims at (below 1: the position's). ok is false for other
// markets.
func loopBook(v *vault.Vault, id string, lev float64) (execution.LoopBook, bool) {
	ad := v.Adapter(id)
	if ad == nil || ad.Leverer() == nil {
		return execution.LoopBook{}, false
	}
	pos, _ := v.Position(id)
	env, _ := v.Env(id)
	if lev < 1 {
		lev = pos.Leverage
	}
	f := ad.Leverer().Figures(&pos, &env, lev)
	rate := pos.Rate
	if x, ok := env.Obs.Get(adapters.FieldExchangeRate); ok && x > 0 {
		rate = x
	}
	lb := execution.LoopBook{LTV: f.MaxLTV, LLTV: f.LLTV, Peg: 1, EMode: f.EMode}
	if rate > 0 {
		lb.Rate = decimal.NewFromFloat(rate)
	}
	if p, ok := env.Obs.Get(adapters.FieldPrice); ok && p > 0 && rate > 0 {
		lb.Peg = p / rate
	}
	if pos.Units.Sign() > 0 {
		lb.Collateral = decimal.NewFromFloat(pos.Units.Float() * pos.Index * pos.Rate)
		lb.Debt = decimal.NewFromFloat(pos.Debt.Float() * pos.DebtIndex)
	}
	return lb, true
}

// Reconciler is an executor that reads a vault's holdings back from the
// chain (send mode). The service reconciles before every rebalance and
// exit check (so the first after a start) and after every decision that
// traded.
type Reconciler interface {
	Reconcile(ctx context.Context, vaultID string, v *vault.Vault) (*execution.Reconciliation, error)
}

// Reconcile compares v's idle and market values with what the vault's
// address holds on chain.
func (e *SendExecutor) Reconcile(ctx context.Context, vaultID string, v *vault.Vault) (*execution.Reconciliation, error) {
	return e.Config.ReconcileLoops(ctx, e.Client, vaultID, v.Idle(), v.Markets(), v.MarketValues(nil), e.Config.Tolerance, heldLoops(v))
}

// ReconcileMonitor is the monitor a difference between the book and the
// chain fires: bound to pause, critical, journalled, alerted and shown
// as the risk monitors are.
const ReconcileMonitor = "chain-reconcile"

// chainCheck reconciles v with the chain when the executor is a
// Reconciler (ran). A difference beyond the tolerance is the firing
// ReconcileMonitor; note lists what could not be read back. Before an
// action (key set), an intent re-run after it sent transactions is not
// checked: it resolves them, and the check after it compares.
func (rt *vaultRT) chainCheck(ctx context.Context, key string, v *vault.Vault) (fired []monitor.Firing, note string, ran bool, err error) {
	rc, ok := rt.s.exec.(Reconciler)
	if !ok {
		return nil, "", false, nil
	}
	if st, ok := rt.s.exec.(interface{ Started(string) (bool, error) }); ok && key != "" {
		started, err := st.Started(key)
		if err != nil || started {
			return nil, "", false, err
		}
	}
	r, err := rc.Reconcile(ctx, rt.id, v)
	if err != nil {
		return nil, "", true, err
	}
	if un := r.Unread(); len(un) > 0 {
		parts := make([]string, len(un))
		for i, h := range un {
			parts[i] = h.Market + ": " + h.Unread
		}
		note = "not reconciled with the chain: " + strings.Join(parts, "; ")
	}
	diffs := r.Differences()
	if len(diffs) == 0 {
		return nil, note, true, nil
	}
	markets := make([]string, len(diffs))
	for i, h := range diffs {
		markets[i] = h.Market
	}
	when := fmt.Sprintf("book and chain at %s differ by more than the tolerance %s: %s", r.Vault.Hex(), r.Tolerance.StringFixed(6), execution.Describe(diffs))
	return []monitor.Firing{{Monitor: ReconcileMonitor, Action: monitor.Pause, Markets: markets, When: when, Severity: "critical",
		Basis: "execution.reconcile_tolerance: a fraction of NAV (default 0.001)"}}, note, true, nil
}

// withFiring replaces fs's firing of f's monitor by f.
func withFiring(fs []monitor.Firing, f []monitor.Firing) []monitor.Firing {
	out := make([]monitor.Firing, 0, len(fs)+len(f))
	for _, x := range fs {
		if x.Monitor != ReconcileMonitor {
			out = append(out, x)
		}
	}
	return append(out, f...)
}

// checkAfter reconciles the book a traded decision left with the chain:
// a difference pauses the vault (the decision stays traded: its
// transactions are mined) and fires ReconcileMonitor. An error reading
// the chain is noted; the next action's check reads it again.
func (rt *vaultRT) checkAfter(ctx context.Context, v *vault.Vault, t time.Time, c *Commit, upd *VaultUpdate) {
	f, note, ran, err := rt.chainCheck(ctx, "", v)
	if !ran {
		return
	}
	add := func(s string) {
		if s == "" {
			return
		}
		if c.note.reason != "" {
			c.note.reason += "; "
		}
		c.note.reason += s
		if c.Decision != nil {
			c.Decision.Summary += "; " + s
		}
	}
	if err != nil {
		add("reconciliation after the decision failed: " + err.Error())
		return
	}
	if c.note.reason == "" || !strings.Contains(c.note.reason, note) {
		add(note)
	}
	c.monitors, c.monitorsAt, c.evaluated = withFiring(c.monitors, f), t, true
	if len(f) > 0 {
		upd.Paused = true
		add("paused by " + monitor.Describe(f))
	}
}

// gasPrice is the chain's gas price in gwei: the latest block's base fee
// plus the node's suggested tip, what a transaction sent now pays.
func (e *SendExecutor) gasPrice(ctx context.Context) (decimal.Decimal, error) {
	const op = "service.SendExecutor"
	head, err := e.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return decimal.Decimal{}, adapters.Wrap(op, adapters.KindOther, err)
	}
	tip, err := e.Client.SuggestGasTipCap(ctx)
	if err != nil {
		return decimal.Decimal{}, adapters.Wrap(op, adapters.KindOther, err)
	}
	price := new(big.Int).Set(tip)
	if head.BaseFee != nil {
		price.Add(price, head.BaseFee)
	}
	return decimal.NewFromBigInt(price, -9), nil
}

// GasPrice is the gas price (gwei) the vault decides intent key at in
// send mode: the chain's (the rebalancer's gas gate and its cost
// estimates then read the price the transactions pay, not the
// history's), or, when the intent ran before and journalled the price it
// decided at (Execute does, before its first transaction), that one: the
// re-run after a crash makes the same decision and resolves the
// transactions the first run sent.
func (e *SendExecutor) GasPrice(ctx context.Context, key string) (float64, error) {
	if j, ok := e.Sender.Journal.(gasJournal); ok {
		g, ok, err := j.GasOf(key)
		if err != nil {
			return 0, err
		}
		if ok {
			return g.InexactFloat64(), nil
		}
	}
	g, err := e.gasPrice(ctx)
	if err != nil {
		return 0, err
	}
	return g.InexactFloat64(), nil
}

// ratesJournal is a journal that also keeps the loop rates each
// intent's calls were encoded at (execution.StoreJournal,
// execution.FileJournal).
type ratesJournal interface {
	RecordRates(key string, rates map[string]decimal.Decimal) error
	RatesOf(key string) (map[string]decimal.Decimal, bool, error)
}

// gasJournal is a journal that also keeps the gas price each intent
// decided at (execution.StoreJournal, execution.FileJournal).
type gasJournal interface {
	RecordGas(key string, gwei decimal.Decimal) error
	GasOf(key string) (decimal.Decimal, bool, error)
}

// Started reports whether an intent sent (or journalled) a transaction
// in an earlier run: its re-run resolves those, and reconciling before
// it would see them as a difference the book cannot show yet.
func (e *SendExecutor) Started(key string) (bool, error) {
	tx, err := e.Sender.Journal.Lookup(key, 0)
	return tx != nil, err
}

// chainGas sets v's gas price to the chain's when the executor reads one
// (send mode).
func (rt *vaultRT) chainGas(ctx context.Context, key string, v *vault.Vault) error {
	g, ok := rt.s.exec.(interface {
		GasPrice(ctx context.Context, key string) (float64, error)
	})
	if !ok {
		return nil
	}
	price, err := g.GasPrice(ctx, key)
	if err != nil {
		return err
	}
	return v.SetGas(price, v.GasAssetPrice())
}

// checkOrphans pauses the vault when an intent that sent transactions in
// an earlier run decides no trade when it is run again: those
// transactions are mined or pending, and the book would never show them.
// A re-run decides from the same pre-state at the journalled gas price,
// so this should not happen; if it does, it is said loudly (the
// chain-reconcile monitor, pause) instead of the intent completing as if
// nothing had been sent.
func (rt *vaultRT) checkOrphans(key string, t time.Time, c *Commit, upd *VaultUpdate) bool {
	st, ok := rt.s.exec.(interface{ Started(string) (bool, error) })
	if !ok {
		return false
	}
	started, err := st.Started(key)
	if err != nil || !started {
		return false
	}
	f := []monitor.Firing{{Monitor: ReconcileMonitor, Action: monitor.Pause, Markets: []string{"journal"}, Severity: "critical",
		When:  fmt.Sprintf("intent %s sent transactions in an earlier run (execution journal), but its re-run decided %s: the book does not show them", key, c.Outcome),
		Basis: "every journalled transaction must reach the book"}}
	c.monitors, c.monitorsAt, c.evaluated = withFiring(c.monitors, f), t, true
	upd.Paused = true
	why := "paused by " + monitor.Describe(f)
	if c.note.reason != "" {
		c.note.reason += "; "
	}
	c.note.reason += why
	if c.Decision != nil {
		c.Decision.Summary += "; " + why
	}
	return true
}
