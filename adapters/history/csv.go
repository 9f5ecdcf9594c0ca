package history

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// FormatNative is the Batch.Format of the project's own CSV.
const FormatNative = "native"

// NativeHeader is the header WriteNativeCSV writes: market, time, then
// every adapters.Field by name in Field order.
var NativeHeader = func() []string {
	h := []string{"market", "time"}
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		h = append(h, f.String())
	}
	return h
}()

// WriteNativeCSV writes rows in the project's own CSV: the NativeHeader,
// then one line per row with the time in RFC 3339 UTC (fractions of a
// second only when present), an empty cell for a field the row does not
// observe, and values in Go's shortest round-trip form (strconv 'g', -1),
// so ReadNativeCSV gives back exactly the same float64s. A value that
// fails adapters.CheckValue (NaN, infinite, out of range) is KindInvalid:
// the file would not read back.
func WriteNativeCSV(w io.Writer, rows []Row) error {
	const op = "history.WriteNativeCSV"
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(NativeHeader); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	rec := make([]string, len(NativeHeader))
	var num []byte
	for i := range rows {
		r := &rows[i]
		if r.Obs.Time.IsZero() {
			return adapters.E(op, adapters.KindInvalid, "row %d (%s) has no time", i+1, r.Market)
		}
		rec[0] = r.Market
		rec[1] = r.Obs.Time.UTC().Format(time.RFC3339Nano)
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if !r.Obs.Set.Has(f) {
				rec[2+f] = ""
				continue
			}
			v := r.Obs.Values[f]
			if msg := adapters.CheckValue(f, v); msg != "" {
				return adapters.E(op, adapters.KindInvalid, "row %d (%s at %s): %s %s (%g)", i+1, r.Market, rec[1], f, msg, v)
			}
			num = strconv.AppendFloat(num[:0], v, 'g', -1, 64)
			rec[2+f] = string(num)
		}
		if err := cw.Write(rec); err != nil {
			return adapters.Wrap(op, adapters.KindOther, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	return adapters.Wrap(op, adapters.KindOther, bw.Flush())
}

// ReadNativeCSV reads the project's own CSV (see WriteNativeCSV) from r;
// name is the file name used in errors and as the batch's Source. The
// header must start with market,time; the remaining columns are field
// names in any order, and any subset of the fields is accepted. Every
// error is KindInvalid and names "name:line": a malformed market ID or
// time, a bad number, NaN or infinity, a value out of its field's range
// (each naming the column), an unknown or repeated header name. The
// batch's Markets are left empty: callers fill them from a catalog.
//
// Lines are parsed on up to GOMAXPROCS goroutines, in blocks of whole
// lines, as long as no line has a quote (a quoted field may span lines:
// from the first block with a quote on, lines are read one by one). The
// rows and errors are those of reading line by line: the error returned
// is that of the first bad line.
func ReadNativeCSV(name string, r io.Reader) (*Batch, error) {
	return readNativeCSV(name, r, nativeBlockSize)
}

// readNativeCSV is ReadNativeCSV parsing lines in blocks of block bytes
// (see nativeParser.readRows).
func readNativeCSV(name string, r io.Reader, block int) (*Batch, error) {
	const op = "history.ReadNativeCSV"
	fail := func(line int, format string, args ...any) error {
		return &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: pos(name, max(line, 1)), Err: fmt.Errorf(format, args...)}
	}
	rr := newRecReader(r)
	header, _, err := rr.read()
	if err == io.EOF {
		return nil, fail(1, "empty file: want a header starting with market,time")
	}
	if err != nil {
		return nil, csvError(op, name, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if len(header) < 2 || strings.TrimSpace(header[0]) != "market" || strings.TrimSpace(header[1]) != "time" {
		return nil, fail(1, "header must start with market,time (got %q)", strings.Join(header, ","))
	}
	fields := make([]adapters.Field, len(header)-2)
	var have adapters.FieldSet
	for i, h := range header[2:] {
		f, ok := adapters.ParseField(strings.TrimSpace(h))
		if !ok {
			return nil, fail(1, "column %d: unknown field %q", i+3, h)
		}
		if have.Has(f) {
			return nil, fail(1, "column %d: field %q repeated", i+3, h)
		}
		have = have.With(f)
		fields[i] = f
	}
	np := &nativeParser{op: op, name: name, fields: fields, ncols: len(header), block: block}
	rows, err := np.readRows(rr)
	if err != nil {
		return nil, err
	}
	return &Batch{Source: name, Format: FormatNative, Rows: rows}, nil
}

var comma = []byte{','}

// parseTime parses an RFC 3339 time into UTC, with a fast path for the
// "2006-01-02T15:04:05Z" form WriteNativeCSV writes.
func parseTime[T string | []byte](s T) (time.Time, error) {
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		num := func(a, b int) int {
			n := 0
			for i := a; i < b; i++ {
				c := s[i]
				if c < '0' || c > '9' {
					return -1
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
		y, mo, d, h, mi, se := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
		if y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y) && h >= 0 && h < 24 && mi >= 0 && mi < 60 && se >= 0 && se < 60 {
			sec := daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+se)
			return time.Unix(sec, 0).UTC(), nil
		}
	}
	t, err := time.Parse(time.RFC3339, string(s))
	return t.UTC(), err
}

// daysIn is the number of days in month m (1-12) of year y (proleptic
// Gregorian).
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (y >= 0,
// proleptic Gregorian), after Howard Hinnant's days_from_civil.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                     // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d - 1    // [0, 365], from March 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
}

func csvError(op, name string, err error) error {
	var re *recError
	if errors.As(err, &re) {
		return &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: pos(name, max(re.line, 1)), Err: errors.New(re.msg)}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: pos(name, max(pe.Line, 1)), Err: pe.Err}
	}
	return &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: name, Err: err}
}

