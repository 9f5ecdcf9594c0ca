package rules

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/expr-lang/expr/vm"
	"github.com/yieldvault/yieldvault/adapters"
)

// fastCorpus are per-market rules, most of them inside the fast subset.
var fastCorpus = []struct {
	eligible bool // a boolean rule (else a score)
	src      string
	fast     bool // want the fast path to take it
}{
	{false, "apy", true},
	{false, "apy + reward_apy * 0.5 - slash_risk", true},
	{false, `avg(net_apy, "7d") - 0.5 * slash_risk - 2 * max(0.0, 1 - min(peg, "24h"))`, true},
	{false, "max(apy, 0)", true},
	{false, "max(0, apy)", true},
	{false, "min(apy, reward_apy, 0.03)", true},
	{false, "max(apy, reward_apy, net_apy, peg)", true},
	{false, "abs(apy - 0.03) / (tvl + 1)", true},
	{false, "apy ** 2 + tvl ^ 0.5", true},
	{false, "-apy + +peg", true},
	{false, "peg > 0.99 ? apy : 0.5 * apy", true},
	{false, "peg > 0.99 ? apy : 0", true},
	{false, `has_tag("protocol:lido") ? apy : 0.0`, true},
	{false, "1 / (peg - peg)", true},
	{false, "apy / 0", true},
	{false, "7 / 2 + apy", true},
	{false, "(apy + 1) * 3 - 2", true},
	{false, `stddev(apy, "3d") + change(tvl, "1d")`, true},
	{false, "params.a * apy - params.b", true},
	{false, "len(tags) * apy", false},
	{false, "let x = apy; x * x", false},
	{false, "float(int(tvl) % 7)", false},
	{true, "peg >= params.a && tvl > 1e6", true},
	{true, "peg >= 0.99 and not (apy < 0) or tvl == 0", true},
	{true, `kind == "lst" && protocol != "lido"`, true},
	{true, `has_tag("layer:eigenlayer") || id == "lido/steth"`, true},
	{true, `not has_tag("protocol:lido")`, true},
	{true, "apy != apy", true},
	{true, "withdrawal_days <= 7 && exit_liquidity > 100 && utilization < 0.9", true},
	{true, "weight > 0 == (apy > 0)", false},
	{true, `all(tags, # startsWith "p")`, false},
	{true, `id matches "^lido"`, false},
}

// randomEnv fills the float fields of env with values that stress IEEE
// edge cases.
func randomEnv(rng *rand.Rand, env *marketEnv) {
	special := []float64{0, math.Copysign(0, -1), 1, -1, 0.99, 1e6, 1e-300, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN()}
	pick := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return special[rng.IntN(len(special))]
		case 1:
			return rng.NormFloat64()
		default:
			return rng.Float64() * math.Pow(10, float64(rng.IntN(12)-4))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(envFloatOffsets)) {
		*(*float64)(unsafe.Add(unsafe.Pointer(env), envFloatOffsets[name])) = pick()
	}
	kinds := []string{"lst", "lrt", "lending", "amm"}
	env.Kind = kinds[rng.IntN(len(kinds))]
	env.Protocol = []string{"lido", "renzo", "aave-v3"}[rng.IntN(3)]
	env.ID = env.Protocol + "/x"
	env.Tags = []string{"protocol:" + env.Protocol, "kind:" + env.Kind}
	if rng.IntN(2) == 0 {
		env.Tags = append(env.Tags, "layer:eigenlayer")
	}
}

