package importers

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

// unitFactors are the unit errors every file is corrupted with: a percent
// read as a fraction (x100), a value left in wei (x1e18), a fraction read
// as a percent (/100).
var unitFactors = []struct {
	name string
	num  int64 // multiply by num / den
	den  int64
	f    float64
}{
	{"x100", 100, 1, 100},
	{"x1e18", 1_000_000_000_000_000_000, 1, 1e18},
	{"/100", 1, 100, 0.01},
}

// undetectable lists the corrupted columns no check can tell from real
// data, with the reason (the column is the file's only measure of its
// quantity and the corrupted values are still plausible ones). It is
// empty: Lido's TVL /100 and the Uniswap volume /100 are refused by their
// markets' documented levels (typical_tvl, typical_volume), the DefiLlama
// Aave free liquidity x100 and /100 reported against the Messari file's
// supply minus borrows; a variant that passes unreported fails the test.
var undetectable = map[string]string{}

// TestImport_CorruptedUnits_SharedData corrupts every numeric column of
// every file in shared/data by each unit error (x100, x1e18, /100) and
// imports the file's folder as `data import` does: each variant must be
// rejected (by the importer or by the store's checks, with the file and
// line), reported by `data check` once stored with the override, or change
// nothing that is stored (a column the importer does not read). The
// exceptions are listed, with their reason, in undetectable.
func TestImport_CorruptedUnits_SharedData(t *testing.T) {
	root := sharedData(t)
	if raceEnabled {
		t.Skip("one goroutine, minutes under the race detector: the plain go test run covers it")
	}
	ctx := context.Background()
	folders, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// The database a user has: every clean file imported. A refused
	// variant must leave it exactly as it was.
	dbPath := filepath.Join(tmp, "all.db")
	store, err := history.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	all, err := ImportDir(ctx, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if _, err := store.Write(ctx, b); err != nil {
			t.Fatalf("clean import: %v", err)
		}
	}
	raw, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	before := fingerprint(t, raw)
	var rejected, reported, unused, exempt, refusedByStore int
	// reject writes a batch the checks refuse into the store: it must be
	// refused with file:line and change nothing.
	reject := func(key string, b *history.Batch) {
		_, err := store.Write(ctx, b)
		var ae *adapters.Error
		if !errors.As(err, &ae) || ae.Kind != adapters.KindInvalid || !strings.Contains(ae.Pos, filepath.Base(b.Source)+":") {
			t.Errorf("%s: Write = %v, want a KindInvalid error at the file's line", key, err)
		}
		refusedByStore++
	}
	for _, fo := range folders {
		if !fo.IsDir() {
			continue
		}
		src := filepath.Join(root, fo.Name())
		clean, err := ImportDir(ctx, src, Options{})
		if err != nil {
			t.Fatalf("clean import of %s: %v", fo.Name(), err)
		}
		for _, b := range clean {
			if errs, _ := history.CheckBatch(b); len(errs) > 0 {
				t.Fatalf("clean %s is refused: %v", b.Source, errs[0])
			}
		}
		files, _ := os.ReadDir(src)
		alone := map[string]*history.Batch{} // each file imported alone
		for _, fi := range files {
			if fi.IsDir() || SkipReason(fi.Name()) != "" {
				continue
			}
			if alone[fi.Name()], err = ImportFile(ctx, filepath.Join(src, fi.Name()), Options{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, fi := range files {
			if fi.IsDir() || SkipReason(fi.Name()) != "" {
				continue
			}
			path := filepath.Join(src, fi.Name())
			cols, err := numericColumns(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range cols {
				for _, k := range unitFactors {
					key := fi.Name() + ":" + col.name + ":" + k.name
					dir := filepath.Join(tmp, "v")
					os.RemoveAll(dir)
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					for _, s := range files {
						if s.Name() == fi.Name() || s.IsDir() {
							continue
						}
						if err := os.Symlink(filepath.Join(src, s.Name()), filepath.Join(dir, s.Name())); err != nil {
							t.Fatal(err)
						}
					}
					if err := corrupt(path, filepath.Join(dir, fi.Name()), col, k.num, k.den, k.f); err != nil {
						t.Fatal(err)
					}
					outcome := judge(t, ctx, dir, fi.Name(), clean, alone[fi.Name()], func(b *history.Batch) { reject(key, b) })
					switch outcome {
					case "rejected":
						rejected++
					case "reported":
						reported++
					case "unused":
						unused++
					default:
						if why, ok := undetectable[key]; ok {
							exempt++
							t.Logf("%s: not detected (%s)", key, why)
							continue
						}
						t.Errorf("%s: imported without an error or a reported issue (%s)", key, outcome)
					}
				}
			}
		}
	}
	t.Logf("variants: %d rejected (%d of them by the store, which was left unchanged), %d reported by data check, %d in columns not imported, %d undetectable (listed)",
		rejected, refusedByStore, reported, unused, exempt)
	if refusedByStore == 0 {
		t.Error("no variant reached the store")
	}
	// Nothing else writes to the store: one fingerprint at the end covers
	// every refused import.
	if got := fingerprint(t, raw); got != before {
		t.Errorf("the database changed after the refused imports:\n%s\n%s", before, got)
	}
	if rejected == 0 {
		t.Fatal("no variant was rejected: the test read nothing")
	}
}

// judge imports the folder dir holding the corrupted file name.
func judge(t *testing.T, ctx context.Context, dir, name string, clean []*history.Batch, cleanAlone *history.Batch, reject func(*history.Batch)) string {
	t.Helper()
	// The file alone first (quick); then the folder, as `data import` reads
	// it, for what only the other files can show.
	if b, err := ImportFile(ctx, filepath.Join(dir, name), Options{}); err != nil {
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: the error names no file: %v", name, err)
		}
		return "rejected"
	} else if errs, _ := history.CheckBatch(b); len(errs) > 0 {
		if !strings.Contains(errs[0].Pos, name) && errs[0].Pos != "" {
			t.Errorf("%s: the first problem is placed at %q", name, errs[0].Pos)
		}
		reject(b)
		return "rejected"
	} else if sameBatches([]*history.Batch{b}, []*history.Batch{cleanAlone}) {
		return "unused"
	}
	batches, err := ImportDir(ctx, dir, Options{})
	if err != nil {
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: the error names no file: %v", name, err)
		}
		return "rejected"
	}
	for _, b := range batches {
		if errs, _ := history.CheckBatch(b); len(errs) > 0 {
			if !strings.Contains(errs[0].Pos, name) && errs[0].Pos != "" {
				t.Errorf("%s: the first problem is placed at %q", name, errs[0].Pos)
			}
			return "rejected"
		}
	}
	if sameBatches(batches, clean) {
		return "unused"
	}
	// Stored with the override, `data check` must report it.
	db, err := history.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, b := range batches {
		b.AllowImplausible = true
		if _, err := db.Write(ctx, b); err != nil {
			return "rejected"
		}
	}
	issues, err := db.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issues {
		if is.Kind == history.IssueImplausible || is.Kind == history.IssueBadTime || is.Kind == history.IssueOutOfRange {
			return "reported"
		}
	}
	return "accepted"
}

func sameBatches(a, b []*history.Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i].Rows) != len(b[i].Rows) {
			return false
		}
		for j := range a[i].Rows {
			x, y := a[i].Rows[j], b[i].Rows[j]
			if x.Market != y.Market || !x.Obs.Time.Equal(y.Obs.Time) || x.Obs.Set != y.Obs.Set {
				return false
			}
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if x.Obs.Set.Has(f) && x.Obs.Values[f] != y.Obs.Values[f] {
					return false
				}
			}
		}
	}
	return true
}

