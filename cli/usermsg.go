package cli

import (
	"regexp"
	"strings"
)

// goOp matches the Go operation names the library puts in its errors
// ("rules.Load: ", "importers.Import: ", "rules.Strategy.WithParams: ",
// "backtest.Sweep: ", "strategies.New(max-yield): "): a package of the
// project followed by exported identifiers (and a registry name). They name code, not anything the user wrote, so the CLI
// leaves them out of what it prints.
var goOp = regexp.MustCompile(`\b(adapters|history|importers|synth|rules|strategies|vault|backtest|service|lending|amm|lst|lrt|mech|yamlx|sqlitex|timefmt)(\.[A-Z][A-Za-z0-9]*(\([a-z0-9._-]+\))?)+: `)

// userMessage is an error's message in the user's words: without the Go
// operation names the library's errors carry.
func userMessage(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimSpace(goOp.ReplaceAllString(err.Error(), ""))
}
