package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/internal/pgtest"
	"github.com/yieldvault/yieldvault/internal/servetest"
	"github.com/yieldvault/yieldvault/service"
)

var crashLong = flag.Bool("long", false, "TestServe_CrashRecovery: 1,000 kills instead of about 60 (about 20 minutes; run with -timeout 60m)")

// Crash-test settings: the lease lasts crashTTL and is renewed every
// crashTTL/3; writes have crashDeadline.
const (
	crashTTL      = time.Second
	crashDeadline = time.Second
	crashToken    = "crash-test-token-0123456789"
)

// TestServe_CrashRecovery builds the binary and runs `serve` in replay
// mode at 100,000x against one state database, while an API client
// deposits and withdraws with idempotency keys, and ends processes in
// every way a deployment sees them end, at random moments:
//
//   - SIGKILL while the schedules catch up and API writes are in flight;
//   - SIGTERM, then SIGKILL during the shutdown;
//   - SIGTERM alone (exit code 0 within a bound; a catch-up stops
//     between ticks);
//   - SIGTERM during start-up (exit code 0);
//   - two processes: SIGKILL the leader and time the standby's takeover
//     (within the lease TTL plus one renewal), or SIGSTOP the leader and
//     time until the standby leads or reports the hung leader (within the
//     TTL, one renewal and the write deadline).
//
// A clean run then finishes what was left, every API request is retried
// with its key until it has an answer, and the checks: every scheduled
// tick exactly once, every API request that answered 200 exactly once in
// the ledger and every refused one not at all (0 lost, 0 doubled), the
// ledger gapless and replaying to the snapshot. About 60 kills by
// default; -long runs 1,000. It runs on a SQLite state database and on a
// PostgreSQL schema (skipped, saying so, without YIELDVAULT_TEST_POSTGRES;
// failed under CI=true).
func TestServe_CrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it 60+ times (about a minute)")
	}
	pgtest.EachStore(t, testCrashRecovery)
}

