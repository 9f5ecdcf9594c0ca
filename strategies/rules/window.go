package rules

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// winOp is a window function.
type winOp uint8

const (
	winAvg winOp = iota
	winMin
	winMax
	winStddev
	winChange
)

var winOpNames = [...]string{winAvg: "avg", winMin: "min", winMax: "max", winStddev: "stddev", winChange: "change"}

func (o winOp) String() string { return winOpNames[o] }

func parseWinOp(s string) (winOp, bool) {
	for i, n := range winOpNames {
		if n == s {
			return winOp(i), true
		}
	}
	return 0, false
}

// window is one window call, resolved at load: a function, a per-market
// name and a look-back in seconds. Text is its canonical form for Reads.
type window struct {
	Op    winOp
	Name  string // a NameDoc with Window set
	Secs  int64
	Text  string // avg(apy, "7d")
	field adapters.Field
}

// MaxLookback bounds the duration of a window or an allocation look-back.
const MaxLookback = 5 * 365 * 24 * time.Hour

// ParseLookback parses a look-back duration: a positive number followed by
// a unit, "30m", "24h", "7d", "2w", or a Go duration such as "1h30m".
// Durations are at least one minute and at most five years.
func ParseLookback(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(t, "d"); ok {
		d, ok = scaled(n, 24*time.Hour)
		if !ok {
			return 0, fmt.Errorf("bad duration %q (want e.g. \"7d\", \"24h\", \"30m\")", s)
		}
	} else if n, ok := strings.CutSuffix(t, "w"); ok {
		d, ok = scaled(n, 7*24*time.Hour)
		if !ok {
			return 0, fmt.Errorf("bad duration %q (want e.g. \"2w\", \"7d\", \"24h\")", s)
		}
	} else {
		var err error
		d, err = time.ParseDuration(t)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q (want e.g. \"7d\", \"24h\", \"30m\")", s)
		}
	}
	if d < time.Minute {
		return 0, fmt.Errorf("duration %q is shorter than one minute", s)
	}
	if d > MaxLookback {
		return 0, fmt.Errorf("duration %q is longer than five years", s)
	}
	return d, nil
}

func scaled(n string, unit time.Duration) (time.Duration, bool) {
	v, err := strconv.ParseFloat(n, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v > 1e6 {
		return 0, false
	}
	return time.Duration(v * float64(unit)), true
}

// windowField maps a window-capable name to the observation field that
// must be present in a row for the row to count.
func windowField(name string) (adapters.Field, bool) {
	switch name {
	case "apy", "net_apy":
		return adapters.FieldAPY, true
	case "reward_apy":
		return adapters.FieldRewardAPY, true
	case "peg", "price":
		return adapters.FieldPrice, true
	case "tvl":
		return adapters.FieldTVL, true
	case "utilization":
		return adapters.FieldUtilization, true
	case "borrow_apy":
		return adapters.FieldBorrowAPY, true
	case "withdrawal_days":
		return adapters.FieldWithdrawalDays, true
	case "exit_liquidity":
		return adapters.FieldExitLiquidity, true
	case "volume":
		return adapters.FieldVolume, true
	}
	return 0, false
}

// rowValue is the value of a window-capable name in row i of s.
func rowValue(name string, s *adapters.Series, i int, scratch *strategies.MarketState) float64 {
	col := func(f adapters.Field) float64 {
		if c := s.Cols[f]; c != nil {
			return c[i]
		}
		return 0
	}
	switch name {
	case "peg":
		p := col(adapters.FieldPrice)
		r := 1.0
		if s.Set[i].Has(adapters.FieldExchangeRate) {
			r = col(adapters.FieldExchangeRate)
		}
		if r <= 0 {
			return 1
		}
		return p / r
	case "net_apy":
		s.Fill(i, &scratch.Obs)
		return strategies.NetAPY(scratch)
	}
	f, _ := windowField(name)
	return col(f)
}

// compute evaluates w for a market at unix time t. Rows considered are
// those of the series at or before both t and row (the MarketState's Row),
// within (t - Secs, t], that observed the name's field. With no such row
// avg, min and max fall back to cur (the current value), stddev and change
// to 0. change is (last - first) / |first| where first is the value at the
// last row at or before t - Secs (or the first row in the window when the
// history starts later), skipping leading zeros; 0 when every value is 0.
func (w *window) compute(ms *strategies.MarketState, t int64, cur float64, scratch *strategies.MarketState) float64 {
	s := ms.Series
	if s == nil || ms.Row < 0 || s.Len() == 0 {
		if w.Op == winStddev || w.Op == winChange {
			return 0
		}
		return cur
	}
	end := s.Index(t) // last row at or before t
	if ms.Row < end {
		end = ms.Row
	}
	if end < 0 {
		if w.Op == winStddev || w.Op == winChange {
			return 0
		}
		return cur
	}
	from := t - w.Secs
	// first row strictly after from
	start := sort.Search(end+1, func(i int) bool { return s.Times[i] > from })
	if w.Op == winChange && start > 0 {
		start-- // the value at or before t - Secs is the base
	}
	scratch.Profile = ms.Profile
	scratch.Market = ms.Market
	var (
		n          int
		mean, m2   float64
		lo, hi     = math.Inf(1), math.Inf(-1)
		first      float64
		haveFirst  bool
		last       float64
		fieldInRow = w.field
	)
	for i := start; i <= end; i++ {
		if !s.Set[i].Has(fieldInRow) {
			continue
		}
		v := rowValue(w.Name, s, i, scratch)
		n++
		switch w.Op {
		case winAvg, winStddev:
			d := v - mean
			mean += d / float64(n)
			m2 += d * (v - mean)
		case winMin:
			lo = math.Min(lo, v)
		case winMax:
			hi = math.Max(hi, v)
		case winChange:
			if !haveFirst && v != 0 {
				first, haveFirst = v, true
			}
			last = v
		}
	}
	if n == 0 {
		if w.Op == winStddev || w.Op == winChange {
			return 0
		}
		return cur
	}
	switch w.Op {
	case winAvg:
		return mean
	case winStddev:
		return math.Sqrt(m2 / float64(n))
	case winMin:
		return lo
	case winMax:
		return hi
	default: // winChange
		if !haveFirst {
			return 0
		}
		return (last - first) / math.Abs(first)
	}
}
