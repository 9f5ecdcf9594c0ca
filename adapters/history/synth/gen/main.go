// Command gen regenerates the synthetic default history embedded in package
// synth (default_history.csv.gz and default_events.json). Run it with
// `go generate ./adapters/history/synth` (it writes into the current
// directory) or `go run ./adapters/history/synth/gen -dir DIR`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the default files into")
	flag.Parse()
	if err := synth.WriteDefault(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
