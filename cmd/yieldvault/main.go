// Command yieldvault is the CLI and service of the yieldvault framework;
// every command lives in package cli (a custom binary is this file plus
// blank imports of its own strategy and adapter packages).
package main

import "github.com/yieldvault/yieldvault/cli"

func main() { cli.Main() }
