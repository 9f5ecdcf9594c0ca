package importers

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// table reads a delimited file record by record, keeping the line and
// column of every cell so that errors can name them.
type table struct {
	name   string
	op     string
	cr     *csv.Reader
	header []string
	idx    map[string]int
	rec    []string
	line   int // line of the current record (1-based, in the whole file)
	offset int // lines skipped before the csv reader started
}

// newTable reads the header. An empty input is an error.
func newTable(op, name string, r io.Reader, delim, comment rune, skipRows int) (*table, error) {
	t := &table{name: name, op: op}
	br := bufio.NewReaderSize(r, 64<<10)
	for range skipRows {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, t.errLine(1, "file ends before its header (skip_rows %d)", skipRows)
		}
		t.offset++
	}
	t.cr = csv.NewReader(br)
	t.cr.Comma = delim
	t.cr.Comment = comment
	t.cr.FieldsPerRecord = -1
	t.cr.ReuseRecord = true
	h, err := t.cr.Read()
	if err == io.EOF {
		return nil, t.errLine(t.offset+1, "empty file: no header line")
	}
	if err != nil {
		return nil, t.csvErr(err)
	}
	t.header = make([]string, len(h))
	t.idx = make(map[string]int, len(h))
	for i, c := range h {
		c = strings.TrimSpace(c)
		if i == 0 {
			c = strings.TrimPrefix(c, "\ufeff")
		}
		t.header[i] = c
		if _, dup := t.idx[c]; !dup {
			t.idx[c] = i
		}
	}
	return t, nil
}

// next reads the next record; false at the end of the input. Blank lines
// are skipped by encoding/csv.
func (t *table) next() (bool, error) {
	rec, err := t.cr.Read()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, t.csvErr(err)
	}
	t.rec = rec
	t.line, _ = t.cr.FieldPos(0)
	t.line += t.offset
	if len(rec) != len(t.header) {
		return false, t.errLine(t.line, "record has %d fields, the header has %d", len(rec), len(t.header))
	}
	return true, nil
}

// col returns the index of a header, or an error naming the header line.
func (t *table) col(name string) (int, error) {
	if i, ok := t.idx[name]; ok {
		return i, nil
	}
	return 0, adapters.E(t.op, adapters.KindInvalid, "no column %q in the header (%s)", name, strings.Join(t.header, ",")).
		At(fmt.Sprintf("%s:%d", t.name, t.offset+1))
}

// cell returns the trimmed text of cell i of the current record.
func (t *table) cell(i int) string { return strings.TrimSpace(t.rec[i]) }

// pos returns "name:line:col" of cell i of the current record.
func (t *table) pos(i int) string {
	line, col := t.cr.FieldPos(i)
	return fmt.Sprintf("%s:%d:%d", t.name, line+t.offset, col)
}

// errAt is an invalid-input error positioned at cell i.
func (t *table) errAt(i int, format string, args ...any) error {
	return adapters.E(t.op, adapters.KindInvalid, format, args...).At(t.pos(i))
}

func (t *table) errLine(line int, format string, args ...any) error {
	return adapters.E(t.op, adapters.KindInvalid, format, args...).At(fmt.Sprintf("%s:%d", t.name, line))
}

func (t *table) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return adapters.E(t.op, adapters.KindInvalid, "%v", pe.Err).
			At(fmt.Sprintf("%s:%d:%d", t.name, pe.Line+t.offset, pe.Column))
	}
	return adapters.Wrap(t.op, adapters.KindOther, fmt.Errorf("%s: %w", t.name, err))
}

// num parses cell i in unit u. An empty cell gives ok == false. A value
// that does not parse is an error naming the cell and its column.
func (t *table) num(i int, u Unit) (v float64, ok bool, err error) {
	s := t.cell(i)
	if s == "" {
		return 0, false, nil
	}
	v, perr := ParseValue(s, u)
	if perr != nil {
		return 0, false, t.errAt(i, "column %q: bad number %q", t.header[i], s)
	}
	return v, true, nil
}

// time parses cell i as a time in unit u.
func (t *table) time(i int, u Unit) (time.Time, error) {
	tm, err := ParseTime(t.cell(i), u)
	if err != nil {
		var e *adapters.Error
		if errors.As(err, &e) {
			return time.Time{}, t.errAt(i, "column %q: %v", t.header[i], e.Err)
		}
		return time.Time{}, t.errAt(i, "column %q: %v", t.header[i], err)
	}
	return tm, nil
}

// put stores v into field f of o after the range check, naming cell i on
// failure.
func (t *table) put(o *adapters.Observation, f adapters.Field, v float64, i int) error {
	if msg := adapters.CheckValue(f, v); msg != "" {
		return t.errAt(i, "column %q: %s %s (%g)", t.header[i], f, msg, v)
	}
	o.Put(f, v)
	return nil
}

// putNum is num followed by put; an empty cell leaves f unobserved.
func (t *table) putNum(o *adapters.Observation, f adapters.Field, i int, u Unit) error {
	v, ok, err := t.num(i, u)
	if err != nil || !ok {
		return err
	}
	return t.put(o, f, v, i)
}
