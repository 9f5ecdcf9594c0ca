// Package adapters is yieldvault's market model: markets, observations,
// events and protocol profiles, and the contract through which the vault
// moves capital in and out of a market.
//
// The portable Adapter type wraps a small per-kind Driver (lst, lrt,
// lending, amm); optional capabilities (Harvester, Claimer) are separate
// interfaces found by type assertion, as in database/sql/driver. Drivers
// register a Factory per Kind from an init function; adapters.Open builds
// the adapter of a catalog market.
//
// Rates and prices that come from market data are float64; balances, share
// counts and costs are decimal.Decimal quantized to Scale places. Nothing
// in this package reads a clock or touches a network.
package adapters