func testCrashRecovery(t *testing.T, stateDB string) {
	kills := 60
	if *crashLong {
		kills = 1000
	}
	r := newCrashRig(t, stateDB)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	began := time.Now()
	var st crashStats
	for st.kills < kills {
		switch x := rng.IntN(100); {
		case x < 55:
			r.killRun(rng, &st)
		case x < 70:
			r.termThenKill(rng, &st)
		case x < 80:
			r.termGraceful(rng, &st)
		case x < 88:
			r.termAtStart(rng, &st)
		default:
			r.twoProcesses(rng, &st)
		}
	}
	// A clean run finishes what the last kill left, answers every API
	// request still unanswered, and shuts down on SIGINT.
	p := r.Start()
	for tries := 0; !r.WaitLeader(p, 30*time.Second); tries++ {
		if tries == 3 {
			t.Fatalf("the clean run's process kept exiting (log %s)", r.LogPath)
		}
		p = r.Start()
	}
	r.api.drain(p.Addr, 60*time.Second)
	// It stops once each vault has done a day of rebalances, the floor
	// checkJournal holds the run to: on a loaded machine the kills may
	// have left fewer (processes killed before they led), and a fixed
	// wait is too short there.
	conf, err := service.LoadConfig(r.CfgPath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := service.OpenStore(context.Background(), conf.StateDB, false)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r.Poll(p, 120*time.Second, "rebalance each vault for a day", func() bool { return minRebalanceTicks(t, store, []string{"eth", "usd"}) >= 24 })
	if err := p.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if ok, code := p.Wait(30 * time.Second); !ok || code != 0 {
		t.Fatalf("clean run: exited %t, code %d (log %s)", ok, code, r.LogPath)
	}
	logData, _ := os.ReadFile(r.LogPath)
	st.recovered = strings.Count(string(logData), "recovering intent")
	st.watchdog = strings.Count(string(logData), "watchdog:")
	t.Logf("%d kills in %s: %s", st.kills, time.Since(began).Round(time.Second), st.String())

	checkJournal(t, context.Background(), store, conf)
	lost, doubled := r.api.check(t, store)
	t.Logf("API: %d requests (%d deposits and withdrawals executed, %d refused), %d sent again after a kill; %d lost, %d doubled",
		len(r.api.ops), r.api.count("executed"), r.api.count("refused"), r.api.retries, lost, doubled)
	// The bounds allow 2 s for a loaded machine (CI runs other packages
	// alongside); a standby that waited out SQLite's five-second busy
	// timeout, or the lease twice, still fails them.
	const slack = 2 * time.Second
	if st.failoverMax > crashTTL+crashTTL/3+slack {
		t.Errorf("slowest failover after SIGKILL %s, want within the lease TTL %s plus one renewal %s (and %s for the loaded machine)", st.failoverMax, crashTTL, crashTTL/3, slack)
	}
	if st.stopDetectMax > crashTTL+crashTTL/3+crashDeadline+slack {
		t.Errorf("slowest detection of a SIGSTOPped leader %s, want within the TTL, one renewal and the write deadline %s (and %s)", st.stopDetectMax, crashDeadline, slack)
	}
}

// crashStats are the figures a crash run reports.
type crashStats struct {
	kills, sigkills, termKills, terms, startTerms, startTermsEarly int
	failovers, stops, stopsBlocked, lapses, stopsLapsed            int
	failoverMax, stopDetectMax, termMax                            time.Duration
	recovered, watchdog                                            int
}

func (s *crashStats) String() string {
	return fmt.Sprintf("%d SIGKILLs mid-run, %d SIGKILLs during a shutdown, %d SIGTERMs (exit 0, slowest %s), %d SIGTERMs during start-up (exit 0; %d before the signal handler was installed), "+
		"%d two-process failovers after SIGKILL (slowest %s), %d SIGSTOPped leaders (%d inside a write: reported as hung; slowest detection %s), %d two-process rounds not timed (a lease lapsed or a process exited), %d stops reported while the leader's lease had already lapsed, %d pending intents recovered at restarts, %d watchdog exits",
		s.sigkills, s.termKills, s.terms, s.termMax.Round(time.Millisecond), s.startTerms, s.startTermsEarly,
		s.failovers, s.failoverMax.Round(time.Millisecond), s.stops, s.stopsBlocked, s.stopDetectMax.Round(time.Millisecond), s.lapses, s.stopsLapsed, s.recovered, s.watchdog)
}

// crashRig is the process rig (the binary, its configuration, the log)
// and the API client.
type crashRig struct {
	*servetest.Rig
	t   *testing.T
	api *apiClient
}

func newCrashRig(t *testing.T, stateDB string) *crashRig {
	t.Helper()
	r := servetest.NewRig(t, "../cmd/yieldvault", service.ExitWatchdog)
	if err := synth.CreateDefault(context.Background(), filepath.Join(r.Dir, "history.db")); err != nil {
		t.Fatal(err)
	}
	strat, _ := filepath.Abs("../examples/strategies")
	r.Config(fmt.Sprintf(`state_db: %[4]q
history_db: history.db
listen: 127.0.0.1:0
token: { env: YV_CRASH_TOKEN }
replay: { start: 2024-03-01T00:00:00Z, speed: 100000 }
lease: { ttl: %[1]s }
write_deadline: %[2]s
vaults:
  - { id: eth, strategy: %[3]s/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly", harvest: "0 */4 * * *", exit_check: "@hourly", fees: { management: 0.02, performance: 0.2, profit_unlock: 2d } }
  - { id: usd, strategy: %[3]s/usd-lending.yaml, deposit: "250000", rebalance: "@hourly", harvest: "0 */4 * * *", exit_check: "@hourly" }
`, crashTTL, crashDeadline, strat, stateDB))
	r.Env = []string{"YV_CRASH_TOKEN=" + crashToken}
	return &crashRig{Rig: r, t: t, api: &apiClient{vault: "usd"}}
}

// withClient runs the API client against addr until the returned stop
// is called.
func (r *crashRig) withClient(addr string) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); r.api.run(addr, quit) }()
	return func() { close(quit); <-done }
}

// killRun: SIGKILL at a random moment while jobs and API writes run.
func (r *crashRig) killRun(rng *rand.Rand, st *crashStats) {
	p := r.Start()
	stop := r.withClient(p.Addr)
	time.Sleep(150*time.Millisecond + time.Duration(rng.Int64N(int64(850*time.Millisecond))))
	p.Kill()
	stop()
	st.kills++
	st.sigkills++
}

// termThenKill: SIGTERM, then SIGKILL during the shutdown.
func (r *crashRig) termThenKill(rng *rand.Rand, st *crashStats) {
	p := r.Start()
	stop := r.withClient(p.Addr)
	time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(900*time.Millisecond))))
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(time.Duration(rng.Int64N(int64(60 * time.Millisecond))))
	p.Kill()
	stop()
	st.kills++
	st.termKills++
}

