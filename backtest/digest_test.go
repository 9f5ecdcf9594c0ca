package backtest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"os"
	"testing"

	"github.com/yieldvault/yieldvault/vault/monitor"
)

// w1Digest hashes everything W1 produced that a speed change must leave
// alone: the steps (time, NAV, equity, share price, idle, costs, values),
// the ledger, the decisions, the harvests, the metrics and per-market
// statistics, and the benchmarks with their curves (float64s by their
// bits).
func w1Digest(tb testing.TB, res *Result) string {
	tb.Helper()
	h := sha256.New()
	put := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatalf("digest of %s: %v", name, err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	floats := func(h hash.Hash, xs []float64) {
		var b [8]byte
		for _, x := range xs {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
			h.Write(b[:])
		}
	}
	for i := range res.Steps {
		s := res.Steps[i]
		fmt.Fprintf(h, "%d %s %s %s %s %s\n", s.Time.Unix(), s.NAV, s.Equity, s.PricePerShare, s.Idle, s.Costs)
		floats(h, s.Values)
	}
	put("ledger", res.Ledger)
	put("decisions", res.Decisions)
	put("harvests", res.Harvests)
	put("summary", res) // settings, data, metrics, markets, attribution, benchmark headlines, issues, events, warnings
	for _, b := range res.Benchmarks {
		fmt.Fprintf(h, "bench %s %d\n", b.Name, len(b.Curve))
		floats(h, b.Curve)
	}
	put("notes", res.Notes)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestW1Digest runs W1 and compares the digest of its results
// (w1Digest) with YIELDVAULT_W1_DIGEST: the check that a change to the
// engine's speed left W1's results alone (set the variable to the digest
// the commit before the change prints). Skipped when it is unset.
func TestW1Digest(t *testing.T) {
	want := os.Getenv("YIELDVAULT_W1_DIGEST")
	if want == "" {
		t.Skip("YIELDVAULT_W1_DIGEST is not set (the digest of W1's results to compare with)")
	}
	f := w1Data(t)
	res, err := Run(context.Background(), f.spec())
	if err != nil {
		t.Fatal(err)
	}
	got := w1Digest(t, res)
	if got != want {
		t.Errorf("W1's results changed: digest %s, want %s", got, want)
	}
	t.Logf("W1 digest %s", got)
}

// w1FiringMonitors are monitors that fire on W1, where the built-in ones
// stay quiet (its pegs, TVLs and exit depths are calm): the same shapes
// as the built-ins (a kind test before a window, holding > 0 before a
// window, a window alone) with thresholds W1 crosses, one of them bound
// to exit, so that TestW1MonitorsDigest sees the monitors' firings,
// events and exits and not only their silence.
var w1FiringMonitors = []monitor.Rule{
	{Name: "w1-peg-dip", When: `(kind == "lst" || kind == "lrt") && avg(peg, "6h") < 0.995`},
	{Name: "w1-tvl-fall", When: `change(tvl, "24h") < -0.08`},
	{Name: "w1-apy-volatile", When: `stddev(apy, "7d") > 0.001 && max(apy, "24h") > 0.04`},
	{Name: "w1-held-apy-low", When: `holding > 0 && min(apy, "3d") < 0.045`},
	{Name: "w1-held-tvl-falling", When: `holding > 0 && (kind == "lst" || kind == "lrt") && change(tvl, "7d") < -0.06`, Action: monitor.Exit},
}

// w1MonitorsSpec is W1 with the monitors of f (the built-in ones with
// monitor.File{}) evaluated at every step; with the built-ins alone, the
// run BenchmarkBacktestW1Monitors measures.
func w1MonitorsSpec(tb testing.TB, f monitor.File) Spec {
	tb.Helper()
	w := w1Data(tb)
	spec := w.spec()
	spec.Monitors = monitorsOf(tb, w, f)
	return spec
}

// monitorsOf compiles the monitors of f over w's universe.
func monitorsOf(tb testing.TB, w *w1Fixture, f monitor.File) []monitor.Monitor {
	tb.Helper()
	c := &monitor.Compiler{Catalog: w.cat}
	ms, err := c.Compile(f, UniverseOf(w.strategy), w.window.Series[0].Market.Base)
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

// w1MonitorsDigest is w1Digest of a monitored run followed by its monitor
// events (not in the summary's JSON), every field, Value and Threshold by
// their text.
func w1MonitorsDigest(tb testing.TB, res *Result) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", w1Digest(tb, res))
	for _, ev := range res.MonitorEvents {
		fmt.Fprintf(h, "%d|%s|%s|%s|%s|%s|%s|%s|%s\n", ev.Time.Unix(), ev.Monitor, ev.Market, ev.Status, ev.Value, ev.Threshold, ev.Action, ev.Severity, ev.When)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestW1MonitorsDigest is TestW1Digest for W1 with risk monitors: it runs
// W1 with the built-in monitors (BenchmarkBacktestW1Monitors' run) and
// with the built-ins and w1FiringMonitors, and compares the digest of both
// runs' results (w1MonitorsDigest: w1Digest, which holds the monitors'
// statistics and any pause, and the monitor events) with
// YIELDVAULT_W1_MONITORS_DIGEST: the check that a change to the monitors'
// speed left what they report alone. Skipped when it is unset.
func TestW1MonitorsDigest(t *testing.T) {
	want := os.Getenv("YIELDVAULT_W1_MONITORS_DIGEST")
	if want == "" {
		t.Skip("YIELDVAULT_W1_MONITORS_DIGEST is not set (the digest of W1's results with monitors to compare with)")
	}
	h := sha256.New()
	for _, f := range []monitor.File{{}, {Rules: w1FiringMonitors}} {
		res, err := Run(context.Background(), w1MonitorsSpec(t, f))
		if err != nil {
			t.Fatal(err)
		}
		d := w1MonitorsDigest(t, res)
		fmt.Fprintf(h, "%s\n", d)
		fired := 0
		for _, m := range res.Monitors {
			fired += m.Steps
		}
		t.Logf("%d own monitors: digest %s, %d monitor events, %d monitor-steps firing", len(f.Rules), d, len(res.MonitorEvents), fired)
	}
	got := fmt.Sprintf("%x", h.Sum(nil))
	if got != want {
		t.Errorf("W1's results with monitors changed: digest %s, want %s", got, want)
	}
	t.Logf("W1 with monitors digest %s", got)
}
