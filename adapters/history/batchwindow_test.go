package history_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

// viaDB is the window of ids over [from, to] after writing b into an
// empty in-memory database.
func viaDB(t *testing.T, b *history.Batch, ids []string, from, to time.Time) *adapters.Window {
	t.Helper()
	ctx := context.Background()
	db, err := history.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	w, err := db.Load(ctx, ids, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestBatchWindow_SameAsWriteThenLoad compares BatchWindow with Write
// into an empty database then Load: generated histories with random
// events, and a hand-made batch with unsorted and duplicate rows, a -0,
// sparse fields (forward fill), a rate-only market (derived APY), a
// price-only staking token (price as rate) and events out of order.
func TestBatchWindow_SameAsWriteThenLoad(t *testing.T) {
	cat := adapters.Builtin()
	ids := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth"}
	var markets []adapters.Market
	for _, id := range ids {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		markets = append(markets, m)
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 2, 0)
	type tc struct {
		name     string
		b        *history.Batch
		ids      []string
		from, to time.Time
	}
	var cases []tc
	for _, sc := range []string{"default", "correlated-slash", "utilization-spike"} {
		b, err := synth.Generate(synth.Config{Scenario: sc, From: from, To: to, Step: time.Hour, Seed: 3, Markets: markets,
			Catalog: cat, RandomEvents: true})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{sc, b, ids, from.Add(5 * 24 * time.Hour), to.Add(-time.Hour)})
		cases = append(cases, tc{sc + "/all", b, nil, time.Time{}, time.Time{}})
	}
	// A loop the batch does not describe, composed from its legs
	// (collateral reserve, debt reserve, token) as Load composes it.
	loop, err := cat.Market("aave-v3/wsteth-loop")
	if err != nil {
		t.Fatal(err)
	}
	var legs []adapters.Market
	for _, id := range append(loop.Legs.IDs(), "lido/steth") {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		legs = append(legs, m)
	}
	lb, err := synth.Generate(synth.Config{Scenario: "weth-borrow-spike", From: from, To: to, Step: time.Hour, Seed: 5, Markets: legs,
		Catalog: cat, RandomEvents: true, SlashScope: "protocol:lido"})
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, tc{"loop", lb, []string{loop.ID, "lido/steth"}, from.Add(24 * time.Hour), to})
	cb := adapters.Market{ID: "coinbase/cbeth", Kind: adapters.LST, Base: adapters.ETH, Protocol: "coinbase", Token: "cbETH", Tags: []string{}}
	reth := adapters.Market{ID: "rocketpool/reth", Kind: adapters.LST, Base: adapters.ETH, Protocol: "rocketpool"}
	hand := &history.Batch{Source: "hand", Markets: []adapters.Market{cb, reth}}
	for d := 20; d >= 0; d-- {
		tm := from.Add(time.Duration(d) * 12 * time.Hour)
		var o, r adapters.Observation
		o.Time, r.Time = tm, tm
		o.Put(adapters.FieldPrice, 1.05+0.0004*float64(d))
		r.Put(adapters.FieldExchangeRate, 1.08+0.0002*float64(d))
		if d%3 == 0 {
			r.Put(adapters.FieldTVL, 1e6+float64(d))
		}
		if d == 4 {
			r.Put(adapters.FieldUtilization, math.Copysign(0, -1))
		}
		hand.Rows = append(hand.Rows, history.Row{Market: cb.ID, Obs: o}, history.Row{Market: reth.ID, Obs: r})
	}
	var dup adapters.Observation
	dup.Time = from.Add(24 * time.Hour)
	dup.Put(adapters.FieldVolume, 7)
	hand.Rows = append(hand.Rows, history.Row{Market: reth.ID, Obs: dup})
	hand.Events = []adapters.Event{
		{Time: from.Add(72 * time.Hour), Market: reth.ID, Type: adapters.EventSlash, Size: 0.01, Scope: "operator:b"},
		{Time: from.Add(72 * time.Hour), Market: reth.ID, Type: adapters.EventPause, Size: 0},
		{Time: from.Add(72 * time.Hour), Market: cb.ID, Type: adapters.EventDepeg, Size: 0.02},
		{Time: from.Add(24 * time.Hour), Market: reth.ID, Type: adapters.EventSlash, Size: 0.01, Scope: "operator:a"},
	}
	cases = append(cases, tc{"hand", hand, []string{reth.ID, cb.ID}, from.Add(time.Hour), from.Add(9 * 24 * time.Hour)},
		tc{"hand/all", hand, nil, time.Time{}, time.Time{}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := viaDB(t, c.b, c.ids, c.from, c.to)
			got, err := history.BatchWindow(c.b, c.ids, c.from, c.to, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("BatchWindow differs from Write then Load (-want +got):\n%s", diff)
			}
			if want.Rows() == 0 {
				t.Error("no rows: the case tests nothing")
			}
		})
	}
}
