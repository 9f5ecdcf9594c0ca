// Package rules loads expression-rule strategies from YAML files.
//
// A strategy file names a base asset, a universe of catalog markets, numeric
// parameters, and expression rules (github.com/expr-lang/expr) that decide,
// per market, whether it is eligible, its score and its weight. An
// allocation method turns weights into a portfolio, the constraint
// projection of package strategies caps it, and schedules (cron specs plus
// "when" conditions) tell the vault's keeper when to rebalance and harvest.
//
// Everything that can be checked is checked at load: the YAML is decoded
// strictly, every market must exist in the catalog, every expression is
// compiled once and type-checked against a typed environment, window
// functions (avg(apy, "7d")) are resolved to a field and a parsed duration,
// and cron specs are parsed. A file's errors are all collected and each
// names file:line:column and the rule it is about; see ErrorList.
//
// A loaded *Strategy is immutable and its Plan is safe for concurrent use:
// compiled programs are shared, and each evaluation borrows a VM from a
// pool. docs/strategy-language.md is the reference of the file format.
package rules
