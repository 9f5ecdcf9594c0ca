package history

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// benchFields are the ~8 fields a typical generated market observes.
var benchFields = []adapters.Field{
	adapters.FieldAPY, adapters.FieldRewardAPY, adapters.FieldExchangeRate, adapters.FieldPrice,
	adapters.FieldTVL, adapters.FieldExitLiquidity, adapters.FieldWithdrawalDays, adapters.FieldBaseUSD,
}

// genBatch makes a deterministic batch of markets x rows hourly
// observations from 2022-01-01, each with benchFields set (a few cells
// left out so that forward fill has work to do).
func genBatch(markets, rows int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &Batch{Source: "bench", Format: "bench", Rows: make([]Row, 0, markets*rows)}
	for m := range markets {
		id := fmt.Sprintf("bench/m%02d", m)
		b.Markets = append(b.Markets, adapters.Market{ID: id, Kind: adapters.LST, Base: adapters.ETH})
		apy, rate := 0.03, 1.0
		for i := range rows {
			apy += (0.03-apy)*0.01 + rng.NormFloat64()*0.0005
			rate *= 1 + apy/8760
			var o adapters.Observation
			o.Time = start.Add(time.Duration(i) * time.Hour)
			for _, f := range benchFields {
				if rng.IntN(50) == 0 {
					continue
				}
				var v float64
				switch f {
				case adapters.FieldAPY:
					v = apy
				case adapters.FieldRewardAPY:
					v = 0.01 + rng.Float64()*0.001
				case adapters.FieldExchangeRate:
					v = rate
				case adapters.FieldPrice:
					v = rate * (1 - rng.Float64()*0.002)
				case adapters.FieldTVL:
					v = 1e9 * (1 + rng.Float64())
				case adapters.FieldExitLiquidity:
					v = 5e4 * rng.Float64()
				case adapters.FieldWithdrawalDays:
					v = 3
				case adapters.FieldBaseUSD:
					v = 3000 + rng.Float64()*100
				}
				o.Put(f, v)
			}
			b.Rows = append(b.Rows, Row{Market: id, Obs: o, Line: i + 2})
		}
	}
	return b
}

// cpuTime is the process's user+system CPU time. Benchmarks report
// throughput against it too ("cpu-rows/s"), because on a shared machine
// wall time depends on the other processes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoadWindow loads 50 markets x 26,280 hourly rows (3 years, 8
// fields) from a file database, and compares the Load time with a raw
// database/sql scan of every observation column ("x-scan") and of the
// same 8 columns ("x-scan8").
func BenchmarkLoadWindow(b *testing.B) {
	const markets, rows = 50, 26280
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "load.db")
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	if _, err := db.Write(ctx, genBatch(markets, rows, 1)); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d rows in %s", markets*rows, time.Since(t0))

	all := "SELECT market_id, ts, " + colList + " FROM observations"
	var cols8 string
	for _, f := range benchFields {
		cols8 += ", " + f.String()
	}
	some := "SELECT market_id, ts" + cols8 + " FROM observations"
	var loadDur, scanDur, scan8Dur, loadCPU, scanCPU time.Duration
	b.ResetTimer()
	for b.Loop() {
		t, c := time.Now(), cpuTime()
		w, err := db.Load(ctx, nil, time.Time{}, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		loadDur += time.Since(t)
		loadCPU += cpuTime() - c
		if got := w.Rows(); got != markets*rows {
			b.Fatalf("Load rows = %d, want %d", got, markets*rows)
		}
		b.StopTimer()
		t, c = time.Now(), cpuTime()
		if n := rawScan(b, db.sql, all, 2+int(adapters.NumFields)); n != markets*rows {
			b.Fatalf("scan rows = %d, want %d", n, markets*rows)
		}
		scanDur += time.Since(t)
		scanCPU += cpuTime() - c
		t = time.Now()
		rawScan(b, db.sql, some, 2+len(benchFields))
		scan8Dur += time.Since(t)
		b.StartTimer()
	}
	b.ReportMetric(float64(loadDur)/float64(scanDur), "x-scan")
	b.ReportMetric(float64(loadCPU)/float64(scanCPU), "x-scan-cpu")
	b.ReportMetric(float64(loadDur)/float64(scan8Dur), "x-scan8")
	b.ReportMetric(float64(markets*rows)*float64(b.N)/loadDur.Seconds(), "rows/s")
}

