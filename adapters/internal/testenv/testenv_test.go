package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	_ "github.com/yieldvault/yieldvault/adapters/lst" // the kind TestCustom opens
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// stopTB records how a helper stopped the test (Fatalf or Skip) instead
// of stopping the real one; run calls f on a goroutine of its own, so that
// the helper's stop (runtime.Goexit) ends only that goroutine.
type stopTB struct {
	testing.TB
	fatal, skip string
}

func (s *stopTB) Helper() {}
func (s *stopTB) Fatal(args ...any) {
	s.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}
func (s *stopTB) Fatalf(format string, args ...any) {
	s.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (s *stopTB) Skip(args ...any) {
	s.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

func run(t *testing.T, f func(tb testing.TB)) *stopTB {
	s := &stopTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(s)
	}()
	<-done
	return s
}

func TestEnvKV(t *testing.T) {
	got := EnvKV(t0, adapters.FieldAPY, 0.05, adapters.FieldExitLiquidity, 100)
	want := Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0.05, adapters.FieldExitLiquidity: 100})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EnvKV() mismatch with Env (-want +got):\n%s", diff)
	}
	if got.Time != t0 || got.Obs.Time != t0 {
		t.Errorf("EnvKV() times = %v, %v, want %v", got.Time, got.Obs.Time, t0)
	}
	if v, ok := got.Obs.Get(adapters.FieldExitLiquidity); !ok || v != 100 {
		t.Errorf("EnvKV() exit liquidity = %g, %v, want 100 (an int), true", v, ok)
	}
}

func TestEnvKV_Malformed(t *testing.T) {
	tests := []struct {
		name string
		kv   []any
		want string
	}{
		{"odd length", []any{adapters.FieldAPY}, "1 arguments"},
		{"key not a field", []any{"apy", 0.05}, "argument 0 is a string"},
		{"value of another type", []any{adapters.FieldAPY, "0.05"}, "is a string, want a float64 or an int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tt.want) {
					t.Errorf("EnvKV(%v) panic = %v, want one containing %q", tt.kv, r, tt.want)
				}
			}()
			EnvKV(t0, tt.kv...)
		})
	}
}

func TestCustom(t *testing.T) {
	p := adapters.Profile{Name: "test", Kind: adapters.LST, Base: adapters.ETH,
		Params: map[string]adapters.Param{"withdrawal_days": {Value: 7, Source: "profile"}}}
	a := Custom(t, p, map[string]float64{"gas_deposit": 1000}, adapters.Market{ID: "test/tok", Kind: adapters.LST, Base: adapters.ETH})
	got := a.Profile().Params
	want := map[string]adapters.Param{"withdrawal_days": {Value: 7, Source: "profile"}, "gas_deposit": {Value: 1000, Source: "test"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Custom() profile parameters mismatch (-want +got):\n%s", diff)
	}
	if len(p.Params) != 1 {
		t.Errorf("Custom() changed the caller's profile: %d parameters, want 1", len(p.Params))
	}
	if s := run(t, func(tb testing.TB) { Open(tb, nil, "no/such-market") }); !strings.Contains(s.fatal, "Open(no/such-market) error") {
		t.Errorf("Open of an unknown market: fatal = %q, want an Open error", s.fatal)
	}
}

func TestNear(t *testing.T) {
	tests := []struct {
		a, b, tol float64
		want      bool
	}{
		{1, 1 + 1e-15, 1e-14, true},
		{1, 1 + 1e-13, 1e-14, false},
		{1000, 1000 + 1e-12, 1e-14, true}, // relative above 1
		{1000, 1000 + 1e-10, 1e-14, false},
		{0, 1e-15, 1e-14, true}, // absolute below 1
	}
	for _, tt := range tests {
		if got := Near(tt.a, tt.b, tt.tol); got != tt.want {
			t.Errorf("Near(%g, %g, %g) = %v, want %v", tt.a, tt.b, tt.tol, got, tt.want)
		}
	}
}

func TestSharedFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "set"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "set", "f.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YIELDVAULT_SHARED_DATA", dir)
	if got, want := SharedFile(t, "set", "f.csv"), filepath.Join(dir, "set", "f.csv"); got != want {
		t.Errorf("SharedFile() = %q, want %q", got, want)
	}
	if got, want := SharedFile(t, "set/f.csv"), filepath.Join(dir, "set", "f.csv"); got != want {
		t.Errorf("SharedFile(one path) = %q, want %q", got, want)
	}
	if s := run(t, func(tb testing.TB) { SharedFile(tb, "set", "missing.csv") }); !strings.Contains(s.fatal, "real-data file missing") {
		t.Errorf("missing file: fatal = %q, want a missing-file failure", s.fatal)
	}
	t.Setenv("YIELDVAULT_SHARED_DATA", "")
	if s := run(t, func(tb testing.TB) { SharedFile(tb, "set", "f.csv") }); s.skip == "" || s.fatal != "" {
		t.Errorf("variable unset: skip = %q, fatal = %q, want a skip", s.skip, s.fatal)
	}
}

func TestColumn(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.csv", "time,close\n1,2.5\n2,3\n")
	if diff := cmp.Diff([]float64{2.5, 3}, Column(t, good, "close")); diff != "" {
		t.Errorf("Column() mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		name, path, col, want string
	}{
		{"no such column", good, "open", "no open column"},
		{"bad value", write("bad.csv", "time,close\n1,2.5\n2,x\n"), "close", "bad.csv:3: close"},
		{"empty file", write("empty.csv", ""), "close", "empty file"},
		{"missing file", filepath.Join(dir, "none.csv"), "close", "none.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := run(t, func(tb testing.TB) { Column(tb, tt.path, tt.col) })
			if !strings.Contains(s.fatal, tt.want) {
				t.Errorf("Column(%s, %s) fatal = %q, want one containing %q", tt.path, tt.col, s.fatal, tt.want)
			}
		})
	}
}

func TestConformanceEnv(t *testing.T) {
	tests := []struct {
		name   string
		c      adaptertest.Conditions
		fields map[adapters.Field]float64
		want   map[adapters.Field]float64
	}{
		{"ample liquidity when not given", adaptertest.Conditions{Time: t0, APY: 0.03, GasPrice: 20}, nil,
			map[adapters.Field]float64{adapters.FieldAPY: 0.03, adapters.FieldExitLiquidity: 1e9}},
		{"given liquidity and fields", adaptertest.Conditions{Time: t0, APY: 0.03, ExitLiquidity: 5, GasPrice: 20},
			map[adapters.Field]float64{adapters.FieldUtilization: 0.8},
			map[adapters.Field]float64{adapters.FieldAPY: 0.03, adapters.FieldExitLiquidity: 5, adapters.FieldUtilization: 0.8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ConformanceEnv(tt.c, tt.fields)
			want := *Env(t0, tt.want)
			want.GasPrice = 20
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ConformanceEnv() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
