package synth

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

func embeddedCSV(t testing.TB) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(defaultCSV))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The embedded default files are exactly what DefaultConfig generates now:
// change a model, a calibration or the built-in catalog and this fails
// until `go generate ./adapters/history/synth` is run.
func TestDefault_UpToDate(t *testing.T) {
	csv, events, err := defaultFiles()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(events, defaultEvents) {
		t.Errorf("%s is stale: run go generate ./adapters/history/synth\ngot:\n%s\nwant:\n%s", DefaultEventsFile, defaultEvents, events)
	}
	embedded := embeddedCSV(t)
	if bytes.Equal(csv, embedded) {
		return
	}
	if !fusesMultiplyAdd() {
		t.Fatalf("%s is stale (%d bytes embedded, %d generated): run go generate ./adapters/history/synth", DefaultHistoryFile, len(embedded), len(csv))
	}
	// Builds that fuse multiply-adds (FMA: arm64, GOAMD64=v3) can move the
	// last bits of some values: compare values instead of bytes.
	a, err := history.ReadNativeCSV("embedded", bytes.NewReader(embedded))
	if err != nil {
		t.Fatal(err)
	}
	b, err := history.ReadNativeCSV("generated", bytes.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Rows) != len(b.Rows) {
		t.Fatalf("%s is stale: %d rows embedded, %d generated", DefaultHistoryFile, len(a.Rows), len(b.Rows))
	}
	for i := range a.Rows {
		x, y := &a.Rows[i], &b.Rows[i]
		if x.Market != y.Market || !x.Obs.Time.Equal(y.Obs.Time) || x.Obs.Set != y.Obs.Set {
			t.Fatalf("%s is stale at line %d", DefaultHistoryFile, x.Line)
		}
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if v, w := x.Obs.Values[f], y.Obs.Values[f]; math.Abs(v-w) > 1e-9*math.Abs(w) {
				t.Fatalf("%s is stale at line %d: %s %v, generated %v", DefaultHistoryFile, x.Line, f, v, w)
			}
		}
	}
}

// fusesMultiplyAdd reports whether this build may fuse x*y+z into one
// rounding (every architecture but amd64 at GOAMD64 v1 or v2).
func fusesMultiplyAdd() bool {
	if runtime.GOARCH != "amd64" {
		return true
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOAMD64" {
				return s.Value != "v1" && s.Value != "v2"
			}
		}
	}
	return false
}

func TestDefault_Size(t *testing.T) {
	const limit = 2_500_000
	if n := len(defaultCSV); n > limit {
		t.Errorf("%s is %d bytes, want at most %d", DefaultHistoryFile, n, limit)
	}
}

