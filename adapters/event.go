package adapters

import (
	"strings"
	"time"
)

// EventType is what happened to a market.
type EventType string

// Event types.
const (
	EventSlash   EventType = "slash"    // validators or an AVS were slashed: Size is the fraction of value lost
	EventDepeg   EventType = "depeg"    // the market price left the peg: Size is the fraction below the exchange rate
	EventPause   EventType = "pause"    // deposits and withdrawals are halted until an unpause
	EventUnpause EventType = "unpause"  // a pause ends
	EventBadDebt EventType = "bad_debt" // lending: a loss socialised to suppliers; Size is the fraction of supply lost
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventSlash, EventDepeg, EventPause, EventUnpause, EventBadDebt}

// ParseEventType parses an event type name.
func ParseEventType(s string) (EventType, error) {
	t := EventType(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range EventTypes {
		if t == v {
			return t, nil
		}
	}
	return "", E("adapters.ParseEventType", KindInvalid, "unknown event type %q", s)
}

// Event is something that happened to a market at an instant.
//
// Slash and bad-debt losses are not baked into a market's observed
// exchange rate or liquidity index: adapters apply an event to positions
// (see Driver.Apply), so history carries both the series and the events and
// nothing is counted twice. A depeg is informational: its effect shows in
// the observed market price. Scope, when set, is the risk tag the event
// hit (operator:x, avs:y); a correlated slash is one event per affected
// market, each with the same Scope.
type Event struct {
	Time   time.Time `json:"time"`
	Market string    `json:"market"`
	Type   EventType `json:"type"`
	Size   float64   `json:"size"`            // a fraction in [0, 1]
	Scope  string    `json:"scope,omitempty"` // risk tag hit, e.g. "operator:p2p" or "avs:eigenda"
	Note   string    `json:"note,omitempty"`
}

// Validate checks the event's fields.
func (e *Event) Validate() error {
	const op = "adapters.Event.Validate"
	if _, _, err := SplitID(e.Market); err != nil {
		return err
	}
	if _, err := ParseEventType(string(e.Type)); err != nil {
		return err
	}
	if e.Size != e.Size || e.Size < 0 || e.Size > 1 {
		return E(op, KindInvalid, "event %s on %s: size %g is not a fraction in [0, 1]", e.Type, e.Market, e.Size)
	}
	if e.Time.IsZero() {
		return E(op, KindInvalid, "event %s on %s has no time", e.Type, e.Market)
	}
	return nil
}
