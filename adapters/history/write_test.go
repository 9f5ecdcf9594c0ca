package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/google/go-cmp/cmp"
)

// obsKey is an observation's place in the model of TestDB_Write_Blocks.
type obsKey struct {
	market string
	ts     int64
}

// storedRows reads every stored observation.
func storedRows(t *testing.T, db *DB) map[obsKey]adapters.Observation {
	t.Helper()
	rows, err := db.sql.Query("SELECT m.id, o.ts, " + colList + " FROM observations o JOIN markets m ON m.pk = o.market_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[obsKey]adapters.Observation{}
	vals := make([]sql.NullFloat64, adapters.NumFields)
	var k obsKey
	dest := []any{&k.market, &k.ts}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		var o adapters.Observation
		for f, v := range vals {
			if v.Valid {
				o.Put(adapters.Field(f), v.Float64)
			}
		}
		out[k] = o
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDB_Write_Blocks writes batches of several markets, each more than
// one block of rows, that append to, prepend to, fill gaps in and overlap
// what is stored, with varying fields; after each write the counts, the
// stored rows and the market summaries must be those of a plain model of
// the merge. Blocks that cannot meet stored rows are packed on another
// goroutine while the others are merged on the connection: run with
// -race.
func TestDB_Write_Blocks(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "blocks.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	model := map[obsKey]adapters.Observation{}
	markets := []adapters.Market{
		{ID: "b/m0", Kind: adapters.LST, Base: adapters.ETH},
		{ID: "b/m1", Kind: adapters.LST, Base: adapters.ETH},
		{ID: "b/m2", Kind: adapters.LST, Base: adapters.ETH},
	}
	fields := []adapters.Field{adapters.FieldAPY, adapters.FieldPrice, adapters.FieldTVL, adapters.FieldSupply}
	const step = 3600
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	// Each write: per market, a range of hours [from, to) of which a
	// fraction is written.
	writes := []struct {
		from, to int
		keep     float64
	}{
		{1000, 1000 + 3*chunkRows + 17, 1}, // new markets, several blocks
		{1000 + 3*chunkRows + 17, 2500, 1}, // an append
		{0, 600, 1},                        // a prepend, with a gap before the stored rows
		{300, 1800, 0.5},                   // overlapping the stored span and the gap
		{0, 2500, 0.3},                     // everything, sparse: mostly merges
		{2400, 2400 + chunkRows + 1, 1},    // half overlapping, half appended
		{100, 100 + chunkRows - 1, 1},      // within the stored span
	}
	for wi, wr := range writes {
		b := &Batch{Source: fmt.Sprintf("w%d", wi), Markets: markets, AllowImplausible: true} // random values: a storage test
		want := WriteResult{Markets: len(markets)}
		for mi, m := range markets {
			if wi == 1 && mi == 2 {
				continue // a market left out of a write
			}
			for h := wr.from; h < wr.to; h++ {
				if rng.Float64() >= wr.keep {
					continue
				}
				var o adapters.Observation
				o.Time = time.Unix(base+int64(h)*step, 0).UTC()
				for _, f := range fields {
					switch rng.IntN(4) {
					case 0: // not carried
					case 1: // the same value as a previous write may have given
						o.Put(f, float64(h%7+1))
					default:
						o.Put(f, 1+rng.Float64())
					}
				}
				if o.Set == 0 {
					o.Put(adapters.FieldAPY, 0.01)
				}
				b.Rows = append(b.Rows, Row{Market: m.ID, Obs: o, Line: len(b.Rows) + 2})
				k := obsKey{m.ID, o.Time.Unix()}
				old, ok := model[k]
				merged := old
				for _, f := range fields {
					if v, has := o.Get(f); has {
						merged.Put(f, v)
					}
				}
				switch {
				case !ok:
					want.Inserted++
				case merged != old:
					want.Updated++
				default:
					want.Unchanged++
				}
				model[k] = merged
			}
		}
		// Rows out of order within a market: prepare sorts them.
		rng.Shuffle(len(b.Rows), func(i, j int) { b.Rows[i], b.Rows[j] = b.Rows[j], b.Rows[i] })
		got, err := db.Write(ctx, b)
		if err != nil {
			t.Fatalf("write %d: %v", wi, err)
		}
		got.Warnings = nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("write %d result (-want +got):\n%s", wi, diff)
		}
		// The digest, computed block by block while writing, is that of
		// the whole batch.
		imps, err := db.Imports(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, _, _ := prepare(b)
		if got, want := imps[len(imps)-1].SHA256, digest(p); got != want {
			t.Errorf("write %d: digest %s, want %s", wi, got, want)
		}
		stored := storedRows(t, db)
		if len(stored) != len(model) {
			t.Errorf("write %d: %d rows stored, want %d", wi, len(stored), len(model))
		}
		for k, o := range model {
			if s, ok := stored[k]; !ok || s != o {
				t.Fatalf("write %d: %s at %d stored %+v (%v), want %+v", wi, k.market, k.ts, s, ok, o)
			}
		}
		infos, err := db.Markets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			var ts []int64
			var set adapters.FieldSet
			for k, o := range model {
				if k.market == info.Market.ID {
					ts = append(ts, k.ts)
					set |= o.Set
				}
			}
			slices.Sort(ts)
			want := MarketInfo{Market: info.Market, Rows: len(ts), Fields: set,
				First: time.Unix(ts[0], 0).UTC(), Last: time.Unix(ts[len(ts)-1], 0).UTC(),
				Step: time.Duration(medianStep(ts)) * time.Second}
			if diff := cmp.Diff(want, info); diff != "" {
				t.Errorf("write %d: market %s (-want +got):\n%s", wi, info.Market.ID, diff)
			}
		}
	}
}

// errAfter is a context whose Err reports it cancelled from its nth call
// on (Write checks it before each block).
type errAfter struct {
	context.Context
	n atomic.Int64
}

func (c *errAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestDB_Write_CancelledMidway: a write that fails after some blocks are
// inserted (and more packed ahead) leaves nothing behind, and its packing
// goroutine stops.
func TestDB_Write_CancelledMidway(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "cancel.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := genBatch(3, 5*chunkRows, 9)
	before := runtime.NumGoroutine()
	for _, n := range []int64{0, 1, 4, 7, 12} {
		c := &errAfter{Context: ctx}
		c.n.Store(n + 2) // the checks before the connection opens, then n blocks
		if _, err := db.Write(c, b); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d blocks: error %v, want context.Canceled", n, err)
		}
		if got := storedRows(t, db); len(got) != 0 {
			t.Fatalf("cancelled after %d blocks: %d rows stored, want none", n, len(got))
		}
	}
	// The goroutines of the writes are gone (give them a moment to exit).
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after the writes, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, err := db.Write(ctx, b)
	if err != nil || res.Inserted != len(b.Rows) {
		t.Fatalf("after cancelled writes: %+v, %v; want %d rows inserted", res, err, len(b.Rows))
	}
}

// TestOpen_NewFilePageSize: files Open creates have 64 KiB pages (see
// fileOptions).
func TestOpen_NewFilePageSize(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.sql.QueryRow("PRAGMA page_size").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 65536 {
		t.Errorf("page_size = %d, want 65536", n)
	}
}
