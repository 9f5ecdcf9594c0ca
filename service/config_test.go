package service

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

func TestLoadConfig_Errors(t *testing.T) {
	strat, _ := filepath.Abs("../examples/strategies/lst-lrt-balanced.yaml")
	good := "  - { id: v, strategy: " + strat + ", deposit: \"1\" }\n"
	tests := []struct {
		name string
		yaml string
		kind error
		pos  string // file:line:col suffix
		msg  string
	}{
		{"unknown key", "state_db: s.db\nlisten_on: x\nvaults:\n" + good, adapters.ErrInvalid, ":2:1", "unknown field"},
		{"non-loopback", "state_db: s.db\nlisten: 0.0.0.0:8080\nvaults:\n" + good, adapters.ErrInvalid, ":2:9", "not a loopback"},
		{"no state db", "vaults:\n" + good, adapters.ErrInvalid, ":", "state_db is required"},
		{"inline token", "state_db: s.db\ntoken: { env: \"abc def\" }\nvaults:\n" + good, adapters.ErrInvalid, ":2:15", "never goes in the file"},
		{"bad cron", "state_db: s.db\nvaults:\n  - { id: v, strategy: " + strat + ", deposit: \"1\", rebalance: \"61 * * * *\" }\n", adapters.ErrInvalid, ":3:", "rebalance"},
		{"missing strategy", "state_db: s.db\nvaults:\n  - id: v\n    strategy: nope.yaml\n    deposit: \"1\"\n", adapters.ErrNotFound, ":4:15", "nope.yaml"},
		{"bad deposit", "state_db: s.db\nvaults:\n  - id: v\n    strategy: " + strat + "\n    deposit: lots\n", adapters.ErrInvalid, ":5:14", "deposit"},
		{"bad staleness", "state_db: s.db\nvaults:\n  - id: v\n    strategy: " + strat + "\n    deposit: \"1\"\n    staleness: soon\n", adapters.ErrInvalid, ":6:16", "staleness"},
		{"duplicate vault", "state_db: s.db\nvaults:\n" + good + good, adapters.ErrInvalid, ":4:", "listed twice"},
		{"source both", "state_db: s.db\nsources:\n  - { name: s, folder: a, url: http://x, every: \"@hourly\" }\nvaults:\n" + good, adapters.ErrInvalid, ":3:", "exactly one of folder and url"},
		{"source url no market", "state_db: s.db\nsources:\n  - { name: s, url: http://x, every: \"@hourly\" }\nvaults:\n" + good, adapters.ErrInvalid, ":3:", "set market"},
		{"bad replay", "state_db: s.db\nreplay: { start: yesterday }\nvaults:\n" + good, adapters.ErrInvalid, ":2:", "replay.start"},
		{"short lease", "state_db: s.db\nlease: { ttl: 10ms }\nvaults:\n" + good, adapters.ErrInvalid, ":2:", "lease.ttl"},
		{"syntax", "state_db: s.db\nvaults: [\n", adapters.ErrInvalid, ":", ""},
		{"alias bomb", "state_db: s.db\nx: &a [y, y, y, y, y, y, y, y, y]\nz: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nvaults:\n" + good, adapters.ErrInvalid, ":2:4", "anchors and aliases are not supported"},
		{"alias", "state_db: &s s.db\nhistory_db: *s\nvaults:\n" + good, adapters.ErrInvalid, ":1:11", "anchors and aliases are not supported"},
		{"negative gas asset price", "state_db: s.db\nvaults:\n  - id: v\n    strategy: " + strat + "\n    deposit: \"1\"\n    gas_asset_price: -1\n", adapters.ErrInvalid, ":6:22", "gas_asset_price"},
		{"unknown gas asset market", "state_db: s.db\nvaults:\n  - id: v\n    strategy: " + strat + "\n    deposit: \"1\"\n    gas_asset_market: nope/eth\n", adapters.ErrNotFound, ":6:23", "gas_asset_market"},
		{"gas asset market not ETH", "state_db: s.db\nvaults:\n  - id: v\n    strategy: " + strat + "\n    deposit: \"1\"\n    gas_asset_market: aave-v3/usdc\n", adapters.ErrInvalid, ":6:23", "not an ETH one"},
		{"unknown go strategy", "state_db: s.db\nvaults:\n  - id: v\n    strategy: go:nope\n    universe: [lido/steth]\n    deposit: \"1\"\n", adapters.ErrNotFound, ":4:15", `no Go strategy "nope" is registered in this binary (registered: go:equal-weight, go:hold, go:max-yield, go:risk-adjusted)`},
		{"go strategy bad param", "state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    universe: [lido/steth]\n    params: { min_apy: lots }\n    deposit: \"1\"\n", adapters.ErrInvalid, ":6:", `parameter min_apy of go:max-yield: "lots" is not a number`},
		{"go strategy param out of range", "state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    universe: [lido/steth]\n    params: { min_apy: 20 }\n    deposit: \"1\"\n", adapters.ErrInvalid, ":6:24", "parameter min_apy of go:max-yield: 20 is outside [-1, 10]"},
		{"go strategy unknown param", "state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    universe: [lido/steth]\n    params: { lookback: 3 }\n    deposit: \"1\"\n", adapters.ErrInvalid, ":6:25", `go:max-yield has no parameter "lookback" (its parameters: min_apy)`},
		{"go strategy without universe", "state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    deposit: \"1\"\n", adapters.ErrInvalid, ":4:15", "has no universe of its own"},
		{"go strategy unknown market", "state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    universe: [nope/eth]\n    deposit: \"1\"\n", adapters.ErrNotFound, ":4:15", "nope/eth"},
		{"universe for a file", "state_db: s.db\nvaults:\n  - id: v\n    strategy: " + strat + "\n    universe: [lido/steth]\n    deposit: \"1\"\n", adapters.ErrInvalid, ":5:15", "universe and params are for Go strategies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("svc.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %v: want kind %v", err, tc.kind)
			}
			if !strings.HasPrefix(err.Error(), "svc.yaml"+tc.pos) {
				t.Errorf("error %q: want it to start with svc.yaml%s", err, tc.pos)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q: want it to mention %q", err, tc.msg)
			}
		})
	}
}