// sameFloat reports whether the VM's result and the fast path's agree bit
// for bit (NaNs agree with NaNs).
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// checkFast runs p's fast forms and the VM on n random environments and
// reports the first disagreement.
func checkFast(t *testing.T, src string, p *program, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	m := new(vm.VM)
	var env marketEnv
	envs := make([]marketEnv, 0, n)
	defer func() { checkColumns(t, src, p, envs) }()
	for range n {
		randomEnv(rng, &env)
		envs = append(envs, env)
		run := func(prog *vm.Program) (any, bool) {
			out, err := m.Run(prog, &env)
			return out, err == nil
		}
		if p.fbool != nil {
			if out, ok := run(p.prog); ok {
				if got := p.fbool(&env); out != got {
					t.Fatalf("%s: fast %v, VM %v (env %+v)", src, got, out, env)
				}
			}
		}
		if p.fnum != nil {
			if out, ok := run(p.prog); ok {
				if got := p.fnum(&env); !sameFloat(out.(float64), got) {
					t.Fatalf("%s: fast %v, VM %v (env %+v)", src, got, out, env)
				}
			}
		}
		for _, pt := range p.parts {
			if pt.fprog != nil {
				if out, ok := run(pt.prog); ok && out != pt.fprog(&env) {
					t.Fatalf("%s: term %s: fast %v, VM %v", src, pt.src, pt.fprog(&env), out)
				}
			}
			for _, side := range []struct {
				prog *vm.Program
				f    numFn
			}{{pt.left, pt.fleft}, {pt.right, pt.fright}} {
				if side.f == nil {
					continue
				}
				out, ok := run(side.prog)
				if !ok {
					continue
				}
				v, isFloat := out.(float64)
				if !isFloat || !sameFloat(v, side.f(&env)) {
					t.Fatalf("%s: side of %s: fast %v, VM %v (%T)", src, pt.src, side.f(&env), out, out)
				}
			}
		}
	}
}

// checkColumns runs p's column form, when it has one, over envs (one
// market each) and reports the first market whose value is not the fast
// closure's to the bit.
func checkColumns(t *testing.T, src string, p *program, envs []marketEnv) {
	t.Helper()
	if t.Failed() {
		return
	}
	var cc colCompiler
	var fb colBool
	var fn colNum
	switch {
	case p.fbool != nil:
		fb = cc.boolOf(p.prog)
	case p.fnum != nil:
		fn = cc.numOf(p.prog)
	}
	if fb == nil && fn == nil {
		return
	}
	cp := &colProgs{leaves: cc.leaves}
	var x colRun
	x.reset(len(envs), len(cp.leaves))
	for k := range envs {
		loadLeaves(cp, &x, k, &envs[k])
	}
	if fb != nil {
		out := make([]bool, len(envs))
		fb(&x, out)
		for k := range envs {
			if want := p.fbool(&envs[k]); out[k] != want {
				t.Fatalf("%s: columns %v, fast %v (env %+v)", src, out[k], want, envs[k])
			}
		}
	} else {
		out := make([]float64, len(envs))
		fn(&x, out)
		for k := range envs {
			if want := p.fnum(&envs[k]); !sameFloat(out[k], want) {
				t.Fatalf("%s: columns %v, fast %v (env %+v)", src, out[k], want, envs[k])
			}
		}
	}
	if x.ftop != 0 || x.btop != 0 {
		t.Fatalf("%s: %d number and %d boolean scratch columns not given back", src, x.ftop, x.btop)
	}
}

func loadRule(t *testing.T, eligible bool, src string) (*Strategy, *program) {
	t.Helper()
	which := uint8(1)
	if eligible {
		which = 0
	}
	s, err := Load("fast.yaml", exprTemplate(which, src), nil)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if eligible {
		return s, s.eligible
	}
	return s, s.score
}

func TestCompileFast_MatchesVM(t *testing.T) {
	for _, tc := range fastCorpus {
		t.Run(tc.src, func(t *testing.T) {
			_, p := loadRule(t, tc.eligible, tc.src)
			if got := p.fbool != nil || p.fnum != nil; got != tc.fast {
				t.Errorf("fast path taken = %v, want %v", got, tc.fast)
			}
			checkFast(t, tc.src, p, 2000, 1)
		})
	}
}

