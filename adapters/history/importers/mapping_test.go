package importers

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
)

func TestParseColumnSpec(t *testing.T) {
	tests := []struct {
		spec   string
		want   Column
		isTime bool
	}{
		{"apy=Y_Aave_APY:percent", Column{Name: "Y_Aave_APY", Field: adapters.FieldAPY, Unit: UnitPercent}, false},
		{"tvl=totalValueLockedUSD", Column{Name: "totalValueLockedUSD", Field: adapters.FieldTVL, Unit: UnitNumber}, false},
		{"utilization:percent", Column{Name: "utilization", Field: adapters.FieldUtilization, Unit: UnitPercent}, false},
		{"supply", Column{Name: "supply", Field: adapters.FieldSupply, Unit: UnitNumber}, false},
		{"price=px:usd:v2", Column{Name: "px:usd:v2", Field: adapters.FieldPrice, Unit: UnitNumber}, false},
		{"time=timestamp:unix_s", Column{Name: "timestamp", Unit: TimeUnixS}, true},
		{"time=date", Column{Name: "date", Unit: TimeAuto}, true},
	}
	for _, tc := range tests {
		got, isTime, err := ParseColumnSpec(tc.spec)
		if err != nil {
			t.Errorf("ParseColumnSpec(%q) error: %v", tc.spec, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || isTime != tc.isTime {
			t.Errorf("ParseColumnSpec(%q) = %+v (time %v), want %+v (time %v); diff:\n%s", tc.spec, got, isTime, tc.want, tc.isTime, diff)
		}
	}
	for _, bad := range []string{"", "=x", "apyy=x", "apy=x:unix_s", "time=ts:percent", "apy="} {
		if c, _, err := ParseColumnSpec(bad); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("ParseColumnSpec(%q) = %+v, %v; want KindInvalid", bad, c, err)
		}
	}
}

func TestMappingFromSpecs(t *testing.T) {
	m, err := MappingFromSpecs("aave-v3/usdc", []string{"time=timestamp:unix_s", "apy=Y_Aave_APY:percent", "utilization=X_Aave_Utilization"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Mapping{
		Market: "aave-v3/usdc",
		Time:   Column{Name: "timestamp", Unit: TimeUnixS},
		Columns: []Column{
			{Name: "Y_Aave_APY", Field: adapters.FieldAPY, Unit: UnitPercent},
			{Name: "X_Aave_Utilization", Field: adapters.FieldUtilization, Unit: UnitNumber},
		},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("MappingFromSpecs diff (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		market string
		specs  []string
	}{
		{"aave-v3/usdc", []string{"time=a", "time=b", "apy=x"}},
		{"aave-v3/usdc", []string{"apy=x", "apy=y"}},
		{"aave-v3/usdc", []string{"time=a"}},
		{"not-an-id", []string{"apy=x"}},
		{"", []string{"apy=x"}},
	} {
		if _, err := MappingFromSpecs(tc.market, tc.specs); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("MappingFromSpecs(%q, %q) error = %v, want KindInvalid", tc.market, tc.specs, err)
		}
	}
}

func TestParseMapping(t *testing.T) {
	good := `market: aave-v3/usdc
time: {column: timestamp, unit: unix_s}
columns:
  - {column: Y_Aave_APY, field: apy, unit: percent}
  - column: X_Aave_Utilization
    field: utilization
delimiter: ";"
skip_rows: 2
`
	m, err := ParseMapping("m.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := &Mapping{
		Market: "aave-v3/usdc",
		Time:   Column{Name: "timestamp", Unit: TimeUnixS},
		Columns: []Column{
			{Name: "Y_Aave_APY", Field: adapters.FieldAPY, Unit: UnitPercent},
			{Name: "X_Aave_Utilization", Field: adapters.FieldUtilization, Unit: UnitNumber},
		},
		Delimiter: ";",
		SkipRows:  2,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("ParseMapping diff (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, src, pos, msg string
	}{
		{"unknown key", "market: a/b\ncolumns:\n  - {column: x, field: apy, unti: percent}\n", "m.yaml:3:", "unti"},
		{"unknown field", "market: a/b\ncolumns:\n  - {column: x, field: apy}\n  - column: y\n    field: apyy\n", "m.yaml:5:12", "apyy"},
		{"bad unit", "market: a/b\ncolumns:\n  - {column: x, field: apy, unit: furlong}\n", "m.yaml:3:", "furlong"},
		{"time unit on a value", "market: a/b\ncolumns:\n  - {column: x, field: apy, unit: unix_s}\n", "m.yaml:3:", "unix_s"},
		{"bad time unit", "market: a/b\ntime: {column: t, unit: percent}\ncolumns:\n  - {column: x, field: apy}\n", "m.yaml:2:", "not a time unit"},
		{"bad market", "market: nope\ncolumns:\n  - {column: x, field: apy}\n", "m.yaml:1:9", "protocol/name"},
		{"no columns", "market: a/b\n", "m.yaml:1:1", "no value columns"},
		{"field twice", "market: a/b\ncolumns:\n  - {column: x, field: apy}\n  - {column: y, field: apy}\n", "m.yaml:1:1", "mapped twice"},
		{"empty", "  \n", "m.yaml:1:1", "empty document"},
		{"syntax", "market: [a\n", "m.yaml:", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMapping("m.yaml", []byte(tc.src))
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("error = %v, want KindInvalid", err)
			}
			var e *adapters.Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Pos, tc.pos) {
				t.Errorf("error position = %q, want prefix %q (error %v)", e.Pos, tc.pos, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %q, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestMapping_Validate(t *testing.T) {
	base := func() Mapping {
		return Mapping{Market: "lido/steth", Columns: []Column{{Name: "a", Field: adapters.FieldAPY}}}
	}
	ok := base()
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid mapping: %v", err)
	}
	tests := map[string]func(*Mapping){
		"no market":        func(m *Mapping) { m.Market = "" },
		"delimiter":        func(m *Mapping) { m.Delimiter = ";;" },
		"quote delimiter":  func(m *Mapping) { m.Delimiter = `"` },
		"comment is delim": func(m *Mapping) { m.Comment = "," },
		"negative skip":    func(m *Mapping) { m.SkipRows = -1 },
		"value time unit":  func(m *Mapping) { m.Time.Unit = UnitPercent },
		"empty name":       func(m *Mapping) { m.Columns[0].Name = " " },
		"bad field":        func(m *Mapping) { m.Columns[0].Field = adapters.NumFields },
	}
	for name, mut := range tests {
		m := base()
		mut(&m)
		if err := m.Validate(); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("%s: Validate() = %v, want KindInvalid", name, err)
		}
	}
	tab := base()
	tab.Delimiter = "tab"
	if err := tab.Validate(); err != nil || tab.delimiter() != '\t' {
		t.Errorf("tab delimiter: %v, %q", err, tab.delimiter())
	}
}
