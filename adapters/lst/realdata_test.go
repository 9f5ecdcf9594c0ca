package lst_test

import (
	"encoding/csv"
	"io"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// readCSV returns (unix seconds, value) for every row of a CSV file whose
// value column is not empty. ms says the time column is in milliseconds.
func readCSV(t *testing.T, path string, timeCol, valCol int, ms bool) (times []int64, vals []float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil { // header
		t.Fatalf("%s: %v", path, err)
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		if rec[valCol] == "" {
			continue
		}
		ts, err := strconv.ParseInt(rec[timeCol], 10, 64)
		if err != nil {
			t.Fatalf("%s:%d: time: %v", path, line, err)
		}
		v, err := strconv.ParseFloat(rec[valCol], 64)
		if err != nil {
			t.Fatalf("%s:%d: value: %v", path, line, err)
		}
		if ms {
			ts /= 1000
		}
		times = append(times, ts)
		vals = append(vals, v)
	}
	return times, vals
}

// TestRealData_RETH holds rETH over the whole Rocket Pool exchange-rate
// file: the position's value grows exactly as the rate.
func TestRealData_RETH(t *testing.T) {
	path := testenv.SharedFile(t, "reth-exchange-rate/reth_exchange_rate.csv")
	times, rates := readCSV(t, path, 1, 7, false)
	if len(rates) < 1000 {
		t.Fatalf("%s: %d rates, want the whole file (over 1000)", path, len(rates))
	}
	a := testenv.Open(t, nil, "rocketpool/reth")
	env := &adapters.Env{}
	at := func(i int) *adapters.Env {
		env.Time = time.Unix(times[i], 0).UTC()
		env.Obs = adapters.Observation{Time: env.Time}
		env.Obs.Put(adapters.FieldExchangeRate, rates[i])
		return env
	}
	pos, f, err := a.Deposit(a.NewPosition(), at(0), fixed.FromDec(dec("100")))
	if err != nil {
		t.Fatal(err)
	}
	v0 := f.Value.InexactFloat64()
	worst := 0.0
	last := 0
	for i := 1; i < len(rates); i++ {
		if times[i] <= times[last] {
			continue // the file repeats a few updates (2022-11-19..21); history keeps one row per time
		}
		last = i
		e := at(i)
		a.Accrue(&pos, e)
		got := a.Value(&pos, e, adapters.PriceRate).InexactFloat64() / v0
		want := rates[i] / rates[0]
		worst = math.Max(worst, math.Abs(got/want-1))
	}
	if worst > 1e-12 {
		t.Errorf("value/initial value departs from rate/initial rate by up to %.3g, want <= 1e-12", worst)
	}
	if got := pos.Index; got != rates[last] {
		t.Errorf("final index = %.17g, want the file's last rate %.17g", got, rates[last])
	}
	t.Logf("rETH %s .. %s: value x%.6f (rate %.6f -> %.6f), worst relative departure %.3g", time.Unix(times[0], 0).UTC().Format("2006-01-02"),
		time.Unix(times[last], 0).UTC().Format("2006-01-02"), rates[last]/rates[0], rates[0], rates[last], worst)
}

// TestRealData_StETHDepeg holds stETH through 2022 valued at market price
// from the CoinGecko stETH/ETH series: the market value falls to 0.9306 of
// NAV on 2022-06-18, the low of the June 2022 depeg.
func TestRealData_StETHDepeg(t *testing.T) {
	path := testenv.SharedFile(t, "steth-usd-coingecko-hourly/steth_eth_hourly_derived.csv")
	times, prices := readCSV(t, path, 0, 5, true)
	from := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	a := testenv.Open(t, nil, "lido/steth")
	env := &adapters.Env{}
	var (
		pos      adapters.Position
		started  bool
		minRatio = math.Inf(1)
		minAt    int64
		rows     int
		prevT    int64
	)
	for i, ts := range times {
		if ts < from || ts >= to || ts <= prevT {
			continue
		}
		prevT = ts
		env.Time = time.Unix(ts, 0).UTC()
		env.Obs = adapters.Observation{Time: env.Time}
		env.Obs.Put(adapters.FieldPrice, prices[i])
		env.Obs.Put(adapters.FieldAPY, 0.04) // Lido's APY in 2022 was 3.5-4.5%; the peg does not depend on it
		if !started {
			var err error
			if pos, _, err = a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("100"))); err != nil {
				t.Fatal(err)
			}
			started = true
			continue
		}
		rows++
		a.Accrue(&pos, env)
		nav := a.Value(&pos, env, adapters.PriceRate).InexactFloat64()
		mkt := a.Value(&pos, env, adapters.PriceMarket).InexactFloat64()
		if r := mkt / nav; r < minRatio {
			minRatio, minAt = r, ts
		}
	}
	if rows < 5000 {
		t.Fatalf("%d hourly rows in 2022, want most of a year", rows)
	}
	if math.Abs(minRatio-0.930592) > 1e-9 {
		t.Errorf("lowest market value / NAV = %.9f, want 0.930592", minRatio)
	}
	if got := time.Unix(minAt, 0).UTC().Format("2006-01-02 15"); got != "2022-06-18 20" {
		t.Errorf("lowest point at %s, want 2022-06-18 20 (UTC hour)", got)
	}
	if grew := a.Value(&pos, env, adapters.PriceRate).InexactFloat64() / 100; grew < 1.035 || grew > 1.041 {
		t.Errorf("NAV grew x%.4f over 2022 at 4%% APY, want about x1.04", grew)
	}
}
