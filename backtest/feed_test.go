package backtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// TestEngine_FeedSemantics holds the engine's monotonic feed (row
// pointers, events, gas) and its State preparation to the shared ones
// the service and plan use (vault.FeedWindow, vault.PrepareState): a
// second vault fed from the same window at every step must see the same
// observations, gas price and gas asset price, apply the same events,
// and plan on the same rows. The window is a USD universe with an ETH
// market beside it (the gas asset price comes from the data), the first
// market's gas price missing for a day, and events between steps.
func TestEngine_FeedSemantics(t *testing.T) {
	ctx := context.Background()
	db := defaultHistory(t)
	s := loadExample(t, "usd-lending.yaml")
	from, to := day("2024-03-01"), day("2024-03-20")
	u := s.Universe()
	w, err := LoadUniverse(ctx, db, append(slices.Clip(u), "lido/steth"), from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	w2 := *w
	w2.Series = slices.Clone(w.Series)
	gasGap := [2]int64{day("2024-03-05").Unix(), day("2024-03-06").Unix()}
	for i, ser := range w2.Series {
		cp := *ser
		cp.Events = nil
		switch ser.Market.ID {
		case u[0]:
			cp.Set = slices.Clone(ser.Set)
			for r, ts := range ser.Times {
				if ts >= gasGap[0] && ts < gasGap[1] {
					cp.Set[r] &^= adapters.FieldSet(0).With(adapters.FieldGasPrice)
				}
			}
			cp.Events = []adapters.Event{
				{Time: day("2024-03-04").Add(90 * time.Minute), Market: u[0], Type: adapters.EventPause},
				{Time: day("2024-03-08").Add(30 * time.Minute), Market: u[0], Type: adapters.EventUnpause},
			}
		case u[1]:
			cp.Events = []adapters.Event{{Time: day("2024-03-04").Add(90 * time.Minute), Market: u[1], Type: adapters.EventBadDebt, Size: 0.01}}
		}
		w2.Series[i] = &cp
	}
	e := &engine{spec: Spec{Strategy: s, Data: &w2, From: from, To: to, Step: time.Hour, Capital: decimal.NewFromInt(100)}, op: "backtest.Run", gasM: -1}
	if err := e.setup(ctx); err != nil {
		t.Fatal(err)
	}
	if !e.gasData {
		t.Fatal("the engine does not read the gas asset price from the data: the comparison proves less")
	}
	ads := make([]*adapters.Adapter, len(u))
	for i, id := range u {
		if ads[i], err = adapters.Open(adapters.Builtin(), id); err != nil {
			t.Fatal(err)
		}
	}
	ref, err := vault.New(e.v.Config(), ads, from)
	if err != nil {
		t.Fatal(err)
	}
	gas := vault.Gas{Price: DefaultGasPrice}
	if err := e.advance(from.Unix()); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.ObserveWindow(&w2, from, gas); err != nil {
		t.Fatal(err)
	}
	var fed []string
	gasSeen := map[float64]bool{}
	for k := 1; k < len(e.times); k++ {
		now := time.Unix(e.times[k], 0).UTC()
		if err := e.applyEvents(e.times[k]); err != nil {
			t.Fatal(err)
		}
		if err := e.advance(e.times[k]); err != nil {
			t.Fatal(err)
		}
		rep, err := ref.FeedWindow(&w2, now, gas)
		if err != nil {
			t.Fatal(err)
		}
		// Both brought to now, as the engine's step and the service's
		// claim do after the feed.
		if err := e.v.Accrue(now); err != nil {
			t.Fatal(err)
		}
		if err := ref.Accrue(now); err != nil {
			t.Fatal(err)
		}
		for _, ev := range rep.Events {
			if ev.Err == nil {
				fed = append(fed, ev.Time.Format(time.RFC3339)+" "+ev.Market+" "+string(ev.Type))
			}
		}
		if g, r := e.v.GasPrice(), ref.GasPrice(); g != r {
			t.Fatalf("%s: engine gas price %g, shared feed %g", now, g, r)
		}
		gasSeen[e.v.GasPrice()] = true
		if g, r := e.v.GasAssetPrice(), ref.GasAssetPrice(); g != r || g == DefaultGasAssetPrice(adapters.USD) {
			t.Fatalf("%s: engine gas asset price %g, shared feed %g (want the data's, not the reference)", now, g, r)
		}
		for _, id := range u {
			ge, _ := e.v.Env(id)
			re, _ := ref.Env(id)
			if ge.Obs != re.Obs {
				t.Fatalf("%s %s: engine observation %+v, shared feed %+v", now, id, ge.Obs, re.Obs)
			}
			gp, _ := e.v.Position(id)
			rp, _ := ref.Position(id)
			if gp.Paused != rp.Paused {
				t.Fatalf("%s %s: engine paused %t, shared feed %t", now, id, gp.Paused, rp.Paused)
			}
		}
		if k%24 == 0 {
			got, want := e.v.StrategyState(), ref.StrategyState()
			e.prepare(got)
			vault.PrepareState(want, &w2, nil)
			for i := range got.Markets {
				g, r := &got.Markets[i], &want.Markets[i]
				if g.Series != r.Series || g.Row != r.Row || g.Obs != r.Obs {
					t.Fatalf("%s %s: engine State row %d, shared %d (or their series or observations differ)", now, g.Market.ID, g.Row, r.Row)
				}
			}
		}
	}
	var applied []string
	for _, ev := range e.res.Events {
		applied = append(applied, ev.Time.Format(time.RFC3339)+" "+ev.Market+" "+ev.Type)
	}
	if diff := cmp.Diff(applied, fed); diff != "" || len(fed) != 3 {
		t.Errorf("events applied by the engine (-) and the shared feed (+), want all 3:\n%s", diff)
	}
	if !gasSeen[DefaultGasPrice] && len(gasSeen) < 2 {
		t.Errorf("gas prices seen %v: the gap in the first market's gas never showed", gasSeen)
	}
}
