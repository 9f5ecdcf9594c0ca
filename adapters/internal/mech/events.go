package mech

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// UnitDriver is what ApplyUnits needs of a driver: accrual and valuation.
type UnitDriver interface {
	Accrue(pos *adapters.Position, env *adapters.Env)
	Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal
}

// ApplyUnits is the Apply of drivers whose losses cut a position's units
// (lending supply, AMM LP shares). The position is accrued to env.Time
// first when env is given. A slash or bad debt cuts Units by exactly the
// event's size and returns the value lost, as Value at rate pricing
// measures it before and after; pause and unpause set and clear Paused;
// a depeg changes nothing, its effect being in observed prices.
func ApplyUnits(d UnitDriver, pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	if env != nil {
		d.Accrue(&pos, env)
	}
	switch ev.Type {
	case adapters.EventSlash, adapters.EventBadDebt:
		before := d.Value(&pos, env, adapters.PriceRate)
		pos.Units = pos.Units.MulRate(1 - ev.Size)
		return pos, before.Sub(d.Value(&pos, env, adapters.PriceRate)), nil
	case adapters.EventPause:
		pos.Paused = true
	case adapters.EventUnpause:
		pos.Paused = false
	}
	return pos, decimal.Zero, nil
}
