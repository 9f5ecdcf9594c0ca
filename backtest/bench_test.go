package backtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// The W1 workload: 50 ETH markets of three kinds (LSTs, LRTs and lending
// markets on built-in protocol profiles) over three years of hourly rows,
// 26280 x 50 = 1.31M observations, and a three-rule strategy rebalancing
// every 6 hours.
const (
	w1Markets = 50
	w1Hours   = 3 * 365 * 24
)

var w1Start = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

type w1Fixture struct {
	cat      *adapters.Catalog
	ids      []string
	window   *adapters.Window
	strategy *rules.Strategy
	dbPath   string // the same rows in a SQLite file (built on demand)
	dbOnce   sync.Once
	dbErr    error
}

var (
	w1Once sync.Once
	w1     *w1Fixture
	w1Err  error
)

// w1Protocols are the profiles the W1 markets use, in rotation.
var w1Protocols = []struct {
	protocol string
	kind     adapters.Kind
}{
	{"rocketpool", adapters.LST}, {"coinbase", adapters.LST}, {"stakewise", adapters.LST},
	{"etherfi", adapters.LRT}, {"kelp", adapters.LRT},
	{"aave-v3", adapters.Lending}, {"spark", adapters.Lending}, {"compound-v3", adapters.Lending},
}

// w1TVLDailySD is the sd of the day-over-day log change of a W1 market's
// TVL: that of Lido stETH's TVL in USD (DefiLlama's yields chart,
// shared/data/lido-steth-apy-defillama-daily: 0.0369 over 1,253 daily
// changes, 2022-05 to 2025-11; TestW1_TVL checks the fixture against it).
// w1TVLHalfLife is the half-life of its log's reversion to the mean, the
// generator's own for a staking market's size (synth: 90 days).
const (
	w1TVLDailySD  = 0.0369
	w1TVLHalfLife = 90 * 24 // hours
)

// w1Data builds the W1 fixture once per process: a random-walk history
// per market (mean-reverting APYs, an exchange rate compounding the APY,
// a market price within a percent of it, a TVL whose log reverts slowly
// to its level with the real day-over-day volatility), in memory. The TVL
// was a fresh uniform draw in [2e8, 3e8] every hour, whose 24-hour change
// fell below -20% in 10% of the hours (the built-in tvl-drop fired on
// changing markets at every step); the real file never fell 20% in a day.
func w1Data(tb testing.TB) *w1Fixture {
	tb.Helper()
	w1Once.Do(func() { w1, w1Err = buildW1() })
	if w1Err != nil {
		tb.Fatal(w1Err)
	}
	return w1
}

func buildW1() (*w1Fixture, error) { return buildW1Own(false) }

// w1OwnData is w1Data where every market has a parameter of its own (a
// copy of its profile's depeg_risk, or 0 where the profile has none: the
// same value, so the same run), as most real universes have some:
// Catalog.ProfileFor then makes a new profile for the market at every
// call, so the vault and each compiled monitor hold their own copy.
func w1OwnData(tb testing.TB) *w1Fixture {
	tb.Helper()
	w1OwnOnce.Do(func() { w1Own, w1OwnErr = buildW1Own(true) })
	if w1OwnErr != nil {
		tb.Fatal(w1OwnErr)
	}
	return w1Own
}

var (
	w1OwnOnce sync.Once
	w1Own     *w1Fixture
	w1OwnErr  error
)