// ExportSeries writes a loaded series for `data export`. "csv": a header
// of time and every field the series has a column for, one line per row,
// an empty cell where the row has no value. "json": an object with the
// market, its fields, rows (objects of time and the row's values, fields
// in Field order) and events. Values are in Go's shortest round-trip form.
// Any other format is KindInvalid.
func ExportSeries(w io.Writer, s *adapters.Series, format string) error {
	const op = "history.ExportSeries"
	if s == nil {
		return adapters.E(op, adapters.KindInvalid, "no series")
	}
	var fields []adapters.Field
	for f := range s.Cols {
		if s.Cols[f] != nil {
			fields = append(fields, adapters.Field(f))
		}
	}
	for _, f := range fields {
		if len(s.Cols[f]) != len(s.Times) {
			return adapters.E(op, adapters.KindInvalid, "%s: column %s has %d values for %d times", s.Market.ID, f, len(s.Cols[f]), len(s.Times))
		}
		for i, v := range s.Cols[f] {
			if s.Set[i].Has(f) && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return adapters.E(op, adapters.KindInvalid, "%s: %s at %s is not finite", s.Market.ID, f, time.Unix(s.Times[i], 0).UTC().Format(time.RFC3339))
			}
		}
	}
	if len(s.Set) != len(s.Times) {
		return adapters.E(op, adapters.KindInvalid, "%s: %d field sets for %d times", s.Market.ID, len(s.Set), len(s.Times))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf []byte
	switch format {
	case "csv":
		// The native CSV (ReadNativeCSV): market, time, then the fields,
		// so that an export imports back as it is.
		cw := csv.NewWriter(bw)
		rec := make([]string, 2+len(fields))
		rec[0], rec[1] = "market", "time"
		for j, f := range fields {
			rec[2+j] = f.String()
		}
		cw.Write(rec)
		rec[0] = s.Market.ID
		for i, t := range s.Times {
			rec[1] = time.Unix(t, 0).UTC().Format(time.RFC3339)
			for j, f := range fields {
				rec[2+j] = ""
				if s.Set[i].Has(f) {
					buf = strconv.AppendFloat(buf[:0], s.Cols[f][i], 'g', -1, 64)
					rec[2+j] = string(buf)
				}
			}
			cw.Write(rec)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return adapters.Wrap(op, adapters.KindOther, err)
		}
	case "json":
		head := struct {
			Market adapters.Market `json:"market"`
			Fields []string        `json:"fields"`
		}{Market: s.Market, Fields: []string{}}
		for _, f := range fields {
			head.Fields = append(head.Fields, f.String())
		}
		hb, err := json.Marshal(head)
		if err != nil {
			return adapters.Wrap(op, adapters.KindOther, err)
		}
		bw.Write(hb[:len(hb)-1]) // reopen the object to append rows and events
		bw.WriteString(`,"rows":[`)
		for i, t := range s.Times {
			buf = buf[:0]
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"time":"`...)
			buf = time.Unix(t, 0).UTC().AppendFormat(buf, time.RFC3339)
			buf = append(buf, '"')
			for _, f := range fields {
				if s.Set[i].Has(f) {
					buf = append(buf, `,"`...)
					buf = append(buf, f.String()...)
					buf = append(buf, `":`...)
					buf = strconv.AppendFloat(buf, s.Cols[f][i], 'g', -1, 64)
				}
			}
			buf = append(buf, '}')
			bw.Write(buf)
		}
		bw.WriteString(`],"events":`)
		evs := s.Events
		if evs == nil {
			evs = []adapters.Event{}
		}
		eb, err := json.Marshal(evs)
		if err != nil {
			return adapters.Wrap(op, adapters.KindOther, err)
		}
		bw.Write(eb)
		bw.WriteString("}\n")
	default:
		return adapters.E(op, adapters.KindInvalid, "unknown export format %q (want csv or json)", format)
	}
	return adapters.Wrap(op, adapters.KindOther, bw.Flush())
}
