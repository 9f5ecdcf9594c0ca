package synth_test

import (
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

// Generate the April 2024 ezETH depeg for one market and find its low.
func ExampleGenerate() {
	ezeth, err := adapters.Builtin().Market("renzo/ezeth")
	if err != nil {
		panic(err)
	}
	b, err := synth.Generate(synth.Config{
		Scenario: "ezeth-2024",
		From:     time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		To:       time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Step:     time.Hour,
		Seed:     1,
		Markets:  []adapters.Market{ezeth},
	})
	if err != nil {
		panic(err)
	}
	// ezETH accrues value: its peg is price / exchange rate.
	peg := func(r history.Row) float64 { p, _ := r.Obs.Peg(adapters.PegRate); return p }
	low := b.Rows[0]
	for _, r := range b.Rows {
		if peg(r) < peg(low) {
			low = r
		}
	}
	fmt.Println(b.Source, len(b.Rows), "rows")
	fmt.Printf("lowest peg %.3f at %s\n", peg(low), low.Obs.Time.Format(time.RFC3339))
	for _, e := range b.Events {
		fmt.Println(e.Time.Format(time.DateOnly), e.Market, e.Type, e.Size)
	}
	// Output:
	// synth:ezeth-2024:1 721 rows
	// lowest peg 0.801 at 2024-04-24T00:00:00Z
	// 2024-04-24 renzo/ezeth depeg 0.2
}
