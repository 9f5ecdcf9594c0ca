package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// okHead is a valid strategy head that cases extend.
const okHead = "name: t\nbase: ETH\nuniverse: [lido/steth, rocketpool/reth]\nparams: { min_peg: 0.99 }\n"

func TestLoad_Errors(t *testing.T) {
	deep := strings.Repeat("(", 40) + "apy" + strings.Repeat(")", 40)
	huge := "apy" + strings.Repeat(" + apy", 400)
	tests := []struct {
		name    string
		src     string
		kind    adapters.ErrorKind
		pos     string // file:line:col of the first error
		op      string // the key the first error is about
		contain string // in the first error's message
	}{
		{"malformed YAML", "name: [t\nbase: ETH\n", adapters.KindInvalid, "test.yaml:2:1", "rules.Load", "must be specified"},
		{"not a mapping", "- a\n- b\n", adapters.KindInvalid, "test.yaml:1:1", "rules.Load", "mapping"},
		{"two documents", okHead + "rules: { score: apy }\n---\nname: u\n", adapters.KindInvalid, "test.yaml:1:1", "rules.Load", "one YAML document"},
		{"unknown top-level key", okHead + "rules: { score: apy }\nrebalanse: {}\n", adapters.KindInvalid, "test.yaml:6:1", "rebalanse",
			`unknown key "rebalanse" at the top level (did you mean "rebalance"?)`},
		{"unknown nested key", okHead + "rules:\n  score: apy\n  wieght: apy\n", adapters.KindInvalid, "test.yaml:7:3", "rules.wieght",
			`unknown key "wieght" in rules (did you mean "weight"?)`},
		{"duplicate key", okHead + "rules: { score: apy }\nbase: BTC\n", adapters.KindInvalid, "test.yaml:6:1", "rules.Load", `mapping key "base" already defined`},
		{"anchors", okHead + "rules: &r { score: apy }\nexit: *r\n", adapters.KindInvalid, "test.yaml:5:8", "rules", "anchors"},
		{"wrong type", okHead + "rules: { score: apy }\nallocation: { k: many }\n", adapters.KindInvalid, "test.yaml:6:18", "rules.Load", "allocation: a number is wanted here, not text"},
		{"missing base", "universe: [lido/steth]\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:1:1", "base", "missing base"},
		{"unknown base", "base: DOGE\nuniverse: [lido/steth]\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:1:7", "base", `unknown base asset "DOGE"`},
		{"empty universe", "base: ETH\nuniverse: []\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:2:11", "universe", "empty"},
		{"unknown market", "base: ETH\nuniverse: [lido/steth, lido/stETH]\nrules: { score: apy }\n", adapters.KindNotFound, "test.yaml:2:24", "universe[1]",
			`unknown market "lido/stETH" (did you mean "lido/steth"?)`},
		{"duplicate market", "base: ETH\nuniverse:\n  - lido/steth\n  - rocketpool/reth\n  - lido/steth\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:5:5", "universe[2]",
			"duplicate market lido/steth (also universe[0])"},
		{"market of another base", "base: BTC\nuniverse: [babylon/btc, lido/steth]\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:2:25", "universe[1]",
			"market lido/steth has base ETH, the strategy's base is BTC"},
		{"non-finite param", "base: ETH\nuniverse: [lido/steth]\nparams: { x: .nan }\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:3:14", "params.x", "not a finite number"},
		{"bad param name", "base: ETH\nuniverse: [lido/steth]\nparams: { 9x: 1 }\nrules: { score: apy }\n", adapters.KindInvalid, "test.yaml:3:11", "params.9x", "parameter name"},
		{"missing score", okHead + "rules: { eligible: peg > 0.9 }\n", adapters.KindInvalid, "test.yaml:5:8", "rules.score", "missing rules.score"},
		{"unknown name", okHead + "rules:\n  score: apyy * 2\n", adapters.KindInvalid, "test.yaml:6:10", "rules.score", `unknown name "apyy" (did you mean "apy"?)`},
		{"unknown name in a quoted rule", okHead + "rules:\n  score: \"1 + apyy\"\n", adapters.KindInvalid, "test.yaml:6:15", "rules.score", `unknown name "apyy"`},
		{"unknown name in a block rule", okHead + "rules:\n  score: |\n    apy +\n      rewardapy\n", adapters.KindInvalid, "test.yaml:8:7", "rules.score", `unknown name "rewardapy" (did you mean "reward_apy"?)`},
		{"unknown parameter", okHead + "rules:\n  eligible: peg >= params.min_pge\n  score: apy\n", adapters.KindInvalid, "test.yaml:6:20", "rules.eligible",
			`unknown parameter "min_pge" (did you mean "min_peg"?)`},
		{"unknown function", okHead + "rules:\n  score: mean7(apy)\n", adapters.KindInvalid, "test.yaml:6:10", "rules.score", `unknown function "mean7"`},
		{"disabled builtin", okHead + "rules:\n  score: float(len(repeat(id, 1000)))\n", adapters.KindInvalid, "test.yaml:6:20", "rules.score", `unknown function "repeat"`},
		{"score in eligible", okHead + "rules:\n  eligible: score > 0\n  score: apy\n", adapters.KindInvalid, "test.yaml:6:13", "rules.eligible",
			`name "score" is not available in rules.eligible`},
		{"vault name in score", okHead + "rules:\n  score: apy - drift\n", adapters.KindInvalid, "test.yaml:6:16", "rules.score", `name "drift" is not available in rules.score`},
		{"market name in when", okHead + "rules: { score: apy }\nrebalance: { when: apy > 0 }\n", adapters.KindInvalid, "test.yaml:6:20", "rebalance.when", `name "apy" is not available in rebalance.when`},
		{"reserved name", okHead + "rules:\n  score: __w[0]\n", adapters.KindInvalid, "test.yaml:6:10", "rules.score", `unknown name "__w"`},
		{"env name", okHead + "rules:\n  score: $env.apy\n", adapters.KindInvalid, "test.yaml:6:10", "rules.score", `unknown name "$env"`},
		{"eligible not bool", okHead + "rules:\n  eligible: apy * 2\n  score: apy\n", adapters.KindInvalid, "test.yaml:6:13", "rules.eligible", "must give true or false"},
		{"score not a number", okHead + "rules:\n  score: apy > 0\n", adapters.KindInvalid, "test.yaml:6:10", "rules.score", "must give a number"},
		{"type mismatch", okHead + "rules:\n  score: apy + kind\n", adapters.KindInvalid, "test.yaml:6:14", "rules.score", "invalid operation"},
		{"syntax error", okHead + "rules:\n  score: apy +* 2\n", adapters.KindInvalid, "test.yaml:6:15", "rules.score", "unexpected token"},
		{"bad window duration", okHead + "rules:\n  score: avg(apy, \"7 days\")\n", adapters.KindInvalid, "test.yaml:6:19", "rules.score", `bad duration "7 days"`},
		{"window duration not a literal", okHead + "rules:\n  score: avg(apy, id)\n", adapters.KindInvalid, "test.yaml:6:19", "rules.score", "string literal"},
		{"window over an expression", okHead + "rules:\n  score: avg(apy * 2, \"7d\")\n", adapters.KindInvalid, "test.yaml:6:14", "rules.score", "must be a per-market name"},
		{"window over a constant", okHead + "rules:\n  score: min(slash_risk, \"7d\")\n", adapters.KindInvalid, "test.yaml:6:14", "rules.score", "no history"},
		{"window over an unknown name", okHead + "rules:\n  score: change(tv, \"7d\")\n", adapters.KindInvalid, "test.yaml:6:17", "rules.score", `unknown per-market name "tv" (did you mean "tvl"?)`},
		{"window in a when", okHead + "rules: { score: apy }\nharvest: { when: 'avg(gas_price, \"1d\") > 3' }\n", adapters.KindInvalid, "test.yaml:6:19", "harvest.when", "per market"},
		{"window too long", okHead + "rules:\n  score: avg(apy, \"3650d\")\n", adapters.KindInvalid, "test.yaml:6:19", "rules.score", "longer than five years"},
		{"huge expression", okHead + "rules:\n  score: " + huge + "\n", adapters.KindInvalid, "test.yaml:6:10", "rules.score", "longer than"},
		{"too many nodes", okHead + "rules:\n  score: " + strings.Repeat("-", 400) + "apy\n", adapters.KindInvalid, "test.yaml:6:", "rules.score", "maximum allowed nodes"},
		{"deeply nested", okHead + "rules:\n  score: " + deep + "\n", adapters.KindInvalid, "test.yaml:6:42", "rules.score", "deeper than 32"},
		{"bad cron", okHead + "rules: { score: apy }\nrebalance: { every: \"61 * * * *\" }\n", adapters.KindInvalid, "test.yaml:6:21", "rebalance.every", "above maximum"},
		{"panicking cron", okHead + "rules: { score: apy }\nrebalance: { every: \"TZ=\" }\n", adapters.KindInvalid, "test.yaml:6:21", "rebalance.every", "time zone but no spec"},
		{"cron in another zone", okHead + "rules: { score: apy }\nharvest: { every: \"CRON_TZ=Europe/Paris 0 1 * * *\" }\n", adapters.KindInvalid, "test.yaml:6:19", "harvest.every", "not allowed"},
		{"cron that never fires", okHead + "rules: { score: apy }\nharvest: { every: \"0 0 30 2 *\" }\n", adapters.KindInvalid, "test.yaml:6:19", "harvest.every", "never fires"},
		{"bad constraint", okHead + "rules: { score: apy }\nconstraints:\n  max_kind: { lrt: 1.5 }\n", adapters.KindInvalid, "test.yaml:7:20", "constraints.max_kind.lrt", "not a fraction"},
		{"bad allocation method", okHead + "rules: { score: apy }\nallocation: { method: top-k }\n", adapters.KindInvalid, "test.yaml:6:23", "allocation.method", `(did you mean "top_k"?)`},
		{"top_k without k", okHead + "rules: { score: apy }\nallocation: { method: top_k }\n", adapters.KindInvalid, "test.yaml:6:13", "allocation.k", "k >= 1"},
		{"lookback on the wrong method", okHead + "rules: { score: apy }\nallocation: { lookback: 7d }\n", adapters.KindInvalid, "test.yaml:6:25", "allocation.lookback", "inverse_volatility only"},
		{"bad min_trade", okHead + "rules: { score: apy }\nrebalance: { min_trade: -1 }\n", adapters.KindInvalid, "test.yaml:6:25", "rebalance.min_trade", "not a fraction"},
		{"tag cap matching nothing", okHead + "rules: { score: apy }\nconstraints: { max_tag: { \"protocol:lidoo\": 0.3 } }\n", adapters.KindInvalid, "test.yaml:6:", "constraints.max_tag.protocol:lidoo", `did you mean "protocol:lido"?`},
		{"protocol cap matching nothing", okHead + "rules: { score: apy }\nconstraints: { max_protocol: { lidoo: 0.5 } }\n", adapters.KindInvalid, "test.yaml:6:", "constraints.max_protocol.lidoo", `did you mean "lido"?`},
		{"leverage above the LTV", "base: ETH\nuniverse: [aave-v3/wsteth-loop]\nparams: { leverage: 20 }\nrules:\n  leverage: params.leverage\n  score: loop_apy\n", adapters.KindInvalid, "test.yaml:5:13", "rules.leverage",
			"leverage 20 is above what aave-v3/wsteth-loop allows: at most 15.38 at its highest LTV of 0.935"},
		{"max_leverage above the LTV", "base: ETH\nuniverse: [morpho/wsteth-weth-loop]\nrules: { score: loop_apy }\nconstraints: { max_leverage: 19 }\n", adapters.KindInvalid, "test.yaml:4:30", "constraints.max_leverage",
			"leverage 19 is above what morpho/wsteth-weth-loop allows: at most 18.18"},
		{"max_leverage below 1", okHead + "rules: { score: apy }\nconstraints: { max_leverage: 0.5 }\n", adapters.KindInvalid, "test.yaml:6:30", "constraints.max_leverage", "not a leverage"},
		{"leverage not a number", okHead + "rules:\n  score: apy\n  leverage: apy > 0\n", adapters.KindInvalid, "test.yaml:7:13", "rules.leverage", "must give a number"},
		{"bad min_gain_over_cost", okHead + "rules: { score: apy }\nrebalance: { min_gain_over_cost: -1 }\n", adapters.KindInvalid, "test.yaml:6:34", "rebalance.min_gain_over_cost", "finite number >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load("test.yaml", []byte(tc.src), nil)
			if err == nil {
				t.Fatalf("Load succeeded (%s), want an error", s.Name())
			}
			if s != nil {
				t.Errorf("Load returned a strategy with an error")
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v is not a non-empty ErrorList", err)
			}
			first := list[0]
			if first.Kind != tc.kind || !errors.Is(err, tc.kind) {
				t.Errorf("kind = %v, want %v (%v)", first.Kind, tc.kind, err)
			}
			if !strings.HasPrefix(first.Pos, tc.pos) {
				t.Errorf("pos = %q, want %q (%v)", first.Pos, tc.pos, err)
			}
			if first.Op != tc.op {
				t.Errorf("op = %q, want %q (%v)", first.Op, tc.op, err)
			}
			if !strings.Contains(first.Err.Error(), tc.contain) {
				t.Errorf("message %q does not contain %q", first.Err, tc.contain)
			}
		})
	}
}

