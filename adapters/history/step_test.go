package history

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

// stepBatch is market a/m at the given hours.
func stepBatch(hours ...int) *Batch {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &Batch{Source: "step", Markets: []adapters.Market{{ID: "a/m", Kind: adapters.LST, Base: adapters.ETH}}}
	for i, h := range hours {
		var o adapters.Observation
		o.Time = start.Add(time.Duration(h) * time.Hour)
		o.Put(adapters.FieldAPY, 0.03)
		b.Rows = append(b.Rows, Row{Market: "a/m", Obs: o, Line: i + 2})
	}
	return b
}

// loadedStep is the median step of the market's stored times, the way
// Markets computed it before the summary kept it.
func loadedStep(t *testing.T, db *DB) time.Duration {
	t.Helper()
	w, err := db.Load(context.Background(), []string{"a/m"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(medianStep(w.Series[0].Times)) * time.Second
}

func TestDB_Markets_StepKeptByWrite(t *testing.T) {
	hours := func(from, to, by int) []int {
		var out []int
		for h := from; h < to; h += by {
			out = append(out, h)
		}
		return out
	}
	tests := []struct {
		name    string
		batches [][]int
		want    time.Duration
	}{
		{"one row", [][]int{{5}}, 0},
		{"fresh", [][]int{hours(0, 10, 1)}, time.Hour},
		{"append with a coarser step", [][]int{hours(0, 4, 1), hours(4, 40, 6)}, 6 * time.Hour},
		{"prepend", [][]int{hours(100, 110, 1), hours(0, 100, 2)}, 2 * time.Hour},
		{"interleave halves the step", [][]int{hours(0, 20, 2), hours(1, 20, 2)}, time.Hour},
		{"reimport changes nothing", [][]int{hours(0, 30, 3), hours(0, 30, 3)}, 3 * time.Hour},
		{"second row", [][]int{{0}, {2}}, 2 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := OpenMemory(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, h := range tc.batches {
				if _, err := db.Write(context.Background(), stepBatch(h...)); err != nil {
					t.Fatal(err)
				}
			}
			infos, err := db.Markets(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := infos[0].Step; got != tc.want {
				t.Errorf("Markets Step = %v, want %v", got, tc.want)
			}
			if got := loadedStep(t, db); got != tc.want {
				t.Errorf("median step of the loaded times = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOpen_MigrationFillsStep opens a database written at schema version 1
// (no markets.step) and checks that the migration computes every market's
// median step from its stored rows.
func TestOpen_MigrationFillsStep(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	sdb, err := sqlitex.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlitex.Migrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sqlitex.Migrate(ctx, sdb, ms[:1]); err != nil {
		t.Fatal(err)
	}
	// Market 1: steps 1, 1, 5, 2, 2, 2 hours (median 2h); market 2: one
	// row; market 3: none.
	_, err = sdb.Exec(`INSERT INTO markets(pk, id, kind, base, protocol, rows, first_ts, last_ts, fields) VALUES
		(1, 'a/one', 'lst', 'ETH', 'a', 7, 0, 46800, 1), (2, 'a/two', 'lst', 'ETH', 'a', 1, 3600, 3600, 1),
		(3, 'a/three', 'lst', 'ETH', 'a', 0, NULL, NULL, 0);
		INSERT INTO observations(market_id, ts, apy) VALUES (1, 0, 0.1), (1, 3600, 0.1), (1, 7200, 0.1), (1, 25200, 0.1),
		(1, 32400, 0.1), (1, 39600, 0.1), (1, 46800, 0.1), (2, 3600, 0.1)`)
	if err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	infos, err := db.Markets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"a/one": 2 * time.Hour, "a/two": 0, "a/three": 0}
	for _, in := range infos {
		if in.Step != want[in.Market.ID] {
			t.Errorf("%s: Step after migration = %v, want %v", in.Market.ID, in.Step, want[in.Market.ID])
		}
	}
	if len(infos) != len(want) {
		t.Errorf("Markets gave %d markets, want %d", len(infos), len(want))
	}
}
