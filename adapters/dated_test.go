package adapters_test

import (
	"errors"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDated_At(t *testing.T) {
	prm := adapters.Param{Value: 7, Source: "a", Since: "2023-06-14",
		Changes: []adapters.ParamChange{{From: "2025-04-17", Value: 14, Source: "b"}, {From: "2026-01-01T12:00:00Z", Value: 21, Source: "c"}}}
	p := adapters.Profile{Name: "x", Kind: adapters.LRT, Params: map[string]adapters.Param{"escrow_days": prm}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	d := p.DatedParam("escrow_days")
	tests := []struct {
		at      time.Time
		want    float64
		wantSrc string
		inForce bool
	}{
		{date("2023-06-13"), 0, "", false},
		{date("2023-06-14"), 7, "a", true},
		{date("2025-04-16"), 7, "a", true},
		{date("2025-04-17"), 14, "b", true},
		{date("2026-01-01"), 14, "b", true},
		{date("2026-01-01").Add(12 * time.Hour), 21, "c", true},
	}
	for _, tt := range tests {
		got, ok := d.At(tt.at)
		if got != tt.want || ok != tt.inForce {
			t.Errorf("At(%s) = %g, %v; want %g, %v", tt.at.Format(time.RFC3339), got, ok, tt.want, tt.inForce)
		}
		v, src, ok := prm.AtTime(tt.at)
		if v != tt.want || src != tt.wantSrc || ok != tt.inForce {
			t.Errorf("Param.AtTime(%s) = %g, %q, %v; want %g, %q, %v", tt.at.Format(time.RFC3339), v, src, ok, tt.want, tt.wantSrc, tt.inForce)
		}
		if got := p.ParamAt("escrow_days", tt.at, -1); (tt.inForce && got != tt.want) || (!tt.inForce && got != -1) {
			t.Errorf("ParamAt(%s) = %g", tt.at.Format(time.RFC3339), got)
		}
	}
	if d.Max() != 21 || d.Min() != 7 {
		t.Errorf("Max, Min = %g, %g; want 21, 7", d.Max(), d.Min())
	}
	var unset adapters.Dated
	if _, ok := unset.At(date("2024-01-01")); ok || unset.Set() || unset.Or(date("2024-01-01"), 3) != 3 {
		t.Errorf("an unset parameter is in force")
	}
	// The lookup runs in the step loop: no allocation.
	at := date("2025-05-01")
	if n := testing.AllocsPerRun(100, func() { d.At(at) }); n != 0 {
		t.Errorf("Dated.At allocates %v times", n)
	}
}

func TestParam_ValidateDates(t *testing.T) {
	tests := []struct {
		name string
		prm  adapters.Param
	}{
		{"bad since", adapters.Param{Value: 1, Source: "s", Since: "May 2023"}},
		{"bad from", adapters.Param{Value: 1, Source: "s", Changes: []adapters.ParamChange{{From: "soon", Value: 2, Source: "t"}}}},
		{"change before since", adapters.Param{Value: 1, Source: "s", Since: "2024-01-01", Changes: []adapters.ParamChange{{From: "2023-01-01", Value: 2, Source: "t"}}}},
		{"changes out of order", adapters.Param{Value: 1, Source: "s", Changes: []adapters.ParamChange{{From: "2024-01-01", Value: 2, Source: "t"}, {From: "2024-01-01", Value: 3, Source: "u"}}}},
		{"change without source", adapters.Param{Value: 1, Source: "s", Changes: []adapters.ParamChange{{From: "2024-01-01", Value: 2}}}},
		{"negative change", adapters.Param{Value: 1, Source: "s", Changes: []adapters.ParamChange{{From: "2024-01-01", Value: -2, Source: "t"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := adapters.Profile{Name: "x", Kind: adapters.LST, Params: map[string]adapters.Param{"withdrawal_days": tt.prm}}
			if err := p.Validate(); !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("Validate() = %v, want kind %v", err, adapters.KindInvalid)
			}
		})
	}
}

// TestCatalog_LoadDated reads dated parameters from a user's YAML file.
func TestCatalog_LoadDated(t *testing.T) {
	src := `profiles:
  - name: myst
    kind: lst
    base: ETH
    params:
      withdrawal_days: {value: 3, source: "queue docs", since: 2023-05-15, changes: [{from: 2024-01-01, value: 5, source: "longer queue"}]}
markets:
  - {id: myst/tok, kind: lst, base: ETH}
`
	c := adapters.NewCatalog()
	if err := c.Load("my.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	p, err := c.Profile("myst")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   string
		want float64
	}{{"2022-06-01", -1}, {"2023-06-01", 3}, {"2024-06-01", 5}} {
		if got := p.ParamAt("withdrawal_days", date(tt.at), -1); got != tt.want {
			t.Errorf("withdrawal_days at %s = %g, want %g", tt.at, got, tt.want)
		}
	}
}