func TestLoad_AllErrors(t *testing.T) {
	src := `name: many
base: ETH
universe: [lido/steth, nope/nope, lido/steth]
rules:
  eligible: pegg > 1
  score: apy + params.x
allocaton: { method: equal }
harvest: { every: "@hourly", when: "pending_rewards > harvest_costt" }
`
	_, err := Load("many.yaml", []byte(src), nil)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Pos+" "+e.Op)
	}
	want := []string{
		"many.yaml:3:24 universe[1]",
		"many.yaml:3:35 universe[2]",
		"many.yaml:5:13 rules.eligible",
		"many.yaml:6:16 rules.score",
		"many.yaml:7:1 allocaton",
		"many.yaml:8:55 harvest.when",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s\n%v", d, err)
	}
	if !errors.Is(err, adapters.ErrNotFound) || !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("errors.Is should find both kinds in %v", err)
	}
	if n := strings.Count(err.Error(), "\n"); n != len(want)-1 {
		t.Errorf("Error() has %d lines, want one per error (%d)", n+1, len(want))
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte(okHead+"rules: { score: apy }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "t" || s.File() != path || s.Base() != adapters.ETH {
		t.Errorf("got name %q file %q base %q", s.Name(), s.File(), s.Base())
	}
	if d := cmp.Diff([]string{"lido/steth", "rocketpool/reth"}, s.Universe()); d != "" {
		t.Errorf("universe (-want +got):\n%s", d)
	}
	noName, err := Load(filepath.Join(dir, "fallback.yml"), []byte("base: ETH\nuniverse: [lido/steth]\nrules: { score: apy }\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if noName.Name() != "fallback" {
		t.Errorf("name = %q, want the file name %q", noName.Name(), "fallback")
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml"), nil); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("LoadFile(missing) = %v, want kind %v", err, adapters.KindNotFound)
	}
}

func TestLoad_Catalog(t *testing.T) {
	cat := adapters.Builtin()
	if err := cat.Load("extra.yaml", []byte("markets:\n  - { id: lido/steth-l2, kind: lst, base: ETH, protocol: lido }\n")); err != nil {
		t.Fatal(err)
	}
	src := "base: ETH\nuniverse: [lido/steth-l2]\nrules: { score: apy }\n"
	if _, err := Load("c.yaml", []byte(src), cat); err != nil {
		t.Errorf("with the extended catalog: %v", err)
	}
	if _, err := Load("c.yaml", []byte(src), nil); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("with the built-in catalog: %v, want kind %v", err, adapters.KindNotFound)
	}
}

