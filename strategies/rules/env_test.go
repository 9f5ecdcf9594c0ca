package rules

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"unsafe"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// slotVals are distinct values for every parameter slot.
func slotVals(n int) []float64 {
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = 0.5 + float64(i)
	}
	return vals
}

// vmRead compiles name against env's type and runs it on env.
func vmRead(t *testing.T, env any, name string) float64 {
	t.Helper()
	p, err := expr.Compile(name, expr.Env(reflect.Indirect(reflect.ValueOf(env)).Interface()), expr.AsFloat64())
	if err != nil {
		t.Fatalf("compile %s for %T: %v", name, env, err)
	}
	out, err := vm.Run(p, env)
	if err != nil {
		t.Fatalf("run %s on %T: %v", name, env, err)
	}
	return out.(float64)
}

// TestParamSlots_SetP checks that the parameter slots both environments
// embed are set by slot id and read under their promoted names by expr's
// VM and by the closure compiler's offsets.
func TestParamSlots_SetP(t *testing.T) {
	vals := slotVals(MaxParams)
	var (
		me marketEnv
		ve vaultEnv
	)
	me.setParams(vals)
	ve.setParams(vals)
	for i, want := range vals {
		name := paramsIdent + strconv.Itoa(i)
		if got := vmRead(t, &me, name); got != want {
			t.Errorf("marketEnv %s via VM = %v, want %v", name, got, want)
		}
		if got := vmRead(t, &ve, name); got != want {
			t.Errorf("vaultEnv %s via VM = %v, want %v", name, got, want)
		}
		off, ok := envFloatOffsets[name]
		if !ok {
			t.Errorf("envFloatOffsets has no %s", name)
			continue
		}
		if got := floatField(off)(&me); got != want {
			t.Errorf("marketEnv %s via closure = %v, want %v", name, got, want)
		}
	}
}

// TestParamSlots_SetParams checks that a short list sets its slots and
// leaves the others as they were, and that a slot past the last is ignored.
func TestParamSlots_SetParams(t *testing.T) {
	var got paramSlots
	got.P5 = 7
	got.setParams([]float64{1, 2, 3})
	got.setP(MaxParams, 9)
	got.setP(-1, 9)
	want := paramSlots{P0: 1, P1: 2, P2: 3, P5: 7}
	if got != want {
		t.Errorf("setParams([1 2 3]) over P5=7 = %+v, want %+v", got, want)
	}
}

// TestMarketEnv_SetW checks the window slots the same way.
func TestMarketEnv_SetW(t *testing.T) {
	var e marketEnv
	vals := slotVals(MaxWindows)
	for i, v := range vals {
		e.setW(i, v)
	}
	for i, want := range vals {
		name := windowsIdent + strconv.Itoa(i)
		if got := vmRead(t, &e, name); got != want {
			t.Errorf("%s via VM = %v, want %v", name, got, want)
		}
		if got := floatField(envFloatOffsets[name])(&e); got != want {
			t.Errorf("%s via closure = %v, want %v", name, got, want)
		}
	}
}

// TestMarketEnv_Offsets checks that the closure compiler's offsets name
// exactly the float and string fields expr resolves, promoted ones
// included, and nothing else (an embedded struct is not itself a name).
func TestMarketEnv_Offsets(t *testing.T) {
	for _, name := range []string{"paramSlots", "P0", "W0"} {
		if _, err := expr.Compile(name, expr.Env(marketEnv{})); err == nil {
			t.Errorf("expr resolves %q in marketEnv, want an unknown name", name)
		}
	}
	wantFloats := MaxWindows + MaxParams + MaxGroups
	for _, d := range Names {
		if d.Scope != ScopeVault && d.Type == "float" {
			wantFloats++
		}
	}
	if got := len(envFloatOffsets); got != wantFloats {
		t.Errorf("len(envFloatOffsets) = %d, want %d", got, wantFloats)
	}
	if got, want := len(envStringOffsets), 3; got != want {
		t.Errorf("len(envStringOffsets) = %d, want %d", got, want)
	}
	if got, want := envFloatOffsets[paramsIdent+"0"], unsafe.Offsetof(marketEnv{}.paramSlots)+unsafe.Offsetof(paramSlots{}.P0); got != want {
		t.Errorf("offset of __p0 = %d, want %d", got, want)
	}
}

