package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cli runs the CLI in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func sharedData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set; skipping a test on the real market history")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("YIELDVAULT_SHARED_DATA=%s: %v", dir, err)
	}
	return dir
}

func TestMarkets_JSONListsEveryProtocol(t *testing.T) {
	code, out, errs := cli(t, "markets", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got marketsJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	have := map[string]bool{}
	for _, p := range got.Protocols {
		have[p.Name] = len(p.Markets) > 0
	}
	for _, name := range []string{"lido", "rocketpool", "coinbase", "etherfi", "renzo", "puffer", "kelp",
		"eigenlayer", "symbiotic", "karak", "babylon", "kamino", "aave-v3", "compound-v3", "morpho", "spark",
		"curve", "uniswap-v3", "balancer"} {
		if !have[name] {
			t.Errorf("markets --json: protocol %s missing or without markets", name)
		}
	}
}

// TestMarkets_ParamsAt prints the values in force on a date: no Lido
// queue before Lido V2, EigenLayer's escrow before and after the slashing
// upgrade.
func TestMarkets_ParamsAt(t *testing.T) {
	tests := []struct {
		at, proto, param, want string
	}{
		{"2022-06-15", "lido", "withdrawal_days", "not in force before 2023-05-15"},
		{"2024-06-15", "lido", "withdrawal_days", "3 "},
		{"2024-06-15", "eigenlayer", "escrow_days", "7 "},
		{"2025-05-01", "eigenlayer", "escrow_days", "14 "},
		{"2024-09-01", "babylon", "yield_paid", "0 "},
	}
	for _, tt := range tests {
		code, out, errs := cli(t, "markets", "--params", "--at", tt.at)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		_, sec, _ := strings.Cut(out, "\n"+tt.proto+" (")
		sec, _, _ = strings.Cut(sec, "\n\n")
		line := ""
		for _, l := range strings.Split(sec, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == tt.param {
				line = l
			}
		}
		if !strings.Contains(line, tt.want) {
			t.Errorf("markets --params --at %s: %s %s line %q, want it to contain %q", tt.at, tt.proto, tt.param, line, tt.want)
		}
	}
	if code, _, errs := cli(t, "markets", "--at", "someday"); code == 0 || !strings.Contains(errs, "--at") {
		t.Errorf("markets --at someday: exit %d, stderr %q; want a usage error naming --at", code, errs)
	}
}

func TestDataList_Embedded(t *testing.T) {
	code, out, errs := cli(t, "data", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"lido/steth", "aave-v3/usdc", "curve/3pool", "embedded default history"} {
		if !strings.Contains(out, want) {
			t.Errorf("data list output lacks %q", want)
		}
	}
	code, out, _ = cli(t, "data", "list", "--json")
	var rows []marketInfoJSON
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) == 0 {
		t.Fatalf("data list --json: exit %d, %d rows", code, len(rows))
	}
	for _, r := range rows {
		if r.Rows == 0 || r.First == nil || r.Last == nil || !r.First.Before(*r.Last) {
			t.Errorf("%s: rows %d, range %v..%v", r.ID, r.Rows, r.First, r.Last)
		}
	}
}

func TestDataSynthExportCheck(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	code, out, errs := cli(t, "data", "synth", "--db", db, "--scenario", "steth-2022", "--from", "2022-05-01", "--to", "2022-08-01",
		"--step", "6h", "--seed", "7", "--market", "lido/steth", "--market", "curve/steth-eth")
	if code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "new") {
		t.Errorf("synth output: %s", out)
	}
	// The same again adds nothing.
	_, out, _ = cli(t, "data", "synth", "--db", db, "--scenario", "steth-2022", "--from", "2022-05-01", "--to", "2022-08-01",
		"--step", "6h", "--seed", "7", "--market", "lido/steth", "--market", "curve/steth-eth")
	if !strings.Contains(out, "(0 new") {
		t.Errorf("second synth added rows: %s", out)
	}
	code, out, errs = cli(t, "data", "export", "--db", db, "--market", "lido/steth", "--from", "2022-06-01", "--to", "2022-06-02")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1+5 || !strings.HasPrefix(lines[0], "market,time,") {
		t.Errorf("export csv: %d lines, header %q", len(lines), lines[0])
	}
	code, out, _ = cli(t, "data", "export", "--db", db, "--market", "lido/steth", "--format", "json", "--from", "2022-06-01", "--to", "2022-06-02")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("export json: exit %d, valid %v", code, json.Valid([]byte(out)))
	}
	if code, out, _ = cli(t, "data", "check", "--db", db); code != 0 {
		t.Errorf("check: exit %d: %s", code, out)
	}
}

