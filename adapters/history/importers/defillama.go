package importers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// ImportDefiLlama reads a DefiLlama chart for one market (opts.Market):
//
//   - the yields pool chart, yields.llama.fi/chart/<pool>:
//     {"status":"success","data":[{"timestamp":"2022-05-03T23:01:39.073Z",
//     "tvlUsd":…,"apy":…,"apyBase":…,"apyReward":…,"il7d":…,"apyBase7d":…}]}
//     APYs are percent and become fractions: apy is apyBase (or, without
//     apyBase, apy minus apyReward, or apy), reward_apy is apyReward, tvl is
//     tvlUsd; il7d and apyBase7d are not stored;
//   - the protocol TVL chart, a bare array [{"date":1650000000,
//     "totalLiquidityUSD":…}] or an object with a "tvl" array: tvl.
//
// The input is decoded as a stream; errors name the record number and its
// line.
func ImportDefiLlama(ctx context.Context, name string, r io.Reader, opts Options) (*history.Batch, error) {
	return importDefiLlama(&readCtx{ctx: ctx, name: name, opts: opts, format: FormatDefiLlama}, r)
}

type llamaRecord struct {
	Timestamp         *string         `json:"timestamp"`
	Date              json.RawMessage `json:"date"`
	TvlUsd            *float64        `json:"tvlUsd"`
	Apy               *float64        `json:"apy"`
	ApyBase           *float64        `json:"apyBase"`
	ApyReward         *float64        `json:"apyReward"`
	TotalLiquidityUSD *float64        `json:"totalLiquidityUSD"`
}

// lineReader records the offset of every newline it passes so that a
// decoder offset can be turned into a line number.
type lineReader struct {
	r     io.Reader
	off   int64
	nl    []int64
	limit int
}

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' && len(l.nl) < l.limit {
			l.nl = append(l.nl, l.off+int64(i))
		}
	}
	l.off += int64(n)
	return n, err
}

// line returns the 1-based line of byte offset off.
func (l *lineReader) line(off int64) int {
	return sort.Search(len(l.nl), func(i int) bool { return l.nl[i] >= off }) + 1
}

type llamaDecoder struct {
	c   *readCtx
	lr  *lineReader
	dec *json.Decoder
	b   *builder
	op  string
	rec int
}

func (d *llamaDecoder) pos() string {
	return fmt.Sprintf("%s:%d", d.c.name, d.lr.line(d.dec.InputOffset()))
}

func (d *llamaDecoder) fail(format string, args ...any) error {
	return errorf(d.op, d.pos(), format, args...)
}

func (d *llamaDecoder) jsonErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.fail("unexpected end of JSON input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errorf(d.op, fmt.Sprintf("%s:%d", d.c.name, d.lr.line(se.Offset)), "JSON syntax: %v", se)
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return errorf(d.op, fmt.Sprintf("%s:%d", d.c.name, d.lr.line(ue.Offset)), "record %d: field %q: %v", d.rec, ue.Field, ue)
	}
	return d.fail("record %d: %v", d.rec, err)
}

