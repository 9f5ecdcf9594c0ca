package importers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// importRethBalances reads Rocket Pool's balances.jsonl (rockettrack):
// one JSON array of six hex strings per line, [balances block, slot
// timestamp, total ETH (wei), staking ETH (wei), rETH supply (wei), event
// time]. The exchange rate is total ETH / rETH supply, computed exactly
// and rounded once to float64; lines with a zero supply are skipped.
func importRethBalances(c *readCtx, r io.Reader) (*history.Batch, error) {
	const op = "importers." + string(FormatRethBalances)
	b := c.builder(op)
	market := c.market("rocketpool/reth")
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line, records := 0, 0
	var fields []string
	for sc.Scan() {
		line++
		if line%ctxEvery == 0 {
			if err := c.ctx.Err(); err != nil {
				return nil, err
			}
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		records++
		pos := fmt.Sprintf("%s:%d", c.name, line)
		fields = fields[:0]
		if err := json.Unmarshal([]byte(text), &fields); err != nil {
			return nil, errorf(op, pos, "not a JSON array of strings: %v", err)
		}
		if len(fields) != 6 {
			return nil, errorf(op, pos, "want 6 hex values, got %d", len(fields))
		}
		var n [6]*big.Int
		for i, h := range fields {
			v, ok := parseHex(h)
			if !ok {
				return nil, errorf(op, pos, "value %d (%q) is not a 0x hex number", i+1, h)
			}
			n[i] = v
		}
		if !n[5].IsInt64() {
			return nil, errorf(op, pos, "event time %s is out of range", fields[5])
		}
		tm, err := ParseTime(n[5].String(), TimeUnixS)
		if err != nil {
			return nil, errorf(op, pos, "event time: %s", errText(err))
		}
		if n[4].Sign() == 0 {
			b.skip("rETH supply 0 (before the first deposit)")
			continue
		}
		rate, _ := new(big.Rat).SetFrac(n[2], n[4]).Float64()
		o := adapters.Observation{Time: tm.Truncate(time.Second)}
		if msg := adapters.CheckValue(adapters.FieldExchangeRate, rate); msg != "" {
			return nil, errorf(op, pos, "exchange rate %s (%g)", msg, rate)
		}
		o.Put(adapters.FieldExchangeRate, rate)
		b.add(market, o, line, "")
	}
	if err := sc.Err(); err != nil {
		return nil, errorf(op, fmt.Sprintf("%s:%d", c.name, line+1), "%v", err)
	}
	if records == 0 {
		return nil, errorf(op, c.name+":1", "empty file: no records")
	}
	return b.finish()
}

func parseHex(s string) (*big.Int, bool) {
	if !strings.HasPrefix(s, "0x") || len(s) < 3 || len(s) > 2+64 {
		return nil, false
	}
	return new(big.Int).SetString(s[2:], 16)
}
