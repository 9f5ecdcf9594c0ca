package importers

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// exportFile is the JSON `data export --format json` writes
// (history.ExportSeries): the market, its fields, one object per row
// ("time" and a value per field it observes) and its events.
type exportFile struct {
	Market struct {
		ID string `json:"id"`
	} `json:"market"`
	Fields []string                     `json:"fields"`
	Rows   []map[string]json.RawMessage `json:"rows"`
	Events []adapters.Event             `json:"events"`
}

// importExport reads a JSON export back: every row and event of its
// market (or of the --market override). Errors name the row ("file:row
// N"): a missing or bad time, an unknown field, a value that is not a
// number.
func importExport(c *readCtx, r io.Reader) (*history.Batch, error) {
	const op = "importers.Export"
	var f exportFile
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&f); err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "not a data export: %v", err).At(c.name)
	}
	id := c.market(f.Market.ID)
	if id == "" {
		return nil, adapters.E(op, adapters.KindInvalid, "the export names no market (pass --market)").At(c.name)
	}
	bl := c.builder(op)
	for i, row := range f.Rows {
		pos := fmt.Sprintf("%s:row %d", c.name, i+1)
		var o adapters.Observation
		raw, ok := row["time"]
		if !ok {
			return nil, adapters.E(op, adapters.KindInvalid, "no time").At(pos)
		}
		var ts string
		if err := json.Unmarshal(raw, &ts); err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "time is not a string").At(pos)
		}
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "time %q is not RFC 3339", ts).At(pos)
		}
		o.Time = t.UTC()
		names := make([]string, 0, len(row))
		for k := range row {
			if k != "time" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			fld, ok := adapters.ParseField(k)
			if !ok {
				return nil, adapters.E(op, adapters.KindInvalid, "unknown field %q", k).At(pos)
			}
			var v float64
			if err := json.Unmarshal(row[k], &v); err != nil {
				return nil, adapters.E(op, adapters.KindInvalid, "%s is not a number", k).At(pos)
			}
			o.Put(fld, v)
		}
		bl.add(id, o, i+1, "no values")
	}
	out, err := bl.finish()
	if err != nil {
		return nil, err
	}
	if len(f.Events) > 0 && !slices.ContainsFunc(out.Markets, func(m adapters.Market) bool { return m.ID == id }) {
		// An export of events only: its market is looked up as rows' are.
		m, err := bl.cat.Market(id)
		if err != nil {
			return nil, adapters.E(op, adapters.KindNotFound, "unknown market %q (not in the catalog)", id).At(c.name)
		}
		out.Markets = append(out.Markets, m)
	}
	for i, ev := range f.Events {
		ev.Market = id
		if err := ev.Validate(); err != nil {
			return nil, (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: err}).At(fmt.Sprintf("%s:event %d", c.name, i+1))
		}
		if msg := history.CheckTime(ev.Time); msg != "" {
			return nil, adapters.E(op, adapters.KindInvalid, "%s", msg).At(fmt.Sprintf("%s:event %d", c.name, i+1))
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}
