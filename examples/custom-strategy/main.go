// Command custom-strategy shows a strategy written in Go in its own
// package (./momentum), registered with strategies.Register and built by
// name with strategies.New. It plans once over a State made from built-in
// markets and a week of synthetic daily observations, and prints the
// Target. The data and the time are fixed, so the output is the same on
// every run (CI runs it: go run ./examples/custom-strategy).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/examples/custom-strategy/momentum"
	"github.com/yieldvault/yieldvault/strategies"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "custom-strategy:", err)
		os.Exit(1)
	}
}

// market is one market's synthetic history: a base APY that starts at
// apy0 and moves by slope a day, a reward APY, and a peg.
type market struct {
	id     string
	apy0   float64
	slope  float64
	reward float64
	peg    float64
	tvl    float64 // USD
}

var universe = []market{
	{id: "lido/steth", apy0: 0.029, slope: 0.0002, peg: 0.9995, tvl: 30e9},
	{id: "rocketpool/reth", apy0: 0.031, slope: -0.0003, peg: 0.999, tvl: 3e9},
	{id: "etherfi/weeth", apy0: 0.027, slope: 0.0001, reward: 0.01, peg: 0.998, tvl: 6e9},
	{id: "renzo/ezeth", apy0: 0.030, slope: -0.0004, reward: 0.012, peg: 0.995, tvl: 1e9},
	{id: "aave-v3/weth", apy0: 0.018, slope: 0.0005, peg: 1, tvl: 2e9},
}

// buildState makes the State the strategy plans on: the built-in catalog's
// markets and profiles, eight daily observations ending at now.
func buildState(cat *adapters.Catalog, now time.Time) (*strategies.State, error) {
	st := &strategies.State{
		Time:    now,
		Base:    adapters.ETH,
		NAV:     decimal.RequireFromString("1000"),
		Idle:    decimal.RequireFromString("1000"),
		BaseUSD: 3000,
	}
	const days = 8
	for _, u := range universe {
		m, err := cat.Market(u.id)
		if err != nil {
			return nil, err
		}
		prof, err := cat.ProfileFor(m)
		if err != nil {
			return nil, err
		}
		s := &adapters.Series{Market: m}
		for d := range days {
			var o adapters.Observation
			o.Time = now.AddDate(0, 0, d-days+1)
			o.Put(adapters.FieldAPY, u.apy0+u.slope*float64(d))
			if u.reward > 0 {
				o.Put(adapters.FieldRewardAPY, u.reward)
			}
			o.Put(adapters.FieldExchangeRate, 1.05)
			o.Put(adapters.FieldPrice, 1.05*u.peg)
			o.Put(adapters.FieldTVL, u.tvl)
			if err := o.Validate(); err != nil {
				return nil, err
			}
			s.Times = append(s.Times, o.Time.Unix())
			s.Set = append(s.Set, o.Set)
			for f := range adapters.NumFields {
				if o.Set.Has(f) {
					if s.Cols[f] == nil {
						s.Cols[f] = make([]float64, d, days)
					}
					s.Cols[f] = append(s.Cols[f], o.Values[f])
				} else if s.Cols[f] != nil {
					s.Cols[f] = append(s.Cols[f], 0)
				}
			}
		}
		row := s.Index(now.Unix())
		st.Markets = append(st.Markets, strategies.MarketState{
			Market: m, Profile: prof, Series: s, Row: row, Obs: s.At(row),
			Value: decimal.Zero, PendingRewards: decimal.Zero,
		})
	}
	return st, nil
}

// run plans once and writes the Target to w.
func run(w io.Writer) error {
	cat := adapters.Builtin()
	ids := make([]string, len(universe))
	for i, u := range universe {
		ids[i] = u.id
	}
	s, err := strategies.New(momentum.Name, strategies.Config{
		Universe: ids,
		Catalog:  cat,
		Params:   map[string]float64{"k": 4, "beta": 2, "lookback_days": 7},
		Constraints: strategies.Constraints{
			Idle:      0.02,
			MaxWeight: 0.5,
			MaxKind:   map[adapters.Kind]float64{adapters.LRT: 0.3},
		},
	})
	if err != nil {
		return err
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	st, err := buildState(cat, now)
	if err != nil {
		return err
	}
	tg, err := s.Plan(context.Background(), st)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "strategy %s at %s: %s\n", s.Name(), now.Format(time.RFC3339), tg.Reason)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "market\tweight\treason")
	for _, a := range tg.Allocations {
		fmt.Fprintf(tw, "%s\t%.4f\t%s\n", a.Market, a.Weight, a.Reason)
	}
	fmt.Fprintf(tw, "idle\t%.4f\t\n", tg.Idle)
	return tw.Flush()
}
