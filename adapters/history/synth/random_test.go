package synth

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

func randomCfg(t *testing.T, seed uint64, rates *EventRates, ids ...string) Config {
	t.Helper()
	var ms []adapters.Market
	for _, id := range ids {
		m, err := adapters.Builtin().Market(id)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return Config{Scenario: "calm", From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Step: 24 * time.Hour, Seed: seed, Markets: ms, RandomEvents: true, Rates: rates}
}

// countRandom counts the random events of a type: distinct times.
func countRandom(evs []adapters.Event, typ adapters.EventType) int {
	seen := map[time.Time]bool{}
	for _, e := range evs {
		if e.Type == typ && strings.Contains(e.Note, "random") {
			seen[e.Time] = true
		}
	}
	return len(seen)
}

// TestRandomEvents_PoissonCounts: over 10 seeds of a year at 20 depegs
// and 5 pauses a year, the counts average the rates (a Poisson total of
// mean 200, sd 14, and of mean 50, sd 7: the bounds are 4 sd).
func TestRandomEvents_PoissonCounts(t *testing.T) {
	rates := &EventRates{DepegPerYear: 20, DepegSize: [2]float64{0.02, 0.05}, DepegDays: 3, PausePerYear: 5, PauseDays: 1}
	var depegs, pauses int
	for seed := uint64(1); seed <= 10; seed++ {
		b, err := Generate(randomCfg(t, seed, rates, "lido/steth", "renzo/ezeth"))
		if err != nil {
			t.Fatal(err)
		}
		depegs += countRandom(b.Events, adapters.EventDepeg)
		pauses += countRandom(b.Events, adapters.EventPause)
		for _, e := range b.Events {
			if e.Type == adapters.EventDepeg && (e.Size < 0.02 || e.Size > 0.05) {
				t.Errorf("depeg size %g outside [0.02, 0.05]", e.Size)
			}
			if e.Type == adapters.EventPause && e.Market != "renzo/ezeth" {
				t.Errorf("pause on %s, which is not an LRT", e.Market)
			}
		}
	}
	if depegs < 144 || depegs > 256 {
		t.Errorf("%d random depegs over 10 years at 20 a year, want 200 +- 56", depegs)
	}
	if pauses < 22 || pauses > 78 {
		t.Errorf("%d random pauses over 10 years at 5 a year, want 50 +- 28", pauses)
	}
}

// TestRandomEvents_DeterministicAndScoped: the same Config gives the same
// rows and events; another seed other events; without RandomEvents no
// random event; a slash scope hits only the markets carrying the tag.
func TestRandomEvents_DeterministicAndScoped(t *testing.T) {
	rates := &EventRates{SlashPerYear: 6, SlashSize: [2]float64{0.01, 0.01}, PauseDays: 1}
	cfg := randomCfg(t, 7, rates, "lido/steth", "renzo/ezeth", "etherfi/weeth")
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same Config gave two different batches")
	}
	cfg.Seed = 8
	c, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Events, c.Events) {
		t.Error("seeds 7 and 8 drew the same events")
	}
	if countRandom(a.Events, adapters.EventSlash) == 0 {
		t.Fatal("no random slash at 6 a year over a year")
	}
	cfg.RandomEvents = false
	d, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Events) != 0 {
		t.Errorf("calm without random events has %d events", len(d.Events))
	}
	cat := adapters.Builtin()
	for _, e := range a.Events {
		if e.Type != adapters.EventSlash {
			continue
		}
		m, _ := cat.Market(e.Market)
		prof, err := cat.ProfileFor(m)
		if err != nil {
			t.Fatal(err)
		}
		if !m.HasTag(e.Scope) && !contains(prof.Tags, e.Scope) {
			t.Errorf("slash of %s on %s, which does not carry it", e.Scope, e.Market)
		}
		if e.Size != 0.01 {
			t.Errorf("slash size %g, want 0.01", e.Size)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestEventRates_Validate(t *testing.T) {
	for _, c := range []struct {
		r    EventRates
		want string
	}{
		{EventRates{DepegPerYear: -1}, "depeg rate -1"},
		{EventRates{DepegPerYear: 1, DepegSize: [2]float64{0.2, 0.1}, DepegDays: 1}, "depeg size range"},
		{EventRates{DepegPerYear: 1, DepegSize: [2]float64{0.1, 0.2}}, "duration"},
		{EventRates{SlashPerYear: 1, SlashSize: [2]float64{0.01, 0.02}}, "duration"},
	} {
		err := c.r.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.r, err, c.want)
		}
	}
	for _, s := range Scenarios() {
		if err := s.Rates.Validate(); err != nil {
			t.Errorf("scenario %s: %v", s.Name, err)
		}
	}
}
