package service

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// TestService_OwnSupplyFiveTimesTheMarket runs a vault of 10,000 ETH
// that supplies everything to an Aave v3 WETH market of 2,000 ETH at 85%
// utilization: between its second and thirtieth day the service's
// vault grows at the reserve's supply rate at the utilization after its
// own supply, 1,700 / (2,000 + the vault's position), computed here with
// Aave's formula and the reserve's parameters (about 0.05% a year), not
// at the 1.84% the market pays without it.
func TestService_OwnSupplyFiveTimesTheMarket(t *testing.T) {
	ctx := context.Background()
	supplyRate := func(u float64) float64 { // Aave v3 WETH (adapters/builtin.go)
		b := 0.027 * u / 0.9
		if u > 0.9 {
			b = 0.027 + 0.8*(u-0.9)/0.1
		}
		return b * u * (1 - 0.15)
	}
	db, err := history.OpenMemory(ctx, history.WithClock(func() time.Time { return time.Unix(0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := adapters.Builtin().Market("aave-v3/weth")
	if err != nil {
		t.Fatal(err)
	}
	b := &history.Batch{Source: "test", Format: "test", Markets: []adapters.Market{m}}
	for h := -24; h <= 31*24; h++ {
		o := adapters.Observation{Time: t0.Add(time.Duration(h) * time.Hour)}
		o.Put(adapters.FieldAPY, supplyRate(0.85))
		o.Put(adapters.FieldUtilization, 0.85)
		o.Put(adapters.FieldSupply, 2000)
		o.Put(adapters.FieldBorrows, 1700)
		o.Put(adapters.FieldTVL, 2000*3000)
		o.Put(adapters.FieldBaseUSD, 3000)
		b.Rows = append(b.Rows, history.Row{Market: m.ID, Obs: o})
	}
	if _, err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	strat := filepath.Join(dir, "hold-aave.yaml")
	if err := os.WriteFile(strat, []byte(`name: hold-aave
base: ETH
universe: [aave-v3/weth]
rules:
  score: "1.0"
constraints: { idle: 0 }
rebalance: { every: "@hourly" }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(cfgPath, []byte("state_db: state.db\ndurability: normal\nvaults:\n  - { id: big, strategy: "+strat+", deposit: \"10000\", rebalance: \"@hourly\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: db, Manual: true,
		Getenv: func(string) string { return testToken }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	nav := func(at time.Time) (float64, float64) {
		t.Helper()
		if _, err := s.Advance(ctx, at); err != nil {
			t.Fatal(err)
		}
		v, err := s.view(ctx, s.vaults["big"])
		if err != nil {
			t.Fatal(err)
		}
		var held float64
		for _, p := range v.Positions {
			held += p.Value.InexactFloat64()
		}
		return v.NAV.InexactFloat64(), held
	}
	nav0, held := nav(t0.Add(48 * time.Hour))
	if held < 0.95*nav0 {
		t.Fatalf("the vault holds %g of its %g in the market, want nearly all (idle earns nothing)", held, nav0)
	}
	nav1, _ := nav(t0.Add(30 * 24 * time.Hour))
	// The held part grows hour by hour at the model after itself.
	v := held
	for h := 0; h < 28*24; h++ {
		v *= math.Pow(1+supplyRate(1700/(2000+v)), 1.0/(365*24))
	}
	want := v - held
	got := nav1 - nav0
	t.Logf("service: 10,000 ETH in a 2,000 ETH market earned %.6f ETH in 28 days; the IRM after its own supply says %.6f (the market's rate: %.6f)",
		got, want, held*(math.Pow(1+supplyRate(0.85), 28.0/365)-1))
	if math.Abs(got-want) > 1e-4*want {
		t.Errorf("earned %.6f ETH in 28 days, want %.6f within 0.01%%", got, want)
	}
}
