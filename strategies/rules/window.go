package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

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
	cur   uintptr // offset of Name's field in marketEnv (the value of an empty window)
}

// current returns the window's name's current value in env.
func (w *window) current(env *marketEnv) float64 {
	return *(*float64)(unsafe.Add(unsafe.Pointer(env), w.cur))
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

// gather appends to buf the values of a window-capable name in rows
// [from, to] of s that observed the name's field: a plain column, price /
// rate (peg) or apy + reward x (1 - haircut) (net_apy, the formula of
// strategies.NetAPY). The loops are specialised per name so that a
// look-back of hundreds of rows costs a few nanoseconds per row.
func gather(buf []float64, name string, field adapters.Field, s *adapters.Series, c *profileConsts, from, to int) []float64 {
	set := s.Set[:to+1]
	mask := adapters.FieldSet(0).With(field)
	if cap(buf)-len(buf) < to-from+1 {
		nb := make([]float64, len(buf), len(buf)+to-from+1)
		copy(nb, buf)
		buf = nb
	}
	k := len(buf)
	out := buf[:cap(buf)]
	switch name {
	case "peg":
		// adapters.Peg on each row that observed a price (1 where the peg
		// is unknown, as the per-market name reads).
		price := s.Cols[adapters.FieldPrice]
		rate := s.Cols[adapters.FieldExchangeRate]
		rmask := adapters.FieldSet(0).With(adapters.FieldExchangeRate)
		if rate == nil || s.Derived&rmask != 0 {
			rmask = 0 // no rate, or one read from the price: not a rate
		}
		for i := from; i <= to; i++ {
			if set[i]&mask == 0 {
				continue
			}
			r := 0.0
			if rmask != 0 {
				r = rate[i]
			}
			out[k], _ = adapters.Peg(price[i], true, r, set[i]&rmask != 0, c.pegBasis)
			k++
		}
		return out[:k]
	case "net_apy":
		apy := s.Cols[adapters.FieldAPY]
		rew := s.Cols[adapters.FieldRewardAPY]
		rmask := adapters.FieldSet(0).With(adapters.FieldRewardAPY)
		keep, def := c.rewardKeep, c.restakingAPY
		for i := from; i <= to; i++ {
			if set[i]&mask == 0 {
				continue
			}
			r := def
			if rew != nil && set[i]&rmask != 0 {
				r = rew[i]
			}
			out[k] = apy[i] + r*keep
			k++
		}
		return out[:k]
	}
	col := s.Cols[field]
	if col == nil {
		return buf
	}
	col = col[:to+1]
	for i := from; i <= to; i++ {
		if set[i]&mask != 0 {
			out[k] = col[i]
			k++
		}
	}
	return out[:k]
}

// compute evaluates w for a market at unix time t, using buf as scratch
// (returned for reuse). Rows considered are those of the series at or
// before both t and the MarketState's Row, within (t - Secs, t], that
// observed the name's field. With no such row avg, min and max fall back
// to cur (the current value), stddev and change to 0. stddev is the
// population standard deviation. change is (last - first) / |first|,
// where first is the value at the last row at or before t - Secs (or the
// first row of the window when the history starts later), skipping
// leading zeros; 0 when every value is 0.
func (w *window) compute(ms *strategies.MarketState, c *profileConsts, t int64, cur float64, buf []float64) (float64, []float64) {
	buf = buf[:0]
	start, end, ok := w.rows(ms, t)
	if !ok {
		return w.empty(cur), buf
	}
	buf = gather(buf, w.Name, w.field, ms.Series, c, start, end)
	return w.reduce(buf, cur), buf
}

// empty is the value of a window with no row.
func (w *window) empty(cur float64) float64 {
	if w.Op == winStddev || w.Op == winChange {
		return 0
	}
	return cur
}

// rows returns the rows of ms's series w reads at unix time t (before the
// field filter): start..end; ok is false when there is none.
func (w *window) rows(ms *strategies.MarketState, t int64) (start, end int, ok bool) {
	start, end, _, ok = w.rowsNear(ms, t, -1)
	return start, end, ok
}

// rowsNear is rows where the first row after t - Secs (after, returned)
// is looked for first at hint and the few rows after it (the one found at
// the previous step: a backtest's windows move a row or so a step), then
// searched.
func (w *window) rowsNear(ms *strategies.MarketState, t int64, hint int) (start, end, after int, ok bool) {
	s := ms.Series
	if s == nil || ms.Row < 0 || s.Len() == 0 || len(s.Set) != s.Len() {
		return 0, 0, 0, false
	}
	// The last row at or before t, and not after ms.Row.
	times := s.Times
	if ms.Row < len(times) && times[ms.Row] <= t {
		end = ms.Row
	} else {
		end = min(s.Index(t), ms.Row)
	}
	if end < 0 {
		return 0, 0, 0, false
	}
	// The first row after t - Secs: at or just after the hint when it is
	// not after end, else by binary search.
	from := t - w.Secs
	lo, hi := 0, end+1
	if hint >= 0 && hint <= end && (hint == 0 || times[hint-1] <= from) {
		// The row is hint or after: the next few in turn, then the
		// search from there.
		lo = hint
		for lo < hi && lo < hint+4 && times[lo] <= from {
			lo++
		}
		if lo < hi && times[lo] > from {
			hi = lo // found
		}
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if times[m] > from {
			hi = m
		} else {
			lo = m + 1
		}
	}
	start, after = lo, lo
	if w.Op == winChange && start > 0 {
		start-- // the value at or before t - Secs is the base
	}
	return start, end, after, true
}

// reduce applies w's function to the window's values; cur is the value
// of an empty window for avg, min and max.
func (w *window) reduce(buf []float64, cur float64) float64 {
	n := len(buf)
	if n == 0 {
		return w.empty(cur)
	}
	switch w.Op {
	case winAvg:
		sum := 0.0
		for _, v := range buf {
			sum += v
		}
		return sum / float64(n)
	case winStddev:
		// Shifted sums: stable when the values sit far from zero.
		k := buf[0]
		var sum, sq float64
		for _, v := range buf {
			d := v - k
			sum += d
			sq += d * d
		}
		v := (sq - sum*sum/float64(n)) / float64(n)
		if v < 0 {
			v = 0
		}
		return math.Sqrt(v)
	case winMin:
		m := buf[0]
		for _, v := range buf[1:] {
			if v < m {
				m = v
			}
		}
		return m
	case winMax:
		m := buf[0]
		for _, v := range buf[1:] {
			if v > m {
				m = v
			}
		}
		return m
	default: // winChange
		for _, first := range buf {
			if first != 0 {
				return (buf[n-1] - first) / math.Abs(first)
			}
		}
		return 0
	}
}
