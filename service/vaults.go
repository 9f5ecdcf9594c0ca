package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// Action is what an intent does.
type Action string

// Actions.
const (
	ActCreate    Action = "create"
	ActExitCheck Action = "exit_check"
	ActHarvest   Action = "harvest"
	ActRebalance Action = "rebalance"
	ActDeposit   Action = "deposit"
	ActWithdraw  Action = "withdraw"
	ActPause     Action = "pause"
	ActResume    Action = "resume"
)

// Intent sources.
const (
	SourceSchedule = "schedule"
	SourceAPI      = "api"
	SourceSystem   = "system"
)

// Outcomes of intents and decisions. A rebalance or exit check that ran
// says what its decision did in the vault's vocabulary, shared with the
// backtest's decisions.csv (vault.Decision.Outcome): traded, skipped,
// rejected or on_target. Other actions that ran say executed.
const (
	OutExecuted = "executed"            // a harvest, deposit, withdrawal, pause, resume or creation changed the vault
	OutTraded   = vault.OutcomeTraded   // a rebalance or exit sent orders
	OutSkipped  = vault.OutcomeSkipped  // a condition said no (rebalance/harvest condition, nothing to exit)
	OutRejected = vault.OutcomeRejected // every candidate trade was rejected (thresholds, gates, caps)
	OutOnTarget = vault.OutcomeOnTarget // nothing to trade
	OutStale    = "stale"               // market data older than the staleness limit
	OutPaused   = "paused"              // the vault is paused
	OutFailed   = "failed"              // the action was refused (see the result's error)
)

// Outcomes lists the outcomes each action can have (the label sets of
// yieldvault_decisions_total, exported from the start).
var Outcomes = map[Action][]string{
	ActRebalance: {OutTraded, OutSkipped, OutRejected, OutOnTarget, OutStale, OutPaused, OutFailed},
	ActExitCheck: {OutTraded, OutSkipped, OutRejected, OutOnTarget, OutStale, OutPaused, OutFailed},
	ActHarvest:   {OutExecuted, OutSkipped, OutPaused, OutFailed},
	ActDeposit:   {OutExecuted, OutFailed},
	ActWithdraw:  {OutExecuted, OutFailed},
	ActPause:     {OutExecuted},
	ActResume:    {OutExecuted},
	ActCreate:    {OutExecuted},
}

// maxCatchUp bounds the ticks of one action one job run processes.
const maxCatchUp = 10000

// VaultConfig returns the vault.Config of a vault spec.
func (vs *VaultSpec) VaultConfig() (vault.Config, error) {
	p := vs.Vault
	cfg := vault.DefaultConfig(vs.ID, p.Base)
	cfg.Pricing = p.Pricing
	cfg.ManagementFee, cfg.PerformanceFee, cfg.FeeRecipient, cfg.ProfitUnlock = p.Management, p.Performance, p.Recipient, p.ProfitUnlock
	if cfg.FeeRecipient == "" {
		cfg.FeeRecipient = "fees"
	}
	if p.IdleFloor != nil {
		cfg.IdleFloor = *p.IdleFloor
	}
	if p.MaxLoss != nil {
		cfg.MaxLoss = *p.MaxLoss
	}
	if p.MinTradeOfNAV > 0 && p.DepositForTrade.Sign() > 0 {
		cfg.Rebalance.MinTrade = adapters.Quantize(p.DepositForTrade.Mul(adapters.FromFloat(p.MinTradeOfNAV)))
	}
	cfg.Rebalance.MaxGasPrice = p.MaxGasPrice
	if p.MinGainOverCost != nil {
		cfg.Rebalance.MinGainOverCost = *p.MinGainOverCost
	}
	cfg.DepositLimit = p.DepositLimit
	return cfg, cfg.Validate()
}

// vaultRT is a vault at run time: its spec, adapters and schedules. Its
// state lives in the database; every action restores it from there.
type vaultRT struct {
	s        *Service
	id       string
	spec     *VaultSpec
	cfg      vault.Config
	ads      []*adapters.Adapter
	universe []string
	mu       sync.Mutex       // one action at a time on this vault in this process
	cache    viewCache        // the API's view of the vault
	alerts   monitor.Episodes // the risk monitors firing (the lease holder's)
	series   series           // NAV and share price over time (the dashboard's chart)
}

func newVaultRT(s *Service, vs *VaultSpec) (*vaultRT, error) {
	cfg, err := vs.VaultConfig()
	if err != nil {
		return nil, err
	}
	rt := &vaultRT{s: s, id: vs.ID, spec: vs, cfg: cfg, universe: append([]string(nil), vs.Universe...)}
	for _, id := range rt.universe {
		ad, err := adapters.Open(s.cfg.Catalog, id)
		if err != nil {
			return nil, fmt.Errorf("vault %s: %w", vs.ID, err)
		}
		rt.ads = append(rt.ads, ad)
	}
	return rt, nil
}

func (rt *vaultRT) schedule(a Action) cron.Schedule {
	switch a {
	case ActRebalance:
		return rt.spec.Rebalance.Sched
	case ActHarvest:
		return rt.spec.Harvest.Sched
	}
	return rt.spec.ExitCheck.Sched
}

