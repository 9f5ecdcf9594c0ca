package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// nativeVariants are the ways readNativeCSV is run on the same input:
// block sizes from a few bytes (a block per line or less, buffers grown
// for long lines) to the default, over a reader whose size is known
// (rows allocated from an estimate) and one whose size is not (each
// block its own rows).
var nativeVariants = func() (vs []struct {
	name  string
	block int
	open  func(string) io.Reader
}) {
	readers := []struct {
		name string
		open func(string) io.Reader
	}{
		{"sized", func(s string) io.Reader { return strings.NewReader(s) }},
		{"unsized", func(s string) io.Reader { return struct{ io.Reader }{strings.NewReader(s)} }},
		{"halves", func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
	}
	for _, block := range []int{5, 64, 1000, nativeBlockSize} {
		for _, r := range readers {
			vs = append(vs, struct {
				name  string
				block int
				open  func(string) io.Reader
			}{fmt.Sprintf("%s/%d", r.name, block), block, r.open})
		}
	}
	return vs
}()

// checkNativeVariants reads in with every variant and checks each gives
// the rows want or, when wantAt is not "", an error at wantAt ("csv":
// any line).
func checkNativeVariants(t *testing.T, in string, want []Row, wantAt string) {
	t.Helper()
	var first error
	for i, v := range nativeVariants {
		b, err := readNativeCSV("x", v.open(in), v.block)
		if wantAt != "" {
			var e *adapters.Error
			if !errors.As(err, &e) || e.Pos != wantAt && wantAt != "csv" || !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("%s: error %v, want one at %s", v.name, err, wantAt)
			}
			// The same error every way (the reference leaves the line
			// of a CSV syntax error open).
			if i == 0 {
				first = err
			} else if err.Error() != first.Error() {
				t.Fatalf("%s: error %q, %s gave %q", v.name, err, nativeVariants[0].name, first)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: error %v, the reference reads it", v.name, err)
		}
		if !sameRows(want, b.Rows) { // cmp.Diff is slow on thousands of rows
			t.Fatalf("%s: rows (-reference +readNativeCSV):\n%s", v.name, cmp.Diff(want, b.Rows, cmpopts.EquateEmpty()))
		}
	}
}

// sameRows reports whether a and b hold the same rows, as cmp.Equal
// (times compared with Equal, all values compared).
func sameRows(a, b []Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Market != y.Market || x.Line != y.Line || !x.Obs.Time.Equal(y.Obs.Time) || x.Obs.Set != y.Obs.Set || x.Obs.Values != y.Obs.Values {
			return false
		}
	}
	return true
}

// bigNative is a native CSV of markets x rows lines (about 100 bytes
// each), as lines without their newlines, the header first.
func bigNative(t *testing.T, markets, rows int) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteNativeCSV(&buf, genBatch(markets, rows, 7).Rows); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestReadNativeCSV_Blocks(t *testing.T) {
	lines := bigNative(t, 2, 3000) // ~600 KB: a few default blocks
	n := len(lines)
	// edit returns the file with line i (1-based) replaced by s.
	edit := func(edits map[int]string) string {
		out := make([]string, n)
		copy(out, lines)
		for i, s := range edits {
			out[i-1] = s
		}
		return strings.Join(out, "\n") + "\n"
	}
	long := func(i int) string { // a value with 300 KiB of leading zeros
		cells := strings.Split(lines[i-1], ",")
		cells[2] = strings.Repeat("0", 300<<10) + "0.03"
		return strings.Join(cells, ",")
	}
	bad := func(i int) string { return strings.Replace(lines[i-1], ",", ",x", 2) } // a bad time
	tests := []struct {
		name string
		in   string
	}{
		{"clean", edit(nil)},
		{"no final newline", strings.Join(lines, "\n")},
		{"crlf", strings.Join(lines, "\r\n") + "\r\n"},
		{"empty lines", edit(map[int]string{3: "", 5 * n / 12: "", 5*n/12 + 1: "\r", n: ""})},
		{"bad second line", edit(map[int]string{2: bad(2)})},
		{"bad middle line", edit(map[int]string{n / 2: bad(n / 2)})},
		{"bad last line", edit(map[int]string{n: bad(n)})},
		{"two bad lines", edit(map[int]string{3 * n / 4: bad(3 * n / 4), 7 * n / 12: "x/y,2024-01-01T00:00:00Z"})},
		{"bad number", edit(map[int]string{n/3 + 7: strings.Replace(lines[n/3+6], ",0.", ",0..", 1)})},
		{"bad market then bad value", edit(map[int]string{100: "nomarket" + lines[99][len("bench/m00"):], n - 900: bad(n - 900)})},
		{"quoted late", edit(map[int]string{5 * n / 6: `"bench/m02"` + lines[5*n/6-1][len("bench/m02"):]})},
		{"quoted line spanning lines", edit(map[int]string{2 * n / 3: `"bench/` + "\n" + `m01"` + lines[2*n/3-1][len("bench/m01"):]})},
		{"bad line then quote", edit(map[int]string{n / 4: bad(n / 4), 5 * n / 6: `"bench/m02"` + lines[5*n/6-1][len("bench/m02"):]})},
		{"quote then bad line", edit(map[int]string{n / 4: `"bench/m00"` + lines[n/4-1][len("bench/m00"):], 5 * n / 6: bad(5 * n / 6)})},
		{"bare quote", edit(map[int]string{2*n/3 + 11: `a"b` + lines[2*n/3+10]})},
		{"long bad line", edit(map[int]string{n/2 - 5: lines[n/2-6] + strings.Repeat(" ", 300<<10)})},
		{"long line", edit(map[int]string{n/2 - 5: long(n/2 - 5)})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, wantAt := readNativeRef(tc.in)
			checkNativeVariants(t, tc.in, want, wantAt)
		})
	}
}

