// Command outside is a yieldvault with a strategy and a market kind of its
// own: the CLI plus blank imports of the packages that register them.
package main

import (
	"github.com/yieldvault/yieldvault/cli"

	_ "example.com/outside/notes" // kind fixed-note, lending driver flat
	_ "example.com/outside/pick"  // go:outside-pick
)

func main() { cli.Main() }