// ensure creates the vault when the database has none (an intent
// "<id>/create" at the service's time), and checks a stored vault's
// markets against the strategy's universe.
func (rt *vaultRT) ensure(ctx context.Context) error {
	row, err := rt.s.store.Vault(ctx, rt.id)
	if err == nil {
		if len(row.State.Positions) != len(rt.universe) {
			return adapters.E("service.New", adapters.KindInvalid, "vault %s: the database holds %d markets, the strategy's universe %d: a vault's universe cannot change", rt.id, len(row.State.Positions), len(rt.universe))
		}
		for i, p := range row.State.Positions {
			if p.Market != rt.universe[i] {
				return adapters.E("service.New", adapters.KindInvalid, "vault %s: the database's market %d is %s, the strategy's %s: a vault's universe cannot change", rt.id, i, p.Market, rt.universe[i])
			}
		}
		rt.publish(row)
		return nil
	}
	if adapters.KindOf(err) != adapters.KindNotFound {
		return err
	}
	if !rt.s.isLeader() {
		return adapters.E("service.New", adapters.KindNotReady, "vault %s does not exist yet and another process holds the lease", rt.id)
	}
	in := Intent{Key: rt.id + "/create", VaultID: rt.id, Action: ActCreate, Tick: rt.s.clock.Now(), Source: SourceSystem}
	_, err = rt.do(ctx, in)
	return err
}

// runDue runs every tick of action a due at or before now, each as its
// own intent, in order. It stops between ticks when the service is
// stopping (the rest run at the next start) and returns ErrNotLeader as
// soon as the lease is lost (the new holder catches up). A vault that
// does not exist yet is created first by the lease holder.
func (rt *vaultRT) runDue(ctx context.Context, a Action, now time.Time) error {
	sc := rt.schedule(a)
	for n := 0; n < maxCatchUp; n++ {
		if rt.s.stopping.Load() {
			return nil
		}
		if !rt.s.isLeader() {
			return &adapters.Error{Op: "service.runDue", Kind: adapters.KindPaused, Err: ErrNotLeader}
		}
		row, err := rt.s.store.Vault(ctx, rt.id)
		if adapters.KindOf(err) == adapters.KindNotFound {
			if err = rt.ensure(ctx); err == nil {
				row, err = rt.s.store.Vault(ctx, rt.id)
			}
		}
		if err != nil {
			return err
		}
		next := sc.Next(row.Ticks.Get(a))
		if next.IsZero() || next.After(now) {
			return nil
		}
		in := Intent{Key: TickKey(rt.id, a, next), VaultID: rt.id, Action: a, Tick: next, Source: SourceSchedule}
		if _, err := rt.doWith(ctx, in, &row); err != nil && (!isDomain(err) || errors.Is(err, ErrNotLeader)) {
			return err
		}
	}
	return nil
}

// TickKey is the idempotency key of a scheduled action.
func TickKey(vaultID string, a Action, tick time.Time) string {
	return vaultID + "/" + string(a) + "/" + tick.UTC().Format(time.RFC3339)
}

// isDomain reports whether err is a refusal by the domain (bad request,
// limits, paused) rather than a failure of the service.
func isDomain(err error) bool {
	var e *adapters.Error
	return errors.As(err, &e) && e.Kind != adapters.KindOther && !errors.Is(err, ErrConflict)
}

// do journals an intent (or finds it journalled), runs it from the
// vault's persisted state unless it is done, and commits its effects
// together with marking it done. It returns the done intent. A failed
// domain action is done too (outcome failed) and returned with its error.
func (rt *vaultRT) do(ctx context.Context, in Intent) (Intent, error) {
	return rt.doWith(ctx, in, nil)
}

// doWith is do with the vault's row when the caller just read it (the
// commit's version check catches a row that changed in between, and the
// retry reads it again).
func (rt *vaultRT) doWith(ctx context.Context, in Intent, pre *VaultRow) (Intent, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if err := rt.settleStarted(ctx, in.Key); err != nil {
		return in, err
	}
	if _, sends := rt.s.exec.(interface{ Started(string) (bool, error) }); sends {
		// The caller read pre before it held rt.mu: another intent (an
		// API request, a recovery) may have committed since. On paper
		// the commit's version check catches it and the intent runs
		// again; in send mode that is too late, the transactions are
		// sent and the re-run decides on another state (a pause since:
		// "nothing done", the mined transactions in no decision). So the
		// row is read again under the lock.
		pre = nil
	}
	return rt.run(ctx, in, pre)
}

// settleStarted finishes, before any other intent of the vault runs,
// each of its pending intents that the executor says already sent a
// transaction (send mode: its key is in the execution journal). Such an
// intent must be re-run from the pre-state it first ran on, so that it
// makes the same decision and resolves the transactions it sent; an
// intent committed in between (the next exit check, whose job may run
// before the recovery of a process that just took the lease; an API
// deposit) would move that state, and the re-run would decide otherwise
// and leave the mined transactions in no decision. An intent that
// cannot be finished now (this process does not hold the lease it
// needs, or the chain cannot be read) stops the others: they wait for
// it. The caller holds rt.mu.
func (rt *vaultRT) settleStarted(ctx context.Context, key string) error {
	st, ok := rt.s.exec.(interface{ Started(string) (bool, error) })
	if !ok {
		return nil
	}
	pend, err := rt.s.store.Pending(ctx)
	if err != nil {
		return err
	}
	for _, p := range pend {
		if p.VaultID != rt.id || p.Key == key {
			continue
		}
		started, err := st.Started(p.Key)
		if err != nil {
			return err
		}
		if !started {
			continue
		}
		rt.s.log.Info("finishing an intent that sent transactions before running another", "intent", p.Key, "next", key)
		if _, err := rt.run(ctx, p, nil); err != nil && (!isDomain(err) || errors.Is(err, ErrNotLeader)) {
			// A failure stays one (the job stops and retries); without
			// the lease the intent is not ready here (503, retry).
			kind := adapters.KindOf(err)
			if errors.Is(err, ErrNotLeader) {
				kind = adapters.KindNotReady
			}
			return adapters.Wrap("service.settle", kind, fmt.Errorf("vault %s: intent %s sent transactions and is not resolved yet, so %s waits: %w", rt.id, p.Key, key, err))
		}
	}
	return nil
}