// TestLoadConfig_GoStrategy: strategy: go:NAME builds the registered
// strategy with the vault's universe and params.
func TestLoadConfig_GoStrategy(t *testing.T) {
	c, err := ParseConfig("svc.yaml", []byte("state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    universe: [lido/steth, rocketpool/reth]\n    params: { min_apy: \"0.01\" }\n    deposit: \"1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := c.Vaults[0]
	if got, want := v.Strategy.Name(), "max-yield"; got != want {
		t.Errorf("strategy %q, want %q", got, want)
	}
	if got, want := strings.Join(v.Universe, ","), "lido/steth,rocketpool/reth"; got != want {
		t.Errorf("universe %s, want %s", got, want)
	}
	if v.Base != adapters.ETH || v.Vault.Base != adapters.ETH {
		t.Errorf("base %s (vault %s), want ETH", v.Base, v.Vault.Base)
	}
	if got := v.Params["min_apy"]; got != 0.01 {
		t.Errorf("min_apy %g, want 0.01", got)
	}
	if got, want := v.Rebalance.Spec, DefaultRebalance; got != want {
		t.Errorf("rebalance %q, want the default %q (the strategy has no schedule)", got, want)
	}
}

// TestLoadConfig_DepositDefault: a vault without deposit starts empty
// (the documented default 0); it was refused as `deposit "" is not a
// decimal`.
func TestLoadConfig_DepositDefault(t *testing.T) {
	c, err := ParseConfig("svc.yaml", []byte("state_db: s.db\nvaults:\n  - id: v\n    strategy: go:max-yield\n    universe: [lido/steth]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Vaults[0].Deposit; !d.IsZero() {
		t.Errorf("deposit %s, want 0", d)
	}
}

func TestLoadConfig_Example(t *testing.T) {
	c, err := LoadConfig("../examples/service/service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || c.Replay == nil || len(c.Vaults) != 2 || len(c.Sources) != 1 {
		t.Errorf("example config: listen %s, replay %v, %d vaults, %d sources", c.Listen, c.Replay, len(c.Vaults), len(c.Sources))
	}
	if got, want := c.Vaults[0].Rebalance.Spec, "@hourly"; got != want {
		t.Errorf("rebalance override %q, want %q", got, want)
	}
	if got, want := c.Vaults[1].Rebalance.Spec, c.Vaults[1].Strategy.(strategies.Scheduled).RebalanceSchedule().Spec; got != want {
		t.Errorf("strategy's own rebalance schedule %q, want %q", got, want)
	}
	if !strings.HasSuffix(c.StateDB, filepath.Join("examples", "service", "yieldvault-state.db")) {
		t.Errorf("state db %s is not resolved against the config's folder", c.StateDB)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bad  bool
	}{{"", "0s", false}, {"12h", "12h0m0s", false}, {"7d", "168h0m0s", false}, {"1.5d", "", true}, {"-1h", "", true}, {"soon", "", true}}
	for _, tc := range tests {
		got, err := parseDuration(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got.String() != tc.want) {
			t.Errorf("parseDuration(%q) = %s, %v; want %s (error %t)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("file-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GOOD": "env-token-0123456789abcdef", "SHORT": "short-secret"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		cfg  Config
		want string
		kind error
	}{
		{"none", Config{}, "", nil},
		{"env", Config{TokenEnv: "GOOD"}, env["GOOD"], nil},
		{"file", Config{TokenFile: file}, "file-token-0123456789abcdef", nil},
		{"unset", Config{TokenEnv: "UNSET"}, "", adapters.ErrInvalid},
		{"unset optional", Config{TokenEnv: "UNSET", TokenOptional: true}, "", nil},
		{"short", Config{TokenEnv: "SHORT"}, "", adapters.ErrInvalid},
		{"missing file", Config{TokenFile: filepath.Join(dir, "nope")}, "", adapters.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readToken(&tc.cfg, getenv)
			if string(got) != tc.want {
				t.Errorf("token %q, want %q", got, tc.want)
			}
			if (tc.kind == nil) != (err == nil) || (tc.kind != nil && !errors.Is(err, tc.kind)) {
				t.Errorf("error %v, want kind %v", err, tc.kind)
			}
			if err != nil && strings.Contains(err.Error(), "short-secret") {
				t.Errorf("error %q leaks the token", err)
			}
		})
	}
}
