package history_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

var (
	aaveUSDC = adapters.Market{ID: "aave-v3/usdc", Kind: adapters.Lending, Base: adapters.USD}
	curveSE  = adapters.Market{ID: "curve/steth-eth", Kind: adapters.AMM, Base: adapters.ETH}
)

// dump returns every stored observation and the import log as text.
func dump(t *testing.T, db *history.DB) string {
	t.Helper()
	ctx := context.Background()
	infos, err := db.Markets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, in := range infos {
		b.WriteString(in.Market.String())
		if in.Rows == 0 {
			continue
		}
		w, err := db.Load(ctx, []string{in.Market.ID}, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range w.Series {
			for i := range s.Times {
				o := s.At(i)
				b.WriteString(o.Time.String())
				for f := adapters.Field(0); f < adapters.NumFields; f++ {
					if v, ok := o.Get(f); ok {
						b.WriteString(" " + f.String() + "=" + strconv.FormatFloat(v, 'g', -1, 64))
					}
				}
				b.WriteByte('\n')
			}
		}
	}
	imps, err := db.Imports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imps {
		b.WriteString(im.Source + " " + im.SHA256 + "\n")
	}
	return b.String()
}

// TestWrite_Implausible: values that break the plausibility bounds are
// refused with the row's file:line and leave the database as it was; with
// AllowImplausible they are stored with a warning and Check reports them.
func TestWrite_Implausible(t *testing.T) {
	daily := func(i int) time.Time { return t0.Add(time.Duration(i) * 24 * time.Hour) }
	lidoRows := func(apy float64) []history.Row {
		var rows []history.Row
		for i := range 20 {
			rows = append(rows, row("lido/steth", i+2, obs(daily(i), adapters.FieldAPY, apy)))
		}
		return rows
	}
	lidoLevel := steth
	lidoLevel.Params = map[string]float64{"typical_tvl": 1.9e10}
	lidoLevel.Sources = map[string]string{"typical_tvl": "DefiLlama"}
	uniLevel := adapters.Market{ID: "uniswap-v3/weth-usdt", Kind: adapters.AMM, Base: adapters.ETH, Params: map[string]float64{"typical_volume": 4850}}
	lidoTVL := func(tvl float64) []history.Row {
		var rows []history.Row
		for i := range 20 {
			rows = append(rows, row("lido/steth", i+2, obs(daily(i), adapters.FieldTVL, tvl*(1+0.01*float64(i%3)))))
		}
		return rows
	}
	uniVolume := func(v float64) []history.Row {
		var rows []history.Row
		for i := range 20 {
			rows = append(rows, row("uniswap-v3/weth-usdt", i+2, obs(hour(i), adapters.FieldVolume, v)))
		}
		return rows
	}
	tests := []struct {
		name    string
		markets []adapters.Market
		rows    []history.Row
		wantPos string
		wantMsg string
	}{
		{"APY x100 (percent read twice)", []adapters.Market{steth}, lidoRows(3.5), "f.csv:2", "apy 3.5 is outside the plausible range [-0.5, 1]"},
		{"APY /100: the median", []adapters.Market{steth}, lidoRows(0.00035), "f.csv:2", "observations is 0.00035, outside the plausible [0.005, 0.5]"},
		{"APY above 1000%", []adapters.Market{aaveUSDC}, []history.Row{row("aave-v3/usdc", 7, obs(t0, adapters.FieldAPY, 12.0))}, "f.csv:7", "apy 12 is outside the plausible range [-1, 10]"},
		{"rate below 0.5", []adapters.Market{reth}, []history.Row{row("rocketpool/reth", 3, obs(t0, adapters.FieldExchangeRate, 0.011))}, "f.csv:3", "exchange_rate 0.011 is outside"},
		{"index x1e18 in one row", []adapters.Market{steth}, []history.Row{
			row("lido/steth", 2, obs(hour(0), adapters.FieldIndex, 1.01)),
			row("lido/steth", 3, obs(hour(1), adapters.FieldIndex, 1.01e18)),
		}, "f.csv:3", "liquidity_index 1.01e+18 is outside the plausible range [0.5, 10]: x1e18 (wei)?"},
		{"index jump within the range", []adapters.Market{steth}, []history.Row{
			row("lido/steth", 2, obs(hour(0), adapters.FieldIndex, 1.01)),
			row("lido/steth", 3, obs(hour(1), adapters.FieldIndex, 2.02)),
		}, "f.csv:3", "liquidity_index moved from 1.01 to 2.02 (x2) in one step of 1h0m0s"},
		{"TVL spike in one row", []adapters.Market{steth}, []history.Row{
			row("lido/steth", 2, obs(hour(0), adapters.FieldTVL, 1e9)),
			row("lido/steth", 3, obs(hour(1), adapters.FieldTVL, 1e11)),
			row("lido/steth", 4, obs(hour(2), adapters.FieldTVL, 1e9)),
		}, "f.csv:3", "tvl 1e+11 differs from both neighbouring observations by more than x20"},
		{"supply APY above the borrow rate", []adapters.Market{aaveUSDC}, []history.Row{
			row("aave-v3/usdc", 5, obs(t0, adapters.FieldAPY, 3.2, adapters.FieldBorrowAPY, 0.045, adapters.FieldUtilization, 0.8)),
		}, "f.csv:5", "supply apy 3.2 is 88.9 times borrow_apy"},
		{"TVL /100: the median against the market's documented level", []adapters.Market{lidoLevel}, lidoTVL(1.9e8), "f.csv:2",
			"the median tvl of 20 observations is 1.919e+08, outside the plausible [1.9e+09, 1.9e+11] (within x10 of the market's documented level typical_tvl = 1.9e+10"},
		{"volume /100: the median against the pool's documented level", []adapters.Market{uniLevel}, uniVolume(48.5), "f.csv:2",
			"the median volume of 20 observations is 48.5, outside the plausible [485, 48500]"},
		{"pool TVL not its balances", []adapters.Market{curveSE}, []history.Row{
			row("curve/steth-eth", 4, obs(t0, adapters.FieldBalance0, 2258.0, adapters.FieldBalance1, 591886.0, adapters.FieldPrice, 0.97, adapters.FieldBaseUSD, 1679.0, adapters.FieldTVL, 1.347e9)),
		}, "f.csv:4", "tvl 1.347e+09 USD is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openMem(t)
			mustWrite(t, db, &history.Batch{Source: "before.csv", Markets: []adapters.Market{steth, reth, aaveUSDC, curveSE, uniLevel},
				Rows: []history.Row{row("lido/steth", 2, obs(t0.Add(-48*time.Hour), adapters.FieldAPY, 0.03))}})
			before := dump(t, db)
			_, err := db.Write(ctx, &history.Batch{Source: "f.csv", Markets: tt.markets, Rows: tt.rows})
			var ae *adapters.Error
			if !errors.As(err, &ae) || ae.Kind != adapters.KindInvalid {
				t.Fatalf("Write: got %v, want a KindInvalid error", err)
			}
			if ae.Pos != tt.wantPos || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Write error = %q at %q, want %q at %q", err, ae.Pos, tt.wantMsg, tt.wantPos)
			}
			if after := dump(t, db); after != before {
				t.Errorf("the database changed after a refused import:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// The explicit override stores it, with a warning, and Check
			// reports it.
			res, err := db.Write(ctx, &history.Batch{Source: "f.csv", Markets: tt.markets, Rows: tt.rows, AllowImplausible: true})
			if err != nil {
				t.Fatalf("Write with AllowImplausible: %v", err)
			}
			if !hasIssue(res.Warnings, history.IssueImplausible, tt.wantMsg) {
				t.Errorf("warnings %v lack %q", res.Warnings, tt.wantMsg)
			}
			issues, err := db.Check(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !hasIssue(issues, history.IssueImplausible, tt.wantMsg) {
				t.Errorf("Check %v lacks %q", issues, tt.wantMsg)
			}
		})
	}
}

func hasIssue(is []history.Issue, kind, msg string) bool {
	for _, i := range is {
		if i.Kind == kind && strings.Contains(i.Msg, msg) {
			return true
		}
	}
	return false
}

// TestWrite_ImplausibleTimes: rows dated 9999-12-31 or 1969-12-31 are
// refused with file:line whatever the override says (issue 19, fault 9).
func TestWrite_ImplausibleTimes(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "9999-12-31T00:00:00Z is after 2100-01-01"},
		{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "1969-12-31T00:00:00Z is before 2015-07-30"},
	} {
		db := openMem(t)
		before := dump(t, db)
		for _, allow := range []bool{false, true} {
			_, err := db.Write(context.Background(), &history.Batch{Source: "f.csv", Markets: []adapters.Market{steth}, AllowImplausible: allow,
				Rows: []history.Row{row("lido/steth", 2, obs(t0, adapters.FieldAPY, 0.03)), row("lido/steth", 3, obs(tc.t, adapters.FieldAPY, 0.03))}})
			var ae *adapters.Error
			if !errors.As(err, &ae) || ae.Pos != "f.csv:3" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write(%s, allow %v) = %v, want an error at f.csv:3 saying %q", tc.t, allow, err, tc.want)
			}
		}
		if after := dump(t, db); after != before {
			t.Errorf("the database changed after a refused import")
		}
	}
}

