package importers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

func TestImportDefiLlama_PoolChart(t *testing.T) {
	const src = `{"status":"success","data":[
{"timestamp":"2022-05-03T23:01:39.073Z","tvlUsd":11074372760,"apy":3.6,"apyBase":3.6,"apyReward":null,"il7d":null,"apyBase7d":null},
{"timestamp":"2022-05-04T23:01:39.073Z","tvlUsd":1000,"apy":5,"apyBase":null,"apyReward":1.5},
{"timestamp":"2022-05-05T23:01:39.073Z","apy":4},
{"timestamp":"2022-05-06T23:01:39.073Z","apy":null}
]}`
	b, err := ImportDefiLlama(context.Background(), "chart.json", strings.NewReader(src), Options{Market: "lido/steth"})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2022, 5, 3, 23, 1, 39, 0, time.UTC).Unix()
	want := []history.Row{
		{Market: "lido/steth", Line: 1, Obs: obs(day, F{adapters.FieldAPY: 0.036, adapters.FieldTVL: 11074372760})},
		{Market: "lido/steth", Line: 2, Obs: obs(day+86400, F{adapters.FieldAPY: 0.035, adapters.FieldRewardAPY: 0.015, adapters.FieldTVL: 1000})},
		{Market: "lido/steth", Line: 3, Obs: obs(day+2*86400, F{adapters.FieldAPY: 0.04})},
	}
	if diff := cmp.Diff(want, b.Rows, cmpFloat); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if b.Skipped != 1 || b.Format != "defillama" {
		t.Errorf("Skipped, Format = %d, %q; want 1, defillama", b.Skipped, b.Format)
	}
	if !strings.Contains(strings.Join(b.Notes, "\n"), "1 records had no apyBase") {
		t.Errorf("notes %q do not mention the total-APY record", b.Notes)
	}
}

func TestImportDefiLlama_ProtocolChart(t *testing.T) {
	for _, src := range []string{
		`[{"date":1650000000,"totalLiquidityUSD":5e9},{"date":"1650086400","totalLiquidityUSD":6e9}]`,
		`{"id":"182","name":"Lido","chains":["Ethereum"],"tvl":[{"date":1650000000,"totalLiquidityUSD":5e9},{"date":1650086400,"totalLiquidityUSD":6e9}]}`,
	} {
		b, err := ImportDefiLlama(context.Background(), "tvl.json", strings.NewReader(src), Options{Market: "lido/steth"})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		want := []history.Row{
			{Market: "lido/steth", Line: 1, Obs: obs(1650000000, F{adapters.FieldTVL: 5e9})},
			{Market: "lido/steth", Line: 2, Obs: obs(1650086400, F{adapters.FieldTVL: 6e9})},
		}
		if diff := cmp.Diff(want, b.Rows); diff != "" {
			t.Errorf("%s: rows (-want +got):\n%s", src, diff)
		}
	}
}

func TestImportDefiLlama_Errors(t *testing.T) {
	tests := []struct {
		name, src, pos, msg string
	}{
		{"status", `{"status":"error","data":[]}`, "c.json:1", "status"},
		{"no data", `{"status":"success"}`, "c.json:1", "no \"data\""},
		{"syntax", "{\"status\":\"success\",\"data\":[\n{\"timestamp\":\"2022-05-03T00:00:00Z\",\"apy\":1},\n{\"timestamp\":,}]}", "c.json:3", "JSON syntax"},
		{"bad type", "{\"data\":[\n{\"timestamp\":\"2022-05-03T00:00:00Z\",\"apy\":\"high\"}]}", "c.json:2", "record 1"},
		{"bad time", "{\"data\":[\n{\"timestamp\":\"2022-05-03T00:00:00Z\",\"apy\":1},\n{\"timestamp\":\"soon\",\"apy\":1}]}", "c.json:3", "record 2"},
		{"no time", `[{"apy":1}]`, "c.json:1", "no \"timestamp\" or \"date\""},
		{"out of range", "[\n{\"date\":1650000000,\"totalLiquidityUSD\":-5}]", "c.json:2", "tvl must be >= 0"},
		{"apy too high", `{"data":[{"timestamp":"2022-05-03T00:00:00Z","apyBase":1e9}]}`, "c.json:1", "apy is above"},
		{"truncated", `{"data":[{"timestamp":"2022-05-03T00:00:00Z","apy":1}`, "c.json:1", "end of JSON"},
		{"trailing", `[{"date":1650000000,"totalLiquidityUSD":1}] [1]`, "c.json:1", "after the chart"},
		{"scalar", `42`, "c.json:1", "want a JSON object or array"},
		{"empty", ``, "c.json:1", "empty file"},
		{"unsorted conflict", `[{"date":1650000000,"totalLiquidityUSD":1},{"date":1650000000,"totalLiquidityUSD":2}]`, "c.json:2", "tvl is 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ImportDefiLlama(context.Background(), "c.json", strings.NewReader(tc.src), Options{Market: "lido/steth"})
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("error = %v, want KindInvalid", err)
			}
			var e *adapters.Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Pos, tc.pos) {
				t.Errorf("position %q, want prefix %q (error %v)", e.Pos, tc.pos, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
	if _, err := ImportDefiLlama(context.Background(), "c.json", strings.NewReader(`[]`), Options{}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("no market: error = %v, want KindInvalid", err)
	}
}
