// Command custom-strategy is a complete yieldvault binary with a strategy
// of its own: the CLI (package cli) plus a blank import of ./momentum,
// which registers the Go strategy "momentum". Every command of yieldvault
// is here, and every strategy-facing one takes go:momentum:
//
//	go run ./examples/custom-strategy validate go:momentum
//	go run ./examples/custom-strategy backtest -s go:momentum --param lookback=14d
//	go run ./examples/custom-strategy serve -c service.yaml   # strategy: go:momentum
//
// docs/ARCHITECTURE.md, "Your own binary", walks through it.
package main

import (
	"github.com/yieldvault/yieldvault/cli"

	_ "github.com/yieldvault/yieldvault/examples/custom-strategy/momentum" // registers go:momentum
)

func main() { cli.Main() }
