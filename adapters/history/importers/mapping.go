package importers

import (
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/yamlx"
)

// Column maps one CSV column onto an observation field.
type Column struct {
	Name  string         // CSV header of the column (matched after trimming spaces)
	Field adapters.Field // the field it fills; ignored for Mapping.Time
	Unit  Unit           // value unit, or for Mapping.Time a time unit
}

// Mapping tells the generic CSV importer how to read a file: which market
// its rows belong to, which column holds the time and which columns hold
// which fields in which units. An empty cell means "not observed".
type Mapping struct {
	// Market is the market ID of every row. Either Market or MarketColumn
	// must be set (Options.Market overrides Market).
	Market string
	// MarketColumn, when set, names a column holding each row's market ID.
	MarketColumn string
	// Time is the time column. An empty Time.Name picks the first header
	// named time, timestamp, date, datetime or date_time (any case); an
	// empty Time.Unit is TimeAuto.
	Time    Column
	Columns []Column
	// Delimiter is the field separator, one character; "" is a comma
	// ("\t" or "tab" for tab-separated files).
	Delimiter string
	// SkipRows is the number of lines before the header line to ignore.
	SkipRows int
	// Comment, when set, is a character that starts comment lines.
	Comment string
}

// delimiter returns the separator rune.
func (m *Mapping) delimiter() rune {
	switch m.Delimiter {
	case "":
		return ','
	case "tab", `\t`:
		return '\t'
	}
	r, _ := utf8.DecodeRuneInString(m.Delimiter)
	return r
}

func (m *Mapping) comment() rune {
	if m.Comment == "" {
		return 0
	}
	r, _ := utf8.DecodeRuneInString(m.Comment)
	return r
}

// Validate checks the mapping: a market (or market column), a time column
// with a time unit, at least one column, value units on value columns, no
// field mapped twice, a one-character delimiter.
func (m *Mapping) Validate() error {
	const op = "importers.Mapping.Validate"
	bad := func(format string, args ...any) error {
		return adapters.E(op, adapters.KindInvalid, format, args...)
	}
	if m.Market == "" && m.MarketColumn == "" {
		return bad("mapping names no market (set market or market_column)")
	}
	if m.Market != "" {
		if _, _, err := adapters.SplitID(m.Market); err != nil {
			return err
		}
	}
	if m.Time.Unit != "" && !m.Time.Unit.IsTime() {
		return bad("time column %q: %q is not a time unit (rfc3339, date, datetime, unix_s, unix_ms, auto, layout=<Go time layout>)", m.Time.Name, m.Time.Unit)
	}
	if len(m.Columns) == 0 {
		return bad("mapping has no value columns")
	}
	seen := map[adapters.Field]string{}
	for _, c := range m.Columns {
		if strings.TrimSpace(c.Name) == "" {
			return bad("a column for field %s has no CSV header name", c.Field)
		}
		if c.Field >= adapters.NumFields {
			return bad("column %q: unknown field %d", c.Name, c.Field)
		}
		if c.Unit != "" && c.Unit.IsTime() {
			return bad("column %q: %q is a time unit, not a value unit", c.Name, c.Unit)
		}
		if _, err := ParseUnit(string(c.Unit)); err != nil {
			return bad("column %q: %v", c.Name, err)
		}
		if prev, ok := seen[c.Field]; ok {
			return bad("field %s is mapped twice (columns %q and %q)", c.Field, prev, c.Name)
		}
		seen[c.Field] = c.Name
	}
	if n := utf8.RuneCountInString(m.Delimiter); m.Delimiter != "tab" && m.Delimiter != `\t` && n > 1 {
		return bad("delimiter %q must be one character", m.Delimiter)
	}
	if d := m.delimiter(); d == '"' || d == '\r' || d == '\n' || d == utf8.RuneError {
		return bad("delimiter %q is not usable", m.Delimiter)
	}
	if m.Comment != "" && (utf8.RuneCountInString(m.Comment) != 1 || m.comment() == m.delimiter()) {
		return bad("comment %q must be one character other than the delimiter", m.Comment)
	}
	if m.SkipRows < 0 {
		return bad("skip_rows %d is negative", m.SkipRows)
	}
	return nil
}