// TestReadNativeCSV_ReadError: an error of the reader is reported after
// the lines before it are parsed (so a bad line before it is the error),
// as reading line by line does.
func TestReadNativeCSV_ReadError(t *testing.T) {
	lines := bigNative(t, 1, 6000)
	clean := strings.Join(lines, "\n") + "\n"
	withBad := strings.Replace(clean, lines[99]+"\n", strings.Replace(lines[99], ",", ",x", 2)+"\n", 1)
	errRead := errors.New("disk on fire")
	tests := []struct {
		name    string
		in      string
		after   int // bytes read before the error
		pos     string
		wantErr error // wrapped, when not nil
	}{
		{"after clean lines", clean, len(clean) / 2, "x", errRead},
		{"at once", clean, 0, "x", errRead},
		{"after a bad line", withBad, len(withBad) / 2, "x:100", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, block := range []int{64, nativeBlockSize} {
				r := io.MultiReader(strings.NewReader(tc.in[:tc.after]), iotest.ErrReader(errRead))
				_, err := readNativeCSV("x", r, block)
				var e *adapters.Error
				if !errors.As(err, &e) || e.Pos != tc.pos || !errors.Is(err, adapters.ErrInvalid) {
					t.Fatalf("block %d: error %v, want KindInvalid at %q", block, err, tc.pos)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("block %d: error %v does not wrap %v", block, err, tc.wantErr)
				}
			}
		})
	}
}

func TestJoinBlocks(t *testing.T) {
	row := func(line int) Row { return Row{Market: "a/b", Line: line} }
	shared := []Row{row(1), row(2), {}, row(4), {}, {}, row(7), {}}
	blocks := []*nativeBlock{
		{rows: shared[0:3], n: 2},
		{rows: shared[3:6], n: 1},
		{rows: shared[6:7], n: 1},
	}
	got := joinBlocks(blocks, shared, []Row{row(9)})
	want := []Row{row(1), row(2), row(4), row(7), row(9)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(make([]Row, 2), shared[5:7]); diff != "" {
		t.Errorf("slots after the rows not cleared (-want +got):\n%s", diff)
	}
	own := []*nativeBlock{{rows: []Row{row(1), {}}, n: 1, own: true}, {rows: shared[:1], n: 1}}
	if diff := cmp.Diff([]Row{row(1), row(1)}, joinBlocks(own, shared, nil)); diff != "" {
		t.Errorf("own rows (-want +got):\n%s", diff)
	}
	if got := joinBlocks([]*nativeBlock{{rows: shared[:2]}}, shared, nil); got != nil {
		t.Errorf("no rows: got %v, want nil", got)
	}
}
