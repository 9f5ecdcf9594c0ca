package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/strategies"
)

// registerCompletions gives every command's flags shell completion of
// their values (yieldvault completion bash|zsh|fish|powershell writes the
// script): --pricing, --objective, --scenario, market IDs from the
// catalog (--market, --universe), --format of data export, file names by
// extension for strategy files, catalogs, mappings and databases, and the
// registered Go strategies for -s go:.
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
	// -s takes a strategy file, or go:NAME once the word starts with "go".
	strategyRefs := func(c *cobra.Command, args []string, word string) ([]string, cobra.ShellCompDirective) {
		if strings.HasPrefix(strategies.GoPrefix, word) && word != "" || strings.HasPrefix(word, strategies.GoPrefix) {
			return prefixed(strategies.Names()), cobra.ShellCompDirectiveNoFileComp
		}
		return files("yaml", "yml")(c, args, word)
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
		reg("strategy", strategyRefs)
		reg("universe", markets)
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
