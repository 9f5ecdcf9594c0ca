package monitor

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
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
