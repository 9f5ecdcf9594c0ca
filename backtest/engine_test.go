package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

var (
	defaultOnce sync.Once
	defaultDB   *history.DB
	defaultErr  error
)

// defaultHistory opens the embedded default history once per process.
func defaultHistory(t testing.TB) *history.DB {
	t.Helper()
	defaultOnce.Do(func() { defaultDB, defaultErr = synth.OpenDefault(context.Background()) })
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultDB
}

// defaultWindow loads the embedded history of s's universe over [from,
// to] (no look-back).
func defaultWindow(t testing.TB, s strategies.Strategy, from, to time.Time) *adapters.Window {
	t.Helper()
	w, err := Load(context.Background(), defaultHistory(t), s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func loadExample(t testing.TB, name string) *rules.Strategy {
	t.Helper()
	s, err := rules.LoadFile("../examples/strategies/"+name, adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRun_Deterministic runs an example strategy over the embedded
// history twice and requires byte-identical summaries, and checks the
// attribution identity and the benchmarks' shape.
func TestRun_Deterministic(t *testing.T) {
	ctx := context.Background()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-06-01")
	w := defaultWindow(t, s, from, to)
	spec := Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100), Source: "embedded"}
	res, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	j1, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	j2, _ := json.Marshal(res2)
	if string(j1) != string(j2) {
		t.Errorf("two runs of the same spec give different summaries")
	}
	sum := res.Attribution.Idle
	for _, m := range res.Attribution.Markets {
		sum = sum.Add(m.PnL)
	}
	if !sum.Equal(res.Attribution.NAVChange) || !res.Attribution.NAVChange.Equal(res.Metrics.EndNAV.Sub(spec.Capital)) {
		t.Errorf("attribution: markets + idle = %s, NAV change %s, end NAV - capital %s", sum, res.Attribution.NAVChange, res.Metrics.EndNAV.Sub(spec.Capital))
	}
	if got, want := len(res.Benchmarks), len(s.Universe())+2; got != want {
		t.Errorf("got %d benchmarks, want %d (holds, equal weight, best single)", got, want)
	}
	for _, b := range res.Benchmarks {
		if len(b.Curve) != len(res.Steps) {
			t.Errorf("benchmark %s has %d points, want %d", b.Name, len(b.Curve), len(res.Steps))
		}
	}
	if res.Metrics.Decisions == 0 || res.Metrics.Rebalances == 0 {
		t.Errorf("no decisions or rebalances: %+v", res.Metrics)
	}
}

func TestRun_Errors(t *testing.T) {
	ctx := context.Background()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-04-01")
	w := defaultWindow(t, s, from, to)
	base := Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100)}
	tests := []struct {
		name   string
		edit   func(*Spec)
		kind   error
		substr string
	}{
		{"unknown market", func(sp *Spec) { sp.Universe = []string{"lido/steth", "nope/nothing"} }, adapters.ErrNotFound, "nope/nothing"},
		{"empty range", func(sp *Spec) { sp.To = sp.From }, adapters.ErrInvalid, "empty range"},
		{"backwards range", func(sp *Spec) { sp.From, sp.To = sp.To, sp.From }, adapters.ErrInvalid, "empty range"},
		{"range outside the data", func(sp *Spec) { sp.From, sp.To = day("2030-01-01"), day("2030-02-01") }, adapters.ErrInvalid, "the data, which covers 2024-01-31"},
		{"zero capital", func(sp *Spec) { sp.Capital = decimal.Zero }, adapters.ErrInvalid, "capital"},
		{"no data", func(sp *Spec) { sp.Data = nil }, adapters.ErrInvalid, "no data"},
		{"no strategy", func(sp *Spec) { sp.Strategy = nil }, adapters.ErrInvalid, "no strategy"},
		{"bad schedule", func(sp *Spec) {
			sp.Strategy, sp.Universe, sp.Harvest = holdFirst(t, s.Universe()), s.Universe(), "not a cron"
		}, adapters.ErrInvalid, "schedule"},
		{"step too large", func(sp *Spec) { sp.Step = 365 * 24 * time.Hour }, adapters.ErrInvalid, "fewer than 2 steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := base
			tt.edit(&sp)
			_, err := Run(ctx, sp)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Run: got %v, want kind %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("Run: error %q does not mention %q", err, tt.substr)
			}
		})
	}
	// Load: an unknown market is KindNotFound; a range with no data names the data's range.
	db := defaultHistory(t)
	if _, err := LoadUniverse(ctx, db, []string{"nope/nothing"}, from, to, 0); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("LoadUniverse(unknown market): got %v, want KindNotFound", err)
	}
	_, err := LoadUniverse(ctx, db, []string{"lido/steth"}, day("2031-01-01"), day("2031-02-01"), 0)
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "the data covers") {
		t.Errorf("LoadUniverse(range after the data): got %v, want KindInvalid naming the data's range", err)
	}
}

func holdFirst(t *testing.T, universe []string) strategies.Strategy {
	t.Helper()
	h, err := strategies.NewHold(strategies.Config{Universe: universe})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