// ParseColumnSpec parses a command-line column spec of the form
// "field=header[:unit]" (apy=Y_Aave_APY:percent) or "field[:unit]" (the
// header is the field name). The field "time" names the time column and
// takes a time unit (time=timestamp:unix_s).
func ParseColumnSpec(spec string) (c Column, isTime bool, err error) {
	const op = "importers.ParseColumnSpec"
	field, rest, hasEq := strings.Cut(strings.TrimSpace(spec), "=")
	field = strings.TrimSpace(field)
	if !hasEq {
		// "apy:percent" or "apy".
		field, rest, _ = strings.Cut(field, ":")
		if rest != "" {
			rest = field + ":" + rest
		} else {
			rest = field
		}
	}
	name, unit := rest, ""
	if i := strings.Index(rest, ":"+string(TimeLayout)); i >= 0 {
		// A layout may itself hold colons (15:04): it runs to the end.
		name, unit = rest[:i], rest[i+1:]
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		if _, uerr := ParseUnit(rest[i+1:]); uerr == nil {
			name, unit = rest[:i], rest[i+1:]
		}
	}
	name = strings.TrimSpace(name)
	if field == "" || name == "" {
		return Column{}, false, adapters.E(op, adapters.KindInvalid, "column spec %q: want field=header[:unit]", spec)
	}
	u, err := ParseUnit(unit)
	if err != nil {
		return Column{}, false, err
	}
	if field == "time" {
		if unit == "" {
			u = TimeAuto
		}
		if !u.IsTime() {
			return Column{}, false, adapters.E(op, adapters.KindInvalid, "column spec %q: %q is not a time unit", spec, unit)
		}
		return Column{Name: name, Unit: u}, true, nil
	}
	f, ok := adapters.ParseField(field)
	if !ok {
		return Column{}, false, adapters.E(op, adapters.KindInvalid, "column spec %q: unknown field %q (want one of %s)", spec, field, fieldList())
	}
	if u.IsTime() {
		return Column{}, false, adapters.E(op, adapters.KindInvalid, "column spec %q: %q is a time unit", spec, unit)
	}
	return Column{Name: name, Field: f, Unit: u}, false, nil
}

// MappingFromSpecs builds a mapping for market from command-line column
// specs (see ParseColumnSpec), as the CLI's --map flags give them.
func MappingFromSpecs(market string, specs []string) (*Mapping, error) {
	m := &Mapping{Market: market}
	timeSet := false
	for _, s := range specs {
		c, isTime, err := ParseColumnSpec(s)
		if err != nil {
			return nil, err
		}
		if isTime {
			if timeSet {
				return nil, adapters.E("importers.MappingFromSpecs", adapters.KindInvalid, "time column given twice (%q)", s)
			}
			m.Time, timeSet = c, true
			continue
		}
		m.Columns = append(m.Columns, c)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func fieldList() string {
	names := make([]string, adapters.NumFields)
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		names[f] = f.String()
	}
	return strings.Join(names, ", ")
}

// mappingFile is the YAML form of a Mapping.
type mappingFile struct {
	Market       string           `yaml:"market"`
	MarketColumn string           `yaml:"market_column"`
	Time         mappingFileTime  `yaml:"time"`
	Columns      []mappingFileCol `yaml:"columns"`
	Delimiter    string           `yaml:"delimiter"`
	SkipRows     int              `yaml:"skip_rows"`
	Comment      string           `yaml:"comment"`
}

type mappingFileTime struct {
	Column string `yaml:"column"`
	Unit   string `yaml:"unit"`
}

type mappingFileCol struct {
	Column string `yaml:"column"`
	Field  string `yaml:"field"`
	Unit   string `yaml:"unit"`
}

// LoadMapping reads a YAML mapping file:
//
//	market: aave-v3/usdc
//	time: {column: timestamp, unit: unix_s}
//	columns:
//	  - {column: Y_Aave_APY, field: apy, unit: percent}
//	  - {column: X_Aave_Utilization, field: utilization}
//	delimiter: ","    # optional
//	skip_rows: 0      # optional
//
// Decoding is strict (unknown keys are errors) and every error names the
// file, line and column.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, adapters.Wrap("importers.LoadMapping", adapters.KindNotFound, err)
	}
	return ParseMapping(path, data)
}

