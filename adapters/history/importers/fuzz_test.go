package importers

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// fuzzCheck asserts what every import promises, whatever the input: an
// error of a known kind with a position, or a batch whose rows validate.
func fuzzCheck(t *testing.T, name string, data []byte, run func() (err error, check func())) {
	err, check := run()
	if err != nil {
		var e *adapters.Error
		if !errors.As(err, &e) || (e.Kind != adapters.KindInvalid && e.Kind != adapters.KindNotFound) {
			t.Fatalf("%s: error %v is not a KindInvalid/KindNotFound *adapters.Error (input %q)", name, err, data)
		}
		return
	}
	check()
}

func FuzzGenericCSV(f *testing.F) {
	f.Add([]byte("t,a,p\n1700000000,3.5,1.01\n1700003600,,0.99\n"))
	f.Add([]byte("t,a,p\n2024-01-01,3.5,1\n"))
	f.Add([]byte("t,a,p\n1700000000,NaN,1\n"))
	f.Add([]byte("t,a,p\n1700000000,1e400,1\n1700000000,1,1\n"))
	f.Add([]byte("t;a;p\n\"1700000000\",\"1\",\"2\"\n"))
	f.Add([]byte("\ufeffp,a,t\n1,2,1651618899073\n"))
	m := &Mapping{
		Market: "lido/steth",
		Time:   Column{Name: "t", Unit: TimeAuto},
		Columns: []Column{
			{Name: "a", Field: adapters.FieldAPY, Unit: UnitPercent},
			{Name: "p", Field: adapters.FieldPrice, Unit: UnitNumber},
		},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, "csv", data, func() (error, func()) {
			b, err := ImportCSV(context.Background(), "f.csv", bytes.NewReader(data), m, Options{})
			return err, func() { checkFuzzBatch(t, b) }
		})
	})
}

func FuzzDefiLlamaJSON(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":[{"timestamp":"2022-05-03T23:01:39.073Z","tvlUsd":1e9,"apy":3.6,"apyBase":3.6,"apyReward":null}]}`))
	f.Add([]byte(`[{"date":1650000000,"totalLiquidityUSD":5e9},{"date":"1650086400","totalLiquidityUSD":6e9}]`))
	f.Add([]byte(`{"tvl":[{"date":1650000000,"totalLiquidityUSD":-1}]}`))
	f.Add([]byte(`{"data":[{"timestamp":"2022-05-03","apy":5,"apyReward":7}]}`))
	f.Add([]byte(`[{"date":1650000000,"totalLiquidityUSD":1},{"date":1650000000,"totalLiquidityUSD":1}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, "defillama", data, func() (error, func()) {
			b, err := ImportDefiLlama(context.Background(), "f.json", bytes.NewReader(data), Options{Market: "lido/steth"})
			return err, func() { checkFuzzBatch(t, b) }
		})
	})
}

// FuzzExportJSON feeds data export --format json files (and broken
// ones) to the importer that reads them back.
func FuzzExportJSON(f *testing.F) {
	f.Add([]byte(`{"market":{"id":"lido/steth"},"fields":["apy"],"rows":[{"time":"2024-01-01T00:00:00Z","apy":0.03}],"events":[]}`))
	f.Add([]byte(`{"market":{"id":"kelp/rseth"},"rows":[{"time":"2024-01-01T00:00:00Z","price":0.98}],"events":[{"time":"2024-01-01T00:00:00Z","type":"depeg","size":0.02}]}`))
	f.Add([]byte(`{"market":{"id":"lido/steth"},"rows":[{"apy":1}]}`))
	f.Add([]byte(`{"market":{"id":"lido/steth"},"rows":[{"time":"x","nope":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, "export", data, func() (error, func()) {
			b, err := ImportReader(context.Background(), "f.json", bytes.NewReader(data), FormatExport, Options{})
			return err, func() { checkFuzzBatch(t, b) }
		})
	})
}

// FuzzDatasetCSV feeds every dataset importer (the format picked by the
// first byte) the same inputs: headers right or wrong, cells of any kind.
func FuzzDatasetCSV(f *testing.F) {
	for i, d := range datasets {
		f.Add(byte(i), []byte(d.header+"\n"))
	}
	f.Add(byte(0), []byte("date,Lido_APY,Lido_TVL\n2022-05-03,3.6,11074372760.0\n2022-05-04,,\n2022-05-04,NaN,1\n"))
	f.Add(byte(2), []byte("symbol,timestamp,USD_price\nrsETH,1673647103,\nrETH,1673650619,1.0055\nWETH,1673650619,1e400\n"))
	f.Add(byte(3), []byte("symbol,timestamp,USD_price\nWETH,1655582000000,1074.5\nstETH,1655582401000,1000\n"))
	f.Add(byte(4), []byte("steth_ts_ms,weth_ts_ms,time_utc,steth_usd,weth_usd,steth_per_eth\n1655582401000,1,x,1000.0,1074.5,0.930665\n1655582401000,1,x,1000.0,1074.5,0.95\n"))
	f.Add(byte(7), []byte("targetDate,timestamp,blockNumber,reserve,symbol,liquidityIndex,currentLiquidityRate,variableBorrowIndex,currentVariableBorrowRate,currentStableBorrowRate,totalAToken,totalStableDebt,totalVariableDebt,price,date\n"+
		"x,1704067200,1,0x,WETH,1.01,0.017,1.03,0.026,0.09,500000,0.0,400000,2280.05,x\nx,1715472000,1,0x,wstETH,1.0005,0.00001,1.0049,0.003,0.075,1000,0.0,-50,3393.15,x\n"))
	f.Add(byte(10), []byte("timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,total_deposit_usd,total_borrow_usd,input_token_price_usd\n1660369110,x,,,0.0,0.0,0.0,0.0\n1661640865,x,2.5,4.0,101.2,2000.0,2024.0,1.0\n"))
	f.Add(byte(13), []byte("timestamp,date_utc,open,high,low,close,volume,pool_address,dex,fee_tier,base_token,quote_token,source\n1704067200,x,1,1,1,2000,1000000,0x4e68,d,0.3%,WETH,USDT,s\n1704067200,x,1,1,1,0,1,p,d,x%,WETH,DAI,s\n"))
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		d := datasets[int(which)%len(datasets)]
		fuzzCheck(t, string(d.format), data, func() (error, func()) {
			b, err := ImportReader(context.Background(), "f.csv", bytes.NewReader(data), d.format, Options{})
			return err, func() { checkFuzzBatch(t, b) }
		})
	})
}
