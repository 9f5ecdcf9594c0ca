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
			return err, func() { checkBatch(t, b) }
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
			return err, func() { checkBatch(t, b) }
		})
	})
}