// ParseMapping is LoadMapping on bytes already read; name is used in errors.
func ParseMapping(name string, data []byte) (*Mapping, error) {
	const op = "importers.ParseMapping"
	var f mappingFile
	if err := yamlx.Decode(name, data, &f); err != nil {
		if pe, ok := err.(*yamlx.PosError); ok {
			return nil, (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: fmt.Errorf("%s", pe.Msg)}).At(pe.Pos())
		}
		return nil, adapters.Wrap(op, adapters.KindInvalid, err)
	}
	// at builds an error positioned at the YAML node of path (or the file).
	at := func(path, format string, args ...any) error {
		return (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: fmt.Errorf(format, args...)}).At(yamlPos(name, data, path))
	}
	m := &Mapping{Market: f.Market, MarketColumn: f.MarketColumn, Delimiter: f.Delimiter, SkipRows: f.SkipRows, Comment: f.Comment}
	if f.Market != "" {
		if _, _, err := adapters.SplitID(f.Market); err != nil {
			return nil, at("$.market", "market %q is not of the form protocol/name", f.Market)
		}
	}
	tu, err := ParseUnit(f.Time.Unit)
	if f.Time.Unit == "" {
		tu, err = TimeAuto, nil
	}
	if err != nil || !tu.IsTime() {
		return nil, at("$.time.unit", "%q is not a time unit (rfc3339, date, datetime, unix_s, unix_ms, auto, layout=<Go time layout>)", f.Time.Unit)
	}
	m.Time = Column{Name: f.Time.Column, Unit: tu}
	for i, c := range f.Columns {
		path := fmt.Sprintf("$.columns[%d]", i)
		fld, ok := adapters.ParseField(c.Field)
		if !ok {
			return nil, at(path+".field", "unknown field %q (want one of %s)", c.Field, fieldList())
		}
		u, err := ParseUnit(c.Unit)
		if err != nil || u.IsTime() {
			return nil, at(path+".unit", "%q is not a value unit (number, fraction, percent, bps, wei, gwei)", c.Unit)
		}
		if strings.TrimSpace(c.Column) == "" {
			return nil, at(path, "column for field %s has no CSV header name (column:)", c.Field)
		}
		m.Columns = append(m.Columns, Column{Name: c.Column, Field: fld, Unit: u})
	}
	if err := m.Validate(); err != nil {
		var e *adapters.Error
		msg := err.Error()
		if ae, ok := err.(*adapters.Error); ok {
			e = ae
			msg = e.Err.Error()
		}
		return nil, at("$", "%s", msg)
	}
	return m, nil
}

// yamlPos returns "name:line:col" of the node at path, or name:1:1 when
// the path does not resolve (a missing key).
func yamlPos(name string, data []byte, path string) string {
	for p := path; p != ""; {
		if pos, ok := nodePos(data, p); ok {
			return fmt.Sprintf("%s:%s", name, pos)
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return name + ":1:1"
}

func nodePos(data []byte, path string) (string, bool) {
	if path == "$" {
		return "", false
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return "", false
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return "", false
	}
	n, err := p.FilterFile(f)
	if err != nil || n == nil {
		return "", false
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return "", false
	}
	return fmt.Sprintf("%d:%d", tk.Position.Line, tk.Position.Column), true
}
