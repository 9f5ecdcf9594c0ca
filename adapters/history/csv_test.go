package history_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

func TestNativeCSV_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var rows []history.Row
	// Awkward floats: tiny, huge, many digits, negative APYs, exact powers.
	specials := []float64{0, 1, 0.1, 1.0 / 3, 5e-324, 1e300, 123456789.123456789, math.Nextafter(1, 2), 0.9306}
	for i := range 300 {
		o := adapters.Observation{Time: hour(i)}
		if i%7 == 0 {
			o.Time = o.Time.Add(250 * time.Millisecond) // fractions of a second survive
		}
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if rng.IntN(3) == 0 {
				continue
			}
			v := specials[rng.IntN(len(specials))]
			if rng.IntN(2) == 0 {
				v = rng.Float64() * math.Pow(10, float64(rng.IntN(12)))
			}
			switch f {
			case adapters.FieldAPY, adapters.FieldRewardAPY:
				v = rng.Float64()*2 - 0.9
			case adapters.FieldUtilization, adapters.FieldBorrowAPY:
				v = rng.Float64()
			case adapters.FieldFeeTier:
				v = rng.Float64() * 0.01
			case adapters.FieldExchangeRate, adapters.FieldPrice, adapters.FieldIndex, adapters.FieldBorrowIndex, adapters.FieldBaseUSD,
				adapters.FieldCoin0Price, adapters.FieldCoin1Price, adapters.FieldCoin2Price:
				v += 1e-9
			}
			o.Put(f, v)
		}
		market := "lido/steth"
		if i%3 == 0 {
			market = `odd,"quoted"/name` // needs CSV quoting
		}
		rows = append(rows, history.Row{Market: market, Obs: o, Line: i + 2})
	}
	var buf bytes.Buffer
	if err := history.WriteNativeCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	b, err := history.ReadNativeCSV("rt.csv", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if b.Source != "rt.csv" || b.Format != history.FormatNative || len(b.Markets) != 0 {
		t.Errorf("batch header = %q %q %v, want rt.csv native and no markets", b.Source, b.Format, b.Markets)
	}
	// The quoted market spans no extra lines, so lines match one to one.
	if diff := cmp.Diff(rows, b.Rows); diff != "" {
		t.Errorf("round trip (-wrote +read):\n%s", diff)
	}
}

func TestWriteNativeCSV_Header(t *testing.T) {
	var buf bytes.Buffer
	rows := []history.Row{{Market: "lido/steth", Obs: obs(t0, adapters.FieldAPY, 0.035, adapters.FieldBaseUSD, 3100.5)}}
	if err := history.WriteNativeCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "market,time,apy,reward_apy,exchange_rate,price,tvl,exit_liquidity,utilization,borrow_apy,volume,fee_tier," +
		"balance0,balance1,balance2,withdrawal_days,liquidity_index,supply,borrows,gas_price,base_usd,coin0_price,coin1_price,coin2_price,borrow_index\n" +
		"lido/steth,2024-01-01T00:00:00Z,0.035,,,,,,,,,,,,,,,,,,3100.5,,,,\n"
	if got := buf.String(); got != want {
		t.Errorf("WriteNativeCSV =\n%s\nwant\n%s", got, want)
	}
}

func TestWriteNativeCSV_RefusesBadValues(t *testing.T) {
	bad := obs(t0, adapters.FieldAPY, 0.03)
	bad.Put(adapters.FieldPrice, math.Inf(1))
	err := history.WriteNativeCSV(&bytes.Buffer{}, []history.Row{{Market: "lido/steth", Obs: bad}})
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "price is infinite") {
		t.Errorf("WriteNativeCSV(+Inf) error = %v, want KindInvalid naming the price", err)
	}
	err = history.WriteNativeCSV(&bytes.Buffer{}, []history.Row{{Market: "lido/steth", Obs: obs(time.Time{}, adapters.FieldAPY, 0.03)}})
	if !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("WriteNativeCSV(no time) error = %v, want KindInvalid", err)
	}
}