// TestCheck_TimesAndGaps: a row dated 9999 written behind the store's back
// is reported, and the gap to it is a positive number of days; a market
// merged from a daily and an hourly file has no gap where either runs.
func TestCheck_TimesAndGaps(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := history.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []history.Row
	// 60 daily rows, then 100 hourly rows, then a real 10-day hole and 60
	// more hourly rows.
	day0 := t0.Add(-60 * 24 * time.Hour)
	for i := range 60 {
		rows = append(rows, row("lido/steth", len(rows)+2, obs(day0.Add(time.Duration(i)*24*time.Hour), adapters.FieldAPY, 0.03)))
	}
	for i := range 100 {
		rows = append(rows, row("lido/steth", len(rows)+2, obs(hour(i), adapters.FieldAPY, 0.03)))
	}
	hole := hour(99).Add(10 * 24 * time.Hour)
	for i := range 60 {
		rows = append(rows, row("lido/steth", len(rows)+2, obs(hole.Add(time.Duration(i)*time.Hour), adapters.FieldAPY, 0.03)))
	}
	mustWrite(t, db, &history.Batch{Source: "m.csv", Markets: []adapters.Market{steth}, Rows: rows})
	issues, err := db.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var gaps []string
	for _, is := range issues {
		if is.Kind == history.IssueGap {
			gaps = append(gaps, is.Msg)
		}
	}
	wantGap := "no observation from 2024-01-05T03:00:00Z to 2024-01-15T03:00:00Z (10d; usual step here 1h0m0s)"
	if len(gaps) != 1 || gaps[0] != wantGap {
		t.Errorf("gaps = %q, want only %q", gaps, wantGap)
	}

	raw, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	if _, err := raw.Exec("INSERT INTO observations(market_id, ts, apy) SELECT pk, ?, 0.03 FROM markets WHERE id = 'lido/steth'", far); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	issues, err = db.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasIssue(issues, history.IssueBadTime, "9999-12-31T00:00:00Z is after 2100-01-01") {
		t.Errorf("Check %v does not report the row of 9999", issues)
	}
	for _, is := range issues {
		if strings.Contains(is.Msg, "(-") {
			t.Errorf("a negative duration: %s", is)
		}
	}
}

