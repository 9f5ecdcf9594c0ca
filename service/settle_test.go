package service

import (
	"context"
	"encoding/json"
	"testing"
	"time"
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
