package history

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// loadTestDB is an in-memory history with one market of three hourly rows.
func loadTestDB(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := adapters.Market{ID: "lido/steth", Kind: adapters.LST, Base: adapters.ETH}
	b := &Batch{Source: "t", Format: "test", Markets: []adapters.Market{m}}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		var o adapters.Observation
		o.Time = t0.Add(time.Duration(i) * time.Hour)
		o.Put(adapters.FieldAPY, 0.03)
		o.Put(adapters.FieldExchangeRate, 1.1+0.001*float64(i))
		b.Rows = append(b.Rows, Row{Market: m.ID, Obs: o})
	}
	if _, err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	return db
}

// A stored value that is not a number (written by other means than Write)
// fails the load naming the market, the field and the row's time.
func TestDB_Load_NotANumber(t *testing.T) {
	ctx := context.Background()
	db := loadTestDB(t)
	if _, err := db.sql.ExecContext(ctx, "UPDATE observations SET apy = 'x' WHERE ts = ?", time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC).Unix()); err != nil {
		t.Fatal(err)
	}
	_, err := db.Load(ctx, nil, time.Time{}, time.Time{})
	if err == nil {
		t.Fatal("Load read a text value as a number")
	}
	for _, want := range []string{"lido/steth", "apy at 1704070800 is text, not a number"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %q, want it to contain %q", err, want)
		}
	}
	// The connection is usable again: the same load after a fix reads the rows.
	if _, err := db.sql.ExecContext(ctx, "UPDATE observations SET apy = 0.03"); err != nil {
		t.Fatal(err)
	}
	w, err := db.Load(ctx, nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Rows(); got != 3 {
		t.Errorf("rows = %d, want 3", got)
	}
}

// A cancelled context stops a load with the context's error.
func TestDB_Load_Cancelled(t *testing.T) {
	db := loadTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Load(ctx, nil, time.Time{}, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Load error = %v, want context.Canceled", err)
	}
}
