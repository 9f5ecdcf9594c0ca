package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/headless"
)

// apiVaults reads GET /v1/vaults.
func apiVaults(t *testing.T, url string) map[string]VaultView {
	t.Helper()
	resp, err := http.Get(url + "/v1/vaults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Vaults []VaultView }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]VaultView{}
	for _, v := range body.Vaults {
		out[v.ID] = v
	}
	return out
}

// TestDashboard_HeadlessChromium opens the dashboard in headless Chromium
// against a running service with two vaults: the page loads with no
// console error, shows each vault's NAV and share price equal to the
// API's, its positions and a chart, and shows the new figures after the
// service has run two simulated days.
func TestDashboard_HeadlessChromium(t *testing.T) {
	s := metricsService(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	br := headless.Open(t, "the dashboard", 1200, 900)
	ctx := br.Ctx

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?refresh=1"), chromedp.WaitVisible(chromedp.CSS("#vault-usd-b .nav"))); err != nil {
		t.Fatalf("loading the dashboard: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent : "<missing>"; })()`, sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return v
	}
	// check compares the page with the API, waiting for a refresh to
	// bring the page up to date.
	check := func(when string) map[string]VaultView {
		t.Helper()
		want := apiVaults(t, srv.URL)
		deadline := time.Now().Add(15 * time.Second)
		for {
			var diffs []string
			for id, v := range want {
				if got := text("#vault-" + id + " .nav"); got != v.NAV.String() {
					diffs = append(diffs, fmt.Sprintf("%s NAV %q, API %q", id, got, v.NAV))
				}
				if got := text("#vault-" + id + " .share-price"); got != v.SharePrice.String() {
					diffs = append(diffs, fmt.Sprintf("%s share price %q, API %q", id, got, v.SharePrice))
				}
				for _, p := range v.Positions {
					if got := text(fmt.Sprintf("#vault-%s table.positions tr[data-market=%q] td", id, p.Market)); got != p.Market {
						diffs = append(diffs, fmt.Sprintf("%s: no allocation row for %s", id, p.Market))
					}
				}
				for _, e := range v.Exits {
					if got := text(fmt.Sprintf("#vault-%s table.exits tr[data-market=%q] td:last-child", id, e.Market)); got != e.Route {
						diffs = append(diffs, fmt.Sprintf("%s: exit route of %s %q, API %q", id, e.Market, got, e.Route))
					}
				}
			}
			if len(diffs) == 0 {
				return want
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the page does not show the API's figures: %s", when, strings.Join(diffs, "; "))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	before := check("first load")
	if _, err := s.Advance(context.Background(), t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := check("after two simulated days")
	if after["eth-a"].NAV.Equal(before["eth-a"].NAV) {
		t.Errorf("eth-a's NAV did not move in two days (%s): the update check proves nothing", after["eth-a"].NAV)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#vault-eth-a svg.chart polyline").length`))
	if err != nil || n != 2 {
		t.Errorf("eth-a's chart has %d lines (%v), want NAV and share price", n, err)
	}
	for _, p := range br.Problems() {
		t.Errorf("dashboard in Chromium: %s", p)
	}
}

// TestDashboard_LoopHealthFactor runs the example wstETH/WETH loop for a
// week and checks the API's loop figures against the persisted position:
// the health factor is collateral at the oracle's price (Aave's e-mode
// oracle prices wstETH at its exchange rate) x the liquidation threshold
// (the profile's dated lltv) / debt, computed here from the position's
// units, indexes and debt; the dashboard shows it in the loops table.
func TestDashboard_LoopHealthFactor(t *testing.T) {
	path := writeConfig(t, "", "  - { id: loop, strategy: $STRAT/aave-wsteth-loop.yaml, deposit: \"100\" }\n")
	s := newTestService(t, path, NewManualClock(t0))
	ctx := context.Background()
	at := t0.Add(7 * 24 * time.Hour)
	if _, err := s.Advance(ctx, at); err != nil {
		t.Fatal(err)
	}
	row, err := s.store.Vault(ctx, "loop")
	if err != nil {
		t.Fatal(err)
	}
	var hf float64
	for _, p := range row.State.Positions {
		if p.Market != "aave-v3/wsteth-loop" || p.Units.Sign() == 0 {
			continue
		}
		prof, err := s.vaults["loop"].spec.Strategy.(interface {
			Catalog() *adapters.Catalog
		}).Catalog().Profile("aave-v3-emode-wsteth")
		if err != nil {
			t.Fatal(err)
		}
		coll := p.Units.Float() * p.Index * p.Rate
		debt := p.Debt.Float() * p.DebtIndex
		hf = coll * prof.ParamAt("lltv", row.State.Time, 0) / debt
	}
	if !(hf > 1) {
		t.Fatalf("no loop with debt after a week (health factor %g): %+v", hf, row.State.Positions)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	v := apiVaults(t, srv.URL)["loop"]
	if len(v.Loops) != 1 || v.Loops[0].Market != "aave-v3/wsteth-loop" {
		t.Fatalf("API loops %+v, want the wstETH loop", v.Loops)
	}
	l := v.Loops[0]
	if math.Abs(l.HealthFactor-hf) > 1e-9*hf || math.Abs(l.LiquidationDrop-(1-1/hf)) > 1e-9 || math.Abs(l.Leverage-3) > 0.1 {
		t.Errorf("API loop %+v, want health factor %.12g (liquidation drop %.12g) at leverage about 3", l, hf, 1-1/hf)
	}
	br := headless.Open(t, "the dashboard", 1200, 900)
	sel := `#vault-loop table.loops tr[data-market="aave-v3/wsteth-loop"] td.health-factor`
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("loading the dashboard: %v", err)
	}
	got, err := chromedp.Run(br.Ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatFloat(l.HealthFactor, 'f', 4, 64); got != want {
		t.Errorf("the dashboard shows health factor %q, the API %s", got, want)
	}
	for _, p := range br.Problems() {
		t.Errorf("dashboard in Chromium: %s", p)
	}
}
