package adapters_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// The protocols this product must know (issue 2).
var requiredProtocols = []string{
	"lido", "rocketpool", "coinbase", "etherfi", "renzo", "puffer", "kelp",
	"eigenlayer", "symbiotic", "karak", "babylon", "kamino", "aave-v3",
	"compound-v3", "morpho", "spark", "curve", "uniswap-v3", "balancer",
}

func TestBuiltin_Profiles(t *testing.T) {
	c := adapters.Builtin()
	for _, name := range requiredProtocols {
		p, err := c.Profile(name)
		if err != nil {
			t.Errorf("Profile(%q): %v", name, err)
			continue
		}
		if len(p.Params) == 0 {
			t.Errorf("profile %s has no parameters", name)
		}
		for k, v := range p.Params {
			if strings.TrimSpace(v.Source) == "" {
				t.Errorf("profile %s parameter %s has no source note", name, k)
			}
		}
		found := false
		for _, m := range c.Markets() {
			if m.Protocol == name {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("profile %s has no built-in market", name)
		}
	}
}

// Every built-in per-market override carries its source, and a
// source that names no override is refused.
func TestBuiltin_MarketOverridesSourced(t *testing.T) {
	c := adapters.Builtin()
	n := 0
	for _, m := range c.Markets() {
		for k := range m.Params {
			n++
			if strings.TrimSpace(m.Sources[k]) == "" {
				t.Errorf("market %s overrides %s with no source", m.ID, k)
			}
			p, err := c.ProfileFor(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Params[k].Source; !strings.Contains(got, m.Sources[k]) {
				t.Errorf("market %s: the merged profile's source of %s is %q, want it to carry %q", m.ID, k, got, m.Sources[k])
			}
		}
	}
	if n == 0 {
		t.Fatal("no built-in market overrides a parameter: the test proves nothing")
	}
	bad := adapters.Market{ID: "aave-v3/x", Kind: adapters.Lending, Base: adapters.USD,
		Params: map[string]float64{"irm_slope1": 0.05}, Sources: map[string]string{"irm_slope2": "a post"}}
	if err := c.AddMarket(bad); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("AddMarket with a source for a parameter it does not override: got %v, want KindInvalid", err)
	}
}

func TestBuiltin_MarketsInheritTags(t *testing.T) {
	c := adapters.Builtin()
	m, err := c.Market("etherfi/weeth")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"layer:eigenlayer", "oracle:etherfi", "avs:eigenda", "protocol:etherfi", "kind:lrt"} {
		if !m.HasTag(tag) {
			t.Errorf("etherfi/weeth lacks tag %s (tags %v)", tag, m.AllTags())
		}
	}
}

func TestCatalog_ProfileForOverrides(t *testing.T) {
	c := adapters.Builtin()
	m, err := c.Market("aave-v3/usdc")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.ProfileFor(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.ParamOr("irm_optimal", 0), 0.92; got != want {
		t.Errorf("irm_optimal = %g, want %g (market override)", got, want)
	}
	base, _ := c.Profile("aave-v3")
	if got, want := base.ParamOr("irm_optimal", 0), 0.90; got != want {
		t.Errorf("profile irm_optimal changed to %g, want %g", got, want)
	}
}

func TestCatalog_Load(t *testing.T) {
	good := `
profiles:
  - name: stader
    display: Stader ETHx
    kind: lst
    base: ETH
    params:
      fee_on_rewards: {value: 0.1, source: "Stader docs: 10% fee"}
      withdrawal_days: {value: 7, source: "Stader docs"}
markets:
  - id: stader/ethx
    kind: lst
    base: ETH
    token: ETHx
    tags: [operator:stader-set]
`
	c := adapters.Builtin()
	if err := c.Load("extra.yaml", []byte(good)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	m, err := c.Market("stader/ethx")
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasTag("operator:stader-set") || m.Protocol != "stader" {
		t.Errorf("market = %+v", m)
	}

	tests := []struct {
		name, doc, wantInErr string
		kind                 adapters.ErrorKind
	}{
		{"unknown key", "profiles:\n  - name: x\n    kindd: lst\n", "extra.yaml:3:5", adapters.KindInvalid},
		{"no source", "profiles:\n  - name: x\n    kind: lst\n    params:\n      fee_on_rewards: {value: 0.1}\n", "no source note", adapters.KindInvalid},
		{"unknown param", "profiles:\n  - name: x\n    kind: lst\n    params:\n      fees: {value: 0.1, source: s}\n", `unknown parameter "fees"`, adapters.KindInvalid},
		{"market without profile", "markets:\n  - id: nope/x\n    kind: lst\n    base: ETH\n", `no protocol profile "nope"`, adapters.KindNotFound},
		{"kind mismatch", "markets:\n  - id: lido/x\n    kind: amm\n    base: ETH\n", "differs from its profile", adapters.KindInvalid},
		{"bad id", "markets:\n  - id: lido\n    kind: lst\n    base: ETH\n", "protocol/name", adapters.KindInvalid},
		{"malformed", "profiles: [\n", "extra.yaml:", adapters.KindInvalid},
		{"empty", "", "empty document", adapters.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := adapters.Builtin()
			before := len(c.Markets())
			err := c.Load("extra.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantInErr)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error kind = %v, want %v", adapters.KindOf(err), tt.kind)
			}
			if got := len(c.Markets()); got != before {
				t.Errorf("failed load changed the catalog: %d markets, want %d", got, before)
			}
		})
	}
}

