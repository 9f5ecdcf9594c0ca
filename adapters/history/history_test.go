package history_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

var (
	t0    = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	steth = adapters.Market{ID: "lido/steth", Kind: adapters.LST, Base: adapters.ETH, Protocol: "lido",
		Token: "stETH", Tags: []string{"oracle:lido"}, Params: map[string]float64{"fee_on_rewards": 0.1}}
	reth = adapters.Market{ID: "rocketpool/reth", Kind: adapters.LST, Base: adapters.ETH, Protocol: "rocketpool"}
)

func hour(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }

// obs builds an observation at t from field/value pairs.
func obs(t time.Time, kv ...any) adapters.Observation {
	o := adapters.Observation{Time: t}
	for i := 0; i < len(kv); i += 2 {
		o.Put(kv[i].(adapters.Field), kv[i+1].(float64))
	}
	return o
}

func row(market string, line int, o adapters.Observation) history.Row {
	return history.Row{Market: market, Obs: o, Line: line}
}

func openMem(t *testing.T, opts ...history.Option) *history.DB {
	t.Helper()
	db, err := history.OpenMemory(context.Background(), opts...)
	if err != nil {
		t.Fatalf("OpenMemory: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustWrite(t *testing.T, db *history.DB, b *history.Batch) history.WriteResult {
	t.Helper()
	res, err := db.Write(context.Background(), b)
	if err != nil {
		t.Fatalf("Write(%s): %v", b.Source, err)
	}
	return res
}

// baseBatch is three hourly stETH observations and one event.
func baseBatch() *history.Batch {
	return &history.Batch{
		Source: "base.csv", Format: "test",
		Markets: []adapters.Market{steth},
		Rows: []history.Row{
			row("lido/steth", 2, obs(hour(0), adapters.FieldAPY, 0.03, adapters.FieldPrice, 0.999)),
			row("lido/steth", 3, obs(hour(1), adapters.FieldAPY, 0.031)),
			row("lido/steth", 4, obs(hour(2), adapters.FieldAPY, 0.032, adapters.FieldPrice, 0.998)),
		},
		Events: []adapters.Event{{Time: hour(1), Market: "lido/steth", Type: adapters.EventDepeg, Size: 0.01, Note: "test"}},
	}
}

// snapshot is everything a DB holds, for before/after comparisons.
type snapshot struct {
	Markets []history.MarketInfo
	Window  *adapters.Window
	Events  []adapters.Event
	Imports []history.ImportRecord
}

func snap(t *testing.T, db *history.DB) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.Markets, err = db.Markets(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Window, err = db.Load(ctx, nil, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if s.Events, err = db.Events(ctx, nil, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if s.Imports, err = db.Imports(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpen_MigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := history.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, baseBatch())
	want := snap(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		db, err := history.Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got := snap(t, db); !cmp.Equal(got, want) {
			t.Errorf("reopen %d changed the data (-want +got):\n%s", i, cmp.Diff(want, got))
		}
		if got := db.Path(); got != path {
			t.Errorf("Path() = %q, want %q", got, path)
		}
		db.Close()
	}
	if got := userVersion(t, path); got != history.SchemaVersion {
		t.Errorf("user_version = %d, want %d", got, history.SchemaVersion)
	}
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	raw, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := history.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	newer := history.SchemaVersion + 1
	if _, err := raw.Exec("PRAGMA user_version = " + strconv.Itoa(newer)); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	_, err = history.Open(ctx, path)
	if !errors.Is(err, adapters.ErrInvalid) {
		t.Fatalf("Open(newer schema) error = %v, want KindInvalid", err)
	}
	var ve *sqlitex.VersionError
	if !errors.As(err, &ve) || ve.Have != newer || ve.Known != history.SchemaVersion {
		t.Errorf("Open(newer schema) error = %#v, want a VersionError{Have: %d, Known: %d}", err, newer, history.SchemaVersion)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file %s", err, path)
	}
	if got := userVersion(t, path); got != newer {
		t.Errorf("refused database's user_version = %d, want it untouched at %d", got, newer)
	}
}

func TestOpen_EmptyPath(t *testing.T) {
	if _, err := history.Open(context.Background(), ""); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Open(\"\") error = %v, want KindInvalid", err)
	}
}

func TestDB_Write_RollsBackBadBatch(t *testing.T) {
	nan := obs(hour(5), adapters.FieldAPY, 0.03)
	nan.Values[adapters.FieldPrice] = nanValue()
	nan.Set = nan.Set.With(adapters.FieldPrice)
	tests := []struct {
		name    string
		batch   *history.Batch
		kind    error
		wantPos string
		wantMsg string
	}{
		{
			name: "NaN after good rows and a new market",
			batch: &history.Batch{Source: "bad.csv", Markets: []adapters.Market{reth}, Rows: []history.Row{
				row("rocketpool/reth", 2, obs(hour(3), adapters.FieldExchangeRate, 1.1)),
				row("lido/steth", 3, obs(hour(4), adapters.FieldAPY, 0.05)),
				row("lido/steth", 4, nan),
			}},
			kind: adapters.ErrInvalid, wantPos: "bad.csv:4", wantMsg: "price is NaN",
		},
		{
			name: "out of range utilization",
			batch: &history.Batch{Source: "u.csv", Rows: []history.Row{
				row("lido/steth", 7, obs(hour(4), adapters.FieldUtilization, 1.5)),
			}},
			kind: adapters.ErrInvalid, wantPos: "u.csv:7", wantMsg: "utilization must be within [0, 1]",
		},
		{
			name: "conflicting duplicate",
			batch: &history.Batch{Source: "dup.csv", Rows: []history.Row{
				row("lido/steth", 2, obs(hour(4), adapters.FieldAPY, 0.05)),
				row("lido/steth", 3, obs(hour(4), adapters.FieldAPY, 0.06)),
			}},
			kind: adapters.ErrInvalid, wantPos: "dup.csv:3", wantMsg: "apy at 2024-01-01T04:00:00Z given twice",
		},
		{
			name: "unknown market after a described one",
			batch: &history.Batch{Source: "unk.csv", Markets: []adapters.Market{reth}, Rows: []history.Row{
				row("rocketpool/reth", 2, obs(hour(3), adapters.FieldExchangeRate, 1.1)),
				row("lido/steth", 3, obs(hour(9), adapters.FieldAPY, 0.05)),
				row("nobody/nothing", 9, obs(hour(4), adapters.FieldAPY, 0.05)),
			}},
			kind: adapters.ErrNotFound, wantPos: "unk.csv:9", wantMsg: `market "nobody/nothing"`,
		},
		{
			name: "event of an unknown market",
			batch: &history.Batch{Source: "ev.json", Rows: []history.Row{
				row("lido/steth", 2, obs(hour(8), adapters.FieldAPY, 0.05)),
			}, Events: []adapters.Event{{Time: hour(8), Market: "nobody/nothing", Type: adapters.EventSlash, Size: 0.1}}},
			kind: adapters.ErrNotFound, wantMsg: `market "nobody/nothing"`,
		},
		{
			name: "event size out of range",
			batch: &history.Batch{Source: "ev.json", Events: []adapters.Event{
				{Time: hour(8), Market: "lido/steth", Type: adapters.EventSlash, Size: 1.5}}},
			kind: adapters.ErrInvalid, wantMsg: "size 1.5 is not a fraction",
		},
		{
			name: "malformed market id",
			batch: &history.Batch{Source: "id.csv", Rows: []history.Row{
				row("steth", 5, obs(hour(8), adapters.FieldAPY, 0.05))}},
			kind: adapters.ErrInvalid, wantPos: "id.csv:5", wantMsg: "not of the form protocol/name",
		},
		{
			name: "row without time",
			batch: &history.Batch{Source: "t.csv", Rows: []history.Row{
				row("lido/steth", 6, obs(time.Time{}, adapters.FieldAPY, 0.05))}},
			kind: adapters.ErrInvalid, wantPos: "t.csv:6", wantMsg: "no time",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openMem(t)
			mustWrite(t, db, baseBatch())
			before := snap(t, db)
			_, err := db.Write(context.Background(), tc.batch)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Write error = %v, want kind %v", err, tc.kind)
			}
			var ae *adapters.Error
			if !errors.As(err, &ae) || ae.Pos != tc.wantPos {
				t.Errorf("error position = %q, want %q (error %v)", ae.Pos, tc.wantPos, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			if after := snap(t, db); !cmp.Equal(after, before) {
				t.Errorf("a refused batch changed the database (-before +after):\n%s", cmp.Diff(before, after))
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestDB_Write_BatchErrorListsAll(t *testing.T) {
	db := openMem(t)
	b := &history.Batch{Source: "many.csv", Markets: []adapters.Market{steth}, Rows: []history.Row{
		row("lido/steth", 2, obs(hour(0), adapters.FieldPrice, -1.0)),
		row("lido/steth", 3, obs(hour(1), adapters.FieldTVL, -5.0)),
	}}
	_, err := db.Write(context.Background(), b)
	var be *history.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write error = %v, want a *BatchError", err)
	}
	var got []string
	for _, i := range be.Issues {
		got = append(got, i.Pos+" "+i.Kind)
	}
	want := []string{"many.csv:2 out_of_range", "many.csv:3 out_of_range"}
	if !cmp.Equal(got, want) {
		t.Errorf("issues = %q, want %q", got, want)
	}
	if !strings.Contains(err.Error(), "and 1 more") {
		t.Errorf("error %q does not count the other problems", err)
	}
}

func TestDB_Write_Merge(t *testing.T) {
	ctx := context.Background()
	db := openMem(t)
	apy := &history.Batch{Source: "apy.csv", Markets: []adapters.Market{steth}, Rows: []history.Row{
		row("lido/steth", 2, obs(hour(0), adapters.FieldAPY, 0.03)),
		row("lido/steth", 3, obs(hour(1), adapters.FieldAPY, 0.031)),
	}}
	if got, want := mustWrite(t, db, apy), (history.WriteResult{Markets: 1, Inserted: 2}); !cmp.Equal(got, want) {
		t.Errorf("first write = %+v, want %+v", got, want)
	}
	// A second file: TVL for the same hours (merge), a changed APY at
	// hour 1 (update), the same APY at hour 0 (unchanged), one new hour.
	tvl := &history.Batch{Source: "tvl.csv", Rows: []history.Row{
		row("lido/steth", 2, obs(hour(0), adapters.FieldTVL, 1e9)),
		row("lido/steth", 3, obs(hour(1), adapters.FieldTVL, 2e9, adapters.FieldAPY, 0.035)),
		row("lido/steth", 4, obs(hour(0), adapters.FieldAPY, 0.03)),
		row("lido/steth", 5, obs(hour(2), adapters.FieldTVL, 3e9)),
	}}
	// hour 0 appears twice with disjoint fields: merged into one change.
	want := history.WriteResult{Markets: 1, Inserted: 1, Updated: 2}
	got := mustWrite(t, db, tvl)
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(history.WriteResult{}, "Warnings")); diff != "" {
		t.Errorf("merge write (-want +got):\n%s", diff)
	}
	w, err := db.Load(ctx, []string{"lido/steth"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Series[0]
	if got, want := s.Cols[adapters.FieldAPY], []float64{0.03, 0.035, 0.035}; !cmp.Equal(got, want) {
		t.Errorf("apy = %v, want %v (hour 2 forward-filled)", got, want)
	}
	if got, want := s.Cols[adapters.FieldTVL], []float64{1e9, 2e9, 3e9}; !cmp.Equal(got, want) {
		t.Errorf("tvl = %v, want %v", got, want)
	}
	// The stored market description is kept when a batch does not describe it.
	m, err := db.Market(ctx, "lido/steth")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(m, steth) {
		t.Errorf("Market = %+v, want %+v", m, steth)
	}
}

func TestDB_Write_ReimportUnchanged(t *testing.T) {
	ctx := context.Background()
	db := openMem(t, history.WithClock(func() time.Time { return time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC) }))
	first := mustWrite(t, db, baseBatch())
	if want := (history.WriteResult{Markets: 1, Inserted: 3, Events: 1}); !cmp.Equal(first, want) {
		t.Errorf("first write = %+v, want %+v", first, want)
	}
	before := snap(t, db)
	second := mustWrite(t, db, baseBatch())
	if want := (history.WriteResult{Markets: 1, Unchanged: 3}); !cmp.Equal(second, want) {
		t.Errorf("re-import = %+v, want %+v", second, want)
	}
	after := snap(t, db)
	if diff := cmp.Diff(before.Window, after.Window); diff != "" {
		t.Errorf("re-import changed the data (-before +after):\n%s", diff)
	}
	imps, err := db.Imports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imps) != 2 {
		t.Fatalf("Imports = %d records, want 2", len(imps))
	}
	if imps[0].SHA256 != imps[1].SHA256 || len(imps[0].SHA256) != 64 {
		t.Errorf("digests %q and %q: want the same 64-hex digest for the same batch", imps[0].SHA256, imps[1].SHA256)
	}
	wantRec := history.ImportRecord{ID: 2, Source: "base.csv", Format: "test", SHA256: imps[0].SHA256, Rows: 3, Unchanged: 3,
		ImportedAt: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)}
	if diff := cmp.Diff(wantRec, imps[1]); diff != "" {
		t.Errorf("second import record (-want +got):\n%s", diff)
	}
	// Row order does not change the digest.
	rev := baseBatch()
	rev.Rows[0], rev.Rows[2] = rev.Rows[2], rev.Rows[0]
	mustWrite(t, db, rev)
	imps, _ = db.Imports(ctx)
	if imps[2].SHA256 != imps[0].SHA256 {
		t.Errorf("reordered batch digest %s, want %s", imps[2].SHA256, imps[0].SHA256)
	}
}

func TestDB_Imports_NoClock(t *testing.T) {
	db := openMem(t)
	mustWrite(t, db, baseBatch())
	imps, err := db.Imports(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(imps) != 1 || !imps[0].ImportedAt.IsZero() {
		t.Errorf("Imports = %+v, want one record without a time", imps)
	}
}

func TestDB_Write_Events(t *testing.T) {
	ctx := context.Background()
	db := openMem(t)
	mustWrite(t, db, baseBatch())
	b := baseBatch()
	b.Rows = nil
	b.Events[0].Size = 0.02
	b.Events = append(b.Events, adapters.Event{Time: hour(2), Market: "lido/steth", Type: adapters.EventSlash, Size: 0.001, Scope: "operator:x"})
	if got := mustWrite(t, db, b); got.Events != 2 {
		t.Errorf("Events = %d, want 2 (one changed, one new)", got.Events)
	}
	evs, err := db.Events(ctx, []string{"lido/steth"}, hour(1), hour(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []adapters.Event{{Time: hour(1), Market: "lido/steth", Type: adapters.EventDepeg, Size: 0.02, Note: "test"}}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("Events(hour 1) (-want +got):\n%s", diff)
	}
}

func TestDB_Load_ForwardFill(t *testing.T) {
	ctx := context.Background()
	db := openMem(t)
	mustWrite(t, db, &history.Batch{Source: "ff.csv", Markets: []adapters.Market{steth, reth}, Rows: []history.Row{
		row("lido/steth", 2, obs(hour(0), adapters.FieldTVL, 1e9)),
		row("lido/steth", 3, obs(hour(1), adapters.FieldAPY, 0.03)),
		row("lido/steth", 4, obs(hour(2), adapters.FieldTVL, 2e9)),
		row("lido/steth", 5, obs(hour(3), adapters.FieldPrice, 0.99)),
		row("lido/steth", 6, obs(hour(4), adapters.FieldAPY, 0.04)),
		row("rocketpool/reth", 2, obs(hour(1), adapters.FieldExchangeRate, 1.1)),
	}})
	apy, tvl, price := adapters.FieldSet(0).With(adapters.FieldAPY), adapters.FieldSet(0).With(adapters.FieldTVL), adapters.FieldSet(0).With(adapters.FieldPrice)
	tests := []struct {
		name     string
		from, to time.Time
		times    []int64
		cols     map[adapters.Field][]float64
		set      []adapters.FieldSet
	}{
		{
			name: "whole history", times: []int64{hour(0).Unix(), hour(1).Unix(), hour(2).Unix(), hour(3).Unix(), hour(4).Unix()},
			cols: map[adapters.Field][]float64{
				adapters.FieldTVL:   {1e9, 1e9, 2e9, 2e9, 2e9},
				adapters.FieldAPY:   {0, 0.03, 0.03, 0.03, 0.04},
				adapters.FieldPrice: {0, 0, 0, 0.99, 0.99},
			},
			set: []adapters.FieldSet{tvl, tvl | apy, tvl | apy, tvl | apy | price, tvl | apy | price},
		},
		{
			// Forward fill starts inside the range: hour 2's APY is not
			// carried from hour 1, which is outside it.
			name: "from hour 2", from: hour(2), to: hour(4),
			times: []int64{hour(2).Unix(), hour(3).Unix(), hour(4).Unix()},
			cols: map[adapters.Field][]float64{
				adapters.FieldTVL:   {2e9, 2e9, 2e9},
				adapters.FieldAPY:   {0, 0, 0.04},
				adapters.FieldPrice: {0, 0.99, 0.99},
			},
			set: []adapters.FieldSet{tvl, tvl | price, tvl | apy | price},
		},
		{
			name: "single row, inclusive bounds", from: hour(1), to: hour(1),
			times: []int64{hour(1).Unix()},
			cols:  map[adapters.Field][]float64{adapters.FieldAPY: {0.03}},
			set:   []adapters.FieldSet{apy},
		},
		{
			name: "sub-second bounds round inward", from: hour(1).Add(time.Millisecond), to: hour(3).Add(-time.Millisecond),
			times: []int64{hour(2).Unix()},
			cols:  map[adapters.Field][]float64{adapters.FieldTVL: {2e9}},
			set:   []adapters.FieldSet{tvl},
		},
		{name: "empty range", from: hour(10), to: hour(20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := db.Load(ctx, []string{"lido/steth"}, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			s := w.Get("lido/steth")
			if diff := cmp.Diff(tc.times, s.Times, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Times (-want +got):\n%s", diff)
			}
			got := map[adapters.Field][]float64{}
			for f, c := range s.Cols {
				if c != nil {
					got[adapters.Field(f)] = c
				}
			}
			if diff := cmp.Diff(tc.cols, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Cols (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.set, s.Set, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDB_Load_Window(t *testing.T) {
	ctx := context.Background()
	db := openMem(t)
	b := baseBatch()
	b.Markets = append(b.Markets, reth)
	b.Rows = append(b.Rows, row("rocketpool/reth", 9, obs(hour(5), adapters.FieldExchangeRate, 1.1)))
	mustWrite(t, db, b)

	w, err := db.Load(ctx, []string{"rocketpool/reth", "lido/steth"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range w.Series {
		ids = append(ids, s.Market.ID)
	}
	if want := []string{"rocketpool/reth", "lido/steth"}; !cmp.Equal(ids, want) {
		t.Errorf("series order = %v, want %v (as asked)", ids, want)
	}
	if !w.From.Equal(hour(0)) || !w.To.Equal(hour(5)) {
		t.Errorf("window = [%s, %s], want [%s, %s] (the data's range when unbounded)", w.From, w.To, hour(0), hour(5))
	}
	if got := w.Get("lido/steth").Events; len(got) != 1 || got[0].Type != adapters.EventDepeg {
		t.Errorf("stETH events = %+v, want the depeg", got)
	}
	if got := w.Get("rocketpool/reth").Events; len(got) != 0 {
		t.Errorf("rETH events = %+v, want none", got)
	}
	w, err = db.Load(ctx, nil, hour(2), hour(4))
	if err != nil {
		t.Fatal(err)
	}
	if !w.From.Equal(hour(2)) || !w.To.Equal(hour(4)) || w.Rows() != 1 || len(w.Get("lido/steth").Events) != 0 {
		t.Errorf("Load(hour 2..4) = window [%s, %s] with %d rows and events %v, want one stETH row and no events",
			w.From, w.To, w.Rows(), w.Get("lido/steth").Events)
	}
}

func TestDB_Load_Errors(t *testing.T) {
	ctx := context.Background()
	db := openMem(t)
	mustWrite(t, db, baseBatch())
	tests := []struct {
		name     string
		ids      []string
		from, to time.Time
		want     error
	}{
		{"unknown market", []string{"lido/steth", "nobody/x"}, time.Time{}, time.Time{}, adapters.ErrNotFound},
		{"backwards range", nil, hour(2), hour(1), adapters.ErrInvalid},
		{"repeated market", []string{"lido/steth", "lido/steth"}, time.Time{}, time.Time{}, adapters.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.Load(ctx, tc.ids, tc.from, tc.to); !errors.Is(err, tc.want) {
				t.Errorf("Load error = %v, want %v", err, tc.want)
			}
			if _, err := db.Events(ctx, tc.ids, tc.from, tc.to); !errors.Is(err, tc.want) {
				t.Errorf("Events error = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := db.Market(ctx, "nobody/x"); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("Market(unknown) error = %v, want KindNotFound", err)
	}
	if _, err := db.Check(ctx, []string{"nobody/x"}); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("Check(unknown) error = %v, want KindNotFound", err)
	}
}

func TestDB_Markets(t *testing.T) {
	db := openMem(t)
	b := baseBatch()
	b.Markets = append(b.Markets, reth)
	// A fourth stETH row after a 3-hour gap: the median step stays 1h.
	b.Rows = append(b.Rows, row("lido/steth", 5, obs(hour(5), adapters.FieldTVL, 1e9)))
	mustWrite(t, db, b)
	got, err := db.Markets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []history.MarketInfo{
		{Market: steth, First: hour(0), Last: hour(5), Rows: 4, Step: time.Hour,
			Fields: adapters.FieldSet(0).With(adapters.FieldAPY).With(adapters.FieldPrice).With(adapters.FieldTVL), Events: 1},
		{Market: reth},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Markets (-want +got):\n%s", diff)
	}
}

func TestDB_Check(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "check.db")
	db, err := history.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []history.Row
	for i := range 10 {
		h := i
		if i >= 5 {
			h = i + 10 // a 11-hour step between hours 4 and 15
		}
		rows = append(rows, row("lido/steth", i+2, obs(hour(h), adapters.FieldAPY, 0.03)))
	}
	mustWrite(t, db, &history.Batch{Source: "c.csv", Markets: []adapters.Market{steth, reth}, Rows: rows})
	// A value written behind the store's back, out of range.
	raw, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE observations SET apy = -2 WHERE ts = ?", hour(2).Unix()); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	got, err := db.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Issue{
		{Severity: history.SeverityError, Market: "lido/steth", Time: hour(2), Kind: history.IssueOutOfRange,
			Msg: "apy is below the lowest plausible APY (-100%) (-2)"},
		{Severity: history.SeverityWarning, Market: "lido/steth", Time: hour(4), Kind: history.IssueGap,
			Msg: "no observation from 2024-01-01T04:00:00Z to 2024-01-01T15:00:00Z (11h0m0s; usual step here 1h0m0s)"},
		{Severity: history.SeverityWarning, Market: "rocketpool/reth", Kind: history.IssueEmpty, Msg: "market has no observations"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
}