// rawScan is the baseline: a plain database/sql scan into NullFloat64s.
func rawScan(b *testing.B, db *sql.DB, q string, ncols int) int {
	rows, err := db.Query(q)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var mid, ts int64
	vals := make([]sql.NullFloat64, ncols-2)
	dest := []any{&mid, &ts}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkImport reads a 210,000-row native CSV (10 markets x 21,000
// hourly rows, 8 fields) from memory and writes it into a fresh file
// database: the path of `data import` for the project's own format.
func BenchmarkImport(b *testing.B) {
	const markets, rows = 10, 21000
	src := genBatch(markets, rows, 2)
	var buf bytes.Buffer
	if err := WriteNativeCSV(&buf, src.Rows); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	dir := b.TempDir()
	var dur, cpu, read time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		db, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("import%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t, c := time.Now(), cpuTime()
		batch, err := ReadNativeCSV("bench.csv", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		read += time.Since(t)
		batch.Markets = src.Markets
		res, err := db.Write(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		dur += time.Since(t)
		cpu += cpuTime() - c
		b.StopTimer()
		if res.Inserted != markets*rows {
			b.Fatalf("Inserted = %d, want %d", res.Inserted, markets*rows)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(markets*rows)*float64(b.N)/dur.Seconds(), "rows/s")
	b.ReportMetric(float64(markets*rows)*float64(b.N)/cpu.Seconds(), "cpu-rows/s")
	b.ReportMetric(float64(read.Milliseconds())/float64(b.N), "read-ms/op")
	b.ReportMetric(float64((dur-read).Milliseconds())/float64(b.N), "write-ms/op")
}

// BenchmarkReadNativeCSV reads BenchmarkImport's 210,000-row native CSV
// from memory.
func BenchmarkReadNativeCSV(b *testing.B) {
	const markets, rows = 10, 21000
	var buf bytes.Buffer
	if err := WriteNativeCSV(&buf, genBatch(markets, rows, 2).Rows); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	var dur, cpu time.Duration
	for b.Loop() {
		t, c := time.Now(), cpuTime()
		batch, err := ReadNativeCSV("bench.csv", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		dur += time.Since(t)
		cpu += cpuTime() - c
		if len(batch.Rows) != markets*rows {
			b.Fatalf("rows = %d, want %d", len(batch.Rows), markets*rows)
		}
	}
	b.ReportMetric(float64(markets*rows)*float64(b.N)/dur.Seconds(), "rows/s")
	b.ReportMetric(float64(markets*rows)*float64(b.N)/cpu.Seconds(), "cpu-rows/s")
}

// BenchmarkWrite writes a prepared 210,000-row batch: into a fresh file
// database, into a fresh in-memory database, and again into a database
// that already holds it (every row Unchanged).
func BenchmarkWrite(b *testing.B) {
	const markets, rows = 10, 21000
	src := genBatch(markets, rows, 3)
	ctx := context.Background()
	run := func(b *testing.B, open func(i int) *DB, want func(WriteResult) bool) {
		var dur, cpu time.Duration
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			db := open(i)
			b.StartTimer()
			t, c := time.Now(), cpuTime()
			res, err := db.Write(ctx, src)
			if err != nil {
				b.Fatal(err)
			}
			dur += time.Since(t)
			cpu += cpuTime() - c
			b.StopTimer()
			if !want(res) {
				b.Fatalf("unexpected result %+v", res)
			}
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(markets*rows)*float64(b.N)/dur.Seconds(), "rows/s")
		b.ReportMetric(float64(markets*rows)*float64(b.N)/cpu.Seconds(), "cpu-rows/s")
	}
	fresh := func(r WriteResult) bool { return r.Inserted == markets*rows }
	b.Run("file-fresh", func(b *testing.B) {
		dir := b.TempDir()
		run(b, func(i int) *DB {
			db, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("w%d.db", i)))
			if err != nil {
				b.Fatal(err)
			}
			return db
		}, fresh)
	})
	b.Run("memory-fresh", func(b *testing.B) {
		run(b, func(int) *DB {
			db, err := OpenMemory(ctx)
			if err != nil {
				b.Fatal(err)
			}
			return db
		}, fresh)
	})
	b.Run("file-reimport", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "re.db")
		db, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Write(ctx, src); err != nil {
			b.Fatal(err)
		}
		db.Close()
		run(b, func(int) *DB {
			db, err := Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			return db
		}, func(r WriteResult) bool { return r.Unchanged == markets*rows && r.Inserted == 0 && r.Updated == 0 })
	})
}