// run is doWith under rt.mu.
func (rt *vaultRT) run(ctx context.Context, in Intent, pre *VaultRow) (Intent, error) {
	if in.Created.IsZero() {
		in.Created = rt.s.wall()
	}
	var lc *LeaseCheck
	if in.Source == SourceSchedule {
		lc = rt.s.leaseCheck()
	}
	for attempt := 0; ; attempt++ {
		got, _, err := rt.s.store.BeginIntent(ctx, in, lc)
		if err != nil {
			return got, err
		}
		if got.Status == "done" {
			return got, resultErr(got)
		}
		if attempt > 0 {
			pre = nil
		}
		c, row, v, age, err := rt.apply(ctx, got, pre)
		if err != nil {
			return got, err
		}
		c.Intent, c.At = got.Key, rt.s.clock.Now()
		if err := rt.noteMonitors(ctx, &c, got); err != nil {
			return got, err
		}
		err = rt.s.store.Commit(ctx, c)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue // another process moved the vault or finished the intent: look again
		}
		if err != nil {
			return got, err
		}
		rt.observeCommit(c, got, row, v, age)
		rt.logAction(ctx, c, got)
		rt.observeMonitors(c)
		done := got
		done.Status, done.Outcome, done.Done = "done", c.Outcome, c.At
		if done.Result, err = json.Marshal(c.Result); err != nil {
			return got, err
		}
		return done, resultErr(done)
	}
}

// actionResult is the result JSON of an intent.
type actionResult struct {
	Summary string `json:"summary"`
	Error   *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
	Detail any `json:"detail,omitempty"`
}

// resultErr turns a done intent's stored error back into an error.
func resultErr(in Intent) error {
	if in.Outcome != OutFailed && in.Outcome != OutStale && in.Outcome != OutPaused {
		return nil
	}
	var r actionResult
	if json.Unmarshal(in.Result, &r) != nil || r.Error == nil {
		return nil
	}
	return adapters.E(string(in.Action), kindByName(r.Error.Kind), "%s", r.Error.Message)
}

func kindByName(n string) adapters.ErrorKind {
	for k := adapters.KindOther; k <= adapters.KindNotReady; k++ {
		if k.String() == n {
			return k
		}
	}
	return adapters.KindInvalid
}

func failResult(summary string, err error) actionResult {
	r := actionResult{Summary: summary}
	r.Error = &struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}{adapters.KindOf(err).String(), err.Error()}
	return r
}

// request is the body of an API intent.
type request struct {
	User   string          `json:"user,omitempty"`
	Amount decimal.Decimal `json:"amount,omitzero"`
	Shares decimal.Decimal `json:"shares,omitzero"`
	Note   string          `json:"note,omitempty"`
	// Tx is a deposit's on-chain transfer (propose and send modes).
	Tx string `json:"tx,omitempty"`
}

// checkDeposit checks an API deposit's on-chain transfer (propose and
// send modes): not booked before for the vault, and carrying exactly the
// amount of one of the vault's idle tokens to its address with enough
// confirmations (execution.CheckDeposit).
func (rt *vaultRT) checkDeposit(ctx context.Context, v *vault.Vault, req request) (*execution.DepositProof, error) {
	return rt.checkTransfer(ctx, v, req.Tx, req.Amount, false)
}

// checkTransfer checks an API deposit's transfer in, or a withdrawal's
// transfer out when out (execution.CheckWithdrawal), of amount: not
// booked before for the vault (in either direction), then on chain.
func (rt *vaultRT) checkTransfer(ctx context.Context, v *vault.Vault, tx string, amount decimal.Decimal, out bool) (*execution.DepositProof, error) {
	const op = "service.chainTransfer"
	x := rt.s.cfg.Execution
	if x == nil || x.Mode == execution.ModePaper || rt.s.chain == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "a transfer can be checked only in propose or send mode with execution.rpc set")
	}
	prev, err := rt.s.store.ChainDeposit(ctx, rt.id, tx)
	if err == nil {
		what := "deposit"
		if prev.Direction == "out" {
			what = "withdrawal"
		}
		return nil, adapters.E(op, adapters.KindInvalid, "transaction %s is already booked: %s of %s by request %s at %s (a transfer is booked once)", tx, what, prev.Amount, prev.IntentKey, prev.BookedAt.Format(time.RFC3339))
	}
	if adapters.KindOf(err) != adapters.KindNotFound {
		return nil, err
	}
	check := x.CheckDeposit
	if out {
		check = x.CheckWithdrawal
	}
	return check(ctx, rt.s.chain, rt.id, x.IdleTokens(v.Markets()), execution.TxHash(tx), amount)
}

