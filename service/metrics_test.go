package service

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/vault"
)

// scrape returns the service's /metrics text.
func scrape(t *testing.T, s *Service) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func metricsService(t *testing.T) *Service {
	t.Helper()
	dir := t.TempDir()
	path := writeConfig(t, "durability: normal\nsources:\n  - { name: inbox, folder: "+dir+", every: \"@hourly\" }", `
  - { id: eth-a, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly" }
  - { id: usd-b, strategy: $STRAT/usd-lending.yaml, deposit: "250000" }
`)
	return newTestService(t, path, NewManualClock(t0))
}

// TestMetrics_Lint runs the Prometheus linter (promtool check metrics'
// library) on the first scrape and on one after a simulated day.
func TestMetrics_Lint(t *testing.T) {
	s := metricsService(t)
	lint := func(when string) {
		probs, err := promlint.New(strings.NewReader(scrape(t, s))).Lint()
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		for _, p := range probs {
			t.Errorf("%s: %s: %s", when, p.Metric, p.Text)
		}
	}
	lint("first scrape")
	if _, err := s.Advance(context.Background(), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	lint("after a day")
}

// TestMetrics_FirstScrape checks that every metric docs/operations.md
// documents has a series in the first scrape, before any job ran, and
// that the counters are there at 0 for each label set (a vault's every
// action and outcome, a job, a source, a route).
func TestMetrics_FirstScrape(t *testing.T) {
	s := metricsService(t)
	body := scrape(t, s)
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	i := strings.Index(sec, "\n## Metrics\n")
	if i < 0 {
		t.Fatal("docs/operations.md has no Metrics section")
	}
	sec = sec[i:]
	sec = sec[:strings.Index(sec[1:], "\n## ")+1]
	cell := regexp.MustCompile("(?m)^\\| ([^|]+)\\|")
	name := regexp.MustCompile("`([a-z_]+)`")
	n := 0
	for _, row := range cell.FindAllStringSubmatch(sec, -1) {
		for _, m := range name.FindAllStringSubmatch(row[1], -1) {
			n++
			series := "yieldvault_" + m[1]
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + `(_bucket)?[{ ]`).MatchString(body) {
				t.Errorf("documented metric %s has no series in the first scrape", series)
			}
		}
	}
	if n < 20 {
		t.Fatalf("read %d metric names from docs/operations.md, want the whole table", n)
	}
	for _, want := range []string{
		`yieldvault_decisions_total{action="rebalance",outcome="rejected",vault="eth-a"} 0`,
		`yieldvault_decisions_total{action="exit_check",outcome="traded",vault="usd-b"} 0`,
		`yieldvault_decisions_total{action="harvest",outcome="failed",vault="eth-a"} 0`,
		`yieldvault_vault_stale_total{vault="usd-b"} 0`,
		`yieldvault_job_errors_total{job="vault/eth-a/harvest"} 0`,
		`yieldvault_job_panics_total{job="source/inbox"} 0`,
		`yieldvault_source_errors_total{source="inbox"} 0`,
		`yieldvault_source_rows_imported_total{source="inbox"} 0`,
		`yieldvault_http_requests_total{code="401",route="POST /v1/vaults/{id}/deposit"} 0`,
		`yieldvault_job_duration_seconds_count{job="vault/usd-b/rebalance"} 0`,
		`yieldvault_vault_last_harvest_timestamp_seconds{vault="eth-a"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("first scrape lacks %s", want)
		}
	}
	if !regexp.MustCompile(`(?m)^yieldvault_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1$`).MatchString(body) {
		t.Error("no yieldvault_build_info series with version, revision and goversion")
	}
	for _, re := range []string{
		`(?m)^yieldvault_vault_nav\{asset="ETH",vault="eth-a"\} `,
		`(?m)^yieldvault_vault_nav\{asset="USD",vault="usd-b"\} `,
		`(?m)^yieldvault_vault_position_value\{asset="USD",market="aave-v3/usdc",vault="usd-b"\} `,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("first scrape has no series matching %s", re)
		}
	}
}

// TestMetrics_SharePrice checks the share price gauge and the API's
// share_price are per share of 10^decimals_offset units (1 at the first
// deposit, about 1 after it), and share_price_per_unit the vault's own
// price per share unit.
func TestMetrics_SharePrice(t *testing.T) {
	s := metricsService(t)
	rt := s.vaults["eth-a"]
	row, err := s.store.Vault(context.Background(), "eth-a")
	if err != nil {
		t.Fatal(err)
	}
	v, err := rt.restore(row)
	if err != nil {
		t.Fatal(err)
	}
	sum := Summarize(v)
	off := v.Config().DecimalsOffset
	// Independently: total assets + 1 unit over supply + 10^offset units,
	// times 10^offset.
	unit := decimal.New(1, -18)
	want := v.TotalAssets().Add(unit).DivRound(v.TotalSupply().Add(decimal.New(1, int32(off)-18)), 30).Shift(int32(off))
	if d := sum.SharePrice.Sub(want).Abs(); d.GreaterThan(decimal.New(1, -17)) {
		t.Errorf("share_price %s, want %s (offset %d)", sum.SharePrice, want, off)
	}
	if d := sum.SharePricePerUnit.Shift(int32(off)).Sub(sum.SharePrice).Abs(); d.GreaterThan(decimal.New(1, -11)) {
		t.Errorf("share_price_per_unit %s x 10^%d is not share_price %s", sum.SharePricePerUnit, off, sum.SharePrice)
	}
	lo, hi := decimal.RequireFromString("0.99"), decimal.RequireFromString("1.01")
	if sum.SharePrice.LessThan(lo) || sum.SharePrice.GreaterThan(hi) {
		t.Errorf("share_price %s right after the first deposit, want about 1", sum.SharePrice)
	}
	body := scrape(t, s)
	m := regexp.MustCompile(`(?m)^yieldvault_vault_share_price\{asset="ETH",vault="eth-a"\} (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no share price series for eth-a")
	}
	got := decimal.RequireFromString(m[1])
	if got.Sub(sum.SharePrice).Abs().GreaterThan(decimal.New(1, -12)) {
		t.Errorf("vault_share_price %s, API share_price %s", got, sum.SharePrice)
	}
}

// TestView_ExitRoutes: the API lists each held position's exit route:
// its value, an instant exit's cost and limit, the queue's delay where
// the market has one open, and a route in words consistent with them.
func TestView_ExitRoutes(t *testing.T) {
	s := metricsService(t)
	ctx := context.Background()
	if _, err := s.Advance(ctx, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	v, err := s.view(ctx, s.vaults["eth-a"])
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, p := range v.Positions {
		if p.Value.Sign() > 0 {
			held++
		}
	}
	if held == 0 || len(v.Exits) != held {
		t.Fatalf("%d exit routes for %d held positions", len(v.Exits), held)
	}
	queued := false
	for _, e := range v.Exits {
		if e.Value.Sign() <= 0 || e.InstantCost.Sign() < 0 || e.MaxInstant.Sign() < 0 || strings.HasPrefix(e.Route, "unknown") {
			t.Errorf("%s: value %s, instant cost %s, max instant %s, route %q", e.Market, e.Value, e.InstantCost, e.MaxInstant, e.Route)
		}
		if instant := e.MaxInstant.GreaterThanOrEqual(e.Value); instant != (e.Route == "instant") {
			t.Errorf("%s: route %q with max instant %s for a value of %s", e.Market, e.Route, e.MaxInstant, e.Value)
		}
		if e.Market == "lido/steth" {
			// Lido's queue: withdrawal_days 3 since 2023-05-15 (builtin profile).
			queued = e.QueueDays == 3
		}
	}
	if !queued {
		t.Errorf("lido/steth's exit shows no 3-day queue: %+v", v.Exits)
	}
}

// reconcilingPaper is the paper executor with a chain that always agrees:
// a Reconciler, as the send executor is.
type reconcilingPaper struct{ PaperExecutor }

func (reconcilingPaper) Reconcile(context.Context, string, *vault.Vault) (*execution.Reconciliation, error) {
	return &execution.Reconciliation{}, nil
}

// TestMetrics_FirstScrapeReconcile: with an executor that reconciles
// with the chain (send mode), the chain-reconcile monitor's series are
// in the first scrape too, at 0, for every vault.
func TestMetrics_FirstScrapeReconcile(t *testing.T) {
	path := writeConfig(t, "durability: normal", `
  - { id: eth-a, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100" }
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true, Executor: reconcilingPaper{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := scrape(t, s)
	for _, want := range []string{
		`yieldvault_monitor_fired_total{monitor="chain-reconcile",vault="eth-a"} 0`,
		`yieldvault_monitor_firing{action="pause",monitor="chain-reconcile",severity="critical",vault="eth-a"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("first scrape lacks %s", want)
		}
	}
	if strings.Contains(scrape(t, metricsService(t)), `monitor="chain-reconcile"`) {
		t.Error("the paper executor's first scrape has chain-reconcile series: it never reconciles")
	}
}