func TestDefault(t *testing.T) {
	ctx := context.Background()
	b, err := Default(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Generate(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if b.Source != g.Source || b.Format != "synth" {
		t.Errorf("Source, Format = %q, %q; want %q, synth", b.Source, b.Format, g.Source)
	}
	if diff := cmp.Diff(storedMarkets(), b.Markets); diff != "" {
		t.Errorf("markets, want every built-in market (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(g.Events, b.Events); diff != "" {
		t.Errorf("events (-generated +decoded):\n%s", diff)
	}
	if len(b.Rows) != len(g.Rows) {
		t.Fatalf("%d rows decoded, %d generated", len(b.Rows), len(g.Rows))
	}
	for i := range b.Rows {
		if b.Rows[i].Market != g.Rows[i].Market || !cmp.Equal(b.Rows[i].Obs, g.Rows[i].Obs) {
			t.Fatalf("row %d: decoded %+v, generated %+v", i, b.Rows[i], g.Rows[i])
		}
	}
	if len(b.Events) == 0 {
		t.Errorf("the default history has no event; want its mild rsETH discount")
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Default(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("Default(canceled ctx) = %v, want context.Canceled", err)
	}
}

func TestOpenDefault(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	db, err := OpenDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OpenDefault took %v", time.Since(start))
	defer db.Close()
	infos, err := db.Markets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	wantRows := int(cfg.To.Sub(cfg.From)/cfg.Step) + 1
	if len(infos) != len(storedMarkets()) {
		t.Errorf("%d markets stored, want every built-in market (%d)", len(infos), len(storedMarkets()))
	}
	for _, in := range infos {
		if in.Rows != wantRows || !in.First.Equal(cfg.From) || !in.Last.Equal(cfg.To) || in.Step != cfg.Step {
			t.Errorf("%s: %d rows %s..%s step %v; want %d rows %s..%s step %v", in.Market.ID, in.Rows, in.First, in.Last, in.Step,
				wantRows, cfg.From, cfg.To, cfg.Step)
		}
	}
	w, err := db.Load(ctx, []string{"kelp/rseth"}, cfg.From, cfg.To)
	if err != nil {
		t.Fatal(err)
	}
	s := w.Get("kelp/rseth")
	if s == nil || s.Len() != wantRows || len(s.Events) != 1 {
		t.Fatalf("kelp/rseth: loaded %v rows and events %v; want %d rows and one event", s.Len(), s.Events, wantRows)
	}
}

// TestCreateDefault: the history file holds what OpenDefault's
// in-memory database holds from the embedded history: the same markets,
// each with its rows' count, range and step, and the events.
func TestCreateDefault(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	if err := CreateDefault(ctx, path); err != nil {
		t.Fatal(err)
	}
	file, err := history.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	mem, err := OpenDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	type summary struct {
		Market      string
		Rows        int
		First, Last time.Time
		Step        time.Duration
		Events      int
	}
	cfg := DefaultConfig()
	sum := func(db *history.DB) []summary {
		t.Helper()
		infos, err := db.Markets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []summary
		for _, in := range infos {
			w, err := db.Load(ctx, []string{in.Market.ID}, cfg.From, cfg.To)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, summary{in.Market.ID, in.Rows, in.First, in.Last, in.Step, len(w.Get(in.Market.ID).Events)})
		}
		return out
	}
	got, want := sum(file), sum(mem)
	if len(want) == 0 {
		t.Fatal("the embedded history has no market")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("the file differs from the embedded history (-embedded +file):\n%s", d)
	}
}

func TestWriteDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and compresses the default history")
	}
	dir := t.TempDir()
	if err := WriteDefault(dir); err != nil {
		t.Fatal(err)
	}
	b, err := history.ReadNativeCSV(DefaultHistoryFile, mustGunzip(t, dir+"/"+DefaultHistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) == 0 {
		t.Fatal("WriteDefault wrote no rows")
	}
	var evs []adapters.Event
	if err := json.Unmarshal(readFile(t, dir+"/"+DefaultEventsFile), &evs); err != nil || len(evs) == 0 {
		t.Errorf("events file: %v, %d events", err, len(evs))
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustGunzip(t *testing.T, path string) io.Reader {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func BenchmarkOpenDefault(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		db, err := OpenDefault(ctx)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

func BenchmarkDefault(b *testing.B) {
	ctx := context.Background()
	var rows int
	for b.Loop() {
		bt, err := Default(ctx)
		if err != nil {
			b.Fatal(err)
		}
		rows = len(bt.Rows)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGenerate/default-year: the default configuration, every
// built-in market for a year at a 6-hour step.
func BenchmarkGenerate(b *testing.B) {
	b.Run("default-year", func(b *testing.B) {
		var rows int
		for b.Loop() {
			bt, err := Generate(DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			rows = len(bt.Rows)
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// storedMarkets are the built-in markets the generator makes history for:
// all but the loops, whose history is composed from their legs'.
func storedMarkets() []adapters.Market {
	var out []adapters.Market
	for _, m := range adapters.Builtin().Markets() {
		if m.Legs == nil {
			out = append(out, m)
		}
	}
	return out
}