// TestCompileColumns lists the corpus's rules that have a column form
// (checkFast compares it with the fast closures on every market) and
// those that do not: windows, strings, tags, conditionals, powers and
// min or max of more than two keep one market at a time.
func TestCompileColumns(t *testing.T) {
	want := map[string]bool{
		"apy": true, "apy + reward_apy * 0.5 - slash_risk": true, "max(apy, 0)": true, "max(0, apy)": true,
		"abs(apy - 0.03) / (tvl + 1)": true, "-apy + +peg": true, "1 / (peg - peg)": true, "apy / 0": true,
		"7 / 2 + apy": true, "(apy + 1) * 3 - 2": true, "params.a * apy - params.b": true,
		"peg >= params.a && tvl > 1e6": true, "peg >= 0.99 and not (apy < 0) or tvl == 0": true,
		"apy != apy": true, "withdrawal_days <= 7 && exit_liquidity > 100 && utilization < 0.9": true,
	}
	for _, tc := range fastCorpus {
		if !tc.fast {
			continue
		}
		_, p := loadRule(t, tc.eligible, tc.src)
		var cc colCompiler
		got := cc.boolOf(p.prog) != nil
		if !tc.eligible {
			got = cc.numOf(p.prog) != nil
		}
		if got != want[tc.src] {
			t.Errorf("%s: column form %v, want %v", tc.src, got, want[tc.src])
		}
	}
}

func FuzzCompileFast(f *testing.F) {
	for _, tc := range fastCorpus {
		f.Add(tc.eligible, tc.src, uint64(1))
	}
	f.Fuzz(func(t *testing.T, eligible bool, src string, seed uint64) {
		which := uint8(1)
		if eligible {
			which = 0
		}
		s, err := Load("fast.yaml", exprTemplate(which, src), nil)
		if err != nil {
			return
		}
		p := s.score
		if eligible {
			p = s.eligible
		}
		if p != nil {
			checkFast(t, src, p, 50, seed)
		}
	})
}

// TestCompileFast_LazyWindows checks that a rule compiled to closures
// computes a window only where it reaches it (marketEnv.lazy), with the
// value the window gives when computed before the rule: behind a kind
// test that already decided, avg(peg, "6h") is not computed; where the
// test holds, the rule reads the computed mean.
func TestCompileFast_LazyWindows(t *testing.T) {
	s := mustLoad(t, "base: ETH\nuniverse: [rocketpool/reth, aave-v3/weth]\nrules: { eligible: \"true\", score: \"1\" }\nexit: { when: 'kind == \"lst\" && avg(peg, \"6h\") < 0.995' }\n")
	if s.exit.fbool == nil {
		t.Fatal("the exit rule is not compiled to closures")
	}
	rows := []row{obs(-5, fPrice, 0.99, fRate, 1), obs(-3, fPrice, 0.992, fRate, 1), obs(0, fPrice, 1.001, fRate, 1)}
	cat := adapters.Builtin()
	st := newState(adapters.ETH, marketState(t, cat, "rocketpool/reth", rows...), marketState(t, cat, "aave-v3/weth", obs(0, fAPY, 0.02)))
	pc := s.takePlanCtx(st.Time.Unix())
	defer s.putPlanCtx(pc)
	pc.have = grow(pc.have, len(s.comp.windows))
	for i, want := range []bool{true, false} {
		pc.enter(i, &st.Markets[i], len(s.comp.windows))
		got, err := pc.runBool(s.exit)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || pc.have[0] != want {
			t.Errorf("market %d: exit %v, window computed %v; want %v, %v", i, got, pc.have[0], want, want)
		}
	}
	// On the LST, the slot holds the mean of the three pegs, as computed
	// before the rule.
	pc.enter(0, &st.Markets[0], len(s.comp.windows))
	pc.ensure(s.exit.windows)
	eager := pc.env.W0
	pc.enter(0, &st.Markets[0], len(s.comp.windows))
	if _, err := pc.runBool(s.exit); err != nil {
		t.Fatal(err)
	}
	if want := (0.99 + 0.992 + 1.001) / 3; pc.env.W0 != eager || math.Abs(eager-want) > 1e-12 {
		t.Errorf("avg(peg, \"6h\") lazily %v, before the rule %v, want %v", pc.env.W0, eager, want)
	}
}

// loadLeaves copies the leaf names' fields of env into column k of the
// run (the tests' environments, which no market state gives).
func loadLeaves(cp *colProgs, x *colRun, k int, env *marketEnv) {
	p := unsafe.Pointer(env)
	for j := range cp.leaves {
		x.cols[j][k] = *(*float64)(unsafe.Add(p, envFloatOffsets[cp.leaves[j].name]))
	}
}
