package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

func TestRun_Progress(t *testing.T) {
	ctx := context.Background()
	db, err := synth.OpenDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := rules.LoadFile("../examples/strategies/lst-lrt-balanced.yaml", adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 8, 0, 0, 0, 0, time.UTC)
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []Progress
	res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Step: time.Hour, Capital: decimal.NewFromInt(100),
		Progress: func(p Progress) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	steps := len(res.Steps)
	if want := (steps-1)/ProgressEvery + 1; len(got) != want { // steps 64, 128, ... below steps, and the end
		t.Fatalf("%d progress reports for %d steps, want %d (every %d and at the end)", len(got), steps, want, ProgressEvery)
	}
	for i, p := range got {
		if p.Steps != steps || p.Markets != len(res.Data.Markets) {
			t.Errorf("report %d: Steps %d Markets %d, want %d %d", i, p.Steps, p.Markets, steps, len(res.Data.Markets))
		}
		if i > 0 && (p.Step < got[i-1].Step || p.Time.Before(got[i-1].Time)) {
			t.Errorf("report %d goes back: step %d at %s after %d at %s", i, p.Step, p.Time, got[i-1].Step, got[i-1].Time)
		}
		if rec := res.Steps[p.Step-1]; !p.Time.Equal(rec.Time) || !p.NAV.Equal(rec.NAV.Decimal()) {
			t.Errorf("report %d: step %d at %s NAV %s; the step's record is %s NAV %s", i, p.Step, p.Time, p.NAV, rec.Time, rec.NAV)
		}
	}
	if last := got[len(got)-1]; last.Step != steps || !last.Time.Equal(to) {
		t.Errorf("last report: step %d at %s, want %d at %s", last.Step, last.Time, steps, to)
	}
	// Progress does not change the run.
	again, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Step: time.Hour, Capital: decimal.NewFromInt(100)})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := SummaryJSON(res)
	b, _ := SummaryJSON(again)
	if string(a) != string(b) {
		t.Errorf("a run with Progress and one without differ")
	}
}
