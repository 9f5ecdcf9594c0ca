package adapters_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// namedDriver is a driver the registry tests can tell apart: it says
// which factory built it and models nothing (the registry is under test).
type namedDriver struct{ by string }

func (d *namedDriver) Quote(*adapters.Env, fixed.Num) (adapters.Quote, error) {
	return adapters.Quote{}, nil
}
func (d *namedDriver) Deposit(p adapters.Position, _ *adapters.Env, _ fixed.Num) (adapters.Position, adapters.Fill, error) {
	return p, adapters.Fill{}, nil
}
func (d *namedDriver) Withdraw(p adapters.Position, _ *adapters.Env, _ adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	return p, adapters.Fill{}, nil
}
func (d *namedDriver) Accrue(*adapters.Position, *adapters.Env) {}
func (d *namedDriver) Value(*adapters.Position, *adapters.Env, adapters.Pricing) decimal.Decimal {
	return decimal.Zero
}
func (d *namedDriver) Apply(p adapters.Position, _ *adapters.Env, _ adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return p, decimal.Zero, nil
}

func factory(by string) adapters.Factory {
	return func(adapters.Market, *adapters.Profile) (adapters.Driver, error) { return &namedDriver{by: by}, nil }
}

// The kinds and drivers registered from this test package stand for a
// third party's: a new kind, a second driver for it, and a second driver
// for the built-in lending kind.
const regKind adapters.Kind = "registry-test"

func init() {
	adapters.Register(regKind, factory("default"))
	adapters.RegisterDriver(regKind, "fast", factory("fast"))
	adapters.RegisterDriver(adapters.Lending, "registry-flat", factory("flat"))
	adapters.RegisterParamDoc(adapters.ParamDoc{Name: "registry_test_fee", Kinds: []adapters.Kind{regKind}, Unit: "fraction", Doc: "a registered parameter"})
}

const regCatalog = `profiles:
  - name: regtest
    display: Registry test
    kind: registry-test
    base: ETH
    params:
      registry_test_fee: { value: 0.001, source: "the test's fixture" }
  - name: regfast
    kind: registry-test
    driver: fast
markets:
  - { id: regtest/a, kind: registry-test, base: ETH }
  - { id: regtest/b, kind: registry-test, base: ETH, driver: fast }
  - { id: regfast/c, kind: registry-test, base: ETH }
  - { id: aave-v3/weth, kind: lending, base: ETH, driver: registry-flat }
`

func TestRegistry_ThirdPartyKindAndDrivers(t *testing.T) {
	if k, err := adapters.ParseKind("Registry-Test"); err != nil || k != regKind {
		t.Fatalf("ParseKind = %q, %v; want the registered kind", k, err)
	}
	if got := adapters.KnownKinds(); len(got) < 5 || got[4] != regKind || got[0] != adapters.LST {
		t.Errorf("KnownKinds() = %v: want the built-in kinds, then %s", got, regKind)
	}
	if got := strings.Join(adapters.Drivers(adapters.Lending), ","); got != "registry-flat" {
		t.Errorf("Drivers(lending) = %s, want registry-flat", got)
	}
	c := adapters.Builtin()
	if err := c.Load("reg.yaml", []byte(regCatalog)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ market, by string }{
		{"regtest/a", "default"},
		{"regtest/b", "fast"},    // the market's driver
		{"regfast/c", "fast"},    // its profile's
		{"aave-v3/weth", "flat"}, // another driver for a built-in kind
	} {
		a, err := adapters.Open(c, tt.market)
		if err != nil {
			t.Fatalf("Open(%s): %v", tt.market, err)
		}
		if got := a.Driver().(*namedDriver).by; got != tt.by {
			t.Errorf("Open(%s) built the %s driver, want %s", tt.market, got, tt.by)
		}
	}
	// The built-in catalog is untouched: aave-v3/weth keeps its default driver.
	if m, _ := adapters.Builtin().Market("aave-v3/weth"); m.Driver != "" {
		t.Errorf("built-in aave-v3/weth has driver %q", m.Driver)
	}
}

func TestRegistry_Errors(t *testing.T) {
	tests := []struct {
		name, yaml, pos, want string
		kind                  error
	}{
		{"unknown kind", "profiles:\n  - { name: x, kind: nope }\n", "reg.yaml:2:22: ", `unknown market kind "nope" (known: lst, lrt, lending, amm`, adapters.ErrInvalid},
		{"unknown driver of a market", "markets:\n  - { id: aave-v3/weth, kind: lending, base: ETH, driver: nope }\n", "reg.yaml:2:59: ",
			`market aave-v3/weth: driver "nope" is not registered for kind lending (registered: registry-flat)`, adapters.ErrNotFound},
		{"unknown driver of a profile", "profiles:\n  - { name: x, kind: lst, driver: fast }\n", "reg.yaml:2:35: ",
			`profile x: driver "fast" is not registered for kind lst (this binary has no named drivers for it)`, adapters.ErrNotFound},
		{"a driver of another kind", "markets:\n  - { id: aave-v3/z, kind: lending, base: ETH, driver: fast }\n", "reg.yaml:2:56: ", `driver "fast" is not registered for kind lending`, adapters.ErrNotFound},
		{"unknown parameter", "profiles:\n  - { name: x, kind: registry-test, params: { nope_fee: { value: 1, source: s } } }\n", "reg.yaml:2:", `unknown parameter "nope_fee"`, adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := adapters.Builtin()
			err := c.Load("reg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.kind) {
				t.Errorf("Load: %v; want %v: %q", err, tt.kind, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), tt.pos) {
				t.Errorf("error %q does not start with its place %s", err, tt.pos)
			}
		})
	}
}

func TestRegistry_Panics(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func()
	}{
		{"kind twice", func() { adapters.Register(regKind, factory("x")) }},
		{"kind not lower-case", func() { adapters.Register("Bad Kind", factory("x")) }},
		{"driver twice", func() { adapters.RegisterDriver(regKind, "fast", factory("x")) }},
		{"driver name", func() { adapters.RegisterDriver(regKind, "", factory("x")) }},
		{"nil driver", func() { adapters.RegisterDriver(regKind, "other", nil) }},
		{"param doc twice", func() { adapters.RegisterParamDoc(adapters.ParamDoc{Name: "fee_on_rewards"}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}
