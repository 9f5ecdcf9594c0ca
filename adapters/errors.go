package adapters

import (
	"errors"
	"fmt"
)

// ErrorKind classifies an error so callers can react to it with errors.Is
// rather than by matching strings.
type ErrorKind uint8

// The kinds of error the framework reports. Every layer (adapters,
// strategies, vault, backtest) uses these kinds.
const (
	KindOther                 ErrorKind = iota
	KindInvalid                         // bad input: malformed file, bad argument, out-of-range value
	KindNotFound                        // unknown market, profile, strategy or record
	KindInsufficientLiquidity           // not enough exit liquidity or idle funds
	KindCapExceeded                     // a limit (deposit cap, weight cap, max loss) would be broken
	KindStale                           // market data older than allowed
	KindPaused                          // the market or vault is paused or shut down
	KindNotReady                        // a queued withdrawal is not yet claimable
)

var kindNames = [...]string{
	KindOther:                 "error",
	KindInvalid:               "invalid input",
	KindNotFound:              "not found",
	KindInsufficientLiquidity: "insufficient liquidity",
	KindCapExceeded:           "cap exceeded",
	KindStale:                 "stale data",
	KindPaused:                "paused",
	KindNotReady:              "not ready",
}

func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error implements error so that a bare kind can be a target of errors.Is:
// errors.Is(err, adapters.KindNotFound).
func (k ErrorKind) Error() string { return k.String() }

// Sentinel targets for errors.Is. errors.Is(err, ErrInsufficientLiquidity)
// is true for any *Error of that kind anywhere in the chain.
var (
	ErrInvalid               error = KindInvalid
	ErrNotFound              error = KindNotFound
	ErrInsufficientLiquidity error = KindInsufficientLiquidity
	ErrCapExceeded           error = KindCapExceeded
	ErrStale                 error = KindStale
	ErrPaused                error = KindPaused
	ErrNotReady              error = KindNotReady
)

// Error is the framework's error: the operation that failed, its kind, and
// the underlying cause. Pos, when set, names where in an input file the
// problem is ("strategy.yaml:12:5").
type Error struct {
	Op   string    // operation, e.g. "history.Import" or "lst.Withdraw"
	Kind ErrorKind // classification
	Pos  string    // optional file:line[:column]
	Err  error     // underlying error or message
}

// E builds an *Error. msg is formatted with args when args are given.
func E(op string, kind ErrorKind, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Wrap wraps err with an operation and kind. A nil err gives nil.
func Wrap(op string, kind ErrorKind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: kind, Err: err}
}

// At returns a copy of e that names a file position.
func (e *Error) At(pos string) *Error {
	c := *e
	c.Pos = pos
	return &c
}

func (e *Error) Error() string {
	var s string
	if e.Pos != "" {
		s = e.Pos + ": "
	}
	if e.Op != "" {
		s += e.Op + ": "
	}
	if e.Err != nil {
		s += e.Err.Error()
	} else {
		s += e.Kind.String()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is this error's kind, so that
// errors.Is(err, ErrNotFound) works through any wrapping.
func (e *Error) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind && k != KindOther
}

// KindOf returns the kind of the first *Error in err's chain, or KindOther.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Message is err's message without the operation names of the *Error
// values it wraps (what a user reads).
func Message(err error) string {
	var e *Error
	for errors.As(err, &e) && e.Err != nil && e.Pos == "" {
		err = e.Err
	}
	return err.Error()
}