func TestObservation_Validate(t *testing.T) {
	tests := []struct {
		f    adapters.Field
		v    float64
		good bool
	}{
		{adapters.FieldAPY, 0.05, true},
		{adapters.FieldAPY, -0.5, true},
		{adapters.FieldAPY, -1.5, false},
		{adapters.FieldPrice, 0, false},
		{adapters.FieldPrice, 0.93, true},
		{adapters.FieldUtilization, 1.01, false},
		{adapters.FieldUtilization, 1, true},
		{adapters.FieldTVL, -1, false},
	}
	for _, tt := range tests {
		var o adapters.Observation
		o.Put(tt.f, tt.v)
		err := o.Validate()
		if (err == nil) != tt.good {
			t.Errorf("%s=%g: Validate() = %v, want ok=%v", tt.f, tt.v, err, tt.good)
		}
	}
}

func TestParseField_RoundTrip(t *testing.T) {
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		got, ok := adapters.ParseField(f.String())
		if !ok || got != f {
			t.Errorf("ParseField(%q) = %v, %v; want %v", f.String(), got, ok, f)
		}
	}
}

func TestError_Is(t *testing.T) {
	err := adapters.Wrap("op", adapters.KindNotFound, errors.New("boom"))
	if !errors.Is(err, adapters.ErrNotFound) {
		t.Error("errors.Is(err, ErrNotFound) = false")
	}
	if errors.Is(err, adapters.ErrInvalid) {
		t.Error("errors.Is(err, ErrInvalid) = true")
	}
	e := adapters.E("op", adapters.KindInvalid, "bad %d", 3).At("f.csv:3")
	if got, want := e.Error(), "f.csv:3: op: bad 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestBuiltin_OwnCurveNotMixedWithDated checks that a market with a rate
// curve of its own (it overrides one of the kinked model's parameters)
// does not inherit a dated step of its profile's curve for another: the
// aave-v3 profile's curve is the WETH reserve's, whose kink and slopes
// the Risk Stewards moved in 2025, and a USDC or weETH reserve did not
// move with it.
func TestBuiltin_OwnCurveNotMixedWithDated(t *testing.T) {
	curve := []string{"irm_base", "irm_slope1", "irm_slope2", "irm_optimal"}
	c := adapters.Builtin()
	checked := 0
	for _, m := range c.Markets() {
		own := false
		for _, k := range curve {
			if _, ok := m.Params[k]; ok {
				own = true
			}
		}
		if !own {
			continue
		}
		p, err := c.ProfileFor(m)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, k := range curve {
			if prm, ok := p.Params[k]; ok && prm.IsDated() {
				t.Errorf("market %s has a rate curve of its own but inherits the profile's dated %s (%d changes): override it", m.ID, k, len(prm.Changes))
			}
		}
	}
	if checked == 0 {
		t.Fatal("no market overrides a rate-curve parameter: the test proves nothing")
	}
}