func TestDataImport_BadFileLeavesDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(good, []byte("day,rate\n2024-01-01,3.1\n2024-01-02,3.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("day,rate\n2024-01-03,3.3\n2024-01-04,NaN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mapping := []string{"--market", "aave-v3/usdc", "--col", "time=day:date", "--col", "apy=rate:percent"}
	code, _, errs := cli(t, append([]string{"data", "import", "--db", db}, append(mapping, good)...)...)
	if code != 0 {
		t.Fatalf("good import: exit %d: %s", code, errs)
	}
	code, _, errs = cli(t, append([]string{"data", "import", "--db", db}, append(mapping, bad)...)...)
	if code != 1 {
		t.Errorf("bad import: exit %d, want 1", code)
	}
	if !strings.Contains(errs, "bad.csv:3") {
		t.Errorf("bad import error does not name bad.csv:3: %s", errs)
	}
	_, out, _ := cli(t, "data", "list", "--db", db, "--json")
	var rows []marketInfoJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Rows != 2 {
		t.Errorf("after a failed import: %+v, want aave-v3/usdc with 2 rows", rows)
	}
}

// TestDataImport_Implausible: an APY given as a percent but mapped as a
// fraction (x100) and a row dated 9999-12-31 are refused with file:line;
// --allow-implausible stores the APYs with a warning and data check reports
// them; the date is refused whatever the flag says.
func TestDataImport_Implausible(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	x100 := filepath.Join(dir, "x100.csv")
	far := filepath.Join(dir, "far.csv")
	if err := os.WriteFile(x100, []byte("day,rate\n2024-01-01,0.031\n2024-01-02,50000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(far, []byte("day,rate\n2024-01-03,3.3\n9999-12-31,3.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mapping := []string{"--market", "aave-v3/usdc", "--col", "time=day:date", "--col", "apy=rate:percent"}
	imp := func(extra ...string) (int, string, string) {
		return cli(t, append(append([]string{"data", "import", "--db", db}, mapping...), extra...)...)
	}
	code, _, errs := imp(x100)
	if code != 1 || !strings.Contains(errs, "x100.csv:3") || !strings.Contains(errs, "apy 500 is outside the plausible range") {
		t.Errorf("x100 import: exit %d, %s; want exit 1 naming x100.csv:3 and the APY", code, errs)
	}
	for _, flag := range [][]string{nil, {"--allow-implausible"}} {
		code, _, errs = imp(append(flag, far)...)
		if code != 1 || !strings.Contains(errs, "far.csv:3") || !strings.Contains(errs, "time \"9999-12-31\" is outside 2015-07-30..2100-01-01") {
			t.Errorf("far import %v: exit %d, %s; want exit 1 naming far.csv:3", flag, code, errs)
		}
	}
	code, _, errs = imp("--allow-implausible", x100)
	if code != 0 || !strings.Contains(errs, "implausible") {
		t.Fatalf("x100 import with --allow-implausible: exit %d, %s; want 0 with a warning", code, errs)
	}
	code, out, _ := cli(t, "data", "check", "--db", db)
	if code != 1 || !strings.Contains(out, "aave-v3/usdc: implausible: apy 500 is outside the plausible range [-1, 10]") {
		t.Errorf("data check: exit %d:\n%s\nwant exit 1 reporting the APY", code, out)
	}
}

// TestUniswapNoPoolSize_SharedData: on the GeckoTerminal file (volume, no
// pool size) the plan says the fee APY is unknown, and the backtest's gain
// test reads 0 for the pool with that reason in decisions.csv; gain_apy read
// 1198 (volume x fee / the vault's own deposit).
func TestUniswapNoPoolSize_SharedData(t *testing.T) {
	dir := sharedData(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "h.db")
	for _, sub := range []string{"uniswap-v3-weth-usdt-hourly-geckoterminal", "aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily"} {
		if code, _, errs := cli(t, "data", "import", "--db", db, filepath.Join(dir, sub)); code != 0 {
			t.Fatalf("import %s: %s", sub, errs)
		}
	}
	strat := filepath.Join(tmp, "s.yaml")
	if err := os.WriteFile(strat, []byte("name: lp\nbase: ETH\nuniverse: [uniswap-v3/weth-usdt, aave-v3/weth]\nrules:\n  score: net_apy\nallocation: { method: equal }\nconstraints: { idle: 0.02 }\nrebalance: { every: \"0 0 * * MON\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const reason = "uniswap-v3/weth-usdt: fee APY unknown: the data has the pool's volume but no pool size"
	code, out, errs := cli(t, "plan", "-s", strat, "--db", db, "--at", "2024-06-02")
	if code != 0 || !strings.Contains(out, "note: "+reason) {
		t.Errorf("plan: exit %d\n%s%s\nwant the note %q", code, out, errs, reason)
	}
	code, out, errs = cli(t, "backtest", "-s", strat, "--db", db, "--from", "2024-06-01", "--to", "2024-09-01", "--out", tmp)
	if code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, errs)
	}
	run := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	dec, err := os.ReadFile(filepath.Join(run, "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(dec), "\n")
	head := strings.Split(lines[0], ",")
	gainCol := slices.Index(head, "gain_apy")
	first := strings.Split(lines[1], ",")
	if g, err := strconv.ParseFloat(first[gainCol], 64); err != nil || g > 0.05 {
		t.Errorf("first decision's gain_apy = %q, want a finite APY below 5%% (Aave's alone)", first[gainCol])
	}
	if !strings.Contains(lines[1], reason) || !strings.Contains(lines[1], "(counted as 0 in the gain test)") {
		t.Errorf("first decision does not say why the pool's APY is 0: %s", lines[1])
	}
}

func TestDataImport_SharedData(t *testing.T) {
	dir := sharedData(t)
	db := filepath.Join(t.TempDir(), "h.db")
	code, out, errs := cli(t, "data", "import", "--db", db, dir)
	if code != 0 {
		t.Fatalf("import %s: exit %d\n%s\n%s", dir, code, out, errs)
	}
	_, list1, _ := cli(t, "data", "list", "--db", db, "--json")
	code, out, errs = cli(t, "data", "import", "--db", db, dir)
	if code != 0 {
		t.Fatalf("re-import: exit %d: %s", code, errs)
	}
	if strings.Contains(out, "new,") && !strings.Contains(out, "(0 new") {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, " new,") && !strings.Contains(l, "(0 new, 0 updated") {
				t.Errorf("re-import changed rows: %s", l)
			}
		}
	}
	_, list2, _ := cli(t, "data", "list", "--db", db, "--json")
	if list1 != list2 {
		t.Errorf("re-import changed data list")
	}
	var rows []marketInfoJSON
	if err := json.Unmarshal([]byte(list2), &rows); err != nil {
		t.Fatal(err)
	}
	byID := map[string]marketInfoJSON{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, id := range []string{"lido/steth", "rocketpool/reth", "aave-v3/weth", "aave-v3/usdt", "aave-v3/usdc",
		"compound-v3/usdc", "curve/steth-eth", "curve/3pool", "uniswap-v3/weth-usdt", "etherfi/weeth"} {
		if byID[id].Rows == 0 {
			t.Errorf("market %s missing after importing the shared data", id)
		}
	}
	if r := byID["aave-v3/weth"]; r.First == nil || !r.First.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("aave-v3/weth first = %v, want 2024-01-01", r.First)
	}
}

func TestValidate(t *testing.T) {
	matches, err := filepath.Glob("../examples/strategies/*.yaml")
	if err != nil || len(matches) == 0 {
		t.Fatalf("no example strategies: %v", err)
	}
	code, out, errs := cli(t, append([]string{"validate"}, matches...)...)
	if code != 0 {
		t.Fatalf("validate examples: exit %d: %s", code, errs)
	}
	if n := strings.Count(out, ": ok: "); n != len(matches) {
		t.Errorf("validate printed %d ok lines for %d files:\n%s", n, len(matches), out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	doc := "name: bad\nbase: ETH\nuniverse: [lido/steth, nope/x]\nrules:\n  eligible: peg > 0.99\n  score: apyy\n  weight: score\n"
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = cli(t, "validate", matches[0], bad)
	if code != 1 {
		t.Errorf("validate bad file: exit %d, want 1", code)
	}
	for _, want := range []string{"bad.yaml:3:", "nope/x", "bad.yaml:6:", "apyy"} {
		if !strings.Contains(errs, want) {
			t.Errorf("validate errors lack %q:\n%s", want, errs)
		}
	}
}

func TestPlan(t *testing.T) {
	code, out, errs := cli(t, "plan", "-s", "../examples/strategies/lst-lrt-balanced.yaml", "--at", "2024-06-01", "--capital", "250")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	for _, want := range []string{"lido/steth", "idle", "REASON", "capital 250 ETH"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "plan", "-s", "../examples/strategies/lst-lrt-balanced.yaml", "--json")
	var got struct {
		Target struct {
			Allocations []struct {
				Market string
				Weight float64
			}
			Idle float64
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("plan --json: exit %d: %s", code, out)
	}
	sum := got.Target.Idle
	for _, a := range got.Target.Allocations {
		sum += a.Weight
	}
	if sum < 1-1e-9 || sum > 1+1e-9 {
		t.Errorf("weights + idle = %g, want 1", sum)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"data", "list", "--nope"},
		{"data", "export"},
		{"plan"},
		{"data", "synth", "--db", "x.db", "--step", "-1h"},
		{"markets", "extra"},
		{"data", "import", "x.csv"},
	}
	for _, args := range tests {
		code, _, errs := cli(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
		if errs == "" {
			t.Errorf("%v: no error message", args)
		}
	}
	code, _, errs := cli(t, "data", "list", "--db", filepath.Join(t.TempDir(), "missing.db"))
	if code != 1 || !strings.Contains(errs, "missing.db") {
		t.Errorf("missing db: exit %d: %s", code, errs)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := cli(t, args...)
		if code != 0 || !regexp.MustCompile(`^yieldvault \S+ \(commit \S+, go[0-9.]+\S*\)\n$`).MatchString(out) {
			t.Errorf("%v: exit %d, %q; want yieldvault VERSION (commit C, goX)", args, code, out)
		}
	}
}

// Every example strategy backtests on the embedded history with the
// default capital of its base, and trades.
func TestBacktest_EveryExample(t *testing.T) {
	matches, err := filepath.Glob("../examples/strategies/*.yaml")
	if err != nil || len(matches) == 0 {
		t.Fatalf("no example strategies: %v", err)
	}
	out := t.TempDir()
	for _, f := range matches {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := cli(t, "backtest", "-s", f, "--from", "2024-02-01", "--to", "2024-04-01", "--out", out, "--json")
			if code != 0 {
				t.Fatalf("backtest %s: exit %d: %s", f, code, stderr)
			}
			var sum struct {
				Metrics struct {
					Orders int `json:"orders"`
				} `json:"metrics"`
			}
			if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
				t.Fatalf("summary is not JSON: %v", err)
			}
			if sum.Metrics.Orders == 0 {
				t.Errorf("%s placed no orders over two months", f)
			}
		})
	}
}

// TestPlan_RateOnlyAPYNote: rETH's real file has an exchange rate and no
// APY; the plan reads its yield from the rate's trailing growth and says
// so.
func TestPlan_RateOnlyAPYNote(t *testing.T) {
	root := sharedData(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "h.db")
	if code, _, stderr := cli(t, "data", "import", "--db", db, filepath.Join(root, "reth-exchange-rate")); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	strat := filepath.Join(tmp, "s.yaml")
	src := "name: s\nbase: ETH\nuniverse: [rocketpool/reth]\nrules:\n  eligible: apy > 0\n  score: net_apy\n"
	if err := os.WriteFile(strat, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "plan", "--db", db, "-s", strat, "--at", "2023-06-01")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "note: rocketpool/reth: apy and net_apy are the trailing 7d growth of its exchange rate") {
		t.Errorf("plan output does not say where rETH's apy comes from:\n%s", stdout)
	}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[0] == "rocketpool/reth" && (f[1] != "100.00%" || f[3] == "0.00%") {
			t.Errorf("plan's rETH line %q: want it fully weighted at a positive net APY", l)
		}
	}
}

// TestDataSynth_SlashFlags: a correlated slash's scope and size come from
// the command line; they apply only to that scenario.
func TestDataSynth_SlashFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	code, out, errs := cli(t, "data", "synth", "--db", db, "--scenario", "correlated-slash", "--from", "2025-04-10", "--to", "2025-04-20",
		"--step", "1d", "--market", "lido/steth", "--market", "kelp/rseth", "--market", "renzo/ezeth", "--slash-scope", "protocol:lido", "--slash-size", "0.05")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// A Lido slash reaches stETH (slash, depeg) and rsETH, stETH in its
	// basket (slash, depeg, pause, unpause), not ezETH: 6 events.
	if !strings.Contains(out, " 6 events") {
		t.Errorf("data synth output %q: want 6 events (stETH and rsETH hit, ezETH not)", out)
	}
	if code, _, errs := cli(t, "data", "synth", "--db", db, "--scenario", "calm", "--slash-size", "0.1"); code == 0 || !strings.Contains(errs, "--slash-size") {
		t.Errorf("--slash-size with the calm scenario: exit %d, stderr %q; want a usage error naming the flag", code, errs)
	}
	if code, _, errs := cli(t, "data", "synth", "--db", db, "--scenario", "correlated-slash", "--slash-size", "2"); code == 0 || !strings.Contains(errs, "--slash-size") {
		t.Errorf("--slash-size 2: exit %d, stderr %q; want a usage error", code, errs)
	}
}

