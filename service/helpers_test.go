package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	_ "github.com/yieldvault/yieldvault/adapters/all" // every market kind
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

var (
	defaultOnce sync.Once
	defaultHist *history.DB
	defaultErr  error
)

// sharedHistory is one in-memory copy of the embedded history for the
// tests that only read it.
func sharedHistory(t testing.TB) *history.DB {
	t.Helper()
	defaultOnce.Do(func() { defaultHist, defaultErr = synth.OpenDefault(context.Background()) })
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultHist
}

var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

const testToken = "test-token-0123456789abcdef"

// writeConfig writes a service config into a temp folder with the given
// vaults block (YAML, indented under vaults:) and extra top-level YAML.
func writeConfig(t testing.TB, extra, vaults string) string {
	t.Helper()
	dir := t.TempDir()
	strat, err := filepath.Abs("../examples/strategies")
	if err != nil {
		t.Fatal(err)
	}
	body := "state_db: state.db\n" + extra + "\nvaults:\n" + strings.ReplaceAll(vaults, "$STRAT", strat)
	p := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadConfigIn writes text as dir/service.yaml and loads it.
func loadConfigIn(t testing.TB, dir, text string) *Config {
	t.Helper()
	p := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newTestService loads a config and builds a manual-clock service on the
// shared history.
func newTestService(t testing.TB, path string, clock *ManualClock) *Service {
	t.Helper()
	return newTestServiceOn(t, path, clock, "")
}

// newTestServiceOn is newTestService on the state database dsn (a SQLite
// file or a PostgreSQL URL; "" keeps the config's).
func newTestServiceOn(t testing.TB, path string, clock *ManualClock, dsn string) *Service {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if dsn != "" {
		cfg.StateDB = dsn
	}
	s, err := New(context.Background(), cfg, Options{
		Wall: time.Now, Clock: clock, History: sharedHistory(t), Manual: true,
		Getenv: func(string) string { return testToken },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// metricValue reads a gauge's or counter's value.
func metricValue(t testing.TB, c prometheus.Collector) float64 {
	t.Helper()
	m, ok := c.(prometheus.Metric)
	if !ok {
		t.Fatalf("%T is not a single metric", c)
	}
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	case d.Counter != nil:
		return d.Counter.GetValue()
	}
	t.Fatalf("metric %v is neither a gauge nor a counter", d.String())
	return 0
}
