package cli

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/internal/pgtest"
	"github.com/yieldvault/yieldvault/internal/servetest"
	"github.com/yieldvault/yieldvault/service"
)

// leaderKills is how many times TestServe_TwoInstancesKillLeader kills
// the lease holder (issue 16's acceptance: 50).
const leaderKills = 50

// TestServe_TwoInstancesKillLeader is issue 16's acceptance test: two
// `serve` processes (the built binary) on one PostgreSQL schema replay
// at 100,000x; the test SIGKILLs whichever holds the lease 50 times, each
// time once that leader has done a scheduled tick of its own (so every
// kill lands while it catches up the replay, a random 0-400 ms later),
// and starts a new process in its place at once, so the survivor and
// the newcomer race for the expired lease. An API client sends deposits
// and withdrawals with idempotency keys to the leader or the standby
// (drawn each round). Then both stop on SIGINT and the checks run on the
// database: every scheduled tick from each vault's creation to its last
// done exactly once and no other scheduled intent, none pending, the
// ledger gapless and replaying to the snapshot, the shares and positions
// tables equal to it, every API request answered 200 in the ledger once
// and every refused one not at all. Every wait is on a condition (a
// leader, a tick done, a process ready), bounded, never a sleep the
// result depends on.
func TestServe_TwoInstancesKillLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills the leader of two processes 50 times (about 2 minutes)")
	}
	dsn := pgtest.URL(t)
	r := newCrashRig(t, dsn)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 16))
	began := time.Now()

	slots := [2]*servetest.Proc{r.Start(), r.Start()}
	defer func() {
		for _, p := range slots {
			select {
			case <-p.Done:
			default:
				p.Kill()
			}
		}
	}()
	li := r.leaderOf(&slots, 60*time.Second)
	st, err := service.OpenStore(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stop := func() {}
	var failoverMax time.Duration
	midIntent, newcomerLed := 0, 0
	for kills := 0; kills < leaderKills; kills++ {
		// The API client talks to the leader (its requests in flight die
		// with it and are sent again) or to the standby.
		stop()
		stop = r.withClient(slots[rng.IntN(2)].Addr)
		// During replay: the leader has done a tick since it took over.
		base := doneTicks(t, st)
		r.Poll(slots[li], 30*time.Second, "do a scheduled tick", func() bool { return doneTicks(t, st) > base })
		time.Sleep(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
		killAt := time.Now()
		slots[li].Kill()
		if pendingIntents(t, st) > 0 {
			midIntent++
		}
		// The survivor and a new process race for the lapsed lease.
		slots[li] = r.Start()
		nl := r.leaderOf(&slots, 30*time.Second)
		failoverMax = max(failoverMax, time.Since(killAt))
		if nl == li {
			newcomerLed++
		}
		li = nl
		r.WaitFor(slots[1-li], 30*time.Second, "get ready as a standby", func(rd servetest.Ready) bool { return rd.Ready })
	}
	stop()
	// Both stop cleanly once each vault has done a day of rebalances
	// (checkJournal's floor) and every API request has an answer.
	r.Poll(slots[li], 60*time.Second, "rebalance each vault for a day", func() bool { return minRebalanceTicks(t, st, []string{"eth", "usd"}) >= 24 })
	r.api.drain(slots[li].Addr, 60*time.Second)
	for _, p := range slots {
		if err := p.Cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range slots {
		if ok, code := p.Wait(30 * time.Second); !ok || (code != 0 && code != service.ExitWatchdog) {
			t.Errorf("process %d after SIGINT: exited %t, code %d (log %s)", i, ok, code, r.LogPath)
		}
	}
	logData, _ := os.ReadFile(r.LogPath)
	t.Logf("%d leader kills in %s: %d with an intent pending (recovered by the next holder), the new process took the lease %d times, the survivor %d; slowest failover %s from the kill; %d intents recovered at takeovers",
		leaderKills, time.Since(began).Round(time.Second), midIntent, newcomerLed, leaderKills-newcomerLed, failoverMax.Round(time.Millisecond), strings.Count(string(logData), "recovering intent"))

	conf, err := service.LoadConfig(r.CfgPath)
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, ctx, st, conf)
	lost, doubled := r.api.check(t, st)
	t.Logf("API: %d requests (%d executed, %d refused), %d sent again; %d lost, %d doubled", len(r.api.ops), r.api.count("executed"), r.api.count("refused"), r.api.retries, lost, doubled)
	// A failover waits out the lease (TTL plus one renewal); 3 s more
	// for a loaded machine and a process starting beside it.
	if lim := crashTTL + crashTTL/3 + 3*time.Second; failoverMax > lim {
		t.Errorf("slowest failover %s, want within %s (the lease TTL, one renewal and 3 s for the load)", failoverMax, lim)
	}
}

// leaderOf waits until one of the two processes holds the lease and
// returns its slot. A process the watchdog ended (a write past 1.5 times
// its deadline on a loaded machine, by design) is started again; any
// other exit, or no leader within d, fails the test.
func (r *crashRig) leaderOf(slots *[2]*servetest.Proc, d time.Duration) int {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i, p := range slots {
			select {
			case <-p.Done:
				if p.Cmd.ProcessState.ExitCode() != service.ExitWatchdog {
					r.t.Fatalf("process %d exited (%v) while the test waited for a leader (log %s)", i, p.Err, r.LogPath)
				}
				slots[i] = r.Start()
				continue
			default:
			}
			if rd, ok := servetest.Readyz(p.Addr); ok && rd.Leader {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("no process led within %s (log %s)", d, r.LogPath)
	return -1
}

// doneTicks counts the scheduled intents done.
func doneTicks(t *testing.T, st *service.Store) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow("SELECT count(*) FROM intents WHERE source = 'schedule' AND status = 'done'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pendingIntents counts the intents journalled and not done.
func pendingIntents(t *testing.T, st *service.Store) int {
	t.Helper()
	p, err := st.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(p)
}

// minRebalanceTicks is the fewest rebalance ticks done by any of the
// vaults (0 while one has none).
func minRebalanceTicks(t *testing.T, st *service.Store, vaults []string) int {
	t.Helper()
	least := -1
	for _, id := range vaults {
		var n int
		if err := st.DB().QueryRow(st.Rebind("SELECT count(*) FROM intents WHERE vault_id = ? AND action = 'rebalance' AND source = 'schedule' AND status = 'done'"), id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if least < 0 || n < least {
			least = n
		}
	}
	return max(least, 0)
}
