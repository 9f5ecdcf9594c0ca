// Package notes adds a market kind to yieldvault from outside its module:
// fixed-note, a deposit that compounds at the APY its observations carry
// and redeems at once, within the exit liquidity, for a fee (the profile
// parameter exit_fee). It also registers the same model as a second
// driver of the built-in lending kind, "flat", which a catalog chooses
// with driver: flat (a lending market valued without its rate model).
package notes

import (
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

// Kind is the market kind this package adds.
const Kind adapters.Kind = "fixed-note"

// GasUnits is the gas of a deposit or a redemption.
const GasUnits = 120_000

func init() {
	adapters.RegisterParamDoc(adapters.ParamDoc{Name: "exit_fee", Kinds: []adapters.Kind{Kind, adapters.Lending}, Unit: "fraction",
		Doc: "share of a redemption the issuer keeps"})
	adapters.Register(Kind, New)
	adapters.RegisterDriver(adapters.Lending, "flat", New)
}

// Note is the driver of one market.
type Note struct {
	fee float64
}

// New builds the driver of a market from its profile.
func New(m adapters.Market, p *adapters.Profile) (adapters.Driver, error) {
	fee := p.ParamOr("exit_fee", 0)
	if !(fee >= 0 && fee < 1) {
		return nil, adapters.E("notes.New", adapters.KindInvalid, "market %s: exit_fee %g is not in [0, 1)", m.ID, fee)
	}
	return &Note{fee: fee}, nil
}

var year = (365 * 24 * time.Hour).Hours()

// index is one unit's value at env.Time: the position's index grown at
// the observed APY since it was last accrued.
func index(pos *adapters.Position, env *adapters.Env) float64 {
	idx := pos.Index
	if idx == 0 {
		idx = 1
	}
	if !pos.Last.IsZero() && env.Time.After(pos.Last) {
		apy := env.Obs.Value(adapters.FieldAPY, pos.APY)
		idx *= math.Pow(1+apy, env.Time.Sub(pos.Last).Hours()/year)
	}
	return idx
}

// liquidity is the exit liquidity of env, ample when not observed.
func liquidity(env *adapters.Env) decimal.Decimal {
	if l, ok := env.Obs.Get(adapters.FieldExitLiquidity); ok {
		return adapters.FromFloat(l)
	}
	return decimal.New(1, 15)
}

// The contract's amounts are fixed.Nums; this driver computes on
// decimals and converts at its edges (fixed.FromDec, Num.Dec).

func (n *Note) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	gas := env.GasCost(GasUnits)
	return adapters.Quote{
		APY:            env.Obs.Value(adapters.FieldAPY, 0),
		EntryCost:      gas,
		ExitCost:       fixed.FromDec(adapters.Quantize(amount.Dec().Mul(adapters.FromFloat(n.fee)))).Add(gas),
		MaxInstantExit: fixed.FromDec(liquidity(env)),
	}, nil
}

func (n *Note) Deposit(pos adapters.Position, env *adapters.Env, amountN fixed.Num) (adapters.Position, adapters.Fill, error) {
	n.Accrue(&pos, env)
	amount, gas := amountN.Dec(), env.GasCost(GasUnits).Dec()
	value := amount.Sub(gas)
	if value.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E("notes.Deposit", adapters.KindInvalid, "deposit %s does not cover its gas %s", amount, gas)
	}
	idx := index(&pos, env)
	pos.Units = pos.Units.Add(fixed.FromDec(value.DivRound(adapters.FromFloat(idx), adapters.Scale)))
	pos.Index, pos.Last = idx, env.Time
	pos.Principal = pos.Principal.Add(fixed.FromDec(value))
	return pos, adapters.Fill{Amount: amountN, Value: fixed.FromDec(value), Gas: fixed.FromDec(gas)}, nil
}

func (n *Note) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	const op = "notes.Withdraw"
	if w.Mode == adapters.ExitQueue {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "a note has no withdrawal queue")
	}
	n.Accrue(&pos, env)
	held := n.Value(&pos, env, adapters.PriceRate)
	amount, units := w.Amount.Dec(), pos.Units.Dec()
	if w.All {
		amount = held
	} else if amount.GreaterThan(held) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "withdraw %s: the position holds %s", amount, held)
	}
	partial := false
	if liq := liquidity(env); amount.GreaterThan(liq) {
		if !w.AllowPartial {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "withdraw %s: exit liquidity is %s", amount, liq)
		}
		amount, partial = liq, true
	}
	if !w.All || partial {
		units = amount.DivRound(adapters.FromFloat(pos.Index), adapters.Scale)
		if units.GreaterThan(pos.Units.Dec()) {
			units = pos.Units.Dec()
		}
	}
	fee := adapters.Quantize(amount.Mul(adapters.FromFloat(n.fee)))
	gas := env.GasCost(GasUnits).Dec()
	out := amount.Sub(fee).Sub(gas)
	if amount.Sign() > 0 && out.Sign() < 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "withdraw %s does not cover its fee %s and gas %s", amount, fee, gas)
	}
	if amount.Sign() == 0 {
		gas, fee, out = decimal.Zero, decimal.Zero, decimal.Zero
	}
	left := pos.Units.Dec().Sub(units)
	pos.Units = fixed.FromDec(left)
	if held.Sign() > 0 {
		pos.Principal = fixed.FromDec(adapters.Quantize(pos.Principal.Dec().Mul(left.DivRound(left.Add(units), adapters.Scale))))
	}
	return pos, adapters.Fill{Amount: fixed.FromDec(out), Value: fixed.FromDec(amount), Gas: fixed.FromDec(gas), Fee: fixed.FromDec(fee), Partial: partial}, nil
}

func (n *Note) Accrue(pos *adapters.Position, env *adapters.Env) {
	if pos.Last.IsZero() || !env.Time.After(pos.Last) {
		return
	}
	pos.Index = index(pos, env)
	pos.APY = env.Obs.Value(adapters.FieldAPY, pos.APY)
	pos.Last = env.Time
}

func (n *Note) Value(pos *adapters.Position, env *adapters.Env, _ adapters.Pricing) decimal.Decimal {
	return adapters.Quantize(pos.Units.Dec().Mul(adapters.FromFloat(index(pos, env))))
}

func (n *Note) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return pos, decimal.Zero, nil
}
