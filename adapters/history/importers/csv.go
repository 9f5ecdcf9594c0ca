package importers

import (
	"context"
	"io"
	"slices"
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
	hint := sizeHint(r) // before the table buffers the input
	t, err := newTable(op, c.name, r, mm.delimiter(), mm.comment(), mm.SkipRows)
	if err != nil {
		return nil, err
	}
	// The time column: the mapping's, or the first header named like one.
	timeName := mm.Time.Name
	if timeName == "" {
		for _, h := range t.header {
			if slices.ContainsFunc(timeHeaders, func(want string) bool { return strings.EqualFold(h, want) }) {
				timeName = h
				break
			}
		}
		if timeName == "" {
			return nil, t.errLine(t.offset+1, "no time column: name one in the mapping (header: %s)", strings.Join(t.header, ","))
		}
	}
	timeUnit := mm.Time.Unit
	if timeUnit == "" {
		timeUnit = TimeAuto
	}
	spec := &rowSpec{market: mm.Market, time: col{name: timeName, unit: timeUnit}, empty: "every mapped cell empty"}
	if mm.MarketColumn != "" {
		spec.cols = append(spec.cols, col{name: mm.MarketColumn, put: marketColumn})
	}
	for _, mc := range mm.Columns {
		u := mc.Unit
		if u == "" {
			u = UnitNumber
		}
		spec.cols = append(spec.cols, col{name: strings.TrimSpace(mc.Name), field: mc.Field, unit: u})
	}
	if spec, err = spec.bind(t); err != nil {
		return nil, err
	}
	b := c.builder(op)
	if err := readRows(c, t, spec, b, hint); err != nil {
		return nil, err
	}
	return b.finish()
}

// marketColumn is a step that sets the row's market from its column, a
// market ID.
func marketColumn(r *row, c *col) error {
	market := r.t.cell(c.i)
	if _, _, err := adapters.SplitID(market); err != nil {
		return r.t.errAt(c.i, "column %q: market %q is not of the form protocol/name", r.t.header[c.i], market)
	}
	r.market = market
	return nil
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