// TestDataImport_MergedWarning_SharedData: the DefiLlama Aave v3 USDC
// free liquidity x100 is plausible on its own; imported beside the
// Messari file's supply and borrows, the import warns (exit 0) and data
// check reports it (exit 1).
func TestDataImport_MergedWarning_SharedData(t *testing.T) {
	src := filepath.Join(sharedData(t), "aave-v3-usdc-messari-daily")
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(src, "aave_usdc_dados_completos.csv"), filepath.Join(dir, "aave_usdc_dados_completos.csv")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(src, "dataset_aave_defillama.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		c := strings.Split(lines[i], ",")
		v, err := strconv.ParseFloat(c[2], 64)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		c[2] = strconv.FormatFloat(v*100, 'f', -1, 64)
		lines[i] = strings.Join(c, ",")
	}
	if err := os.WriteFile(filepath.Join(dir, "dataset_aave_defillama.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "h.db")
	const want = "aave-v3/usdc: implausible: exit_liquidity is 101 times supply - borrows observed within a day"
	code, _, errs := cli(t, "data", "import", "--db", db, dir)
	if code != 0 || !strings.Contains(errs, want) {
		t.Errorf("import: exit %d\n%s\nwant 0 with the warning %q", code, errs, want)
	}
	code, out, _ := cli(t, "data", "check", "--db", db)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("data check: exit %d\n%s\nwant 1 reporting %q", code, out, want)
	}
}