// RequestHash is the hash an API intent is journalled with: the action
// and the canonical request.
func RequestHash(a Action, req []byte) string {
	h := sha256.Sum256(append([]byte(string(a)+"\n"), req...))
	return hex.EncodeToString(h[:])
}

// restore rebuilds the vault from its row.
func (rt *vaultRT) restore(row VaultRow) (*vault.Vault, error) {
	return vault.Restore(row.Config, rt.ads, row.State)
}

// apply runs one intent on the vault restored from the database and
// returns what to commit. Domain failures are committed as failed
// outcomes; errors returned are service failures (the intent stays
// pending and is retried).
func (rt *vaultRT) apply(ctx context.Context, in Intent, pre *VaultRow) (Commit, VaultRow, *vault.Vault, time.Duration, error) {
	if in.Action == ActCreate {
		return rt.applyCreate(ctx, in)
	}
	var row VaultRow
	var err error
	if pre != nil {
		row = *pre
	} else if row, err = rt.s.store.Vault(ctx, rt.id); err != nil {
		return Commit{}, row, nil, 0, err
	}
	upd := &VaultUpdate{ID: rt.id, Config: row.Config, Version: row.Version, State: row.State, Ticks: row.Ticks, Paused: row.Paused}
	c := Commit{Vault: upd}
	t := in.Tick
	if t.Before(row.State.Time) {
		t = row.State.Time
	}
	if in.Source == SourceSchedule {
		upd.Ticks.Set(in.Action, in.Tick)
	}
	var req request
	if len(in.Request) > 0 {
		if err := json.Unmarshal(in.Request, &req); err != nil {
			return c, row, nil, 0, adapters.Wrap("service.apply", adapters.KindOther, err)
		}
	}
	dec := func(outcome, summary string, detail any) {
		js, _ := json.Marshal(detail)
		c.Decision = &Decision{VaultID: rt.id, Time: t, Tick: in.Tick, Action: in.Action, Outcome: outcome, Summary: summary, Detail: js}
	}
	fail := func(summary string, err error) (Commit, VaultRow, *vault.Vault, time.Duration, error) {
		c.Outcome, c.Result = OutFailed, failResult(summary, err)
		c.note.reason = summary + ": " + err.Error()
		upd.State = row.State
		dec(OutFailed, summary+": "+err.Error(), c.Result)
		return c, row, nil, 0, nil
	}
	switch in.Action {
	case ActPause, ActResume:
		upd.Paused = in.Action == ActPause
		c.Outcome = OutExecuted
		c.Result = actionResult{Summary: "vault " + string(in.Action) + "d"}
		c.note.reason = fmt.Sprintf("%sd by %s: %s", in.Action, in.Source, req.Note)
		dec(OutExecuted, fmt.Sprintf("%sd by %s: %s", in.Action, in.Source, req.Note), req)
		return c, row, nil, 0, nil
	}
	if row.Paused && in.Action != ActWithdraw {
		c.Outcome = OutPaused
		if in.Source == SourceAPI {
			return fail(string(in.Action)+" refused", adapters.E(string(in.Action), adapters.KindPaused, "vault %s is paused", rt.id))
		}
		c.Result = actionResult{Summary: "vault paused: nothing done"}
		c.note.reason = "the vault is paused: nothing done"
		if rt.checkOrphans(in.Key, in.Tick, &c, upd) {
			// It sent transactions in an earlier run: said loudly, in
			// the decision log too, not as "nothing done".
			dec(OutPaused, c.note.reason, c.Result)
		}
		return c, row, nil, 0, nil
	}
	v, err := rt.restore(row)
	if err != nil {
		return c, row, nil, 0, adapters.Wrap("service.apply", adapters.KindOther, fmt.Errorf("vault %s: restore: %w", rt.id, err))
	}
	w, err := rt.window(ctx)
	if err != nil {
		return c, row, nil, 0, err
	}
	fr, err := v.FeedWindow(w, t, rt.gas())
	age := fr.Age
	if err != nil {
		if adapters.KindOf(err) == adapters.KindOther {
			return c, row, nil, 0, err
		}
		return fail("market data", err)
	}
	if _, err := v.Claim(t); err != nil {
		return fail("claim", err)
	}
	trades := in.Action == ActRebalance || in.Action == ActExitCheck
	var fired []monitor.Firing
	if trades && len(rt.spec.Monitors) > 0 {
		// The risk monitors, on the data the action reads (also when it
		// is stale: a stale feed can hide a crash, but then nothing
		// trades on it).
		if fired, err = rt.evalMonitors(ctx, v, w); err != nil {
			return fail("risk monitors", err)
		}
		c.monitors, c.monitorsAt, c.evaluated = fired, t, true
	}
	if trades {
		// Send mode: the book against the chain before trading on it,
		// and the chain's gas price for the decision.
		f, note, ran, err := rt.chainCheck(ctx, in.Key, v)
		if err != nil {
			return fail("reconciliation with the chain", err)
		}
		if err := rt.chainGas(ctx, in.Key, v); err != nil {
			return fail("the chain's gas price", err)
		}
		if ran {
			fired = withFiring(fired, f)
			c.monitors, c.monitorsAt, c.evaluated = fired, t, true
			c.note.reason = note
		}
	}
	if trades && rt.spec.Staleness > 0 && age > rt.spec.Staleness {
		why := fmt.Sprintf("market data is %s old at %s, over the staleness limit %s: not trading", fmtAge(age), t.Format(time.RFC3339), rt.spec.Staleness)
		rt.s.metrics.Stale.WithLabelValues(rt.id).Inc()
		c.Outcome = OutStale
		c.Result = failResult(why, adapters.E(string(in.Action), adapters.KindStale, "%s", why))
		c.note.reason = why
		upd.State = row.State
		dec(OutStale, why, map[string]any{"data_age_seconds": age.Seconds(), "limit_seconds": rt.spec.Staleness.Seconds()})
		return c, row, nil, age, nil
	}
	if p := monitor.PausesOf(fired); len(p) > 0 {
		why := "paused by " + monitor.Describe(p)
		upd.Paused = true
		c.Outcome = OutPaused
		c.Result = actionResult{Summary: why}
		c.note.reason = why
		upd.State = row.State
		dec(OutPaused, why, map[string]any{"firing": fired})
		return c, row, nil, age, nil
	}
	switch in.Action {
	case ActDeposit:
		var proof *execution.DepositProof
		if req.Tx != "" {
			if proof, err = rt.checkDeposit(ctx, v, req); err != nil {
				if adapters.KindOf(err) == adapters.KindOther {
					return c, row, nil, 0, err
				}
				return fail("deposit refused", err)
			}
		}
		sh, err := v.Deposit(t, req.User, req.Amount)
		if err != nil {
			return fail("deposit refused", err)
		}
		c.Outcome = OutExecuted
		detail := map[string]any{"shares": sh, "assets": req.Amount}
		summary := fmt.Sprintf("%s deposited %s for %s shares", req.User, req.Amount, sh)
		if proof != nil {
			detail["tx"] = req.Tx
			detail["block"] = proof.Block
			detail["from"] = proof.From.Hex()
			detail["token"] = proof.Token.Symbol
			summary += fmt.Sprintf(" (%s %s to %s in transaction %s, block %d)", proof.Amount, proof.Token.Symbol, proof.To.Hex(), req.Tx, proof.Block)
			c.deposit = &ChainDeposit{VaultID: rt.id, Tx: req.Tx, Amount: req.Amount}
		}
		c.Result = actionResult{Summary: summary, Detail: detail}
		c.note.reason = c.Result.(actionResult).Summary
		dec(OutExecuted, c.Result.(actionResult).Summary, c.Result)
	case ActWithdraw:
		var wd vault.Withdrawn
		idle := v.Idle()
		if req.Shares.Sign() > 0 {
			wd, err = v.Redeem(t, req.User, req.Shares)
		} else {
			wd, err = v.Withdraw(t, req.User, req.Amount)
		}
		if err != nil {
			return fail("withdrawal refused", err)
		}
		var proof *execution.DepositProof
		if req.Tx != "" {
			// The Safe's owners paid from the vault's address: the book
			// pays the same from its idle, exactly what the transfer
			// carried, or books nothing.
			if paid := idle.Sub(v.Idle()); !paid.Equal(wd.Paid) || wd.Loss.Sign() != 0 {
				return fail("withdrawal refused", adapters.E("service.withdraw", adapters.KindInvalid,
					"the book holds %s idle, which does not pay the %s withdrawn: it would unwind positions the owners' transfer did not touch. Bring the book in line by hand (docs/operations.md, deposits and withdrawals on chain)", idle, wd.Assets))
			}
			if proof, err = rt.checkTransfer(ctx, v, req.Tx, wd.Paid, true); err != nil {
				if adapters.KindOf(err) == adapters.KindOther {
					return c, row, nil, 0, err
				}
				return fail("withdrawal refused", err)
			}
		}
		c.Outcome = OutExecuted
		summary := fmt.Sprintf("%s withdrew %s (paid %s) burning %s shares", req.User, wd.Assets, wd.Paid, wd.Shares)
		var detail any = wd
		if proof != nil {
			summary += fmt.Sprintf(" (%s %s from %s to %s in transaction %s, block %d)", proof.Amount, proof.Token.Symbol, proof.From.Hex(), proof.To.Hex(), req.Tx, proof.Block)
			detail = map[string]any{"assets": wd.Assets, "paid": wd.Paid, "loss": wd.Loss, "shares": wd.Shares,
				"tx": req.Tx, "block": proof.Block, "to": proof.To.Hex(), "token": proof.Token.Symbol}
			c.deposit = &ChainDeposit{VaultID: rt.id, Tx: req.Tx, Direction: "out", Amount: wd.Paid}
		}
		c.Result = actionResult{Summary: summary, Detail: detail}
		c.note.reason = c.Result.(actionResult).Summary
		dec(OutExecuted, c.Result.(actionResult).Summary, c.Result)
	case ActHarvest:
		if err := rt.harvest(ctx, rt.runner(v, w, in), in, t, &c, dec); err != nil {
			return fail("harvest", err)
		}
	case ActRebalance, ActExitCheck:
		r := rt.runner(v, w, in)
		if ex := monitor.ExitsOf(fired); len(ex) > 0 {
			r.Strategy = monitor.Breach{Strategy: rt.spec.Strategy, Exits: ex}
		}
		if err := rt.rebalance(ctx, r, in, t, &c, dec); err != nil {
			if adapters.KindOf(err) == adapters.KindOther {
				return c, row, nil, 0, err
			}
			return fail(string(in.Action), err)
		}
		if c.Outcome == OutTraded {
			rt.checkAfter(ctx, v, t, &c, upd)
		} else {
			rt.checkOrphans(in.Key, t, &c, upd)
		}
	default:
		return c, row, nil, 0, adapters.E("service.apply", adapters.KindInvalid, "unknown action %q", in.Action)
	}
	if err := vault.Reconcile(v); err != nil {
		return c, row, nil, 0, adapters.Wrap("service.apply", adapters.KindOther, err)
	}
	upd.State = v.State()
	upd.Entries = v.Ledger().Entries()
	upd.Values = v.MarketValues(nil)
	return c, row, v, age, nil
}

func fmtAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
	return d.Round(time.Second).String()
}

// runner is the vault's Runner for one intent: plans read the window's
// history with the strategy's parameters, and orders go to the service's
// executor under the intent's key.
func (rt *vaultRT) runner(v *vault.Vault, w *adapters.Window, in Intent) *vault.Runner {
	params := maps.Clone(rt.spec.Params)
	return &vault.Runner{
		Vault: v, Strategy: rt.spec.Strategy,
		Prepare: func(st *strategies.State) { vault.PrepareState(st, w, params) },
		Execute: func(ctx context.Context, now time.Time, d vault.Decision) (vault.Result, error) {
			return rt.s.exec.Execute(ctx, rt.id, Orders{Key: in.Key, Time: now, Decision: d, Book: v})
		},
	}
}

// gas is how the vault's gas is priced where the data says nothing.
func (rt *vaultRT) gas() vault.Gas {
	return vault.Gas{Price: rt.spec.GasPrice, AssetPrice: rt.spec.GasAssetPrice}
}

// harvest runs Runner.Harvest (unconditionally for an API request) and
// journals it.
func (rt *vaultRT) harvest(ctx context.Context, r *vault.Runner, in Intent, t time.Time, c *Commit, dec func(string, string, any)) error {
	api := in.Source == SourceAPI
	tr, err := r.Harvest(ctx, t, in.Tick, api)
	if err != nil {
		return err
	}
	why := tr.Why
	if api {
		why = "requested through the API"
	}
	if tr.Skip != "" {
		c.Outcome = OutSkipped
		c.Result = actionResult{Summary: "harvest skipped: " + why}
		c.note.reason = "harvest condition false: " + why
		if tr.Vars.PendingRewards > 0 {
			dec(OutSkipped, "harvest skipped: "+why, tr.Vars)
		}
		return nil
	}
	h := tr.Harvest
	c.Outcome = OutExecuted
	sum := fmt.Sprintf("harvested %d markets: proceeds %s, costs %s (%s)", len(h.Markets), h.Proceeds.StringFixed(8), h.Costs.StringFixed(8), why)
	c.Result = actionResult{Summary: sum, Detail: h}
	c.note.costs, c.note.reason = h.Costs, fmt.Sprintf("%s; harvested %d markets for %s", why, len(h.Markets), h.Proceeds.StringFixed(8))
	c.Vault.LastHarvest = t
	dec(OutExecuted, sum, h)
	return nil
}