func TestReadNativeCSV_Subset(t *testing.T) {
	in := "\ufeffmarket,time,tvl,apy\nlido/steth,2024-01-01T01:00:00+01:00,1e9,\nlido/steth,2024-01-01T01:00:00Z,,0.03\n"
	b, err := history.ReadNativeCSV("s.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Row{
		{Market: "lido/steth", Line: 2, Obs: obs(t0, adapters.FieldTVL, 1e9)},
		{Market: "lido/steth", Line: 3, Obs: obs(hour(1), adapters.FieldAPY, 0.03)},
	}
	if diff := cmp.Diff(want, b.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestReadNativeCSV_Errors(t *testing.T) {
	const head = "market,time,apy,price\n"
	tests := []struct {
		name, in, pos, msg string
	}{
		{"empty file", "", "f.csv:1", "empty file"},
		{"bad first columns", "time,market,apy\n", "f.csv:1", "header must start with market,time"},
		{"unknown field", "market,time,apy,yield\n", "f.csv:1", `column 4: unknown field "yield"`},
		{"repeated field", "market,time,apy,apy\n", "f.csv:1", `column 4: field "apy" repeated`},
		{"bad number", head + "lido/steth,2024-01-01T00:00:00Z,0.03,0.99\nlido/steth,2024-01-01T01:00:00Z,3%,0.99\n", "f.csv:3", `apy: "3%" is not a number`},
		{"NaN", head + "lido/steth,2024-01-01T00:00:00Z,0.03,NaN\n", "f.csv:2", "price is NaN"},
		{"infinity", head + "lido/steth,2024-01-01T00:00:00Z,+Inf,1\n", "f.csv:2", "apy is infinite"},
		{"out of range", head + "lido/steth,2024-01-01T00:00:00Z,0.03,-1\n", "f.csv:2", "price must be > 0"},
		{"bad time", head + "lido/steth,2024-01-01 00:00:00,0.03,1\n", "f.csv:2", `time: "2024-01-01 00:00:00" is not an RFC 3339 time`},
		{"bad market", head + "steth,2024-01-01T00:00:00Z,0.03,1\n", "f.csv:2", `market: "steth" is not of the form protocol/name`},
		{"short line", head + "lido/steth,2024-01-01T00:00:00Z,0.03\n", "f.csv:2", "wrong number of fields"},
		{"bad quote", head + "lido/steth,2024-01-01T00:00:00Z,0.03,\"1\n", "f.csv:2", "quote"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := history.ReadNativeCSV("f.csv", strings.NewReader(tc.in))
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("error = %v, want KindInvalid", err)
			}
			var ae *adapters.Error
			if !errors.As(err, &ae) || ae.Pos != tc.pos {
				t.Errorf("error position = %q, want %q (error %v)", ae.Pos, tc.pos, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

func FuzzReadNativeCSV(f *testing.F) {
	f.Add("market,time,apy,price\nlido/steth,2024-01-01T00:00:00Z,0.03,0.99\n")
	f.Add("market,time,tvl\n\"a/b\",2024-01-01T00:00:00.5Z,1e9\na/b,2024-01-01T00:00:00Z,\n")
	f.Add("market,time,utilization\nx/y,2024-01-01T00:00:00Z,NaN\n")
	f.Add("market,time\nx/y,2024-01-01T00:00:00Z\n")
	f.Fuzz(func(t *testing.T, in string) {
		b, err := history.ReadNativeCSV("fuzz.csv", strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, adapters.ErrInvalid) || !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %v is not KindInvalid naming the file", err)
			}
			return
		}
		for _, r := range b.Rows {
			if err := r.Obs.Validate(); err != nil {
				t.Fatalf("row at line %d does not validate: %v", r.Line, err)
			}
			if _, _, err := adapters.SplitID(r.Market); err != nil || r.Obs.Time.IsZero() || r.Line < 2 {
				t.Fatalf("row %+v: bad market, time or line", r)
			}
		}
		// Whatever reads, writes back and reads the same.
		var buf bytes.Buffer
		if err := history.WriteNativeCSV(&buf, b.Rows); err != nil {
			t.Fatalf("WriteNativeCSV of a read batch: %v", err)
		}
		b2, err := history.ReadNativeCSV("again.csv", &buf)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(b2.Rows) != len(b.Rows) {
			t.Fatalf("re-read %d rows, want %d", len(b2.Rows), len(b.Rows))
		}
		for i := range b.Rows {
			if !cmp.Equal(b.Rows[i].Obs, b2.Rows[i].Obs) {
				t.Fatalf("row %d changed on round trip: %+v then %+v", i, b.Rows[i].Obs, b2.Rows[i].Obs)
			}
		}
	})
}

func TestCheckBatch(t *testing.T) {
	hourly := func(market string, hours ...int) []history.Row {
		var rs []history.Row
		for i, h := range hours {
			rs = append(rs, row(market, i+2, obs(hour(h), adapters.FieldAPY, 0.03)))
		}
		return rs
	}
	type issue struct{ Severity, Pos, Kind string }
	tests := []struct {
		name       string
		rows       []history.Row
		errs, warn []issue
	}{
		{name: "clean", rows: hourly("a/b", 0, 1, 2, 3)},
		{name: "gap", rows: hourly("a/b", 0, 1, 2, 3, 9, 10),
			warn: []issue{{"warning", "k.csv:6", history.IssueGap}}},
		{name: "gap of exactly three steps is not a gap", rows: hourly("a/b", 0, 1, 2, 5, 6, 7)},
		{name: "out of order", rows: hourly("a/b", 0, 2, 1, 3),
			warn: []issue{{"warning", "k.csv:4", history.IssueOutOfOrder}}},
		{name: "same duplicate merges", rows: hourly("a/b", 0, 1, 1, 2),
			warn: []issue{{"warning", "k.csv:4", history.IssueDuplicate}}},
		{name: "conflicting duplicate", rows: append(hourly("a/b", 0, 1, 2), row("a/b", 9, obs(hour(1), adapters.FieldAPY, 0.04))),
			errs: []issue{{"error", "k.csv:9", history.IssueDuplicate}},
			warn: []issue{{"warning", "k.csv:9", history.IssueOutOfOrder}}},
		{name: "NaN and out of range", rows: []history.Row{
			row("a/b", 2, obs(hour(0), adapters.FieldAPY, math.NaN())),
			row("a/b", 3, obs(hour(1), adapters.FieldFeeTier, 1.0)),
		}, errs: []issue{{"error", "k.csv:2", history.IssueNaN}, {"error", "k.csv:3", history.IssueOutOfRange}}},
		{name: "empty row skipped", rows: append(hourly("a/b", 0, 1), history.Row{Market: "a/b", Line: 7, Obs: adapters.Observation{Time: hour(2)}}),
			warn: []issue{{"warning", "k.csv:7", history.IssueEmpty}}},
		{name: "fractions of a second", rows: []history.Row{row("a/b", 2, obs(hour(0).Add(time.Millisecond), adapters.FieldAPY, 0.03))},
			warn: []issue{{"warning", "", history.IssueSubSecond}}},
		{name: "generated rows have no position", rows: []history.Row{{Market: "a/b", Obs: obs(hour(0), adapters.FieldAPY, 2000.0)}},
			errs: []issue{{"error", "", history.IssueOutOfRange}}},
	}
	conv := func(is []history.Issue) []issue {
		var out []issue
		for _, i := range is {
			out = append(out, issue{i.Severity.String(), i.Pos, i.Kind})
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs, warns := history.CheckBatch(&history.Batch{Source: "k.csv", Rows: tc.rows})
			if diff := cmp.Diff(tc.errs, conv(errs)); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%v", diff, errs)
			}
			if diff := cmp.Diff(tc.warn, conv(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s\n%v", diff, warns)
			}
		})
	}
}

func TestCheckBatch_Markets(t *testing.T) {
	other := steth
	other.Name = "different"
	tests := []struct {
		name    string
		markets []adapters.Market
		want    int
	}{
		{"valid", []adapters.Market{steth, reth}, 0},
		{"same twice", []adapters.Market{steth, steth}, 0},
		{"described twice differently", []adapters.Market{steth, other}, 1},
		{"bad kind", []adapters.Market{{ID: "a/b", Kind: "vault", Base: adapters.ETH}}, 1},
		{"bad tag", []adapters.Market{{ID: "a/b", Kind: adapters.LST, Base: adapters.ETH, Tags: []string{"notatag"}}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs, _ := history.CheckBatch(&history.Batch{Source: "m", Markets: tc.markets})
			if len(errs) != tc.want {
				t.Errorf("CheckBatch errors = %v, want %d", errs, tc.want)
			}
		})
	}
}

func TestExportSeries(t *testing.T) {
	db := openMem(t)
	mustWrite(t, db, baseBatch())
	w, err := db.Load(context.Background(), []string{"lido/steth"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Series[0]
	tests := []struct{ format, want string }{
		{"csv", "market,time,apy,price\nlido/steth,2024-01-01T00:00:00Z,0.03,0.999\nlido/steth,2024-01-01T01:00:00Z,0.031,0.999\nlido/steth,2024-01-01T02:00:00Z,0.032,0.998\n"},
		{"json", `{"market":{"id":"lido/steth","kind":"lst","base":"ETH","protocol":"lido","token":"stETH","tags":["oracle:lido"],` +
			`"params":{"fee_on_rewards":0.1}},"fields":["apy","price"],"rows":[{"time":"2024-01-01T00:00:00Z","apy":0.03,"price":0.999},` +
			`{"time":"2024-01-01T01:00:00Z","apy":0.031,"price":0.999},{"time":"2024-01-01T02:00:00Z","apy":0.032,"price":0.998}],` +
			`"events":[{"time":"2024-01-01T01:00:00Z","market":"lido/steth","type":"depeg","size":0.01,"note":"test"}]}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := history.ExportSeries(&buf, s, tc.format); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tc.want {
				t.Errorf("ExportSeries(%s) =\n%s\nwant\n%s", tc.format, got, tc.want)
			}
		})
	}
	if err := history.ExportSeries(&bytes.Buffer{}, s, "xml"); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("ExportSeries(xml) error = %v, want KindInvalid", err)
	}
	bad := *s
	bad.Cols[adapters.FieldAPY] = []float64{0.03}
	if err := history.ExportSeries(&bytes.Buffer{}, &bad, "csv"); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("ExportSeries(ragged) error = %v, want KindInvalid", err)
	}
}

// Example shows the store's main path: read the project's own CSV, write
// it (twice: the second import changes nothing), and load a window.
func Example() {
	ctx := context.Background()
	db, err := history.OpenMemory(ctx)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	csv := "market,time,apy,tvl\n" +
		"lido/steth,2024-01-01T00:00:00Z,0.031,9.1e9\n" +
		"lido/steth,2024-01-01T06:00:00Z,0.029,\n"
	for range 2 {
		b, err := history.ReadNativeCSV("steth.csv", strings.NewReader(csv))
		if err != nil {
			panic(err)
		}
		b.Markets = []adapters.Market{{ID: "lido/steth", Kind: adapters.LST, Base: adapters.ETH}}
		res, err := db.Write(ctx, b)
		if err != nil {
			panic(err)
		}
		fmt.Printf("inserted %d, updated %d, unchanged %d\n", res.Inserted, res.Updated, res.Unchanged)
	}
	w, err := db.Load(ctx, []string{"lido/steth"}, time.Time{}, time.Time{})
	if err != nil {
		panic(err)
	}
	s := w.Series[0]
	for i := range s.Len() {
		o := s.At(i)
		fmt.Printf("%s apy=%g tvl=%g\n", o.Time.Format(time.RFC3339), o.Values[adapters.FieldAPY], o.Values[adapters.FieldTVL])
	}
	// Output:
	// inserted 2, updated 0, unchanged 0
	// inserted 0, updated 0, unchanged 2
	// 2024-01-01T00:00:00Z apy=0.031 tvl=9.1e+09
	// 2024-01-01T06:00:00Z apy=0.029 tvl=9.1e+09
}
