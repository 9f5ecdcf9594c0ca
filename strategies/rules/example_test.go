package rules_test

import (
	"errors"
	"fmt"

	"github.com/yieldvault/yieldvault/strategies/rules"
)

func ExampleLoad() {
	src := `name: lst
base: ETH
universe: [lido/steth, rocketpool/reth]
params: { min_peg: 0.99 }
rules:
  eligible: peg >= params.min_peg
  score: avg(net_apy, "7d")
rebalance: { every: "@daily", when: "drift > 0.05" }
`
	s, err := rules.Load("lst.yaml", []byte(src), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name(), s.Base(), s.Universe(), s.Params())
	fmt.Println(s.RebalanceSchedule().Spec, s.RebalanceSchedule().When)
	// Output:
	// lst ETH [lido/steth rocketpool/reth] map[min_peg:0.99]
	// @daily drift > 0.05
}

func ExampleErrorList() {
	src := `name: lst
base: ETH
universe: [lido/steth, lido/stETH]
rules:
  eligible: peg >= params.min_peg
  score: apyy
`
	_, err := rules.Load("lst.yaml", []byte(src), nil)
	var list rules.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Println(e)
		}
	}
	// Output:
	// lst.yaml:3:24: universe[1]: unknown market "lido/stETH" (did you mean "lido/steth"?)
	// lst.yaml:5:20: rules.eligible: unknown parameter "min_peg" (the file declares no params)
	// lst.yaml:6:10: rules.score: unknown name "apyy" (did you mean "apy"?)
}