// fingerprint sums every stored column, counts rows, markets, events and
// imports: any change to the database changes it.
func fingerprint(t *testing.T, db *sql.DB) string {
	t.Helper()
	q := "SELECT count(*), total(ts)"
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		q += ", count(" + f.String() + "), total(" + f.String() + ")"
	}
	q += ", (SELECT count(*) FROM markets), (SELECT count(*) FROM events), (SELECT count(*) FROM imports) FROM observations"
	r, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !r.Next() {
		t.Fatal("no row")
	}
	if err := r.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(vals...)
}

// column is a numeric column of a CSV file (by header name) or of a JSON
// lines file of arrays (by index, hexadecimal integers).
type column struct {
	name  string
	index int
	hex   bool
}

func numericColumns(path string) ([]column, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if strings.HasSuffix(path, ".jsonl") {
		var cols []column
		for sc.Scan() {
			var rec []string
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				return nil, err
			}
			for i := range rec {
				cols = append(cols, column{name: "field" + strconv.Itoa(i), index: i, hex: true})
			}
			return cols, nil
		}
		return nil, errors.New("empty")
	}
	if !sc.Scan() {
		return nil, errors.New("empty")
	}
	header := strings.Split(sc.Text(), ",")
	numeric := make([]bool, len(header))
	other := make([]bool, len(header))
	for n := 0; n < 50 && sc.Scan(); n++ {
		for i, c := range strings.Split(sc.Text(), ",") {
			if i >= len(header) || c == "" {
				continue
			}
			if _, err := strconv.ParseFloat(c, 64); err == nil {
				numeric[i] = true
			} else {
				other[i] = true
			}
		}
	}
	var cols []column
	for i, h := range header {
		if numeric[i] && !other[i] {
			cols = append(cols, column{name: h, index: i})
		}
	}
	return cols, nil
}

// corrupt writes src to dst with column col multiplied by num/den (f as a
// float).
func corrupt(src, dst string, col column, num, den int64, f float64) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for li, line := range lines {
		if line == "" || (!col.hex && li == 0) {
			continue
		}
		if col.hex {
			var rec []string
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				return err
			}
			v, ok := new(big.Int).SetString(strings.TrimPrefix(rec[col.index], "0x"), 16)
			if !ok {
				continue
			}
			v.Mul(v, big.NewInt(num)).Quo(v, big.NewInt(den))
			rec[col.index] = "0x" + v.Text(16)
			b, _ := json.Marshal(rec)
			lines[li] = string(b)
			continue
		}
		cells := strings.Split(line, ",")
		if col.index >= len(cells) || cells[col.index] == "" {
			continue
		}
		v, err := strconv.ParseFloat(cells[col.index], 64)
		if err != nil {
			continue
		}
		cells[col.index] = strconv.FormatFloat(v*f, 'f', -1, 64)
		lines[li] = strings.Join(cells, ",")
	}
	_ = slices.Clip(lines)
	return os.WriteFile(dst, []byte(strings.Join(lines, "\n")), 0o644)
}
