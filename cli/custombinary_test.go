package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/internal/servetest"
	"github.com/yieldvault/yieldvault/strategies"
)

// outsideCatalog names the third-party kind's market and gives the
// built-in lending market aave-v3/weth the third party's driver.
const outsideCatalog = `profiles:
  - name: notehouse
    display: Note House
    kind: fixed-note
    base: ETH
    params:
      exit_fee: { value: 0.001, source: "the test's fixture: the note's redemption fee" }
    source: the test's fixture
markets:
  - { id: notehouse/note-eth, kind: fixed-note, base: ETH }
  - { id: aave-v3/weth, kind: lending, base: ETH, driver: flat }
`

// TestCustomBinary_OutsideModule is the acceptance test of the CLI as a
// library and of the open registries. It copies testdata/outside (a
// main.go, a strategy package and a market-kind package) to a folder
// outside this module, writes its go.mod (a replace directive to this
// checkout), builds it offline (GOPROXY=off, GOFLAGS=-mod=mod: the module
// cache that 'go mod download' filled is enough), runs the adapter
// conformance suite from the outside module's own test, and runs markets,
// validate, plan, backtest and serve with the strategy (go:outside-pick),
// the new kind (fixed-note) and the second lending driver (driver: flat).
func TestCustomBinary_OutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(filepath.Join("testdata", "outside"))); err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(gomod)
	mod := "module example.com/outside\n\n" + string(goLine) + "\n\nrequire github.com/yieldvault/yieldvault v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/yieldvault/yieldvault => " + root + "\n"
	// The module's go.sum holds every checksum the build needs.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(src, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) *exec.Cmd {
		c := exec.Command("go", args...)
		c.Dir = src
		c.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off")
		return c
	}
	bin := filepath.Join(t.TempDir(), "outside")
	if out, err := goCmd("build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build outside the module: %v\n%s", err, out)
	}

	t.Run("conformance suite in the outside module", func(t *testing.T) {
		out, err := goCmd("test", "-count=1", "-v", "./notes").CombinedOutput()
		if err != nil {
			t.Fatalf("go test ./notes outside the module: %v\n%s", err, out)
		}
		for _, want := range []string{"--- PASS: TestConformance/notehouse/note-eth/ConstantRateYear", "--- PASS: TestConformance/aave-v3/weth/RandomSequences"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the suite's output lacks %q:\n%s", want, out)
			}
		}
	})

	work := t.TempDir()
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		c := exec.Command(bin, args...)
		c.Dir, c.Stdout, c.Stderr = work, &out, &errb
		if err := c.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String()
	}
	// History: the note at a constant 5% (6-hourly, from 2024-02-01), and
	// lido/steth and aave-v3/weth exported from the embedded history.
	var note strings.Builder
	note.WriteString("market,time,apy,exit_liquidity\n")
	for at := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC); !at.After(time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC)); at = at.Add(6 * time.Hour) {
		fmt.Fprintf(&note, "notehouse/note-eth,%s,0.05,5000\n", at.Format(time.RFC3339))
	}
	files := map[string]string{"cat.yaml": outsideCatalog, "note.csv": note.String()}
	for _, id := range []string{"lido/steth", "aave-v3/weth"} {
		files[strings.ReplaceAll(id, "/", "-")+".csv"] = run(t, "data", "export", "--market", id, "--from", "2024-02-01", "--to", "2024-04-02", "--format", "csv")
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "data", "import", "--db", "h.db", "--catalog", "cat.yaml", "note.csv", "lido-steth.csv", "aave-v3-weth.csv")
	common := []string{"--db", "h.db", "--catalog", "cat.yaml"}
	universe := "notehouse/note-eth,lido/steth,aave-v3/weth"

	t.Run("markets", func(t *testing.T) {
		var got marketsJSON
		if err := json.Unmarshal([]byte(run(t, append(common, "markets", "--kind", "fixed-note", "--json")...)), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Markets) != 1 || got.Markets[0].ID != "notehouse/note-eth" || len(got.Protocols) != 1 || got.Protocols[0].Params["exit_fee"].Value != 0.001 {
			t.Errorf("markets --kind fixed-note: %+v; want notehouse/note-eth with its exit_fee", got)
		}
		if err := json.Unmarshal([]byte(run(t, append(common, "markets", "--kind", "lending", "--json")...)), &got); err != nil {
			t.Fatal(err)
		}
		for _, m := range got.Markets {
			if want := map[bool]string{true: "flat", false: ""}[m.ID == "aave-v3/weth"]; m.Driver != want {
				t.Errorf("market %s: driver %q, want %q", m.ID, m.Driver, want)
			}
		}
	})
	t.Run("validate", func(t *testing.T) {
		out := run(t, append(common, "validate", "go:outside-pick", "--universe", universe, "--param", "min_apy=0.01")...)
		if want := `go:outside-pick: ok: outside-pick (ETH), 3 markets, rebalance "0 */6 * * *", 1 params`; !strings.Contains(out, want) {
			t.Errorf("validate printed %q, want %q", out, want)
		}
	})
	t.Run("plan", func(t *testing.T) {
		var got struct {
			Strategy string
			Target   strategies.Target
		}
		out := run(t, append(common, "plan", "-s", "go:outside-pick", "--universe", universe, "--at", "2024-03-20", "--json")...)
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("plan --json: %v\n%s", err, out)
		}
		if got.Strategy != "outside-pick" || got.Target.Weight("notehouse/note-eth") != 1 {
			t.Errorf("plan: %s, %+v; want outside-pick with everything in the note (5%%, the highest APY)", got.Strategy, got.Target.Allocations)
		}
	})
	t.Run("backtest", func(t *testing.T) {
		out := run(t, append(common, "backtest", "-s", "go:outside-pick", "--universe", universe, "--from", "2024-03-05", "--to", "2024-04-01",
			"--out", filepath.Join(work, "runs"), "--json")...)
		var sum backtest.Result
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("backtest --json: %v\n%s", err, out)
		}
		if sum.Settings.Strategy != "outside-pick" || sum.Metrics.Orders != 1 {
			t.Fatalf("backtest: strategy %q, %d orders; want outside-pick buying the note once", sum.Settings.Strategy, sum.Metrics.Orders)
		}
		// The note compounds at 5% a year from the first decision (at the
		// start) to the end, on the capital less the deposit's gas.
		capital := sum.Settings.Capital.InexactFloat64()
		years := sum.Settings.To.Sub(sum.Settings.From).Hours() / (365 * 24)
		want := (capital - sum.Metrics.Gas.InexactFloat64()) * math.Pow(1.05, years)
		if got := sum.Metrics.EndValue; math.Abs(got-want) > 1e-6*want {
			t.Errorf("end value %.9f, want %.9f: (capital - gas) x 1.05^%.6f", got, want, years)
		}
	})
	t.Run("serve", func(t *testing.T) {
		serveUntilTask(t, bin, work, "history_db: h.db\ncatalog: cat.yaml\n", "2024-03-05", "strategy: go:outside-pick\n    universe: ["+universe+"]", "notehouse/note-eth")
	})
	t.Run("unknown driver", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(work, "bad.yaml"), []byte("markets:\n  - { id: aave-v3/weth, kind: lending, base: ETH, driver: fast }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		c := exec.Command(bin, "markets", "--catalog", "bad.yaml")
		c.Dir, c.Stderr = work, &errb
		if err := c.Run(); err == nil || !strings.Contains(errb.String(), `bad.yaml:2:59: market aave-v3/weth: driver "fast" is not registered for kind lending (registered: flat)`) {
			t.Errorf("markets with an unknown driver: %v, %q", err, errb.String())
		}
	})
}

// serveUntilTask runs a binary's service with its configuration in dir:
// a replayed clock from start, settings (top-level lines), one vault
// (vault holds its strategy lines) and a new state database; it waits for
// a scheduled rebalance that trades into market, then stops it.
func serveUntilTask(t *testing.T, bin, dir, settings, start, vault, market string) {
	t.Helper()
	cfg := "listen: 127.0.0.1:0\ntoken: { env: YV_CUSTOM_TOKEN, optional: true }\nstate_db: state.db\n" + settings +
		"replay: { start: " + start + "T00:00:00Z, speed: 100000 }\nvaults:\n  - id: v\n    " + vault + "\n    deposit: \"100\"\n"
	servetest.Until(t, bin, dir, cfg, "scheduled rebalance into "+market, func(l string) bool {
		return strings.Contains(l, "task=rebalance") && strings.Contains(l, "source=schedule") &&
			strings.Contains(l, "outcome=traded") && strings.Contains(l, "buy "+market)
	})
}
