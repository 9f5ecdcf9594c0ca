package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

var (
	defaultOnce sync.Once
	defaultDB   *history.DB
	defaultErr  error
)

// defaultHistory opens the embedded default history once per process.
func defaultHistory(t testing.TB) *history.DB {
	t.Helper()
	defaultOnce.Do(func() { defaultDB, defaultErr = synth.OpenDefault(context.Background()) })
	if defaultErr != nil {
		t.Fatal(defaultErr)
	}
	return defaultDB
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func loadExample(t testing.TB, name string) *rules.Strategy {
	t.Helper()
	s, err := rules.LoadFile("../examples/strategies/"+name, adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRun_Example(t *testing.T) {
	db := defaultHistory(t)
	ctx := context.Background()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-09-01")
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100), Source: "embedded"}
	res, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.MarshalIndent(res, "", " ")
	t.Logf("%s", j)
	res2, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	j2, _ := json.MarshalIndent(res2, "", " ")
	if string(j) != string(j2) {
		t.Errorf("two runs of the same spec differ")
	}
	_ = errors.Is
}
