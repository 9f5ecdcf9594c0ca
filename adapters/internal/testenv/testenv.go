// Package testenv holds the helpers that the tests of the adapter kinds
// (lst, lrt, lending, amm) share: environments built from observed
// values, adapters opened from the built-in catalog or from a test
// profile, and the real-data files of YIELDVAULT_SHARED_DATA.
//
// It is for tests only: its functions fail the test they are given
// (testing.TB) instead of returning errors, and no package but a _test
// package imports it.
package testenv

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	"github.com/yieldvault/yieldvault/fixed"
)

// Env returns an environment at time at whose observation (also at at)
// holds fields.
func Env(at time.Time, fields map[adapters.Field]float64) *adapters.Env {
	o := adapters.Observation{Time: at}
	for f, v := range fields {
		o.Put(f, v)
	}
	return &adapters.Env{Time: at, Obs: o}
}

// EnvKV is Env with the fields given as pairs: an adapters.Field, then its
// value as a float64 or an int. A malformed list (an odd length, a key
// that is not a Field, a value of another type) is a mistake in the test
// and panics, naming the pair.
func EnvKV(at time.Time, kv ...any) *adapters.Env {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("testenv.EnvKV: %d arguments, want field/value pairs", len(kv)))
	}
	e := &adapters.Env{Time: at}
	e.Obs.Time = at
	for i := 0; i < len(kv); i += 2 {
		f, ok := kv[i].(adapters.Field)
		if !ok {
			panic(fmt.Sprintf("testenv.EnvKV: argument %d is a %T, want an adapters.Field", i, kv[i]))
		}
		var v float64
		switch x := kv[i+1].(type) {
		case float64:
			v = x
		case int:
			v = float64(x)
		default:
			panic(fmt.Sprintf("testenv.EnvKV: value of %s is a %T, want a float64 or an int", f, kv[i+1]))
		}
		e.Obs.Put(f, v)
	}
	return e
}

// ConformanceEnv is the environment of the conformance suite's conditions
// c for a market whose position grows at exactly the observed APY: the
// observation holds apy = c.APY, exit_liquidity = c.ExitLiquidity (1e9,
// ample, when it is not > 0) and fields.
func ConformanceEnv(c adaptertest.Conditions, fields map[adapters.Field]float64) adapters.Env {
	o := adapters.Observation{Time: c.Time}
	o.Put(adapters.FieldAPY, c.APY)
	liq := c.ExitLiquidity
	if liq <= 0 {
		liq = 1e9
	}
	o.Put(adapters.FieldExitLiquidity, liq)
	for f, v := range fields {
		o.Put(f, v)
	}
	return adapters.Env{Time: c.Time, Obs: o, GasPrice: c.GasPrice}
}

// Open opens market id from catalog c (the built-in catalog when c is
// nil), failing t when it cannot.
func Open(t testing.TB, c *adapters.Catalog, id string) *adapters.Adapter {
	t.Helper()
	if c == nil {
		c = adapters.Builtin()
	}
	a, err := adapters.Open(c, id)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", id, err)
	}
	return a
}

// Catalog adds profile p and markets ms to catalog c (a new empty catalog
// when c is nil) and returns it, failing t when one is refused.
func Catalog(t testing.TB, c *adapters.Catalog, p adapters.Profile, ms ...adapters.Market) *adapters.Catalog {
	t.Helper()
	if c == nil {
		c = adapters.NewCatalog()
	}
	if err := c.AddProfile(p); err != nil {
		t.Fatalf("AddProfile(%s) error = %v", p.Name, err)
	}
	for _, m := range ms {
		if err := c.AddMarket(m); err != nil {
			t.Fatalf("AddMarket(%s) error = %v", m.ID, err)
		}
	}
	return c
}

// Custom opens market m of a catalog that holds only profile p, with
// params added to p's parameters (their source "test").
func Custom(t testing.TB, p adapters.Profile, params map[string]float64, m adapters.Market) *adapters.Adapter {
	t.Helper()
	ps := make(map[string]adapters.Param, len(p.Params)+len(params))
	for k, v := range p.Params {
		ps[k] = v
	}
	for k, v := range params {
		ps[k] = adapters.Param{Value: v, Source: "test"}
	}
	p.Params = ps
	return Open(t, Catalog(t, nil, p, m), m.ID)
}

// Near reports whether a is within tol of b, relative to b when |b| > 1
// and absolute otherwise.
func Near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// SharedFile returns the path of a file of the shared real-data folder
// named by YIELDVAULT_SHARED_DATA, parts joined below it. It skips the
// test when the variable is unset and fails it when the file is missing.
func SharedFile(t testing.TB, parts ...string) string {
	t.Helper()
	dir := os.Getenv("YIELDVAULT_SHARED_DATA")
	if dir == "" {
		t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the real-data test")
	}
	p := filepath.Join(append([]string{dir}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("real-data file missing: %v", err)
	}
	return p
}

// Column reads the column named name of the CSV file at path, every row
// after the header, as the reference an adapter is checked against. It
// fails t when the file has no such column or a value does not parse,
// naming the file and line.
func Column(t testing.TB, path, name string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: empty file, want a header", path)
	}
	col := -1
	for i, h := range rows[0] {
		if h == name {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s: no %s column", path, name)
	}
	out := make([]float64, 0, len(rows)-1)
	for i, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, i+2, name, err)
		}
		out = append(out, v)
	}
	return out
}

// AccrueSteps is the body of the unit drivers' BenchmarkAccrue (the
// backtest's hot path): it opens market from the built-in catalog and
// deposits 1234.5678 in env, then each op moves env an hour on, accrues
// the position and values it at rate pricing, starting over after a year
// of steps. It reports allocations and position-steps/s.
func AccrueSteps(b *testing.B, market string, env *adapters.Env) {
	a := Open(b, nil, market)
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.RequireFromString("1234.5678"))
	if err != nil {
		b.Fatal(err)
	}
	start, t := pos, env.Time
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%8760 == 0 { // a year of hourly steps, then start over
			pos, env.Time = start, t
		}
		env.Time = env.Time.Add(time.Hour)
		a.Accrue(&pos, env)
		if v := a.Value(&pos, env, adapters.PriceRate); v.Sign() <= 0 {
			b.Fatal("value <= 0")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "position-steps/s")
}