func buildW1Own(own bool) (*w1Fixture, error) {
	f := &w1Fixture{cat: adapters.Builtin()}
	rng := rand.New(rand.NewPCG(1, 2))
	f.window = &adapters.Window{From: w1Start, To: w1Start.Add(time.Duration(w1Hours-1) * time.Hour)}
	for i := 0; i < w1Markets; i++ {
		p := w1Protocols[i%len(w1Protocols)]
		id := fmt.Sprintf("%s/w1-%02d", p.protocol, i)
		m := adapters.Market{ID: id, Kind: p.kind, Base: adapters.ETH}
		if own {
			prof, err := f.cat.Profile(p.protocol)
			if err != nil {
				return nil, err
			}
			m.Params = map[string]float64{"depeg_risk": prof.ParamOr("depeg_risk", 0)}
			m.Sources = map[string]string{"depeg_risk": "the profile's own value (benchmark)"}
		}
		if err := f.cat.AddMarket(m); err != nil {
			return nil, err
		}
		m, err := f.cat.Market(id)
		if err != nil {
			return nil, err
		}
		s := &adapters.Series{Market: m, Times: make([]int64, w1Hours), Set: make([]adapters.FieldSet, w1Hours)}
		fields := []adapters.Field{adapters.FieldAPY, adapters.FieldTVL, adapters.FieldExitLiquidity}
		if p.kind != adapters.Lending {
			fields = append(fields, adapters.FieldExchangeRate, adapters.FieldPrice)
		}
		if p.kind == adapters.LRT {
			fields = append(fields, adapters.FieldRewardAPY)
		}
		if p.kind == adapters.Lending {
			fields = append(fields, adapters.FieldUtilization)
		}
		var set adapters.FieldSet
		for _, fl := range fields {
			s.Cols[fl] = make([]float64, w1Hours)
			set = set.With(fl)
		}
		mean := 0.02 + 0.03*rng.Float64()
		apy, rate, peg := mean, 1+0.1*rng.Float64(), 1.0
		// log TVL: an Ornstein-Uhlenbeck process around log(level) whose
		// hourly steps add up to w1TVLDailySD a day.
		level := 2e8 + 1e8*rng.Float64()
		logTVL, theta, sdH := math.Log(level), math.Ln2/w1TVLHalfLife, w1TVLDailySD/math.Sqrt(24)
		for r := 0; r < w1Hours; r++ {
			s.Times[r] = w1Start.Add(time.Duration(r) * time.Hour).Unix()
			s.Set[r] = set
			apy += 0.02*(mean-apy) + 0.0004*rng.NormFloat64()
			apy = math.Max(0, apy)
			rate *= math.Pow(1+apy, 1.0/(365*24))
			peg += 0.05*(0.998-peg) + 0.0005*rng.NormFloat64()
			peg = math.Min(1.002, math.Max(0.97, peg))
			s.Cols[adapters.FieldAPY][r] = apy
			logTVL += theta*(math.Log(level)-logTVL) + sdH*rng.NormFloat64()
			s.Cols[adapters.FieldTVL][r] = math.Exp(logTVL)
			s.Cols[adapters.FieldExitLiquidity][r] = 5e4
			if p.kind != adapters.Lending {
				s.Cols[adapters.FieldExchangeRate][r] = rate
				s.Cols[adapters.FieldPrice][r] = rate * peg
			}
			if p.kind == adapters.LRT {
				s.Cols[adapters.FieldRewardAPY][r] = 0.01
			}
			if p.kind == adapters.Lending {
				s.Cols[adapters.FieldUtilization][r] = 0.7
			}
		}
		f.ids = append(f.ids, id)
		f.window.Series = append(f.window.Series, s)
	}
	s, err := rules.Load("w1.yaml", []byte(w1Source(f.ids)), f.cat)
	if err != nil {
		return nil, err
	}
	f.strategy = s
	return f, nil
}

// w1Source is W1's strategy over the markets ids.
func w1Source(ids []string) string {
	return fmt.Sprintf(`name: w1
base: ETH
universe: [%s]
params: { min_peg: 0.985, peg_penalty: 2 }
rules:
  eligible: peg >= params.min_peg && tvl > 1e8
  score: net_apy - params.peg_penalty * max(0.0, 1 - peg)
  weight: max(score, 0.0)
constraints: { idle: 0.02, max_weight: 0.1 }
rebalance: { every: "0 */6 * * *", when: "drift > 0.05" }
harvest: { every: "@daily" }
`, strings.Join(ids, ", "))
}

func (f *w1Fixture) spec() Spec {
	return Spec{Strategy: f.strategy, Catalog: f.cat, Data: f.window, From: f.window.From, To: f.window.To,
		Capital: decimal.NewFromInt(1000), Source: "W1"}
}

// sqlite writes the fixture to a SQLite file once per process.
func (f *w1Fixture) sqlite(tb testing.TB) string {
	tb.Helper()
	f.dbOnce.Do(func() {
		dir, err := os.MkdirTemp("", "yieldvault-w1-")
		if err != nil {
			f.dbErr = err
			return
		}
		f.dbPath = filepath.Join(dir, "w1.db")
		ctx := context.Background()
		db, err := history.Open(ctx, f.dbPath, history.WithClock(func() time.Time { return w1Start }))
		if err != nil {
			f.dbErr = err
			return
		}
		defer db.Close()
		b := &history.Batch{Source: "w1", Format: "synth"}
		for _, s := range f.window.Series {
			b.Markets = append(b.Markets, s.Market)
			for r := range s.Times {
				b.Rows = append(b.Rows, history.Row{Market: s.Market.ID, Obs: s.At(r)})
			}
		}
		_, f.dbErr = db.Write(ctx, b)
	})
	if f.dbErr != nil {
		tb.Fatal(f.dbErr)
	}
	return f.dbPath
}

