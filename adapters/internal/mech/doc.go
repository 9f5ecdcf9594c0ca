// Package mech holds the market mechanics that more than one adapter kind
// shares, so that each is written once:
//
//   - the decimal arithmetic of the hot paths: MulRate (units x a float64
//     rate, rounded to adapters.Scale places with one allocation),
//     FastDecimal, and Growth (compounding an APY over a duration);
//   - Staking, the driver of exchange-rate tokens that packages lst and
//     lrt wrap (index, withdrawal queue, venue exits, slashing with
//     insurance, restaking rewards);
//   - for the drivers whose positions are units of a shared pool (packages
//     lending and amm): UnitParams (the reward, harvest and gas parameters
//     read from a profile, with their checks and the harvest they price)
//     and ApplyUnits (slashes and bad debt cut units; pause, unpause).
//
// The package is internal: the public adapter packages wrap what they use
// and expose only the capabilities of their kind.
package mech
