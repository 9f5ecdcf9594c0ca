package monitor

import (
	"strconv"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// TestDeciding checks which comparison of a condition a firing row
// reports as its value and threshold.
func TestDeciding(t *testing.T) {
	for _, tc := range []struct{ when, value, threshold string }{
		{`(kind == "lst" || kind == "lrt") && avg(peg, "6h") < 0.98`, `avg(peg, "6h")`, "0.98"},
		{`change(tvl, "24h") < -0.2`, `change(tvl, "24h")`, "-0.2"},
		{`kind == "lending" && utilization > 0.95`, "utilization", "0.95"},
		{`withdrawal_days > 14`, "withdrawal_days", "14"},
		{`0.9 > peg`, "peg", "0.9"},
		{`min(peg, "24h") <= 0.97`, `min(peg, "24h")`, "0.97"},
		{`peg < 0.98 || tvl < 1e6`, "", ""},
		{`peg < params.x`, "", ""},
		{`peg * 2 < 1.9`, "", ""},
		{`has_tag("layer:eigenlayer")`, "", ""},
		{`peg <`, "", ""},
	} {
		v, th := deciding(tc.when)
		if v != tc.value || th != tc.threshold {
			t.Errorf("deciding(%s) = %q, %q; want %q, %q", tc.when, v, th, tc.value, tc.threshold)
		}
	}
}

// TestCompile_DocExamples compiles the monitors the docs show
// (docs/strategy-language.md and docs/backtesting.md, Risk monitors).
func TestCompile_DocExamples(t *testing.T) {
	c := &Compiler{Catalog: adapters.Builtin()}
	f := File{Rules: []Rule{
		{Name: "peg-below", Action: Exit},
		{Name: "big-and-thin", When: `weight > 0.3 && exit_impact > 0.01`},
		{Name: "eigen-tvl", When: `has_tag("layer:eigenlayer") && change(tvl, "24h") < -0.1`, Action: Exit, Severity: "critical"},
	}}
	ms, err := c.Compile(f, []string{"lido/steth", "etherfi/weeth", "aave-v3/weth"}, adapters.ETH)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(Builtin)+1+2 {
		t.Errorf("%d monitors, want the %d built-ins, slash-or-pause and 2 own", len(ms), len(Builtin))
	}
}

// TestBuiltin_DataStaleIsDataCheckGap keeps data-stale's basis true: its
// 72 hours is data check's gap (history.GapFactor median steps) on the
// daily files, the slowest regular cadence of the real sources.
func TestBuiltin_DataStaleIsDataCheckGap(t *testing.T) {
	v, th := deciding(BuiltinWhen("data-stale"))
	want := strconv.Itoa(history.GapFactor * 24)
	if v != "data_age" || th != want {
		t.Errorf("data-stale decides on %q %q, want data_age against %s hours (history.GapFactor x 24)", v, th, want)
	}
	if !strings.Contains(Basis("data-stale"), "GapFactor (3,") || history.GapFactor != 3 {
		t.Errorf("data-stale's basis quotes GapFactor 3, history.GapFactor is %d", history.GapFactor)
	}
}