// BenchmarkBacktestW1 runs W1 with the data already in memory and reports
// market-steps per second, and the process's CPU time per run (cpu-ms/op:
// user + system, garbage collection and the benchmark track's goroutine
// included), which a busy machine disturbs less than the wall clock.
func BenchmarkBacktestW1(b *testing.B) {
	f := w1Data(b)
	ctx := context.Background()
	spec := f.spec()
	b.ReportAllocs()
	b.ResetTimer()
	var ms int
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := Run(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		ms = res.Data.MarketSteps
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(ms)*float64(b.N)/b.Elapsed().Seconds(), "market-steps/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkBacktestW1Monitors runs W1 with the built-in risk monitors
// evaluated at every step (what the CLI's backtest does by default) and
// without, side by side, with the process's CPU time per run (cpu-ms/op,
// as BenchmarkBacktestW1).
func BenchmarkBacktestW1Monitors(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		w    func(testing.TB) *w1Fixture
		mon  bool
	}{{"builtin-monitors", w1Data, true}, {"no-monitors", w1Data, false}, {"builtin-monitors-own-params", w1OwnData, true}} {
		b.Run(tc.name, func(b *testing.B) {
			w := tc.w(b)
			spec := w.spec()
			if tc.mon {
				spec.Monitors = monitorsOf(b, w, monitor.File{})
			}
			b.ReportAllocs()
			b.ResetTimer()
			var n, rows int
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				res, err := Run(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				n, rows = res.Data.MarketSteps, len(res.MonitorEvents)
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "market-steps/s")
			b.ReportMetric(float64(rows), "monitor-rows")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			}
		})
	}
}

// scanRows reads every observation column of the W1 rows with a raw
// SELECT: the floor any SQLite-backed run pays.
func scanRows(ctx context.Context, path string) (int, error) {
	sdb, err := sql.Open("sqlite", path)
	if err != nil {
		return 0, err
	}
	defer sdb.Close()
	conn, err := sdb.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	n := 0
	err = sqlitex.Each(ctx, conn, "SELECT market_id, ts, apy, reward_apy, exchange_rate, price, tvl, exit_liquidity, utilization FROM observations ORDER BY market_id, ts", nil,
		func(row []driver.Value) error { n++; return nil })
	return n, err
}

// BenchmarkBacktestW1FromSQLite runs W1 end to end from a SQLite file
// (open, load, run) and reports its time as a ratio to a raw SELECT scan
// of the same rows measured in the same benchmark (x-scan), and the same
// ratio of the process's CPU times (x-scan-cpu: user + system, garbage
// collection included), which a busy machine disturbs less.
func BenchmarkBacktestW1FromSQLite(b *testing.B) {
	f := w1Data(b)
	path := f.sqlite(b)
	ctx := context.Background()
	b.ReportAllocs()
	var scan, full, scanCPU, fullCPU time.Duration
	for i := 0; i < b.N; i++ {
		c0 := cpuTime()
		t0 := time.Now()
		n, err := scanRows(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		if n != w1Markets*w1Hours {
			b.Fatalf("scan read %d rows, want %d", n, w1Markets*w1Hours)
		}
		t1 := time.Now()
		c1 := cpuTime()
		db, err := history.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		spec := f.spec()
		spec.Data, spec.Loader = nil, db
		spec.Lookback = time.Hour
		if _, err := Run(ctx, spec); err != nil {
			b.Fatal(err)
		}
		db.Close()
		t2 := time.Now()
		c2 := cpuTime()
		scan += t1.Sub(t0)
		full += t2.Sub(t1)
		scanCPU += c1 - c0
		fullCPU += c2 - c1
	}
	b.ReportMetric(full.Seconds()/scan.Seconds(), "x-scan")
	if scanCPU > 0 {
		b.ReportMetric(fullCPU.Seconds()/scanCPU.Seconds(), "x-scan-cpu")
	}
	b.ReportMetric(float64(scan.Milliseconds())/float64(b.N), "scan-ms")
	b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "run-ms")
}

