package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/service"
	"github.com/yieldvault/yieldvault/vault"
)

func TestServe_Usage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no config", []string{"serve"}, 2, "serve needs -c FILE"},
		{"missing config", []string{"serve", "-c", "does-not-exist.yaml"}, 1, "does-not-exist.yaml"},
		{"bad log level", []string{"serve", "-c", "x.yaml", "--log-level", "loud"}, 2, "--log-level"},
		{"non-loopback listen", []string{"serve", "-c", "../examples/service/service.yaml", "--listen", "0.0.0.0:8080"}, 2, "not a loopback address"},
		{"bad log format", []string{"serve", "-c", "x.yaml", "--log-format", "xml"}, 2, "--log-format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tc.want)
			}
		})
	}
}

// TestServe_StopDuringStartUp: a SIGINT or SIGTERM (a cancelled
// context) while the service starts is a clean stop, exit code 0.
func TestServe_StopDuringStartUp(t *testing.T) {
	dir := t.TempDir()
	strat, _ := filepath.Abs("../examples/strategies/usd-lending.yaml")
	cfgPath := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(cfgPath, []byte("state_db: state.db\nlisten: 127.0.0.1:0\nvaults:\n  - { id: usd, strategy: "+strat+", deposit: \"1\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := Run(ctx, []string{"serve", "-c", cfgPath}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Errorf("exit code %d after a stop during start-up, want 0 (stderr %q)", code, errb.String())
	}
}

// checkJournal verifies the state database after crashes: no pending
// intents; every scheduled tick from the vault's creation to its last
// tick done has exactly one done intent and there are no others; the
// ledger's sequence is gapless and replays to the snapshot's books; the
// shares and positions tables match the snapshot.
func checkJournal(t *testing.T, ctx context.Context, st *service.Store, conf *service.Config) {
	t.Helper()
	pend, err := st.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 0 {
		t.Errorf("%d intents still pending after a clean run, first %s", len(pend), pend[0].Key)
	}
	db := st.DB()
	for _, vs := range conf.Vaults {
		row, err := st.Vault(ctx, vs.ID)
		if err != nil {
			t.Fatal(err)
		}
		created, err := st.Intent(ctx, vs.ID+"/create")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []struct {
			act   service.Action
			sched service.Sched
		}{{service.ActRebalance, vs.Rebalance}, {service.ActHarvest, vs.Harvest}, {service.ActExitCheck, vs.ExitCheck}} {
			last := row.Ticks.Get(a.act)
			want := 0
			expected := map[string]bool{}
			for tick := a.sched.Sched.Next(created.Tick); !tick.After(last); tick = a.sched.Sched.Next(tick) {
				want++
				expected[service.TickKey(vs.ID, a.act, tick)] = true
				in, err := st.Intent(ctx, service.TickKey(vs.ID, a.act, tick))
				if err != nil {
					t.Errorf("vault %s: %s tick %s has no intent: %v", vs.ID, a.act, tick.Format(time.RFC3339), err)
					continue
				}
				if in.Status != "done" {
					t.Errorf("vault %s: intent %s is %s", vs.ID, in.Key, in.Status)
				}
			}
			var got int
			if err := db.QueryRowContext(ctx, st.Rebind("SELECT count(*) FROM intents WHERE vault_id = ? AND action = ? AND source = 'schedule'"), vs.ID, string(a.act)).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("vault %s: %d scheduled %s intents, want %d (one per tick up to %s); not a tick of the schedule up to there: %s", vs.ID, got, a.act, want, last.Format(time.RFC3339), strings.Join(unexpectedIntents(t, ctx, st, vs.ID, a.act, expected), "; "))
			}
			if a.act == service.ActRebalance && want < 24 {
				t.Errorf("vault %s: only %d rebalance ticks were processed; the crash test did not exercise the schedules", vs.ID, want)
			}
		}
		entries, err := st.Ledger(ctx, vs.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			if e.Seq != uint64(i+1) {
				t.Fatalf("vault %s: ledger entry %d has seq %d: a gap or a repeat", vs.ID, i, e.Seq)
			}
		}
		if row.State.NextSeq != uint64(len(entries)+1) {
			t.Errorf("vault %s: state's next seq %d, ledger has %d entries", vs.ID, row.State.NextSeq, len(entries))
		}
		books, err := vault.Replay(vault.Books{}, entries)
		if err != nil {
			t.Fatal(err)
		}
		snap := vault.Books{Idle: row.State.Idle, Supply: row.State.Supply, Shares: row.State.Balances}
		if d := books.Diff(snap); len(d) > 0 {
			t.Errorf("vault %s: ledger replay and snapshot disagree: %v", vs.ID, d)
		}
		var orphans int
		if err := db.QueryRowContext(ctx, st.Rebind("SELECT count(*) FROM ledger l LEFT JOIN intents i ON i.key = l.intent_key WHERE l.vault_id = ? AND (i.key IS NULL OR i.status != 'done')"), vs.ID).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 {
			t.Errorf("vault %s: %d ledger entries without a done intent", vs.ID, orphans)
		}
		rows, err := db.QueryContext(ctx, st.Rebind("SELECT \"user\", shares FROM shares WHERE vault_id = ?"), vs.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var u, s string
			if err := rows.Scan(&u, &s); err != nil {
				t.Fatal(err)
			}
			n++
			if want := row.State.Balances[u]; want.String() != s {
				t.Errorf("vault %s: shares table has %s for %q, the snapshot %s", vs.ID, s, u, want)
			}
		}
		rows.Close()
		if n != len(row.State.Balances) {
			t.Errorf("vault %s: shares table has %d users, the snapshot %d", vs.ID, n, len(row.State.Balances))
		}
		for _, p := range row.State.Positions {
			var units string
			if err := db.QueryRowContext(ctx, st.Rebind("SELECT units FROM positions WHERE vault_id = ? AND market = ?"), vs.ID, p.Market).Scan(&units); err != nil {
				t.Fatal(err)
			}
			if units != p.Units.String() {
				t.Errorf("vault %s: positions table has %s units of %s, the snapshot %s", vs.ID, units, p.Market, p.Units)
			}
		}
	}
}

// unexpectedIntents lists the scheduled intents of a vault's action whose
// key is not in expected, with their status, outcome and times, to say
// what a failed tick count found.
func unexpectedIntents(t *testing.T, ctx context.Context, st *service.Store, vaultID string, a service.Action, expected map[string]bool) []string {
	t.Helper()
	rows, err := st.DB().QueryContext(ctx, st.Rebind("SELECT key, holder FROM intents WHERE vault_id = ? AND action = ? AND source = 'schedule' ORDER BY key"), vaultID, string(a))
	if err != nil {
		t.Fatal(err)
	}
	var keys, holders []string
	for rows.Next() {
		var k, h string
		if err := rows.Scan(&k, &h); err != nil {
			t.Fatal(err)
		}
		if !expected[k] {
			keys, holders = append(keys, k), append(holders, h)
		}
	}
	rows.Close()
	var out []string
	for i, k := range keys {
		in, err := st.Intent(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s/%s by %s, created %s, done %s", k, in.Status, in.Outcome, holders[i], in.Created.Format(time.RFC3339), in.Done.Format(time.RFC3339)))
	}
	return out
}