// rebalanceDetail is the decision log's detail of a rebalance.
type rebalanceDetail struct {
	Target   strategies.Target `json:"target"`
	Decision vault.Decision    `json:"decision"`
	Result   *vault.Result     `json:"result,omitempty"`
}

// rebalance runs Runner.ExitCheck for an exit check, else
// Runner.Rebalance (scheduled, or manual for an API request), and
// journals it.
func (rt *vaultRT) rebalance(ctx context.Context, r *vault.Runner, in Intent, t time.Time, c *Commit, dec func(string, string, any)) error {
	var tr vault.TaskReport
	var err error
	switch {
	case in.Action == ActExitCheck:
		tr, err = r.ExitCheck(ctx, t, in.Tick)
	case in.Source == SourceAPI:
		tr, err = r.Rebalance(ctx, t, in.Tick, vault.TriggerManual)
	default:
		tr, err = r.Rebalance(ctx, t, in.Tick, vault.TriggerSchedule)
	}
	if err != nil {
		return err
	}
	switch tr.Skip {
	case vault.SkipNothingHeld:
		c.Outcome, c.Result = OutSkipped, actionResult{Summary: "exit check: nothing held"}
		c.note.reason = "nothing held"
		return nil
	case vault.SkipNoExit:
		c.Outcome, c.Result = OutSkipped, actionResult{Summary: "exit check: no exit"}
		c.note.reason = "the exit rule lists no market the vault holds"
		return nil
	}
	d := *tr.Decision
	det := rebalanceDetail{Target: *tr.Target, Decision: d}
	if tr.Skip == vault.SkipCondition {
		c.Outcome = OutSkipped
		sum := fmt.Sprintf("rebalance skipped: condition false (drift %.4f, gain %.4f, cost %.4f)", d.Inputs.Drift, d.Inputs.GainAPY, d.Inputs.CostAPY)
		c.Result = actionResult{Summary: sum}
		c.note.reason = "rebalance condition false: " + tr.Why
		dec(OutSkipped, sum, det)
		return nil
	}
	res := *tr.Result
	det.Result = &res
	c.Outcome = d.Outcome() // traded, rejected (the rejections say why) or on_target
	if len(res.Executed) > 0 {
		c.Vault.LastRebalance = t
	}
	sum := fmt.Sprintf("%s: %d orders, %d executed, %d failed, costs %s", d.Trigger, len(d.Orders), len(res.Executed), len(res.Failed), res.Costs.StringFixed(8))
	switch c.Outcome {
	case OutRejected:
		sum = fmt.Sprintf("%s: every trade rejected: %s", d.Trigger, vault.FormatRejected(d.Rejected))
	case OutOnTarget:
		sum = fmt.Sprintf("%s: on target (drift %.4f)", d.Trigger, d.Inputs.Drift)
	}
	c.Result = actionResult{Summary: sum, Detail: map[string]any{"orders": len(d.Orders), "executed": len(res.Executed), "costs": res.Costs}}
	c.note = decisionNote(d, res)
	dec(c.Outcome, sum, det)
	return nil
}