// peakHeap samples the heap in use every millisecond until stop is
// closed and returns the peak.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// BenchmarkSweep runs the 16 points of a 4 x 4 grid of W1 over one
// loaded window with -j 1 and -j 2 and reports the speed-up and both
// peak heaps (heap objects, sampled every millisecond).
func BenchmarkSweep(b *testing.B) {
	f := w1Data(b)
	ctx := context.Background()
	grid := []Param{
		{Name: "min_peg", Values: []float64{0.98, 0.985, 0.99, 0.995}},
		{Name: "peg_penalty", Values: []float64{0, 1, 2, 4}},
	}
	spec := f.spec()
	var d1, d2 time.Duration
	var m1, m2 uint64
	for i := 0; i < b.N; i++ {
		for _, j := range []int{1, 2} {
			runtime.GC()
			stop := make(chan struct{})
			peak := peakHeap(stop)
			t0 := time.Now()
			out, err := Sweep(ctx, SweepSpec{Spec: spec, Grid: grid, Workers: j, Objective: "sharpe"})
			dt := time.Since(t0)
			close(stop)
			p := <-peak
			if err != nil {
				b.Fatal(err)
			}
			if len(out) != 16 || out[0].Err != "" {
				b.Fatalf("sweep gave %d runs, first error %q", len(out), out[0].Err)
			}
			if j == 1 {
				d1 += dt
				m1 = max(m1, p)
			} else {
				d2 += dt
				m2 = max(m2, p)
			}
		}
	}
	b.ReportMetric(d1.Seconds()/d2.Seconds(), "speedup")
	b.ReportMetric(float64(m1)/(1<<20), "peak-MiB-j1")
	b.ReportMetric(float64(m2)/(1<<20), "peak-MiB-j2")
}

// BenchmarkBacktestW1Loop is W1 with a leveraged loop market added to the
// universe (aave-v3/wsteth-loop's profile, a 51st series carrying the
// collateral's rate and index and the debt's borrow APY and size) and a
// leverage rule of 3: the figure for issue 13, against
// BenchmarkBacktestW1.
func BenchmarkBacktestW1Loop(b *testing.B) {
	f := w1Data(b)
	cat := f.cat.Clone()
	loop, err := cat.Market("aave-v3/wsteth-loop")
	if err != nil {
		b.Fatal(err)
	}
	w := &adapters.Window{From: f.window.From, To: f.window.To, Series: append([]*adapters.Series(nil), f.window.Series...)}
	s := &adapters.Series{Market: loop, Times: f.window.Series[0].Times, Set: make([]adapters.FieldSet, w1Hours)}
	var set adapters.FieldSet
	for _, fl := range []adapters.Field{adapters.FieldAPY, adapters.FieldExchangeRate, adapters.FieldIndex, adapters.FieldTVL,
		adapters.FieldBorrowAPY, adapters.FieldUtilization, adapters.FieldSupply, adapters.FieldExitLiquidity} {
		s.Cols[fl] = make([]float64, w1Hours)
		set = set.With(fl)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rate, borrow := 1.15, 0.025
	for r := 0; r < w1Hours; r++ {
		s.Set[r] = set
		borrow = math.Max(0.005, borrow+0.02*(0.025-borrow)+0.0004*rng.NormFloat64())
		rate *= math.Pow(1.03, 1.0/(365*24))
		s.Cols[adapters.FieldAPY][r] = 0.031
		s.Cols[adapters.FieldExchangeRate][r] = rate
		s.Cols[adapters.FieldIndex][r] = 1 + 0.0001*float64(r)/float64(w1Hours)
		s.Cols[adapters.FieldTVL][r] = 3e9
		s.Cols[adapters.FieldBorrowAPY][r] = borrow
		s.Cols[adapters.FieldUtilization][r] = 0.85
		s.Cols[adapters.FieldSupply][r] = 2e6
		s.Cols[adapters.FieldExitLiquidity][r] = 5e4
	}
	w.Series = append(w.Series, s)
	src := fmt.Sprintf(`name: w1-loop
base: ETH
universe: [%s, aave-v3/wsteth-loop]
params: { min_peg: 0.985, peg_penalty: 2 }
rules:
  leverage: 3
  eligible: peg >= params.min_peg && tvl > 1e8
  score: loop_apy - params.peg_penalty * max(0.0, 1 - peg)
  weight: max(score, 0.0)
constraints: { idle: 0.02, max_weight: 0.1 }
rebalance: { every: "0 */6 * * *", when: "drift > 0.05" }
harvest: { every: "@daily" }
`, strings.Join(f.ids, ", "))
	st, err := rules.Load("w1-loop.yaml", []byte(src), cat)
	if err != nil {
		b.Fatal(err)
	}
	spec := Spec{Strategy: st, Catalog: cat, Data: w, From: w.From, To: w.To, Capital: decimal.NewFromInt(1000), Source: "W1+loop"}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var ms, loops int
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := Run(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		ms = res.Data.MarketSteps
		loops = 0
		for _, e := range res.Ledger {
			if e.Market == "aave-v3/wsteth-loop" {
				loops++
			}
		}
	}
	if loops == 0 {
		b.Fatal("the loop market was never traded")
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(ms)*float64(b.N)/b.Elapsed().Seconds(), "market-steps/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}
