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
