package adapters_test

import (
	"math"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestMarket_ExposureValidate: an exposure must name a tag the market
// carries, be a share in [0, 1] and have a source.
func TestMarket_ExposureValidate(t *testing.T) {
	base := func() adapters.Market {
		return adapters.Market{ID: "x/y", Kind: adapters.LRT, Base: adapters.ETH, Tags: []string{"operator:a"}}
	}
	tests := []struct {
		name string
		exp  map[string]float64
		src  map[string]string
		want string // "" = valid
	}{
		{"sourced", map[string]float64{"operator:a": 0.3}, map[string]string{"operator:a": "docs"}, ""},
		{"own protocol", map[string]float64{"protocol:x": 1}, map[string]string{"protocol:x": "docs"}, ""},
		{"not carried", map[string]float64{"operator:b": 0.3}, map[string]string{"operator:b": "docs"}, "does not carry"},
		{"above 1", map[string]float64{"operator:a": 1.5}, map[string]string{"operator:a": "docs"}, "[0, 1]"},
		{"NaN", map[string]float64{"operator:a": math.NaN()}, map[string]string{"operator:a": "docs"}, "[0, 1]"},
		{"no source", map[string]float64{"operator:a": 0.3}, nil, "no source"},
		{"source without share", nil, map[string]string{"operator:a": "docs"}, "has no exposure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			m.Exposure, m.ExposureSources = tt.exp, tt.src
			err := m.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
