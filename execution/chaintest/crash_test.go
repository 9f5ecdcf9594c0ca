package chaintest

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/node"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/internal/pgtest"
	"github.com/yieldvault/yieldvault/internal/servetest"
	"github.com/yieldvault/yieldvault/service"
)

var crashLong = flag.Bool("long", false, "TestServe_CrashSendMode: 60 kills instead of 12 (several minutes; run with -timeout 30m)")

const crashToken = "crash-test-token-0123456789"

// TestServe_CrashSendMode is the crash test in send mode: the binary
// runs `serve` in replay against the simulated chain, served over HTTP
// JSON-RPC by this test (go-ethereum's node HTTP server on the simulated
// backend), and is killed at random moments: SIGKILL mostly (many land
// while a transaction waits for its receipt, as the sender polls for it
// every second), SIGTERM sometimes. A clean run then finishes, and the
// checks: no intent pending; every transaction the account sent is in
// the execution journal, once (the account's nonces are exactly the
// journal's, each journal line a distinct intent and call), and mined;
// every journalled transaction is taken into exactly one decision's
// fills (each intent resolved, none twice); the vault is not paused and
// its book matches what the test reads from the contracts, within the
// accrual the replayed history adds that the test chain does not pay.
// 12 kills by default; -long runs 60.
//
// It runs on a SQLite state database and on a PostgreSQL schema, which
// hold the execution journal too (skipped, saying so, without
// YIELDVAULT_TEST_POSTGRES; failed under CI=true).
func TestServe_CrashSendMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it a dozen times against a simulated chain")
	}
	pgtest.EachStore(t, testCrashSendMode)
}

