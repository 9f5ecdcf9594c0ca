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

// obs builds an observation at unix time ts from field/value pairs.
func obs(ts int64, kv map[adapters.Field]float64) adapters.Observation {
	o := adapters.Observation{Time: time.Unix(ts, 0).UTC()}
	for f, v := range kv {
		o.Put(f, v)
	}
	return o
}

type F = map[adapters.Field]float64

func mustMapping(t *testing.T, market string, specs ...string) *Mapping {
	t.Helper()
	m, err := MappingFromSpecs(market, specs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImportCSV_Units(t *testing.T) {
	const src = "ts,apy_pct,rew_bps,util,supply_wei,gas,tvl\n" +
		"1700000000,3.5,25,0.8,1500000000000000000,30,1e6\n" +
		"1700003600,,,,,,\n" + // every mapped cell empty: skipped
		"1700007200,4.29,,0.5,,,2000000\n"
	m := mustMapping(t, "aave-v3/weth", "time=ts:unix_s", "apy=apy_pct:percent", "reward_apy=rew_bps:bps",
		"utilization=util:fraction", "supply=supply_wei:wei", "gas_price=gas", "tvl")
	b, err := ImportCSV(context.Background(), "in.csv", strings.NewReader(src), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Row{
		{Market: "aave-v3/weth", Line: 2, Obs: obs(1700000000, F{adapters.FieldAPY: 0.035, adapters.FieldRewardAPY: 0.0025,
			adapters.FieldUtilization: 0.8, adapters.FieldSupply: 1.5, adapters.FieldGasPrice: 30, adapters.FieldTVL: 1e6})},
		{Market: "aave-v3/weth", Line: 4, Obs: obs(1700007200, F{adapters.FieldAPY: 0.0429, adapters.FieldUtilization: 0.5, adapters.FieldTVL: 2e6})},
	}
	if diff := cmp.Diff(want, b.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if b.Skipped != 1 {
		t.Errorf("Skipped = %d, want 1", b.Skipped)
	}
	if len(b.Markets) != 1 || b.Markets[0].ID != "aave-v3/weth" || b.Markets[0].Kind != adapters.Lending {
		t.Errorf("Markets = %+v, want the catalog's aave-v3/weth", b.Markets)
	}
	if b.Source != "in.csv" || b.Format != "csv" {
		t.Errorf("Source, Format = %q, %q", b.Source, b.Format)
	}
}

func TestImportCSV_Options(t *testing.T) {
	// Semicolons, two junk lines, a comment line, a market column, an
	// automatically found time column with mixed time forms.
	const src = "exported by a tool\n\n" +
		"market;Date;apy\n" +
		"# a comment\n" +
		"lido/steth;2024-01-02;3.1\n" +
		"rocketpool/reth;2024-01-02 12:00:00;2.9\n"
	m := &Mapping{MarketColumn: "market", Columns: []Column{{Name: "apy", Field: adapters.FieldAPY, Unit: UnitPercent}},
		Delimiter: ";", SkipRows: 2, Comment: "#"}
	b, err := ImportCSV(context.Background(), "x.csv", strings.NewReader(src), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
	want := []history.Row{
		{Market: "lido/steth", Line: 5, Obs: obs(day, F{adapters.FieldAPY: 0.031})},
		{Market: "rocketpool/reth", Line: 6, Obs: obs(day+12*3600, F{adapters.FieldAPY: 0.029})},
	}
	if diff := cmp.Diff(want, b.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// A market override replaces the market column.
	b, err = ImportCSV(context.Background(), "x.csv", strings.NewReader(src), m, Options{Market: "coinbase/cbeth"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range b.Rows {
		if r.Market != "coinbase/cbeth" {
			t.Errorf("with override, row market = %q", r.Market)
		}
	}
}

func TestImportCSV_Order(t *testing.T) {
	const src = "time,apy\n" +
		"1700007200,3\n" +
		"1700000000,1\n" +
		"1700003600,2\n" +
		"1700003600,2\n" // identical duplicate: dropped
	m := mustMapping(t, "lido/steth", "time:unix_s", "apy:percent")
	b, err := ImportCSV(context.Background(), "u.csv", strings.NewReader(src), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range b.Rows {
		got = append(got, r.Obs.Time.Unix())
	}
	if diff := cmp.Diff([]int64{1700000000, 1700003600, 1700007200}, got); diff != "" {
		t.Errorf("times (-want +got):\n%s", diff)
	}
	notes := strings.Join(b.Notes, "\n")
	for _, want := range []string{"out of time order", "1 duplicate rows"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q do not mention %q", notes, want)
		}
	}
}

func TestImportCSV_Errors(t *testing.T) {
	m := mustMapping(t, "lido/steth", "time=t:unix_s", "apy=a:percent", "price=p")
	tests := []struct {
		name, src string
		kind      error
		pos, msg  string
	}{
		{"bad number", "t,a,p\n1700000000,3.1,1\n1700003600,x3,1\n", adapters.ErrInvalid, "b.csv:3:12", `column "a": bad number "x3"`},
		{"NaN", "t,a,p\n1700000000,NaN,1\n", adapters.ErrInvalid, "b.csv:2:12", "apy is NaN"},
		{"infinite", "t,a,p\n1700000000,1,+Inf\n", adapters.ErrInvalid, "b.csv:2:14", "price is infinite"},
		{"out of range", "t,a,p\n1700000000,1,-2\n", adapters.ErrInvalid, "b.csv:2:14", "price must be > 0"},
		{"apy too high", "t,a,p\n1700000000,200000,1\n", adapters.ErrInvalid, "b.csv:2:12", "apy is above"},
		{"wrong header", "time,apy,price\n1700000000,1,1\n", adapters.ErrInvalid, "b.csv:1", `no column "t"`},
		{"empty file", "", adapters.ErrInvalid, "b.csv:1", "empty file"},
		{"bad time", "t,a,p\n2024-01-01,1,1\n", adapters.ErrInvalid, "b.csv:2:1", "unix_s"},
		{"short row", "t,a,p\n1700000000,1\n", adapters.ErrInvalid, "b.csv:2", "2 fields"},
		{"bad quote", "t,a,p\n1700000000,\"1,1\n", adapters.ErrInvalid, "b.csv:", "quote"},
		{"conflicting duplicate", "t,a,p\n1700000000,1,1\n1700000000,2,1\n", adapters.ErrInvalid, "b.csv:3", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ImportCSV(context.Background(), "b.csv", strings.NewReader(tc.src), m, Options{})
			if !errors.Is(err, tc.kind) {
				t.Fatalf("ImportCSV = %v, %v; want error of kind %v", b, err, tc.kind)
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
	// A market the catalog does not know.
	um := mustMapping(t, "nowhere/token", "time=t:unix_s", "apy=a")
	if _, err := ImportCSV(context.Background(), "b.csv", strings.NewReader("t,a\n1700000000,0.01\n"), um, Options{}); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("unknown market: error = %v, want KindNotFound", err)
	}
	// A cancelled context stops the import.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ImportCSV(ctx, "b.csv", strings.NewReader("t,a,p\n1700000000,1,1\n"), m, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error = %v", err)
	}
}