// applyCreate creates the vault at the intent's time with its starting
// deposit.
func (rt *vaultRT) applyCreate(ctx context.Context, in Intent) (Commit, VaultRow, *vault.Vault, time.Duration, error) {
	t := in.Tick
	v, err := vault.New(rt.cfg, rt.ads, t)
	if err != nil {
		return Commit{}, VaultRow{}, nil, 0, err
	}
	w, err := rt.window(ctx)
	if err != nil {
		return Commit{}, VaultRow{}, nil, 0, err
	}
	age, err := v.ObserveWindow(w, t, rt.gas())
	if err != nil {
		return Commit{}, VaultRow{}, nil, 0, err
	}
	if rt.spec.Deposit.Sign() > 0 {
		if _, err := v.Deposit(t, rt.spec.Depositor, rt.spec.Deposit); err != nil {
			return Commit{}, VaultRow{}, nil, 0, err
		}
	}
	row := VaultRow{ID: rt.id, Config: rt.cfg, State: v.State(), Ticks: Ticks{Rebalance: t, Harvest: t, ExitCheck: t}}
	c := Commit{Outcome: OutExecuted, Result: actionResult{Summary: fmt.Sprintf("vault created with a deposit of %s by %s", rt.spec.Deposit, rt.spec.Depositor)}}
	c.note.reason = c.Result.(actionResult).Summary
	c.Vault = &VaultUpdate{Create: true, ID: rt.id, Config: rt.cfg, State: row.State, Ticks: row.Ticks, Entries: v.Ledger().Entries(), Values: v.MarketValues(nil)}
	js, _ := json.Marshal(c.Result)
	c.Decision = &Decision{VaultID: rt.id, Time: t, Action: ActCreate, Outcome: OutExecuted, Summary: c.Result.(actionResult).Summary, Detail: js}
	return c, row, v, age, nil
}

// observeCommit updates the metrics after a commit.
func (rt *vaultRT) observeCommit(c Commit, in Intent, row VaultRow, v *vault.Vault, age time.Duration) {
	m := rt.s.metrics
	if c.Decision != nil || c.Outcome != "" {
		m.Decisions.WithLabelValues(rt.id, string(in.Action), c.Outcome).Inc()
	}
	if age > 0 || v != nil {
		rt.publishAge(age)
	}
	if c.Vault != nil {
		rt.publishRow(c.Vault.Paused, c.Vault.LastHarvest, c.Vault.LastRebalance)
	}
	if v != nil {
		rt.publishVault(v)
	}
}

// publish sets the vault gauges from a stored row (at start).
func (rt *vaultRT) publish(row VaultRow) {
	rt.publishRow(row.Paused, row.LastHarvest, row.LastRebalance)
	if v, err := rt.restore(row); err == nil {
		if w, err := rt.window(context.Background()); err == nil {
			if age, err := v.ObserveWindow(w, row.State.Time, rt.gas()); err == nil {
				rt.publishVault(v)
				rt.publishAge(age)
			}
		}
	}
}

// publishRow sets the paused gauge and the last harvest and rebalance
// times when there was one (Metrics.Init exports them at 0 until then).
func (rt *vaultRT) publishRow(paused bool, lastHarvest, lastRebalance time.Time) {
	m := rt.s.metrics
	p := 0.0
	if paused {
		p = 1
	}
	m.Paused.WithLabelValues(rt.id).Set(p)
	if !lastHarvest.IsZero() {
		m.LastHarvest.WithLabelValues(rt.id).Set(float64(lastHarvest.Unix()))
	}
	if !lastRebalance.IsZero() {
		m.LastRebalance.WithLabelValues(rt.id).Set(float64(lastRebalance.Unix()))
	}
}

// publishAge sets the data age gauge (a vault with no data at all keeps
// its last value).
func (rt *vaultRT) publishAge(age time.Duration) {
	if age >= 0 && age < time.Duration(math.MaxInt64) {
		rt.s.metrics.DataAge.WithLabelValues(rt.id).Set(age.Seconds())
	}
}

