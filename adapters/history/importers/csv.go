package importers

import (
	"context"
	"io"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// ImportCSV reads a CSV file with a column mapping; name is used in errors
// and as Batch.Source. Every error names name:line:column and the CSV
// column; a row whose cells are all empty is skipped and counted in
// Batch.Skipped.
func ImportCSV(ctx context.Context, name string, r io.Reader, m *Mapping, opts Options) (*history.Batch, error) {
	c := &readCtx{ctx: ctx, name: name, opts: opts, format: FormatCSV}
	return importCSV(c, r, m)
}

// timeHeaders are the headers a mapping without a time column looks for.
var timeHeaders = []string{"time", "timestamp", "date", "datetime", "date_time", "timestamp_utc"}

func importCSV(c *readCtx, r io.Reader, m *Mapping) (*history.Batch, error) {
	const op = "importers.CSV"
	mm := *m
	if c.opts.Market != "" {
		mm.Market, mm.MarketColumn = c.opts.Market, ""
	}
	if err := mm.Validate(); err != nil {
		return nil, err
	}
	t, err := newTable(op, c.name, r, mm.delimiter(), mm.comment(), mm.SkipRows)
	if err != nil {
		return nil, err
	}
	timeCol := -1
	if mm.Time.Name != "" {
		if timeCol, err = t.col(mm.Time.Name); err != nil {
			return nil, err
		}
	} else {
		for i, h := range t.header {
			for _, want := range timeHeaders {
				if strings.EqualFold(h, want) {
					timeCol = i
					break
				}
			}
			if timeCol >= 0 {
				break
			}
		}
		if timeCol < 0 {
			return nil, t.errLine(t.offset+1, "no time column: name one in the mapping (header: %s)", strings.Join(t.header, ","))
		}
	}
	timeUnit := mm.Time.Unit
	if timeUnit == "" {
		timeUnit = TimeAuto
	}
	marketCol := -1
	if mm.MarketColumn != "" {
		if marketCol, err = t.col(mm.MarketColumn); err != nil {
			return nil, err
		}
	}
	type colMap struct {
		idx   int
		field adapters.Field
		unit  Unit
	}
	cols := make([]colMap, len(mm.Columns))
	for i, mc := range mm.Columns {
		idx, err := t.col(strings.TrimSpace(mc.Name))
		if err != nil {
			return nil, err
		}
		u := mc.Unit
		if u == "" {
			u = UnitNumber
		}
		cols[i] = colMap{idx: idx, field: mc.Field, unit: u}
	}
	b := c.builder(op)
	hint := sizeHint(r)
	for n := 0; ; n++ {
		if n == 64 && hint > 0 {
			// Reserve the rows once from the bytes per row so far: a Row is
			// about 200 bytes and regrowing the slice dominates otherwise.
			if off := t.cr.InputOffset(); off > 0 {
				b.reserve(int(float64(hint) / float64(off) * float64(n) * 1.02))
			}
		}
		if n%ctxEvery == 0 {
			if err := c.ctx.Err(); err != nil {
				return nil, err
			}
		}
		ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var o adapters.Observation
		if o.Time, err = t.time(timeCol, timeUnit); err != nil {
			return nil, err
		}
		market := mm.Market
		if marketCol >= 0 {
			market = t.cell(marketCol)
			if _, _, err := adapters.SplitID(market); err != nil {
				return nil, t.errAt(marketCol, "column %q: market %q is not of the form protocol/name", t.header[marketCol], market)
			}
		}
		for _, cm := range cols {
			if err := t.putNum(&o, cm.field, cm.idx, cm.unit); err != nil {
				return nil, err
			}
		}
		b.add(market, o, t.line, "every mapped cell empty")
	}
	return b.finish()
}

// sizeHint returns the input's size when the reader knows it, else 0.
func sizeHint(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *sizedReader:
		return v.size
	}
	return 0
}

// sizedReader is a reader that carries its total size as a hint.
type sizedReader struct {
	io.Reader
	size int64
}