// termGraceful: SIGTERM; the process must exit 0 within 12 s (jobs stop
// between ticks, requests get up to 10 s).
func (r *crashRig) termGraceful(rng *rand.Rand, st *crashStats) {
	p := r.Start()
	stop := r.withClient(p.Addr)
	time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(900*time.Millisecond))))
	began := time.Now()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	ok, code := p.Wait(12 * time.Second)
	took := time.Since(began)
	stop()
	if !ok {
		r.t.Errorf("SIGTERM: no exit within 12 s (log %s)", r.LogPath)
		p.Kill()
	} else if code != 0 && code != service.ExitWatchdog { // the watchdog may have ended it first
		r.t.Errorf("SIGTERM: exit code %d, want 0 (log %s)", code, r.LogPath)
	}
	st.termMax = max(st.termMax, took)
	st.kills++
	st.terms++
}

// termAtStart: SIGTERM during start-up must exit 0. A signal that
// arrives before the Go runtime has installed the handler ends the
// process the default way (killed by SIGTERM); that is counted apart.
func (r *crashRig) termAtStart(rng *rand.Rand, st *crashStats) {
	p := r.Start()
	time.Sleep(time.Duration(rng.Int64N(int64(120 * time.Millisecond))))
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	ok, code := p.Wait(12 * time.Second)
	switch {
	case !ok:
		r.t.Errorf("SIGTERM during start-up: no exit within 12 s (log %s)", r.LogPath)
		p.Kill()
	case code == -1 && p.Cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGTERM:
		st.startTermsEarly++
	case code != 0 && code != service.ExitWatchdog:
		r.t.Errorf("SIGTERM during start-up: exit code %d, want 0 (log %s)", code, r.LogPath)
	}
	st.kills++
	st.startTerms++
}