// TestCheck_FreeLiquidity: a lending market's free liquidity from one
// file against supply minus borrows from another, observed within a day:
// in the same unit the pair passes; x100 or /100 is reported by Check (a
// Write of one file cannot see the other's), with a median of 10 pairs.
func TestCheck_FreeLiquidity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		factor float64
		want   bool
	}{{"same unit", 1, false}, {"x100", 100, true}, {"/100", 0.01, true}, {"x5", 5, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openMem(t)
			var sizes, free []history.Row
			for i := range 12 {
				day := t0.Add(time.Duration(i) * 24 * time.Hour)
				// Messari's 23:xx snapshot, DefiLlama's next midnight.
				s, b := 1e8*(1+0.1*float64(i%4)), 8e7
				sizes = append(sizes, row("aave-v3/usdc", i+2, obs(day.Add(23*time.Hour), adapters.FieldSupply, s, adapters.FieldBorrows, b)))
				free = append(free, row("aave-v3/usdc", i+2, obs(day.Add(24*time.Hour), adapters.FieldExitLiquidity, (s-b)*1.02*tc.factor)))
			}
			mustWrite(t, db, &history.Batch{Source: "messari.csv", Markets: []adapters.Market{aaveUSDC}, Rows: sizes})
			mustWrite(t, db, &history.Batch{Source: "llama.csv", Markets: []adapters.Market{aaveUSDC}, Rows: free})
			issues, err := db.Check(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := hasIssue(issues, history.IssueImplausible, "times supply - borrows observed within a day (the median of 12 pairs")
			if got != tc.want {
				t.Errorf("free liquidity %g x supply - borrows: reported %v, want %v (%v)", 1.02*tc.factor, got, tc.want, issues)
			}
		})
	}
}
