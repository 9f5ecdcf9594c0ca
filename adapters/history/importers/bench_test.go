package importers

import (
	"bytes"
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// BenchmarkImportCSV measures the generic CSV importer on a generated
// 200,000-row hourly file with a unix-seconds time column and six mapped
// value columns in mixed units (percent, bps, fraction, wei, plain).
func BenchmarkImportCSV(b *testing.B) {
	const rows = 200000
	var buf bytes.Buffer
	buf.WriteString("timestamp,apy_pct,reward_bps,utilization,supply_wei,tvl_usd,price\n")
	for i := 0; i < rows; i++ {
		ts := 1600000000 + int64(i)*3600
		buf.WriteString(strconv.FormatInt(ts, 10))
		buf.WriteString(",")
		buf.WriteString(strconv.FormatFloat(3+float64(i%997)/1000, 'f', 6, 64))
		buf.WriteString(",")
		buf.WriteString(strconv.Itoa(20 + i%50))
		buf.WriteString(",")
		buf.WriteString(strconv.FormatFloat(0.5+float64(i%400)/1000, 'f', 8, 64))
		buf.WriteString(",")
		buf.WriteString(strconv.FormatInt(1e18+int64(i)*12345678901, 10) + "000")
		buf.WriteString(",")
		buf.WriteString(strconv.FormatFloat(1e9+float64(i)*1234.5, 'f', 2, 64))
		buf.WriteString(",")
		buf.WriteString(strconv.FormatFloat(0.99+float64(i%200)/10000, 'f', 8, 64))
		buf.WriteString("\n")
	}
	data := buf.Bytes()
	m := &Mapping{
		Market: "aave-v3/weth",
		Time:   Column{Name: "timestamp", Unit: TimeUnixS},
		Columns: []Column{
			{Name: "apy_pct", Field: adapters.FieldAPY, Unit: UnitPercent},
			{Name: "reward_bps", Field: adapters.FieldRewardAPY, Unit: UnitBps},
			{Name: "utilization", Field: adapters.FieldUtilization, Unit: UnitFraction},
			{Name: "supply_wei", Field: adapters.FieldSupply, Unit: UnitWei},
			{Name: "tvl_usd", Field: adapters.FieldTVL},
			{Name: "price", Field: adapters.FieldPrice},
		},
	}
	cat := adapters.Builtin()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		batch, err := ImportCSV(context.Background(), "bench.csv", bytes.NewReader(data), m, Options{Catalog: cat})
		if err != nil {
			b.Fatal(err)
		}
		if len(batch.Rows) != rows {
			b.Fatalf("%d rows, want %d", len(batch.Rows), rows)
		}
	}
	reportRows(b, rows, cpuTime()-c0)
}

// BenchmarkImportDataset measures the dataset importers on generated
// 100,000-row hourly files in four shared/data formats: plain columns
// (curve-3pool-csv), a market by symbol and a field by symbol
// (compound-oracle-csv), per-column hooks (compound-messari-csv: launch-row
// skip, utilization clamp) and a row of joined columns (aavescan-csv:
// APR to APY, utilization and amounts from three columns).
func BenchmarkImportDataset(b *testing.B) {
	const rows = 100000
	gens := []struct {
		format Format
		header string
		row    func(i int, ts string) string
		// out is the rows the importer writes per input row (Compound's
		// USDC file also writes USDC's price into Curve 3pool's rows).
		out int
	}{
		{FormatCurve3Pool, "date,timestamp,X_USDC_Depeg_Risk,balance_usdc_normalized,balance_dai_normalized,balance_usdt_normalized,balance_total_normalized,raw_balance_usdc,raw_balance_dai,raw_balance_usdt",
			func(i int, ts string) string {
				u, d, t := 1e8+float64(i%977)*1e3, 2e8+float64(i%419)*1e3, 3e8+float64(i%613)*1e3
				return "x," + ts + ",0.33," + ff(u) + "," + ff(d) + "," + ff(t) + "," + ff(u+d+t) + ",1,2,3"
			}, 1},
		{FormatCompoundOracle, "symbol,timestamp,USD_price", func(i int, ts string) string {
			return []string{"rETH", "weETH", "WETH", "cbETH"}[i%4] + "," + ts + "," + ff(1.01+float64(i%997)/1e5)
		}, 1},
		{FormatCompoundMessari, "timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,total_deposit_usd,total_borrow_usd,input_token_price_usd",
			func(i int, ts string) string {
				return ts + ",x," + ff(2+float64(i%300)/100) + "," + ff(4+float64(i%300)/100) + "," + ff(60+float64(i%41)) + "," + ff(2e9+float64(i)) + "," + ff(1.5e9+float64(i)) + ",0.9999"
			}, 2},
		{FormatAaveScan, "targetDate,timestamp,blockNumber,reserve,symbol,liquidityIndex,currentLiquidityRate,variableBorrowIndex,currentVariableBorrowRate,currentStableBorrowRate,totalAToken,totalStableDebt,totalVariableDebt,price,date",
			func(i int, ts string) string {
				return "x," + ts + ",1,0xC02a,WETH," + ff(1.01+float64(i)/1e7) + "," + ff(0.017+float64(i%100)/1e5) + ",1.03," + ff(0.026+float64(i%100)/1e5) + ",0.09," + ff(5e5+float64(i)) + ",0.0," + ff(4e5+float64(i%1000)) + "," + ff(2280+float64(i%500)) + ",x"
			}, 1},
	}
	cat := adapters.Builtin()
	for _, g := range gens {
		var buf bytes.Buffer
		buf.WriteString(g.header + "\n")
		for i := 0; i < rows; i++ {
			buf.WriteString(g.row(i, strconv.FormatInt(1600000000+int64(i)*3600, 10)) + "\n")
		}
		data := buf.Bytes()
		b.Run(string(g.format), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				batch, err := ImportReader(context.Background(), "bench.csv", bytes.NewReader(data), g.format, Options{Catalog: cat})
				if err != nil {
					b.Fatal(err)
				}
				if len(batch.Rows) != rows*g.out {
					b.Fatalf("%d rows, want %d", len(batch.Rows), rows*g.out)
				}
			}
			reportRows(b, rows, cpuTime()-c0)
		})
	}
}

// reportRows reports rows per second of wall time and of the process's
// CPU time (cpu, over all b.N ops; the collector's work on other cores
// included), the latter steadier on a shared machine.
func reportRows(b *testing.B, rows int, cpu time.Duration) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)*float64(b.N)/cpu.Seconds(), "cpu-rows/s")
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
