package history

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// readAllStd reads records and their first lines with encoding/csv.
func readAllStd(in string) (recs [][]string, lines []int, err error) {
	cr := csv.NewReader(strings.NewReader(in))
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return recs, lines, nil
		}
		if err != nil {
			return nil, nil, err
		}
		l, _ := cr.FieldPos(0)
		recs, lines = append(recs, rec), append(lines, l)
	}
}

func readAllRec(in string) (recs [][]string, lines []int, err error) {
	rr := newRecReader(strings.NewReader(in))
	for {
		rec, l, err := rr.read()
		if err == io.EOF {
			return recs, lines, nil
		}
		if err != nil {
			return nil, nil, err
		}
		recs, lines = append(recs, append([]string(nil), rec...)), append(lines, l)
	}
}

// readAllRecBytes is readAllRec through readBytes.
func readAllRecBytes(in string) (recs [][]string, lines []int, err error) {
	rr := newRecReader(strings.NewReader(in))
	for {
		rec, l, err := rr.readBytes()
		if err == io.EOF {
			return recs, lines, nil
		}
		if err != nil {
			return nil, nil, err
		}
		var r []string
		for _, f := range rec {
			r = append(r, string(f))
		}
		recs, lines = append(recs, r), append(lines, l)
	}
}

func TestRecReader_Read(t *testing.T) {
	tests := []struct {
		name, in string
		want     [][]string
		lines    []int
		wantErr  bool
	}{
		{name: "plain", in: "a,b\nc,d\n", want: [][]string{{"a", "b"}, {"c", "d"}}, lines: []int{1, 2}},
		{name: "crlf and no final newline", in: "a,b\r\nc,\r\n\r\nd,e", want: [][]string{{"a", "b"}, {"c", ""}, {"d", "e"}}, lines: []int{1, 2, 4}},
		{name: "quoted with comma and quote", in: "\"x,\"\"y\"\"\",2\n", want: [][]string{{`x,"y"`, "2"}}, lines: []int{1}},
		{name: "quoted across lines", in: "\"a\nb\",c\nd,e\n", want: [][]string{{"a\nb", "c"}, {"d", "e"}}, lines: []int{1, 3}},
		{name: "bare quote", in: "a\"b,c\n", wantErr: true},
		{name: "unterminated quote", in: "\"abc,d\n", wantErr: true},
		{name: "garbage after quote", in: "\"a\"b,c\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, read := range []func(string) ([][]string, []int, error){readAllRec, readAllRecBytes} {
				got, lines, err := read(tc.in)
				if (err != nil) != tc.wantErr {
					t.Fatalf("error = %v, want error %v", err, tc.wantErr)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("records (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.lines, lines); diff != "" {
					t.Errorf("lines (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// FuzzRecReader checks the fast reader against encoding/csv: the same
// records on the same lines, and an error exactly when encoding/csv
// fails.
func FuzzRecReader(f *testing.F) {
	for _, s := range []string{"a,b\nc,d\n", "\"a\nb\",c\r\n\r\nx", "\"x,\"\"y\"\"\",2\n", "a\"b\n", ",\n,,\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.ContainsRune(in, '\r') || strings.ContainsRune(in, 0) || strings.ContainsRune(in, '\uFFFD') {
			// encoding/csv rewrites \r\n inside quoted fields and rejects
			// invalid UTF-8 differently; these are out of scope.
			t.Skip()
		}
		want, wantLines, wantErr := readAllStd(in)
		got, gotLines, gotErr := readAllRec(in)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("encoding/csv error %v, recReader error %v", wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("records (-csv +recReader):\n%s", diff)
		}
		if diff := cmp.Diff(wantLines, gotLines); diff != "" {
			t.Fatalf("lines (-csv +recReader):\n%s", diff)
		}
		gotB, gotBLines, gotBErr := readAllRecBytes(in)
		if gotBErr != nil {
			t.Fatalf("readBytes error %v, read gave none", gotBErr)
		}
		if diff := cmp.Diff(want, gotB, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("records (-csv +readBytes):\n%s", diff)
		}
		if diff := cmp.Diff(wantLines, gotBLines, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("lines (-csv +readBytes):\n%s", diff)
		}
	})
}

// readNativeRef is ReadNativeCSV written plainly on encoding/csv,
// strconv and time.Parse: the reference its fast paths are fuzzed
// against. It returns the rows, or the position ("x:line") of the first
// error, or "csv" for a CSV syntax error.
func readNativeRef(in string) ([]Row, string) {
	cr := csv.NewReader(strings.NewReader(in))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, "x:1"
	}
	if err != nil {
		return nil, "csv"
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	if len(header) < 2 || strings.TrimSpace(header[0]) != "market" || strings.TrimSpace(header[1]) != "time" {
		return nil, "x:1"
	}
	var fields []adapters.Field
	var have adapters.FieldSet
	for _, h := range header[2:] {
		f, ok := adapters.ParseField(strings.TrimSpace(h))
		if !ok || have.Has(f) {
			return nil, "x:1"
		}
		have = have.With(f)
		fields = append(fields, f)
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, ""
		}
		if err != nil {
			return nil, "csv" // a syntax error: the line may differ (see FuzzRecReader)
		}
		line, _ := cr.FieldPos(0)
		at := "x:" + strconv.Itoa(line)
		if len(rec) != len(header) {
			return nil, at
		}
		if _, _, err := adapters.SplitID(rec[0]); err != nil {
			return nil, at
		}
		tm, err := time.Parse(time.RFC3339, rec[1])
		if err != nil || tm.IsZero() {
			return nil, at
		}
		r := Row{Market: rec[0], Line: line}
		r.Obs.Time = tm.UTC()
		for i, f := range fields {
			if rec[i+2] == "" {
				continue
			}
			v, err := strconv.ParseFloat(rec[i+2], 64)
			if err != nil || adapters.CheckValue(f, v) != "" {
				return nil, at
			}
			r.Obs.Put(f, v)
		}
		rows = append(rows, r)
	}
}

// FuzzReadNativeCSV_Reference checks ReadNativeCSV (its fused parsing of
// unquoted lines, fast float and time paths, and its parallel parsing in
// blocks, see checkNativeVariants) against readNativeRef: the same rows,
// or an error at the same line.
func FuzzReadNativeCSV_Reference(f *testing.F) {
	for _, s := range []string{
		"market,time,apy,price\nlido/steth,2024-01-01T00:00:00Z,0.03,0.99\n",
		"market,time,tvl,apy\n\"a/b\",2024-01-01T00:00:00.5Z,1e9,\na/b,2024-01-01T00:00:00Z,,-0.5\n",
		"market,time,utilization\nx/y,2024-01-01T00:00:00Z,NaN\n",
		"market,time\nx/y,2024-01-01T00:00:00Z\n",
		"market,time,apy,tvl\nx/y,2024-02-29T23:59:59Z,1.5e-3,12345678901234567890\nx/y,2024-03-01T00:00:00+02:00,.5,1_0\n",
		"market,time,apy\nx/y,2024-01-01T00:00:00Z,0x1p-2\nx/y,2024-01-01T01:00:00Z,1,2\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.ContainsRune(in, '\r') || strings.ContainsRune(in, 0) || strings.ContainsRune(in, '\uFFFD') {
			t.Skip() // as in FuzzRecReader: encoding/csv differs there by design
		}
		want, wantAt := readNativeRef(in)
		b, err := ReadNativeCSV("x", strings.NewReader(in))
		if wantAt != "" {
			var e *adapters.Error
			if !errors.As(err, &e) || e.Pos != wantAt && wantAt != "csv" || !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("ReadNativeCSV error %v, want one at %s", err, wantAt)
			}
			checkNativeVariants(t, in, nil, wantAt)
			return
		}
		if err != nil {
			t.Fatalf("ReadNativeCSV error %v, the reference reads it", err)
		}
		if diff := cmp.Diff(want, b.Rows, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("rows (-reference +ReadNativeCSV):\n%s", diff)
		}
		// In blocks of a few bytes (parsed in parallel), and over readers
		// of unknown size: the same.
		checkNativeVariants(t, in, want, wantAt)
	})
}