func testCrashSendMode(t *testing.T, stateDB string) {
	kills := 12
	if *crashLong {
		kills = 60
	}
	ctx := context.Background()
	port := servetest.FreePort(t)
	c := newChain(t, func(nc *node.Config, _ *ethconfig.Config) {
		nc.HTTPHost, nc.HTTPPort, nc.HTTPModules = "127.0.0.1", port, []string{"eth", "net", "web3"}
		nc.IPCPath = ""
	})
	me := c.signer.Address()
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	vaultArt := loadArtifact(t, "OZVault")
	aTokenArt := loadArtifact(t, "AaveAToken")
	asset := c.deploy(t, token, "Test USD", "tUSD")
	c.transact(t, token, asset, "mint", me, e18("100000"))
	pool, aToken := aaveMarket(t, c, asset)
	v4626 := c.deploy(t, vaultArt, asset)
	setupNonce, err := c.client.NonceAt(ctx, me, nil)
	if err != nil {
		t.Fatal(err)
	}

	r := servetest.NewRig(t, "../../cmd/yieldvault", service.ExitWatchdog)
	dir := r.Dir
	if err := synth.CreateDefault(ctx, filepath.Join(dir, "history.db")); err != nil {
		t.Fatal(err)
	}
	// Weights follow the two markets' APYs, which move with the history:
	// the vault trades between them day after day.
	strat := `name: two-lending-apy
description: Aave and an ERC-4626 vault weighted by their APYs
base: USD
universe: [aave-v3/usdc, morpho/usdc]
rules:
  eligible: tvl > 0
  score: net_apy * net_apy
  weight: score
allocation: { method: top_k, k: 2 }
constraints: { idle: 0.02, max_weight: 0.9 }
rebalance: { every: "0 */6 * * *", when: "drift > 0.002" }
`
	if err := os.WriteFile(filepath.Join(dir, "two.yaml"), []byte(strat), 0o600); err != nil {
		t.Fatal(err)
	}
	keyfile := filepath.Join(dir, "key.json")
	kb, err := os.ReadFile(c.keyfile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyfile, kb, 0o600); err != nil {
		t.Fatal(err)
	}
	src := "deployed by the test"
	// The lease and the write deadline are 2 s, not the cli crash test's
	// 1 s: this test is about transactions, not failover timing, and runs
	// under -race on a loaded machine.
	// The replay's history accrues interest that the test chain's
	// markets (no borrowers, no yield) do not pay: the tolerance allows
	// for it (2% of NAV, a month at the history's 5-10% APY); a real
	// chain accrues what the book does.
	cfg := fmt.Sprintf("state_db: %q\n", stateDB) + fmt.Sprintf(`history_db: history.db
listen: 127.0.0.1:0
token: { env: YV_CRASH_TOKEN }
replay: { start: 2024-03-01T00:00:00Z, speed: 20000 }
lease: { ttl: 2s }
write_deadline: 2s
vaults:
  - { id: usd, strategy: two.yaml, deposit: "100000", harvest: "@weekly", exit_check: "0 */6 * * *" }
execution:
  mode: send
  chain_id: 1337
  rpc: http://127.0.0.1:%d
  keystore: key.json
  password_env: YV_CRASH_KEYSTORE_PASSWORD
  reconcile_tolerance: 0.02
  vaults:
    - { id: usd, address: "%s" }
  deployments:
    - market: aave-v3/usdc
      protocol: aave-v3
      asset: { address: "%s", symbol: tUSD, decimals: 18, source: %s }
      contracts: { pool: { name: Aave v3 Pool, address: "%s", source: "%s from @aave/core-v3" } }
    - market: morpho/usdc
      protocol: erc4626
      asset: { address: "%s", symbol: tUSD, decimals: 18, source: %s }
      contracts: { vault: { name: OZVault, address: "%s", source: %s } }
  allow:
    - { contract: "%s", functions: [approve] }
    - { contract: "%s", functions: [supply, withdraw] }
    - { contract: "%s", functions: [deposit, withdraw] }
`, port, me.Hex(), asset.Hex(), src, pool.Hex(), src, asset.Hex(), src, v4626.Hex(), src, asset.Hex(), pool.Hex(), v4626.Hex())
	r.Config(cfg)
	r.Env = []string{"YV_CRASH_TOKEN=" + crashToken, "YV_CRASH_KEYSTORE_PASSWORD=" + c.password}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 14))
	began := time.Now()
	var sigkills, sigterms int
	for k := 0; k < kills; k++ {
		p := r.Start()
		time.Sleep(time.Duration(500+rng.IntN(3500)) * time.Millisecond)
		if rng.IntN(5) == 0 {
			_ = p.Cmd.Process.Signal(syscall.SIGTERM)
			sigterms++
			if exited, _ := p.Wait(20 * time.Second); !exited {
				p.Kill()
			}
			continue
		}
		p.Kill()
		sigkills++
	}
	// The clean run: it recovers what the last kill left, replays on for
	// a few seconds, and stops on SIGINT. It must lead within a minute;
	// a process the watchdog ended (a write past 1.5 times its deadline
	// on a loaded machine) is started again.
	p := r.Start()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, ok := r.WaitFor(p, time.Until(deadline), "lead (the clean run)", func(rd servetest.Ready) bool { return rd.Ready && rd.Leader }); ok {
			break
		}
		p = r.Start()
	}
	cmd, addr, logPath := p.Cmd, p.Addr, r.LogPath
	// It replays on until the vault has traded at least twice (the
	// floor the checks hold the run to), polled: on a loaded machine the
	// kills may have landed before most processes led.
	for tradedSoFar(t, addr) < 2 {
		if time.Now().After(deadline.Add(90 * time.Second)) {
			t.Fatalf("the vault traded fewer than 2 times within 90 s of the clean run (log %s)", logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := vaultBook(t, addr); v.Paused {
		t.Errorf("the vault is paused after the clean run: %v", v.Alerts)
	}
	// Pause it (one action at a time: a decision in flight commits
	// first), so that the book and the chain are read at rest.
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/vaults/usd/pause", strings.NewReader(`{"note":"crash test: read the book at rest"}`))
	req.Header.Set("Authorization", "Bearer "+crashToken)
	req.Header.Set(service.IdempotencyHeader, "final-pause")
	if resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("pause: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	book := vaultBook(t, addr)
	_ = cmd.Process.Signal(os.Interrupt)
	if exited, _ := p.Wait(30 * time.Second); !exited {
		t.Fatal("the clean run did not stop on SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("clean run exit code %d (log %s)", code, logPath)
	}
	logData, _ := os.ReadFile(logPath)
	recovered := strings.Count(string(logData), "recovering intent")
	settled := strings.Count(string(logData), "finishing an intent that sent transactions")

	// The journal (in the state database): one record per (intent,
	// call), each mined, and the account's nonces are exactly the
	// journal's.
	t.Setenv("YV_CRASH_KEYSTORE_PASSWORD", c.password)
	conf, err := service.LoadConfig(r.CfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := service.OpenStore(ctx, conf.StateDB, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	type line struct {
		Key   string
		Index int
		Hash  string
		Nonce uint64
	}
	jtxs, err := st.JournalTxs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []line
	gasLines := 0
	if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM execution_journal WHERE idx = -1").Scan(&gasLines); err != nil {
		t.Fatal(err)
	}
	nonces := map[uint64]string{}
	for _, x := range jtxs {
		l := line{Key: x.Key, Index: x.Index, Hash: x.Hash, Nonce: x.Nonce}
		if other, dup := nonces[l.Nonce]; dup {
			t.Errorf("nonce %d signed twice: %s and %s", l.Nonce, other, l.Hash)
		}
		nonces[l.Nonce] = l.Hash
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		t.Fatalf("no transaction was sent (log %s)", logPath)
	}
	final, err := c.client.NonceAt(ctx, me, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := final - setupNonce; got != uint64(len(lines)) {
		t.Errorf("the account sent %d transactions, the journal holds %d", got, len(lines))
	}
	for n := setupNonce; n < final; n++ {
		if _, ok := nonces[n]; !ok {
			t.Errorf("nonce %d was sent without a journal line", n)
		}
	}
	for _, l := range lines {
		rc, err := c.client.TransactionReceipt(ctx, common.HexToHash(l.Hash))
		if err != nil {
			t.Errorf("journalled %s#%d (%s) is not mined: %v", l.Key, l.Index, l.Hash, err)
			continue
		}
		if rc.Status != 1 {
			t.Errorf("journalled %s#%d (%s) reverted", l.Key, l.Index, l.Hash)
		}
	}

	// Every intent done, every journalled transaction in exactly one
	// decision's fills.
	pend, err := st.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 0 {
		t.Errorf("%d intents pending after the clean run, first %s", len(pend), pend[0].Key)
	}
	rows, err := st.DB().QueryContext(ctx, "SELECT intent_key, outcome, json FROM decisions WHERE vault_id = 'usd'")
	if err != nil {
		t.Fatal(err)
	}
	inDecisions := map[string]int{}
	byKey := map[string]string{}
	traded, failed := 0, 0
	for rows.Next() {
		var key, outcome, js string
		if err := rows.Scan(&key, &outcome, &js); err != nil {
			t.Fatal(err)
		}
		byKey[key] += outcome + ": " + js + "\n"
		switch outcome {
		case "traded":
			traded++
			if os.Getenv("YV_CRASH_DEBUG") != "" {
				t.Logf("traded %s: %.600s", key, js)
			}
		case "failed":
			failed++
			t.Logf("failed decision %s: %.300s", key, js)
		}
		var det struct {
			Result *struct {
				Executed []struct {
					Order struct {
						Reason string `json:"reason"`
					} `json:"order"`
				} `json:"executed"`
			} `json:"result"`
		}
		if json.Unmarshal([]byte(js), &det) != nil || det.Result == nil {
			continue
		}
		named := 0
		for _, ex := range det.Result.Executed {
			_, after, ok := strings.Cut(ex.Order.Reason, "on chain: ")
			if !ok {
				t.Errorf("decision %s: executed order without its transactions: %s", key, ex.Order.Reason)
				continue
			}
			named++
			hashes, _, _ := strings.Cut(after, ", gas ")
			for _, h := range strings.Split(hashes, ", ") {
				inDecisions[h]++
			}
		}
		if outcome == "traded" && named == 0 {
			t.Errorf("traded decision %s names no transaction", key)
		}
	}
	rows.Close()
	for _, l := range lines {
		// Approvals carry no fill of their own: they are named with the
		// order they prepare.
		if n := inDecisions[l.Hash]; n != 1 {
			t.Errorf("journalled %s#%d (%s) is in %d decisions' fills, want 1; the intent's decisions: %.3000s", l.Key, l.Index, l.Hash, n, byKey[l.Key])
			if in, err := st.Intent(ctx, l.Key); err == nil {
				t.Logf("intent %s: %s/%s, result %.1500s", in.Key, in.Status, in.Outcome, in.Result)
			} else {
				t.Logf("intent %s: %v", l.Key, err)
			}
			if dump := os.Getenv("YV_CRASH_DUMP"); dump != "" {
				_ = os.WriteFile(dump+".serve.log", logData, 0o600)
				rows, err := st.DB().QueryContext(ctx, "SELECT id, intent_key, outcome, summary FROM decisions WHERE vault_id = 'usd' ORDER BY id")
				if err == nil {
					var b strings.Builder
					for rows.Next() {
						var id int64
						var k, o, sm string
						_ = rows.Scan(&id, &k, &o, &sm)
						fmt.Fprintf(&b, "%d %s %s %.200s\n", id, k, o, sm)
					}
					rows.Close()
					_ = os.WriteFile(dump+".decisions", []byte(b.String()), 0o600)
				}
				rows, err = st.DB().QueryContext(ctx, "SELECT key, status, outcome, created_at, done_at, holder FROM intents WHERE vault_id = 'usd' ORDER BY done_at, key")
				if err == nil {
					var b strings.Builder
					for rows.Next() {
						var k, s2, o, h string
						var c, d sql.NullInt64
						_ = rows.Scan(&k, &s2, &o, &c, &d, &h)
						fmt.Fprintf(&b, "%s %s %s %d %d %s\n", k, s2, o, c.Int64, d.Int64, h)
					}
					rows.Close()
					_ = os.WriteFile(dump+".intents", []byte(b.String()), 0o600)
				}
			}
		}
	}

	// The book against the chain, read here independently.
	chainIdle := decimal.NewFromBigInt(c.uint(t, token, asset, "balanceOf", me), -18)
	chainAave := decimal.NewFromBigInt(c.uint(t, aTokenArt, aToken, "balanceOf", me), -18)
	chain4626 := decimal.NewFromBigInt(c.uint(t, vaultArt, v4626, "convertToAssets", c.uint(t, vaultArt, v4626, "balanceOf", me)), -18)
	nav := book.Idle
	for _, v := range book.values {
		nav = nav.Add(v)
	}
	tol := nav.Mul(decimal.RequireFromString("0.02"))
	var worst decimal.Decimal
	for _, x := range []struct {
		name        string
		book, chain decimal.Decimal
	}{{"idle", book.Idle, chainIdle}, {"aave-v3/usdc", book.values["aave-v3/usdc"], chainAave}, {"morpho/usdc", book.values["morpho/usdc"], chain4626}} {
		d := x.book.Sub(x.chain).Abs()
		worst = decimal.Max(worst, d)
		if d.Cmp(tol) > 0 {
			t.Errorf("%s: book %s, chain %s", x.name, x.book, x.chain)
		}
	}
	t.Logf("%d kills (%d SIGKILL, %d SIGTERM) in %s: %d transactions journalled and mined once each (and %d decisions' gas prices), %d traded decisions, %d failed, %d pending intents recovered at restarts (%d of them, which had sent transactions, before another intent of the vault that came first); book vs chain: NAV %s, largest difference %s (the replay's accrual)",
		kills, sigkills, sigterms, time.Since(began).Round(time.Second), len(lines), gasLines, traded, failed, recovered, settled, nav.StringFixed(2), worst.StringFixed(6))
	if traded < 2 {
		t.Errorf("%d traded decisions: the run did not exercise send mode", traded)
	}
}

type bookView struct {
	Paused bool            `json:"paused"`
	Idle   decimal.Decimal `json:"idle"`
	Alerts []any           `json:"alerts"`
	Pos    []struct {
		Market string          `json:"market"`
		Value  decimal.Decimal `json:"value"`
	} `json:"positions"`
	values map[string]decimal.Decimal
}

func vaultBook(t *testing.T, addr string) bookView {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/v1/vaults/usd")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v bookView
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("vault: %v %s", err, b)
	}
	v.values = map[string]decimal.Decimal{}
	for _, p := range v.Pos {
		v.values[p.Market] = p.Value
	}
	return v
}

// tradedSoFar counts the vault's traded decisions (the API's latest 200).
func tradedSoFar(t *testing.T, addr string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/v1/vaults/usd/decisions?limit=200")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var ds struct {
		Decisions []struct {
			Outcome string `json:"outcome"`
		} `json:"decisions"`
	}
	if json.NewDecoder(resp.Body).Decode(&ds) != nil {
		return 0
	}
	n := 0
	for _, d := range ds.Decisions {
		if d.Outcome == "traded" {
			n++
		}
	}
	return n
}
