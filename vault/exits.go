package vault

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// exits is a set of instant exits computed on copies of positions, applied
// by commit only once the caller accepts them.
type exits struct {
	reason   string
	slots    []int
	pos      []adapters.Position
	fills    []adapters.Fill
	received decimal.Decimal // base asset into idle
	valueOut decimal.Decimal // position value removed, at the vault's pricing
}

// posValue is a position's value at the vault's pricing plus its claims.
func (v *Vault) posValue(s *slot, p *adapters.Position) decimal.Decimal {
	val := zero
	if p.Units.Sign() != 0 {
		val = s.ad.Value(p, s.env(), v.cfg.Pricing)
	}
	for i := range p.Claims {
		val = val.Add(p.Claims[i].Amount())
	}
	return val
}

// raise plans instant exits in withdraw-queue order until need (in base
// value at rate pricing) has been taken out of positions. Markets that are
// paused, illiquid or empty are passed over. It fails with
// KindInsufficientLiquidity, naming why each market fell short, when the
// queue cannot raise need now.
func (v *Vault) raise(op string, need decimal.Decimal, reason string) (*exits, error) {
	ex := &exits{reason: reason, received: zero, valueOut: zero}
	remaining := need
	var notes []string
	for _, i := range v.queue {
		if remaining.Sign() <= 0 {
			break
		}
		s := v.markets[i]
		if s.pos.Units.Sign() == 0 {
			continue
		}
		val := s.ad.Value(&s.pos, s.env(), adapters.PriceRate)
		if val.Sign() <= 0 {
			continue
		}
		w := adapters.Withdrawal{Mode: adapters.ExitInstant, AllowPartial: true}
		if remaining.Cmp(val) >= 0 {
			w.All = true
		} else {
			w.Amount = nm(remaining)
		}
		np, f, err := s.ad.Withdraw(s.pos, s.env(), w)
		if err != nil {
			if adapters.KindOf(err) == adapters.KindOther {
				return nil, adapters.Wrap(op, adapters.KindOther, err)
			}
			notes = append(notes, fmt.Sprintf("%s: %v", s.id, err))
			continue
		}
		if f.Value.Sign() <= 0 {
			notes = append(notes, s.id+": no instant exit liquidity")
			continue
		}
		ex.slots = append(ex.slots, i)
		ex.pos = append(ex.pos, np)
		ex.fills = append(ex.fills, f)
		ex.received = ex.received.Add(f.Amount.Dec())
		ex.valueOut = ex.valueOut.Add(v.posValue(s, &s.pos).Sub(v.posValue(s, &np)))
		remaining = remaining.Sub(f.Value.Dec())
		if f.Partial {
			notes = append(notes, s.id+": partial fill")
		}
	}
	if remaining.Sign() > 0 {
		msg := fmt.Sprintf("vault %q: %s needs %s from positions; instant exits can raise only %s now", v.cfg.Name, reason, need, need.Sub(remaining))
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		msg += "; queued exits are not used for withdrawals: withdraw less, or retry once claims mature"
		return nil, &adapters.Error{Op: op, Kind: adapters.KindInsufficientLiquidity, Err: errors.New(msg)}
	}
	return ex, nil
}

// commit applies the exits: new positions, idle, and a sell entry each.
func (ex *exits) commit(v *Vault, now time.Time) {
	for k, i := range ex.slots {
		s := v.markets[i]
		s.set(ex.pos[k])
		f := &ex.fills[k]
		v.idle = v.idle.Add(f.Amount)
		v.ledger.add(v.fillEntry(Entry{Time: now, Type: EntrySell, Market: s.id, Reason: ex.reason + ": instant exit"}, f.Amount, f, f.Slippage))
	}
}

// Claim collects every queued withdrawal that has matured into idle. It
// returns the total received.
func (v *Vault) Claim(now time.Time) (decimal.Decimal, error) {
	if err := v.advance("vault.Claim", now); err != nil {
		return zero, err
	}
	return v.claimReady(now, time.Time{}), nil
}

func (v *Vault) claimReady(now, tick time.Time) decimal.Decimal {
	got := zero
	for _, s := range v.markets {
		if !hasReadyClaim(&s.pos, now) || !s.ad.CanQueue() {
			continue
		}
		np, f, err := s.ad.Claim(s.pos, s.env())
		if err != nil {
			continue // not ready or paused: try again at a later step
		}
		s.set(np)
		v.idle = v.idle.Add(f.Amount)
		got = got.Add(f.Amount.Dec())
		reason := "claim matured withdrawals"
		if f.Route != "" {
			reason += ": " + f.Route
		}
		v.ledger.add(v.fillEntry(Entry{Time: now, Type: EntryClaim, Market: s.id, Reason: reason, Tick: tick}, f.Amount, &f, f.Slippage))
	}
	return got
}

func hasReadyClaim(p *adapters.Position, now time.Time) bool {
	for i := range p.Claims {
		if !p.Claims[i].ReadyAt.After(now) {
			return true
		}
	}
	return false
}

// ApplyEvent applies a market event (slash, bad debt, depeg, pause) to the
// vault's position. A loss is recognised at once: it eats the locked
// profit first, and the share price bears the rest. It returns the loss.
func (v *Vault) ApplyEvent(now time.Time, ev adapters.Event) (decimal.Decimal, error) {
	const op = "vault.ApplyEvent"
	i, ok := v.byID[ev.Market]
	if !ok {
		return zero, adapters.E(op, adapters.KindNotFound, "vault %q has no market %s", v.cfg.Name, ev.Market)
	}
	if err := v.advance(op, now); err != nil {
		return zero, err
	}
	s := v.markets[i]
	before := v.posValue(s, &s.pos)
	np, lost, err := s.ad.Apply(s.pos, s.env(), ev)
	if err != nil {
		return zero, adapters.Wrap(op, adapters.KindOf(err), err)
	}
	s.set(np)
	// The loss the vault recognises is the change in what it counts; the
	// adapter's own figure goes in the reason.
	loss := maxDec(zero, before.Sub(v.posValue(s, &s.pos)))
	borne := v.recognizeLoss(now, loss)
	reason := fmt.Sprintf("%s %g", ev.Type, ev.Size)
	if ev.Scope != "" {
		reason += " scope " + ev.Scope
	}
	if loss.Sign() > 0 {
		reason += fmt.Sprintf(": adapter loss %s, share price bears %s after locked profit", lost, borne)
	}
	v.ledger.add(Entry{Time: now, Type: EntryEvent, Market: ev.Market, Amount: loss, Reason: reason})
	return loss, nil
}
