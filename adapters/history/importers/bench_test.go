package importers

import (
	"bytes"
	"context"
	"strconv"
	"testing"

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
	for i := 0; i < b.N; i++ {
		batch, err := ImportCSV(context.Background(), "bench.csv", bytes.NewReader(data), m, Options{Catalog: cat})
		if err != nil {
			b.Fatal(err)
		}
		if len(batch.Rows) != rows {
			b.Fatalf("%d rows, want %d", len(batch.Rows), rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
