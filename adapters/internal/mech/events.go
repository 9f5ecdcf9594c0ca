package mech

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// ApplyUnitEvent is the event rule of drivers whose losses cut a
// position's units (lending supply, AMM LP shares): a slash or bad debt
// cuts Units by exactly the event's size and returns the value lost, as
// value measures it before and after; pause and unpause set and clear
// Paused; a depeg changes nothing, its effect being in observed prices.
func ApplyUnitEvent(pos adapters.Position, ev adapters.Event, value func(*adapters.Position) decimal.Decimal) (adapters.Position, decimal.Decimal) {
	switch ev.Type {
	case adapters.EventSlash, adapters.EventBadDebt:
		before := value(&pos)
		pos.Units = MulRate(pos.Units, 1-ev.Size)
		return pos, before.Sub(value(&pos))
	case adapters.EventPause:
		pos.Paused = true
	case adapters.EventUnpause:
		pos.Paused = false
	}
	return pos, decimal.Zero
}