func TestLoad_TooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("base: ETH\nuniverse:\n")
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&b, "  - nope/m%d\n", i)
	}
	b.WriteString("rules: { score: apy }\n")
	_, err := Load("many.yaml", []byte(b.String()), nil)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	if len(list) != MaxErrors+1 {
		t.Fatalf("got %d errors, want %d plus a summary", len(list), MaxErrors)
	}
	if last := list[len(list)-1]; !strings.Contains(last.Error(), "30 more errors not shown") {
		t.Errorf("last error %q, want the count of the others", last)
	}
}

// TestLoad_AliasBomb: a file of nested aliases is rejected from its tree,
// never expanded by the decoder.
func TestLoad_AliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("base: ETH\nuniverse: [lido/steth]\nrules: { score: apy }\nparams:\n  l0: &l0 1\n")
	prev := "l0"
	for i := 1; i < 12; i++ {
		name := fmt.Sprintf("l%d", i)
		fmt.Fprintf(&b, "  %s: &%s [%s]\n", name, name, strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ","))
		prev = name
	}
	start := time.Now()
	_, err := Load("bomb.yaml", []byte(b.String()), nil)
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "anchors, aliases and tags are not supported") {
		t.Fatalf("Load = %v, want the anchors error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Load took %v", d)
	}
}