func importDefiLlama(c *readCtx, r io.Reader) (*history.Batch, error) {
	const op = "importers.DefiLlama"
	if c.opts.Market == "" {
		return nil, adapters.E(op, adapters.KindInvalid, "%s: a DefiLlama chart names no market: pass one (Options.Market, --market)", c.name)
	}
	if _, _, err := adapters.SplitID(c.opts.Market); err != nil {
		return nil, err
	}
	lr := &lineReader{r: r, limit: 1 << 24}
	dec := json.NewDecoder(lr)
	d := &llamaDecoder{c: c, lr: lr, dec: dec, b: c.builder(op), op: op}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, errorf(op, c.name+":1", "empty file")
	}
	if err != nil {
		return nil, d.jsonErr(err)
	}
	switch tok {
	case json.Delim('['):
		if err := d.records(); err != nil {
			return nil, err
		}
	case json.Delim('{'):
		sawData := false
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, d.jsonErr(err)
			}
			key, _ := kt.(string)
			switch key {
			case "status":
				var s string
				if err := dec.Decode(&s); err != nil {
					return nil, d.jsonErr(err)
				}
				if s != "success" {
					return nil, d.fail("status is %q, not \"success\"", s)
				}
			case "data", "tvl":
				t, err := dec.Token()
				if err != nil {
					return nil, d.jsonErr(err)
				}
				if t != json.Delim('[') {
					return nil, d.fail("%q is not an array", key)
				}
				if err := d.records(); err != nil {
					return nil, err
				}
				sawData = true
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return nil, d.jsonErr(err)
				}
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, d.jsonErr(err)
		}
		if !sawData {
			return nil, d.fail("no \"data\" (pool chart) or \"tvl\" (protocol chart) array")
		}
	default:
		return nil, d.fail("want a JSON object or array, got %v", tok)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, d.fail("unexpected data after the chart")
	}
	return d.b.finish()
}

// records reads array elements up to the closing bracket.
func (d *llamaDecoder) records() error {
	market := d.c.opts.Market
	totalOnly := 0
	for d.dec.More() {
		d.rec++
		if d.rec%ctxEvery == 0 {
			if err := d.c.ctx.Err(); err != nil {
				return err
			}
		}
		var rec llamaRecord
		if err := d.dec.Decode(&rec); err != nil {
			return d.jsonErr(err)
		}
		var o adapters.Observation
		var err error
		switch {
		case rec.Timestamp != nil:
			o.Time, err = ParseTime(*rec.Timestamp, TimeAuto)
		case len(rec.Date) > 0:
			s := strings.Trim(string(bytes.TrimSpace(rec.Date)), `"`)
			if _, perr := strconv.ParseFloat(s, 64); perr != nil {
				err = fmt.Errorf("date %s is not unix seconds", rec.Date)
			} else {
				o.Time, err = ParseTime(s, TimeUnixS)
			}
		default:
			err = errors.New("no \"timestamp\" or \"date\"")
		}
		if err != nil {
			return d.fail("record %d: %v", d.rec, errText(err))
		}
		put := func(f adapters.Field, v float64, what string) error {
			if msg := adapters.CheckValue(f, v); msg != "" {
				return d.fail("record %d: %s: %s %s (%g)", d.rec, what, f, msg, v)
			}
			o.Put(f, v)
			return nil
		}
		pct := func(v float64) float64 { return v / 100 }
		switch {
		case rec.ApyBase != nil:
			err = put(adapters.FieldAPY, pct(*rec.ApyBase), "apyBase")
		case rec.Apy != nil && rec.ApyReward != nil:
			err = put(adapters.FieldAPY, pct(*rec.Apy-*rec.ApyReward), "apy - apyReward")
		case rec.Apy != nil:
			totalOnly++
			err = put(adapters.FieldAPY, pct(*rec.Apy), "apy")
		}
		if err != nil {
			return err
		}
		if rec.ApyReward != nil {
			if err := put(adapters.FieldRewardAPY, pct(*rec.ApyReward), "apyReward"); err != nil {
				return err
			}
		}
		if rec.TvlUsd != nil {
			if err := put(adapters.FieldTVL, *rec.TvlUsd, "tvlUsd"); err != nil {
				return err
			}
		}
		if rec.TotalLiquidityUSD != nil {
			if err := put(adapters.FieldTVL, *rec.TotalLiquidityUSD, "totalLiquidityUSD"); err != nil {
				return err
			}
		}
		d.b.add(market, o, d.rec, "record with no values")
	}
	if _, err := d.dec.Token(); err != nil { // closing ']'
		return d.jsonErr(err)
	}
	if totalOnly > 0 {
		d.b.note("%d records had no apyBase: apy is DefiLlama's total APY there", totalOnly)
	}
	return nil
}

// errText is an error's message without its operation prefix.
func errText(err error) string {
	var e *adapters.Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}
