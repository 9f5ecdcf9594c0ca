package history_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// TestDB_Write_Concurrent runs writers and readers at once on a file
// database: writes serialise on SQLite's write lock (immediate
// transactions, busy timeout) and readers never see a half-written batch.
func TestDB_Write_Concurrent(t *testing.T) {
	ctx := context.Background()
	db, err := history.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const writers, rows = 4, 500
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("w/m%d", w)
			b := &history.Batch{Source: id, Markets: []adapters.Market{{ID: id, Kind: adapters.Lending, Base: adapters.USD}}}
			for i := range rows {
				b.Rows = append(b.Rows, row(id, i+2, obs(hour(i), adapters.FieldUtilization, 0.5, adapters.FieldAPY, 0.04)))
			}
			if _, err := db.Write(ctx, b); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			for range 5 {
				win, err := db.Load(ctx, nil, time.Time{}, time.Time{})
				if err != nil {
					errs <- err
					return
				}
				for _, s := range win.Series {
					if n := s.Len(); n != 0 && n != rows {
						errs <- fmt.Errorf("reader saw %d rows of %s, want 0 or %d", n, s.Market.ID, rows)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	w, err := db.Load(ctx, nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Rows(); got != writers*rows {
		t.Errorf("rows after concurrent writes = %d, want %d", got, writers*rows)
	}
}

func TestDB_Write_Cancelled(t *testing.T) {
	db := openMem(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Write(ctx, baseBatch()); !errors.Is(err, context.Canceled) {
		t.Errorf("Write(cancelled) error = %v, want context.Canceled", err)
	}
	// The database is still usable and empty.
	mustWrite(t, db, baseBatch())
	w, err := db.Load(context.Background(), nil, time.Time{}, time.Time{})
	if err != nil || w.Rows() != 3 {
		t.Errorf("after a cancelled write: %d rows, err %v; want 3 rows", w.Rows(), err)
	}
}