func TestLoad_MinGainOverCost(t *testing.T) {
	tests := []struct {
		src     string
		want    float64
		present bool
	}{
		{"rebalance: { min_gain_over_cost: 1.5 }\n", 1.5, true},
		{"rebalance: { min_gain_over_cost: 0 }\n", 0, true},
		{"rebalance: { min_trade: 0.01 }\n", 0, false},
	}
	for _, tt := range tests {
		s, err := Load("test.yaml", []byte(okHead+"rules: { score: apy }\n"+tt.src), adapters.Builtin())
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		th := s.Thresholds()
		if th.MinGainOverCost != tt.want || th.HasMinGainOverCost != tt.present {
			t.Errorf("%s: got %v (set %v), want %v (set %v)", tt.src, th.MinGainOverCost, th.HasMinGainOverCost, tt.want, tt.present)
		}
	}
}

func TestLoad_CatalogKey(t *testing.T) {
	dir := t.TempDir()
	cat := "markets:\n  - { id: aave-v3/usdc-test, kind: lending, base: USD }\n"
	if err := os.WriteFile(filepath.Join(dir, "cat.yaml"), []byte(cat), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: x\nbase: USD\ncatalog: cat.yaml\nuniverse: [aave-v3/usdc-test]\nrules: { score: apy }\n"
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFile(path, adapters.Builtin())
	if err != nil {
		t.Fatalf("a strategy naming its catalog: %v", err)
	}
	if _, err := s.Catalog().Market("aave-v3/usdc-test"); err != nil || s.CatalogFile() != filepath.Join(dir, "cat.yaml") {
		t.Errorf("catalog %q: market: %v", s.CatalogFile(), err)
	}
	if _, err := adapters.Builtin().Market("aave-v3/usdc-test"); err == nil {
		t.Error("loading the strategy changed the built-in catalog")
	}
	bad := strings.Replace(src, "cat.yaml", "missing.yaml", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(path, adapters.Builtin())
	if err == nil || !strings.Contains(err.Error(), "s.yaml:3:10") || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing catalog: %v; want an error at s.yaml:3:10 naming it", err)
	}
}

func TestLoad_CapsReadParams(t *testing.T) {
	src := "name: x\nbase: ETH\nuniverse: [lido/steth, etherfi/weeth]\nparams: { max_lrt: 0.3, mw: 0.5 }\nrules: { score: apy }\n" +
		"constraints: { max_weight: params.mw, max_kind: { lrt: params.max_lrt } }\n"
	s, err := Load("t.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Constraints(); c.MaxWeight != 0.5 || c.MaxKind[adapters.LRT] != 0.3 {
		t.Errorf("constraints %+v: want max_weight 0.5, max_kind.lrt 0.3 from params", c)
	}
	s2, err := s.WithParams(map[string]float64{"max_lrt": 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if c := s2.Constraints(); c.MaxKind[adapters.LRT] != 0.1 || c.MaxWeight != 0.5 {
		t.Errorf("after WithParams(max_lrt=0.1): %+v", c)
	}
	if c := s.Constraints(); c.MaxKind[adapters.LRT] != 0.3 {
		t.Errorf("WithParams changed the original: %+v", c)
	}
	if _, err := s.WithParams(map[string]float64{"mw": 2}); err == nil || !strings.Contains(err.Error(), "constraints.max_weight") {
		t.Errorf("WithParams(mw=2): %v; want the cap's error", err)
	}
	bad := strings.Replace(src, "params.mw", "params.mww", 1)
	if _, err := Load("t.yaml", []byte(bad), adapters.Builtin()); err == nil || !strings.Contains(err.Error(), `unknown parameter "mww" (did you mean "mw"?)`) {
		t.Errorf("unknown parameter in a cap: %v", err)
	}
	for _, v := range []string{`"abc"`, "[1]", "params."} {
		bad := strings.Replace(src, "params.mw", v, 1)
		_, err := Load("t.yaml", []byte(bad), adapters.Builtin())
		if err == nil || strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "capValue") {
			t.Errorf("max_weight: %s: %v; want a plain error", v, err)
		}
	}
}

func TestNow_CalendarNumbers(t *testing.T) {
	src := okHead + "rules: { score: apy }\nrebalance: { when: \"now.Weekday() == 1 && now.Month() == 6\" }\n"
	s, err := Load("t.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatalf("now.Weekday() == 1 does not load: %v", err)
	}
	for _, tc := range []struct {
		day  string
		want bool
	}{{"2024-06-03", true}, {"2024-06-02", false}, {"2024-07-01", false}} { // a Monday in June, a Sunday, a Monday in July
		at, _ := time.Parse("2006-01-02", tc.day)
		got, _, err := s.ShouldRebalance(strategies.VaultVars{Now: at})
		if err != nil || got != tc.want {
			t.Errorf("%s: ShouldRebalance = %v, %v; want %v", tc.day, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ when, want string }{
		{"now.Weekdy() == 1", `now has no method Weekdy (did you mean "Weekday"?)`},
		{"zzz > 1", `unknown name "zzz" (known here: cost_apy, drift,`},
	} {
		_, err := Load("t.yaml", []byte(okHead+"rules: { score: apy }\nrebalance: { when: \""+tc.when+"\" }\n"), adapters.Builtin())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("when %q: %v; want %q", tc.when, err, tc.want)
		}
	}
}