// twoProcesses runs a leader and a standby on the database, then
// SIGKILLs or SIGSTOPs the leader and times the standby.
func (r *crashRig) twoProcesses(rng *rand.Rand, st *crashStats) {
	st.kills += 2
	st.sigkills += 2
	a := r.Start()
	if !r.WaitLeader(a, 30*time.Second) {
		return
	}
	stop := r.withClient(a.Addr)
	b := r.Start()
	var lead bool
	if _, ok := r.WaitFor(b, 30*time.Second, "get ready", func(rd servetest.Ready) bool { lead = rd.Leader; return rd.Ready }); !ok || lead {
		// b exited, or a's renewal came too late on a loaded machine and b
		// leads already: nothing to time this round.
		st.lapses++
		a.Kill()
		b.Kill()
		stop()
		return
	}
	time.Sleep(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
	if rng.IntN(2) == 0 {
		killAt := time.Now()
		_ = a.Cmd.Process.Signal(syscall.SIGKILL)
		stop()
		stop = r.withClient(b.Addr)
		_, ok := r.WaitFor(b, 10*time.Second, "take over", func(rd servetest.Ready) bool { return rd.Leader })
		d := time.Since(killAt) // from the kill, not from when the client let go of a
		<-a.Done
		if ok {
			st.failovers++
			st.failoverMax = max(st.failoverMax, d)
		}
	} else {
		// A report standing from before the stop (a renewal late on a
		// loaded machine) does not count as detecting it.
		if _, ok := r.WaitFor(b, 10*time.Second, "clear any write_blocked", func(rd servetest.Ready) bool { return rd.Blocked == nil }); !ok {
			st.lapses++
			a.Kill()
			b.Kill()
			stop()
			return
		}
		stopAt := time.Now()
		_ = a.Cmd.Process.Signal(syscall.SIGSTOP)
		// The API client lets go of the stopped a in the background: its
		// request in flight waits out the client's timeout (3 s), which is
		// the test's delay, not the standby's. It moves to b once the
		// standby has been timed.
		clientDone := make(chan struct{})
		go func(stop func()) { stop(); close(clientDone) }(stop)
		blocked := false
		lapsedBefore := false
		_, ok := r.WaitFor(b, 15*time.Second, "lead or report the stopped leader", func(rd servetest.Ready) bool {
			blocked = rd.Blocked != nil && rd.Blocked.Since.After(stopAt.Add(-50*time.Millisecond))
			lapsedBefore = blocked && rd.Blocked.Expires.Before(stopAt)
			return rd.Leader || blocked
		})
		d := time.Since(stopAt)
		<-clientDone
		stop = r.withClient(b.Addr)
		if ok && lapsedBefore {
			// The leader's lease had lapsed before the stop (its renewal
			// was late on the loaded machine) and the standby was already
			// waiting for the lock: a report, but not a timing of the stop.
			st.stopsLapsed++
			ok = false
		}
		if ok {
			st.stops++
			st.stopDetectMax = max(st.stopDetectMax, d)
			if blocked {
				st.stopsBlocked++
			}
		}
		a.Kill() // SIGKILL ends a stopped process and releases its locks
		r.WaitLeader(b, 10*time.Second)
	}
	time.Sleep(150*time.Millisecond + time.Duration(rng.Int64N(int64(400*time.Millisecond))))
	b.Kill()
	stop()
}

// apiOp is one state-changing request and its final answer.
type apiOp struct {
	key, action, body string
	answered          bool
	executed          bool // answered 200
	answer            string
}

// apiClient sends deposits and withdrawals one at a time, each with its
// own Idempotency-Key; a request without a final answer (the process
// died, a lost race, not ready) is sent again, same key and body, before
// any new one.
type apiClient struct {
	vault   string
	mu      sync.Mutex
	ops     []*apiOp
	retries int
}

var apiHTTP = &http.Client{Timeout: 3 * time.Second}

// next returns the first unanswered request, or a new one.
func (c *apiClient) next() *apiOp {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range c.ops {
		if !op.answered {
			return op
		}
	}
	n := len(c.ops)
	user := fmt.Sprintf("u%d", n%3)
	op := &apiOp{key: fmt.Sprintf("op-%06d", n), action: "deposit", body: `{"user":"` + user + `","amount":"10"}`}
	if n%2 == 1 {
		op.action, op.body = "withdraw", `{"user":"`+user+`","amount":"4"}`
	}
	c.ops = append(c.ops, op)
	return op
}

// send sends op once and records a final answer when there is one.
func (c *apiClient) send(addr string, op *apiOp) (final bool) {
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/vaults/"+c.vault+"/"+op.action, strings.NewReader(op.body))
	req.Header.Set("Authorization", "Bearer "+crashToken)
	req.Header.Set("Idempotency-Key", op.key)
	resp, err := apiHTTP.Do(req)
	if err != nil {
		c.mu.Lock()
		c.retries++
		c.mu.Unlock()
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	switch {
	case resp.StatusCode == http.StatusOK:
	case e.Error.Code == "conflict", e.Error.Code == "not_ready", e.Error.Code == "internal":
		return false // a lost race, a standby still waiting, a failure: send again
	case resp.StatusCode >= 500:
		return false
	}
	c.mu.Lock()
	op.answered, op.executed, op.answer = true, resp.StatusCode == http.StatusOK, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
	c.mu.Unlock()
	return true
}

// run sends requests to addr until quit.
func (c *apiClient) run(addr string, quit <-chan struct{}) {
	for {
		select {
		case <-quit:
			return
		default:
		}
		if !c.send(addr, c.next()) {
			select {
			case <-quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// drain sends every unanswered request to addr until all have an answer.
func (c *apiClient) drain(addr string, d time.Duration) {
	began := time.Now()
	for time.Since(began) < d {
		c.mu.Lock()
		var op *apiOp
		for _, o := range c.ops {
			if !o.answered {
				op = o
				break
			}
		}
		c.mu.Unlock()
		if op == nil {
			return
		}
		if !c.send(addr, op) {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (c *apiClient) count(what string) int {
	n := 0
	for _, op := range c.ops {
		if op.answered && op.executed == (what == "executed") {
			n++
		}
	}
	return n
}

// check compares the answers with the state database: each request
// answered 200 is exactly one deposit or withdraw entry in the ledger,
// each refused one is none, and the ledger holds no other API entry.
func (c *apiClient) check(t *testing.T, st *service.Store) (lost, doubled int) {
	t.Helper()
	rows, err := st.DB().Query(st.Rebind("SELECT intent_key, type, count(*) FROM ledger WHERE vault_id = ? AND intent_key LIKE ? AND type IN ('deposit', 'withdraw') GROUP BY intent_key, type"), c.vault, c.vault+"/api/%")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var key, typ string
		var n int
		if err := rows.Scan(&key, &typ, &n); err != nil {
			t.Fatal(err)
		}
		got[key+" "+typ] += n
	}
	rows.Close()
	seen := map[string]bool{}
	for _, op := range c.ops {
		k := c.vault + "/api/" + op.key + " " + op.action
		seen[k] = true
		n := got[k]
		switch {
		case !op.answered:
			t.Errorf("request %s never got an answer", op.key)
		case op.executed && n == 0:
			lost++
			t.Errorf("request %s answered %s but has no %s entry in the ledger: lost", op.key, op.answer, op.action)
		case n > 1:
			doubled++
			t.Errorf("request %s has %d %s entries in the ledger: doubled", op.key, n, op.action)
		case !op.executed && n != 0:
			doubled++
			t.Errorf("request %s answered %s but has a %s entry in the ledger", op.key, op.answer, op.action)
		}
	}
	var extra []string
	for k := range got {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	if len(extra) > 0 {
		t.Errorf("ledger entries of API requests the client never sent: %v", extra)
	}
	return lost, doubled
}