func (rt *vaultRT) publishVault(v *vault.Vault) {
	m := rt.s.metrics
	sum := Summarize(v)
	rt.series.add(SeriesPoint{Time: sum.Time, NAV: sum.NAV, SharePrice: sum.SharePrice})
	asset := string(v.Config().Base)
	m.NAV.WithLabelValues(rt.id, asset).Set(sum.NAVf)
	m.SharePrice.WithLabelValues(rt.id, asset).Set(sum.SharePricef)
	m.APY.WithLabelValues(rt.id).Set(sum.APY)
	for _, p := range sum.Positions {
		m.PositionValue.WithLabelValues(rt.id, p.Market, asset).Set(p.Valuef)
	}
}

// PositionSummary is one position in a vault summary.
type PositionSummary struct {
	Market string          `json:"market"`
	Units  decimal.Decimal `json:"units"`
	Value  decimal.Decimal `json:"value"`
	Weight float64         `json:"weight"`
	APY    float64         `json:"apy"`
	// Tags are the market's risk tags with its protocol and kind
	// (kind:lst, protocol:lido, layer:eigenlayer, ...): exposure by tag.
	Tags   []string `json:"tags"`
	Valuef float64  `json:"-"`
}

// VaultSummary is a vault's state as the API shows it.
type VaultSummary struct {
	ID     string          `json:"id"`
	Time   time.Time       `json:"time"`
	NAV    decimal.Decimal `json:"nav"`
	Idle   decimal.Decimal `json:"idle"`
	Supply decimal.Decimal `json:"supply"`
	// SharePrice is the assets of one share of 10^DecimalsOffset share
	// units (an ERC-4626 share with a decimals offset has that many more
	// decimals than its asset): 1 at the first deposit.
	SharePrice decimal.Decimal `json:"share_price"`
	// SharePricePerUnit is the assets of one share unit (the vault's
	// PricePerShare: SharePrice / 10^DecimalsOffset), what Supply counts.
	SharePricePerUnit decimal.Decimal   `json:"share_price_per_unit"`
	DecimalsOffset    int               `json:"decimals_offset"`
	APY               float64           `json:"apy"`
	Pending           decimal.Decimal   `json:"pending_rewards"`
	Positions         []PositionSummary `json:"positions"`
	NAVf              float64           `json:"-"`
	SharePricef       float64           `json:"-"`
}

// Summarize values a vault: NAV (total assets), share price, positions
// and their weights, and the value-weighted net APY (idle earns 0).
func Summarize(v *vault.Vault) VaultSummary {
	ta := v.TotalAssets()
	pps := v.PricePerShare()
	off := v.Config().DecimalsOffset
	whole := pps.Shift(int32(off))
	s := VaultSummary{Time: v.Time(), NAV: ta, Idle: v.Idle(), Supply: v.TotalSupply(), SharePrice: whole.Round(adapters.Scale),
		SharePricePerUnit: pps.Round(adapters.Scale), DecimalsOffset: off, Pending: v.PendingRewards()}
	s.NAVf, _ = ta.Float64()
	s.SharePricef, _ = whole.Float64()
	s.NAVf, s.SharePricef = finite(s.NAVf), finite(s.SharePricef)
	st := v.StrategyState()
	gross, _ := v.GrossAssets().Float64()
	vals := v.MarketValues(nil)
	for i := range st.Markets {
		ms := &st.Markets[i]
		p, _ := v.Position(ms.Market.ID)
		ps := PositionSummary{Market: ms.Market.ID, Units: p.Units.Dec(), Value: vals[i], Tags: ms.Market.AllTags()}
		ps.Valuef, _ = vals[i].Float64()
		ps.Valuef = finite(ps.Valuef)
		if gross > 0 {
			ps.Weight = finite(ps.Valuef / gross)
		}
		if ms.Row >= 0 {
			ps.APY = finite(strategies.NetAPY(ms)) // unknown data shows 0, never NaN
		}
		s.APY = finite(s.APY + ps.Weight*ps.APY)
		s.Positions = append(s.Positions, ps)
	}
	return s
}

// window is the vault's history: its universe's, plus the series of
// GasAssetMarket when it has one (a market with no history adds nothing).
func (rt *vaultRT) window(ctx context.Context) (*adapters.Window, error) {
	w, err := rt.s.window(ctx, rt.universe)
	gm := rt.spec.GasAssetMarket
	if err != nil || gm == "" || w.Get(gm) != nil {
		return w, err
	}
	g, err := rt.s.window(ctx, []string{gm})
	if err != nil || len(g.Series) == 0 {
		return w, err
	}
	m := *w
	m.Series = append(slices.Clip(w.Series), g.Series...)
	return &m, nil
}

// winCache is one universe's history, reloaded when a source imported
// new data.
type winCache struct {
	mu  sync.Mutex
	gen uint64
	w   *adapters.Window
}

// window returns the whole stored history of a universe (shared between
// vaults with the same universe), reloaded after an import.
func (s *Service) window(ctx context.Context, ids []string) (*adapters.Window, error) {
	key := strings.Join(ids, ",")
	ci, _ := s.windows.LoadOrStore(key, &winCache{})
	c := ci.(*winCache)
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := s.histGen.Load()
	if c.w != nil && c.gen == gen {
		return c.w, nil
	}
	w, err := s.hist.Load(ctx, ids, time.Time{}, time.Time{})
	if err != nil {
		if adapters.KindOf(err) == adapters.KindNotFound {
			// No history yet for a market: an empty window (everything stale).
			w = &adapters.Window{}
		} else {
			return nil, err
		}
	}
	c.w, c.gen = w, gen
	return w, nil
}
