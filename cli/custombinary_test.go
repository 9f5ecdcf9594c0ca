package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The sources of a custom binary that lives outside this module: its own
// go.mod (with a replace directive to this checkout), a strategy package
// registering go:outside-pick, and a main of a few lines over cli.Main.
const (
	outsideMain = `package main

import (
	"github.com/yieldvault/yieldvault/cli"

	_ "example.com/outside/pick"
)

func main() { cli.Main() }
`
	outsidePick = `// Package pick is a Go strategy of a module outside yieldvault: it puts
// everything in the market with the highest APY, and checks every six
// hours whether to move.
package pick

import (
	"context"
	"fmt"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

func init() {
	strategies.RegisterParams("outside-pick", New,
		strategies.Param{Name: "min_apy", Doc: "smallest APY worth holding", Default: 0, Min: 0, Max: 1})
}

type Pick struct {
	cfg    strategies.Config
	minAPY float64
}

func New(cfg strategies.Config) (strategies.Strategy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Pick{cfg: cfg, minAPY: cfg.Params["min_apy"]}, nil
}

func (p *Pick) Name() string { return "outside-pick" }

func (p *Pick) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	best, bestAPY := -1, p.minAPY
	for i := range st.Markets {
		if a := st.Markets[i].Obs.Value(adapters.FieldAPY, 0); st.Markets[i].Row >= 0 && a > bestAPY {
			best, bestAPY = i, a
		}
	}
	t := strategies.Target{Idle: 1, Reason: "the highest APY"}
	for i := range st.Markets {
		al := strategies.Allocation{Market: st.Markets[i].Market.ID, Reason: "not the highest"}
		if i == best {
			al.Weight, al.Reason, t.Idle = 1, fmt.Sprintf("apy %.4f", bestAPY), 0
		}
		t.Allocations = append(t.Allocations, al)
	}
	return t, nil
}

func (p *Pick) RebalanceSchedule() strategies.Schedule {
	s, _ := strategies.ParseSchedule("0 */6 * * *")
	return strategies.Schedule{Spec: "0 */6 * * *", Sched: s}
}
func (p *Pick) HarvestSchedule() strategies.Schedule { return strategies.Schedule{} }
func (p *Pick) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	return v.Drift > 0.01, fmt.Sprintf("drift %.4f", v.Drift), nil
}
func (p *Pick) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	return v.PendingRewards > v.HarvestCost, "rewards over cost", nil
}
`
)

// TestCustomBinary_OutsideModule is the acceptance test of the CLI as a
// library: it builds a binary from a main.go outside this module (its own
// go.mod, a replace directive to this checkout, offline: GOPROXY=off and
// the module cache that 'go mod download' filled), and runs validate,
// plan, backtest and serve with the strategy it adds.
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
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(gomod)
	src := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/outside\n\n" + string(goLine) + "\n\nrequire github.com/yieldvault/yieldvault v0.0.0-00010101000000-000000000000\n\n" +
			"replace github.com/yieldvault/yieldvault => " + root + "\n",
		"main.go":      outsideMain,
		"pick/pick.go": outsidePick,
	}
	// The module's go.sum holds every checksum the build needs.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files["go.sum"] = string(sum)
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "outside")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOSUMDB=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build outside the module: %v\n%s", err, out)
	}
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
	universe := "lido/steth,rocketpool/reth,aave-v3/weth"

	t.Run("validate", func(t *testing.T) {
		out := run(t, "validate", "go:outside-pick", "--universe", universe, "--param", "min_apy=0.01")
		if want := `go:outside-pick: ok: outside-pick (ETH), 3 markets, rebalance "0 */6 * * *", 1 params`; !strings.Contains(out, want) {
			t.Errorf("validate printed %q, want %q", out, want)
		}
	})
	t.Run("plan", func(t *testing.T) {
		var got struct {
			Strategy string
			Target   struct {
				Allocations []struct {
					Market string
					Weight float64
				}
			}
		}
		out := run(t, "plan", "-s", "go:outside-pick", "--universe", universe, "--at", "2024-06-01", "--json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("plan --json: %v\n%s", err, out)
		}
		held := 0
		for _, a := range got.Target.Allocations {
			if a.Weight == 1 {
				held++
			}
		}
		if got.Strategy != "outside-pick" || len(got.Target.Allocations) != 3 || held != 1 {
			t.Errorf("plan: %s, %+v; want outside-pick with one market at weight 1", got.Strategy, got.Target.Allocations)
		}
	})
	t.Run("backtest", func(t *testing.T) {
		out := run(t, "backtest", "-s", "go:outside-pick", "--universe", universe, "--from", "2024-03-01", "--to", "2024-04-01",
			"--out", filepath.Join(work, "runs"), "--json")
		var sum struct {
			Settings struct {
				Strategy string
				Universe []string
			}
			Metrics struct{ Rebalances int }
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("backtest --json: %v\n%s", err, out)
		}
		if sum.Settings.Strategy != "outside-pick" || len(sum.Settings.Universe) != 3 || sum.Metrics.Rebalances == 0 {
			t.Errorf("backtest: %+v; want outside-pick over 3 markets, rebalancing", sum)
		}
	})
	t.Run("serve", func(t *testing.T) {
		serveUntilTask(t, bin, "strategy: go:outside-pick\n    universe: ["+universe+"]")
	})
}

// serveUntilTask runs a binary's service on a replayed clock with one
// vault (vault holds its strategy lines) and a temporary state database,
// waits for a scheduled rebalance, sends SIGTERM and expects exit 0.
func serveUntilTask(t *testing.T, bin, vault string) {
	t.Helper()
	dir := t.TempDir()
	cfg := "listen: 127.0.0.1:0\ntoken: { env: YV_CUSTOM_TOKEN, optional: true }\nstate_db: state.db\nhistory_db: \"\"\n" +
		"replay: { start: 2024-03-01T00:00:00Z, speed: 100000 }\nvaults:\n  - id: v\n    " + vault + "\n    deposit: \"100\"\n"
	if err := os.WriteFile(filepath.Join(dir, "service.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "serve", "-c", "service.yaml")
	c.Dir = dir
	logs, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	ran, done := make(chan struct{}), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		seen := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "task=rebalance") && strings.Contains(sc.Text(), "source=schedule") {
				seen = true
				close(ran)
			}
		}
		done <- c.Wait()
	}()
	select {
	case <-ran:
	case err := <-done:
		t.Fatalf("serve exited before a scheduled rebalance: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		_ = c.Process.Kill()
		<-done
		t.Fatalf("no scheduled rebalance within 60s:\n%s", log.String())
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v, want exit 0\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		_ = c.Process.Kill()
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(log.String(), "shutting down") {
		t.Errorf("no clean shutdown in the log:\n%s", log.String())
	}
}
