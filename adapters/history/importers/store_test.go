package importers

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

func openDB(t *testing.T) *history.DB {
	t.Helper()
	db, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestImportFile_WriteThroughStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := writeFile(t, dir, "dataset_lido.csv", "date,Lido_APY,Lido_TVL\n2022-05-03,3.6,1e10\n2022-05-04,3.7,1.1e10\n2022-05-05,3.5,\n")
	db := openDB(t)
	b, err := ImportFile(ctx, good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Write(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 3 || res.Updated != 0 || res.Unchanged != 0 {
		t.Errorf("first write: %+v, want 3 inserted", res)
	}
	// Re-importing the same file adds nothing.
	b, err = ImportFile(ctx, good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = db.Write(ctx, b); err != nil || res.Inserted != 0 || res.Updated != 0 || res.Unchanged != 3 {
		t.Errorf("re-import: %+v, %v; want 3 unchanged", res, err)
	}
	// Another file giving other fields of the same market and days merges.
	px := writeFile(t, dir, "px.csv", "time,steth_per_eth\n2022-05-03,0.998\n")
	m := mustMapping(t, "lido/steth", "time:date", "price=steth_per_eth")
	b, err = ImportFile(ctx, px, Options{Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = db.Write(ctx, b); err != nil || res.Updated != 1 {
		t.Errorf("merge: %+v, %v; want 1 updated", res, err)
	}
	w, err := db.Load(ctx, []string{"lido/steth"}, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s := w.Get("lido/steth")
	o := s.At(0)
	if v, _ := o.Get(adapters.FieldAPY); v != 0.036 || o.Value(adapters.FieldPrice, 0) != 0.998 || o.Value(adapters.FieldTVL, 0) != 1e10 {
		t.Errorf("merged row 0 = %+v", o)
	}

	// A bad file is rejected at import and leaves the store as it was.
	bad := writeFile(t, dir, "bad.csv", "time,steth_per_eth\n2022-05-06,0.99\n2022-05-07,oops\n")
	if _, err := ImportFile(ctx, bad, Options{Mapping: m}); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "bad.csv:3:") {
		t.Errorf("bad file: error = %v, want KindInvalid at bad.csv:3", err)
	}
	infos, err := db.Markets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Rows != 3 {
		t.Errorf("after the bad file: markets %+v, want lido/steth with 3 rows", infos)
	}
}

// TestImportDir_WriteThroughStore writes the whole shared data folder,
// then writes it again: the second pass changes nothing.
func TestImportDir_WriteThroughStore(t *testing.T) {
	dir := sharedData(t)
	ctx := context.Background()
	db := openDB(t)
	write := func() (ins, upd, same, rows int) {
		bs, err := ImportDir(ctx, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			res, err := db.Write(ctx, b)
			if err != nil {
				t.Fatalf("%s: %v", b.Source, err)
			}
			ins, upd, same = ins+res.Inserted, upd+res.Updated, same+res.Unchanged
			rows += len(b.Rows)
		}
		return
	}
	ins, upd, same, rows := write()
	if ins+upd+same != rows || ins < 120000 {
		t.Errorf("first pass: %d inserted + %d updated + %d unchanged, want %d rows, > 120,000 inserted", ins, upd, same, rows)
	}
	t.Logf("first pass: %d inserted, %d merged into existing rows", ins, upd)
	ins2, upd2, same2, _ := write()
	if ins2 != 0 || upd2 != 0 || same2 != ins+upd {
		t.Errorf("second pass: %d inserted, %d updated, %d unchanged; want 0, 0, %d", ins2, upd2, same2, ins+upd)
	}
	issues, err := db.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issues {
		if is.Severity == history.SeverityError {
			t.Errorf("check: %v", is)
		}
	}
}

func TestImportReader_Native(t *testing.T) {
	rows := []history.Row{
		{Market: "lido/steth", Obs: obs(1700000000, F{adapters.FieldAPY: 0.031, adapters.FieldPrice: 0.9991})},
		{Market: "aave-v3/weth", Obs: obs(1700000000, F{adapters.FieldIndex: 1.0180859234631308})},
	}
	var sb strings.Builder
	if err := history.WriteNativeCSV(&sb, rows); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := writeFile(t, dir, "export.csv", sb.String())
	if f, err := Detect(p); err != nil || f != FormatNative {
		t.Fatalf("Detect = %q, %v; want native", f, err)
	}
	b, err := ImportFile(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || len(b.Markets) != 2 || b.Markets[0].ID != "aave-v3/weth" || b.Markets[1].ID != "lido/steth" {
		t.Fatalf("native batch: %d rows, markets %v", len(b.Rows), b.Markets)
	}
	if v, _ := b.Rows[1].Obs.Get(adapters.FieldPrice); v != 0.9991 || b.Rows[0].Obs.Values[adapters.FieldIndex] != 1.0180859234631308 {
		t.Errorf("native values: %+v", b.Rows)
	}
}
