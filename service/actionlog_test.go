package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// TestService_ActionLog runs two vaults for a simulated week with JSON
// logs at INFO and checks that every decision in the decision log is one
// "action" line naming the vault, task, outcome and tick, with a reason in
// words (and the orders when it traded), that no other action line is at
// INFO, and that idle source refreshes stay at DEBUG.
func TestService_ActionLog(t *testing.T) {
	path := writeConfig(t, "durability: normal", `
  - { id: eth-a, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly", exit_check: "@hourly" }
  - { id: usd-b, strategy: $STRAT/usd-lending.yaml, deposit: "250000", rebalance: "0 */6 * * *" }
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := New(context.Background(), cfg, Options{
		Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Advance(ctx, t0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Level, Msg, Vault, Task, Outcome, Orders, Costs, Reason string
		Tick                                                    time.Time
	}
	var lines []line
	sc := bufio.NewScanner(&logs)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if l.Msg == "source refreshed" {
			t.Errorf("an idle source refresh logged at %s", l.Level)
		}
		if l.Msg == "action" {
			lines = append(lines, l)
		}
	}
	n, traded := 0, 0
	for _, id := range []string{"eth-a", "usd-b"} {
		ds, err := s.store.Decisions(ctx, id, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(ds)
		var mine []line
		for _, l := range lines {
			if l.Vault == id {
				mine = append(mine, l)
			}
		}
		if len(mine) != len(ds) {
			t.Fatalf("vault %s: %d action lines at INFO, want one per decision (%d)", id, len(mine), len(ds))
		}
		for i, d := range ds {
			l := mine[i]
			if l.Task != string(d.Action) || l.Outcome != d.Outcome || (!d.Tick.IsZero() && !l.Tick.Equal(d.Tick)) {
				t.Errorf("vault %s decision %d: logged %s %s at %s, want %s %s at %s", id, i, l.Task, l.Outcome, l.Tick, d.Action, d.Outcome, d.Tick)
			}
			if l.Reason == "" {
				t.Errorf("vault %s decision %d (%s %s): no reason logged", id, i, d.Action, d.Outcome)
			}
			if !slices.Contains(Outcomes[d.Action], d.Outcome) {
				t.Errorf("vault %s decision %d: outcome %q of %s is not in the vocabulary %v", id, i, d.Outcome, d.Action, Outcomes[d.Action])
			}
			if d.Outcome == OutTraded {
				traded++
				if l.Orders == "" || l.Costs == "" {
					t.Errorf("vault %s decision %d traded: orders %q costs %q logged, want both", id, i, l.Orders, l.Costs)
				}
			}
			if l.Level != "INFO" {
				t.Errorf("vault %s decision %d (%s): level %s, want INFO", id, i, d.Outcome, l.Level)
			}
			n++
		}
	}
	if n == 0 || traded == 0 {
		t.Fatalf("%d decisions, %d traded: the test exercised nothing", n, traded)
	}
}
