package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/vault"
)

// startedExec is the paper executor with the send executor's Started: it
// says which intents already sent transactions (in send mode, the keys
// in the execution journal).
type startedExec struct {
	PaperExecutor
	started map[string]bool
}

func (e startedExec) Started(key string) (bool, error) { return e.started[key], nil }

// TestService_StartedIntentRunsFirst: a rebalance intent left pending
// after it sent a transaction (its process was killed before the commit)
// is finished before any other intent of the vault commits, so that its
// re-run starts from the state it first ran on, makes the same decision
// and takes its transactions into it. Here an API deposit comes first
// (in the crash test in send mode, the next exit check, whose job ran
// before the recovery of a process that had just taken the lease): the
// rebalance commits before it, its ledger entries first. Before the fix
// the deposit committed on its own and the rebalance was left pending,
// to be re-run later from the deposit's state.
func TestService_StartedIntentRunsFirst(t *testing.T) {
	vaults := "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\", rebalance: \"@hourly\" }\n"
	path := writeConfig(t, "", vaults)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	tick := t0.Add(time.Hour)
	k := TickKey("eth", ActRebalance, tick)
	s, err := New(context.Background(), cfg, Options{
		Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Getenv: func(string) string { return testToken }, Executor: startedExec{started: map[string]bool{k: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// The killed run: the rebalance journalled as pending (its
	// transaction is in the executor's journal), never committed.
	if _, _, err := s.store.BeginIntent(ctx, Intent{Key: k, VaultID: "eth", Action: ActRebalance, Tick: tick, Source: SourceSchedule, Created: time.Now()}, s.leaseCheck()); err != nil {
		t.Fatal(err)
	}
	req := json.RawMessage(`{"user":"u1","amount":"5"}`)
	dep := Intent{Key: "eth/api/dep-1", VaultID: "eth", Action: ActDeposit, Tick: tick, Source: SourceAPI, Request: req, Hash: RequestHash(ActDeposit, req)}
	if _, err := s.vaults["eth"].do(ctx, dep); err != nil {
		t.Fatal(err)
	}
	in, err := s.store.Intent(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != "done" || in.Outcome != OutTraded {
		t.Fatalf("the started rebalance is %s/%s after the deposit, want done/traded before it", in.Status, in.Outcome)
	}
	first := func(key string) int64 {
		var seq int64
		if err := s.store.db.QueryRow(s.store.Rebind("SELECT min(seq) FROM ledger WHERE intent_key = ?"), key).Scan(&seq); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return seq
	}
	if r, d := first(k), first(dep.Key); r > d {
		t.Errorf("the rebalance's ledger starts at seq %d, after the deposit's %d: it ran on the deposit's state", r, d)
	}
}

// sendingExec is the paper executor that marks each intent it executes
// as started, as the send executor's journal does, and counts them.
type sendingExec struct {
	PaperExecutor
	started map[string]bool
	sent    *int
}

func (e sendingExec) Started(key string) (bool, error) { return e.started[key], nil }

func (e sendingExec) Execute(ctx context.Context, id string, o Orders) (vault.Result, error) {
	e.started[o.Key] = true
	*e.sent++
	return e.PaperExecutor.Execute(ctx, id, o)
}

// TestService_SendModeReadsTheRowUnderTheLock: the scheduler reads the
// vault's row before it holds the vault's lock, and an API pause commits
// in between. On paper the commit's version check catches the stale row
// and the intent runs again; in send mode the transactions would be sent
// by then, and the re-run, seeing the pause, would complete as "nothing
// done" with them mined in no decision (the send-mode crash test's
// failure, twice in seven runs). So in send mode the row is read again
// under the lock: nothing is sent. And an intent whose transactions the
// journal holds but that finds the vault paused pauses it loudly (the
// chain-reconcile monitor, a decision) rather than "nothing done".
func TestService_SendModeReadsTheRowUnderTheLock(t *testing.T) {
	vaults := "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\", rebalance: \"@hourly\" }\n"
	cfg, err := LoadConfig(writeConfig(t, "", vaults))
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	ex := sendingExec{started: map[string]bool{}, sent: &sent}
	s, err := New(context.Background(), cfg, Options{
		Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Getenv: func(string) string { return testToken }, Executor: ex,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	rt := s.vaults["eth"]
	stale, err := s.store.Vault(ctx, "eth")
	if err != nil {
		t.Fatal(err)
	}
	req := json.RawMessage(`{"note":"by hand"}`)
	if _, err := rt.do(ctx, Intent{Key: "eth/api/p-1", VaultID: "eth", Action: ActPause, Tick: t0, Source: SourceAPI, Request: req, Hash: RequestHash(ActPause, req)}); err != nil {
		t.Fatal(err)
	}
	tick := t0.Add(time.Hour)
	k := TickKey("eth", ActRebalance, tick)
	in, err := rt.doWith(ctx, Intent{Key: k, VaultID: "eth", Action: ActRebalance, Tick: tick, Source: SourceSchedule}, &stale)
	if err != nil {
		t.Fatal(err)
	}
	if sent != 0 || in.Outcome != OutPaused {
		t.Errorf("on the row read before the pause: %d executions, outcome %s; want none, paused", sent, in.Outcome)
	}
	// The journal holds transactions of the next tick's intent (an
	// earlier run sent them; a restored state lost its intent).
	tick2 := tick.Add(time.Hour)
	k2 := TickKey("eth", ActRebalance, tick2)
	ex.started[k2] = true
	if _, err := rt.do(ctx, Intent{Key: k2, VaultID: "eth", Action: ActRebalance, Tick: tick2, Source: SourceSchedule}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.store.Decisions(ctx, "eth", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Intent != k2 || !strings.Contains(ds[0].Summary, "sent transactions in an earlier run") {
		t.Errorf("last decision %+v, want %s saying it sent transactions in an earlier run", ds, k2)
	}
}
