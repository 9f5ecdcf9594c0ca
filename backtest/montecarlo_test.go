package backtest

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

func mcSpec(t testing.TB, paths, workers int, seed uint64) MonteCarloSpec {
	t.Helper()
	b, err := os.ReadFile("../examples/strategies/lst-lrt-balanced.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := rules.Load("lst-lrt-balanced.yaml", b, adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return MonteCarloSpec{
		Spec: Spec{Strategy: s, From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
			Capital: decimal.NewFromInt(100), Lookback: 2 * 24 * time.Hour},
		Scenario: "correlated-slash", GenStep: 6 * time.Hour, Paths: paths, Seed: seed, Workers: workers, FanPoints: 8,
	}
}

func writeMC(t *testing.T, ms MonteCarloSpec) map[string][]byte {
	t.Helper()
	res, err := MonteCarlo(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteMonteCarlo(dir, "s.yaml", res); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range []string{SummaryFile, MCPathsFile, ReportFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// TestMonteCarlo_SameBytesAnyWorkers: a study is a pure function of its
// seed: 1 and 3 workers write the same bytes; another seed other paths.
func TestMonteCarlo_SameBytesAnyWorkers(t *testing.T) {
	one := writeMC(t, mcSpec(t, 3, 1, 42))
	three := writeMC(t, mcSpec(t, 3, 3, 42))
	for f := range one {
		if !bytes.Equal(one[f], three[f]) {
			t.Errorf("%s differs between 1 and 3 workers", f)
		}
	}
	other := writeMC(t, mcSpec(t, 3, 1, 43))
	if bytes.Equal(one[MCPathsFile], other[MCPathsFile]) {
		t.Error("seeds 42 and 43 wrote the same paths.csv")
	}
	for _, want := range []string{`"prob_liquidation": null`, `"paths": 3`, `"scenario": "correlated-slash"`, "liquidation: n/a"} {
		if !bytes.Contains(one[SummaryFile], []byte(want)) {
			t.Errorf("summary.json lacks %s:\n%s", want, one[SummaryFile])
		}
	}
	if n := strings.Count(string(one[MCPathsFile]), "\n"); n != 4 {
		t.Errorf("paths.csv has %d lines, want a header and 3 paths", n)
	}
	if bytes.Contains(one[ReportFile], []byte(">-0<")) {
		t.Error("report.html labels a tick -0")
	}
	for _, id := range []string{`id="mc-fan"`, `id="mc-apy"`, `id="mc-dd"`} {
		if !bytes.Contains(one[ReportFile], []byte(id)) {
			t.Errorf("report.html lacks the chart %s", id)
		}
	}
}

// TestMonteCarlo_Summary checks the figures against their definitions
// computed here: type-7 quantiles, VaR 95% the 95th percentile of the
// loss, CVaR the mean of the worst 5% (at least one path).
func TestMonteCarlo_Summary(t *testing.T) {
	res := &MCResult{}
	ends := []float64{}
	for i := 0; i < 40; i++ {
		end := 90 + float64((i*7)%40)/2 // 90 .. 109.5, shuffled
		ends = append(ends, end)
		res.Paths = append(res.Paths, MCPath{Index: i, EndValue: end, APY: end/100 - 1, Loss: end < 100, QueueExit: i%4 == 0})
	}
	res.Paths = append(res.Paths, MCPath{Index: 40, Err: "boom"})
	res.summarise(100)
	s := &res.Summary
	losses := make([]float64, len(ends))
	for i, e := range ends {
		losses[i] = 100 - e
	}
	sort.Float64s(losses)
	// 95th percentile, type 7: h = 0.95*39 = 37.05.
	wantVaR := losses[37] + 0.05*(losses[38]-losses[37])
	wantCVaR := (losses[38] + losses[39]) / 2 // ceil(0.05*40) = 2 worst
	if math.Abs(s.VaR95-wantVaR) > 1e-12 || math.Abs(s.CVaR95-wantCVaR) > 1e-12 {
		t.Errorf("VaR %g CVaR %g, want %g and %g", s.VaR95, s.CVaR95, wantVaR, wantCVaR)
	}
	if s.Failed != 1 || s.Paths != 41 {
		t.Errorf("paths %d failed %d, want 41 and 1", s.Paths, s.Failed)
	}
	if s.ProbLoss != 0.5 || s.ProbQueueExit != 0.25 {
		t.Errorf("P(loss) %g P(queue) %g, want 0.5 and 0.25", s.ProbLoss, s.ProbQueueExit)
	}
	if got := quantile([]float64{1, 2, 3, 4}, 0.5); got != 2.5 {
		t.Errorf("median of 1..4 = %g, want 2.5", got)
	}
	if s.EndValue.P50 != 99.75 || s.ProbLiquidation != nil {
		t.Errorf("median end %g (want 99.75), P(liquidation) %v (want nil)", s.EndValue.P50, s.ProbLiquidation)
	}
}

func TestMonteCarlo_BadInput(t *testing.T) {
	for _, c := range []struct {
		edit func(*MonteCarloSpec)
		want string
	}{
		{func(m *MonteCarloSpec) { m.Paths = 0 }, "at least 1"},
		{func(m *MonteCarloSpec) { m.Scenario = "apocalypse" }, `unknown scenario "apocalypse"`},
		{func(m *MonteCarloSpec) { m.Spec.To = m.Spec.From }, "needs a range"},
		{func(m *MonteCarloSpec) { m.Spec.Lookback = -time.Hour }, "negative look-back -1h0m0s"},
	} {
		ms := mcSpec(t, 1, 1, 1)
		c.edit(&ms)
		_, err := MonteCarlo(context.Background(), ms)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// BenchmarkMonteCarlo_YearHourly: paths a second for a year hourly of the
// example strategy under the default scenario, with 1 and 2 workers: 2
// paths a call (workers=W: each worker gets one; a path's cost varies by
// about a tenth, so the later one leaves a worker idle), and 8 paths a
// call (paths=8/workers=W: closer to a study of many paths).
func BenchmarkMonteCarlo_YearHourly(b *testing.B) {
	for _, n := range []int{2, 8} {
		for _, w := range []int{1, 2} {
			name := "workers=" + strconv.Itoa(w)
			if n != 2 {
				name = "paths=" + strconv.Itoa(n) + "/" + name
			}
			b.Run(name, func(b *testing.B) {
				ms := mcSpec(b, n, w, 1)
				ms.Scenario, ms.GenStep, ms.Spec.Lookback = "default", time.Hour, 0
				ms.Spec.To = ms.Spec.From.AddDate(1, 0, 0)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					ms.Seed = uint64(i + 1)
					if _, err := MonteCarlo(context.Background(), ms); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "paths/s")
			})
		}
	}
}

// TestMonteCarlo_DirectWindowSameAsSQLite: paths whose window is built
// straight from the generated batch (history.BatchWindow) write the same
// bytes as paths that write the batch into an in-memory SQLite database
// and load it back, over scenarios with slashes, depegs and pauses.
func TestMonteCarlo_DirectWindowSameAsSQLite(t *testing.T) {
	for _, sc := range []string{"correlated-slash", "default", "utilization-spike"} {
		t.Run(sc, func(t *testing.T) {
			ms := mcSpec(t, 4, 2, 7)
			ms.Scenario, ms.GenStep = sc, time.Hour
			direct := writeMC(t, ms)
			ms.viaSQLite = true
			ref := writeMC(t, ms)
			for f := range ref {
				if !bytes.Equal(direct[f], ref[f]) {
					t.Errorf("%s: %s differs from the SQLite path's", sc, f)
				}
			}
		})
	}
}

// TestMonteCarlo_LoopLiquidation: a study of a loop strategy generates the
// loop's legs and composes it on every path, and P(liquidation) is the
// share of paths a protocol liquidated it on. Under weth-borrow-spike
// (Aave's WETH at 22.6% for 60 days from 2024-07-05) a 14x wstETH loop
// that keeps its leverage reaches a health factor of 1 after about
// ln(0.95 x 14/13) / ln(1.226/1.03) = 48 days on every path: P = 1. A 2x
// loop (health factor 1.9) cannot be: P = 0.
func TestMonteCarlo_LoopLiquidation(t *testing.T) {
	for _, tc := range []struct {
		lev  string
		want float64
	}{{"14", 1}, {"2", 0}} {
		src := "name: loop\nbase: ETH\nuniverse: [aave-v3/wsteth-loop]\nrules:\n  leverage: " + tc.lev +
			"\n  score: 1.0\nconstraints: { idle: 0 }\nrebalance: { every: \"@daily\", when: \"idle > 0.5 * nav\" }\n"
		s, err := rules.Load("loop.yaml", []byte(src), adapters.Builtin())
		if err != nil {
			t.Fatal(err)
		}
		ms := MonteCarloSpec{
			Spec: Spec{Strategy: s, From: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC),
				Capital: decimal.NewFromInt(100), Lookback: 2 * 24 * time.Hour},
			Scenario: "weth-borrow-spike", GenStep: 24 * time.Hour, Paths: 3, Seed: 7, Workers: 2, FanPoints: 4,
		}
		res, err := MonteCarlo(context.Background(), ms)
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.Failed != 0 {
			t.Fatalf("leverage %s: %d paths failed: %s", tc.lev, res.Summary.Failed, res.Paths[0].Err)
		}
		if p := res.Summary.ProbLiquidation; p == nil || *p != tc.want {
			t.Errorf("leverage %s: P(liquidation) = %v, want %g", tc.lev, p, tc.want)
		}
		for _, w := range res.Warnings {
			if strings.Contains(w, "liquidation: n/a") {
				t.Errorf("leverage %s: warning %q for a universe that borrows", tc.lev, w)
			}
		}
		if !res.Settings().Borrows {
			t.Errorf("leverage %s: settings do not say the universe borrows", tc.lev)
		}
		var rep bytes.Buffer
		if err := WriteMCReport(&rep, res); err != nil {
			t.Fatal(err)
		}
		if want := "of a liquidation: " + formatPct(tc.want) + "."; !strings.Contains(rep.String(), want) {
			t.Errorf("leverage %s: report.html lacks %q", tc.lev, want)
		}
	}
}