func TestFieldOffset(t *testing.T) {
	type inner struct{ A, B float64 }
	type outer struct {
		X float64
		inner
		*paramSlots
	}
	typ := reflect.TypeOf(outer{})
	tests := []struct {
		name   string
		index  []int
		want   uintptr
		wantOK bool
	}{
		{"own field", []int{0}, 0, true},
		{"promoted by value", []int{1, 1}, unsafe.Offsetof(outer{}.inner) + unsafe.Offsetof(inner{}.B), true},
		{"through a pointer", []int{2, 0}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fieldOffset(typ, tc.index)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("fieldOffset(outer, %v) = %d, %v, want %d, %v", tc.index, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestLeafCols compares each name a column plan computes alone
// (leafCols) with the field marketEnv.fill sets, to the bit, on runs of
// random markets of several profiles (their own parameters or not),
// observed with random fields or not, held or not, with and without the
// holding names; and checks that every float market name is either among
// them or one a column plan leaves to the market-by-market plan.
func TestLeafCols(t *testing.T) {
	left := map[string]bool{"score": true, "leverage": true, "health_factor": true, "ltv": true, "loop_apy": true,
		"liquidation_drop": true, "max_leverage": true, "oracle_gap": true}
	for _, d := range Names {
		if d.Scope != ScopeVault && d.Type == "float" && leafCols[d.Name] == nil && !left[d.Name] {
			t.Errorf("%s: no leafCol and not among the names a column plan leaves", d.Name)
		}
	}
	cat := adapters.Builtin()
	if err := cat.AddMarket(adapters.Market{ID: "etherfi/weeth-own", Kind: adapters.LRT, Base: adapters.ETH,
		Params: map[string]float64{"reward_haircut": 0.3, "withdrawal_days": 9, "exit_liquidity": 40}}); err != nil {
		t.Fatal(err)
	}
	ids := []string{"lido/steth", "coinbase/cbeth", "etherfi/weeth-own", "aave-v3/weth", "kelp/rseth"}
	fields := []adapters.Field{adapters.FieldAPY, adapters.FieldRewardAPY, adapters.FieldExchangeRate, adapters.FieldPrice,
		adapters.FieldTVL, adapters.FieldUtilization, adapters.FieldBorrowAPY, adapters.FieldWithdrawalDays,
		adapters.FieldExitLiquidity, adapters.FieldVolume}
	rng := rand.New(rand.NewPCG(5, 9))
	for run := range 20 {
		r := leafRun{t: planTime.Unix(), holding: run%2 == 0}
		var consts []profileConsts
		for k := range 40 {
			id := ids[rng.IntN(len(ids))]
			var kv []float64
			for _, f := range fields {
				if rng.IntN(2) == 0 {
					kv = append(kv, float64(f), []float64{0, 1, 0.03, 120, 1e9, -0.5}[rng.IntN(6)]*(0.5+rng.Float64()))
				}
			}
			var rows []row
			if rng.IntN(6) > 0 {
				rows = append(rows, obs(-float64(rng.IntN(90)), kv...))
			}
			ms := marketState(t, cat, id, rows...)
			if rng.IntN(2) == 0 {
				ms.Value = fixed.NewFromInt(int64(rng.IntN(500)))
				ms.Weight = rng.Float64()
			}
			r.ms = append(r.ms, ms)
			if rng.IntN(4) > 0 { // the run evaluates some markets only
				r.idx = append(r.idx, k)
				consts = append(consts, constsOf(ms.Profile))
			}
		}
		for k := range consts {
			r.c = append(r.c, &consts[k])
		}
		for name, col := range leafCols {
			out := make([]float64, len(r.idx))
			col(&r, out)
			for k, i := range r.idx {
				var env marketEnv
				env.fill(&r.ms[i], nil, r.c[k], r.t, r.holding)
				want := *(*float64)(unsafe.Add(unsafe.Pointer(&env), envFloatOffsets[name]))
				if math.Float64bits(out[k]) != math.Float64bits(want) && !(math.IsNaN(out[k]) && math.IsNaN(want)) {
					t.Fatalf("run %d, %s of %s (holding %v, obs %+v, value %v): %v, fill %v", run, name, r.ms[i].Market.ID, r.holding, r.ms[i].Obs, r.ms[i].Value, out[k], want)
				}
			}
		}
	}
}
