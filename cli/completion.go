package cli

import (
	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/backtest"
)

// registerCompletions gives every command's flags shell completion of
// their values (yieldvault completion bash|zsh|fish|powershell writes the
// script): --pricing, --objective, --scenario, market IDs from the
// catalog, --format of data export, and file names by extension for
// strategy files, catalogs, mappings and databases.
func registerCompletions(a *app, root *cobra.Command) {
	fixed := func(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		}
	}
	files := func(ext ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return ext, cobra.ShellCompDirectiveFilterFileExt
		}
	}
	markets := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cat, err := a.catalog()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var ids []string
		for _, m := range cat.Markets() {
			ids = append(ids, m.ID)
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
	var scenarios []string
	for _, s := range synth.Scenarios() {
		scenarios = append(scenarios, s.Name)
	}
	_ = root.RegisterFlagCompletionFunc("db", files("db", "sqlite"))
	_ = root.RegisterFlagCompletionFunc("catalog", files("yaml", "yml"))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		reg := func(flag string, f func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)) {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, f)
			}
		}
		reg("pricing", fixed("rate", "market"))
		reg("objective", fixed(backtest.Objectives...))
		reg("scenario", fixed(scenarios...))
		reg("market", markets)
		reg("gas-asset-market", markets)
		reg("strategy", files("yaml", "yml"))
		reg("mapping", files("yaml", "yml"))
		if c.Name() == "export" {
			reg("format", fixed("csv", "json"))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
