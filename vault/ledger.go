package vault

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// EntryType is what a ledger entry records.
type EntryType string

// Ledger entry types. The comment says how the entry moves idle and shares
// (what Replay recomputes).
const (
	EntryDeposit  EntryType = "deposit"  // a user deposit or mint: idle += Amount, User's shares += Shares
	EntryWithdraw EntryType = "withdraw" // a user withdrawal or redeem: idle -= Amount (paid), User's shares -= Shares (burned)
	EntryDonation EntryType = "donation" // assets sent to the vault without minting shares: idle += Amount
	EntryBuy      EntryType = "buy"      // an order into a market: idle -= Amount (spent, costs included)
	EntrySell     EntryType = "sell"     // an instant exit: idle += Amount (received, after costs)
	EntryQueue    EntryType = "queue"    // a queued exit: idle += Amount (what the request returned, usually 0); the claim is in Reason
	EntryClaim    EntryType = "claim"    // matured claims paid out: idle += Amount
	EntryHarvest  EntryType = "harvest"  // rewards claimed and swapped: idle += Amount (after costs; may be < 0)
	EntryFee      EntryType = "fee"      // fee shares minted: User (the recipient) += Shares; Amount is their value; Reason is management or performance
	EntryEvent    EntryType = "event"    // a market event: Amount is the value lost (idle unchanged)
	EntryCost     EntryType = "cost"     // a cost not carried by a fill (Reason "rounding" for adapter unit rounding): idle unchanged
	EntryShutdown EntryType = "shutdown" // the vault was shut down
	// EntryRelever moves a loop to another leverage at constant equity:
	// idle unchanged; the costs are what the position lost.
	EntryRelever EntryType = "relever"
	// EntryLiquidation is a protocol's liquidation of a loop: Amount is
	// the equity lost (idle unchanged); Reason the cause, the debt repaid
	// and the collateral seized.
	EntryLiquidation EntryType = "liquidation"
)

// Entry is one line of the ledger: a plain value the service persists.
// Amounts are in base units at adapters.Scale places. Gas, Slippage and
// Fee are the costs of the operation (already inside Amount for orders).
type Entry struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Type     EntryType       `json:"type"`
	User     string          `json:"user,omitempty"`
	Market   string          `json:"market,omitempty"`
	Amount   decimal.Decimal `json:"amount"`
	Shares   decimal.Decimal `json:"shares"`
	Gas      decimal.Decimal `json:"gas"`
	Slippage decimal.Decimal `json:"slippage"`
	Fee      decimal.Decimal `json:"fee"`
	Reason   string          `json:"reason,omitempty"`
	// Tick is the keeper tick that triggered the entry (zero for user
	// operations and events).
	Tick time.Time `json:"tick,omitzero"`
}

// fillEntry is e with a fill's amounts: Amount amount, Gas and Fee the
// fill's, Slippage slip (the fill's, or with the depeg under market
// pricing). The ledger is an edge: its amounts are decimals (the gas
// costs, which recur, from the vault's memo).
func (v *Vault) fillEntry(e Entry, amount num, f *adapters.Fill, slip num) Entry {
	e.Amount, e.Gas, e.Slippage, e.Fee = amount.Dec(), v.gasDec.of(f.Gas), slip.Dec(), f.Fee.Dec()
	return e
}

// Cost is the entry's gas + slippage + fee.
func (e *Entry) Cost() decimal.Decimal { return e.Gas.Add(e.Slippage).Add(e.Fee) }

// IdleDelta is the change the entry makes to the vault's idle assets.
func (e *Entry) IdleDelta() decimal.Decimal {
	switch e.Type {
	case EntryDeposit, EntryDonation, EntrySell, EntryQueue, EntryClaim, EntryHarvest:
		return e.Amount
	case EntryWithdraw, EntryBuy:
		return e.Amount.Neg()
	}
	return zero
}

// SharesDelta is the change the entry makes to its User's shares.
func (e *Entry) SharesDelta() decimal.Decimal {
	switch e.Type {
	case EntryDeposit, EntryFee:
		return e.Shares
	case EntryWithdraw:
		return e.Shares.Neg()
	}
	return zero
}

// Ledger is the vault's append-only record. Entries get consecutive
// sequence numbers starting at the ledger's first Seq.
//
// Entries are kept in fixed-size blocks, so that appending never copies
// the entries already held (a backtest's ledger grows by tens of entries
// per rebalance).
type Ledger struct {
	blocks [][]Entry // each of capacity ledgerBlock; only the last is not full
	n      int
	next   uint64
}

// ledgerBlock is the number of entries per block.
const ledgerBlock = 256

// at returns entry i.
func (l *Ledger) at(i int) *Entry { return &l.blocks[i/ledgerBlock][i%ledgerBlock] }

// from returns a copy of the entries from index i on.
func (l *Ledger) from(i int) []Entry {
	if i >= l.n {
		return nil
	}
	out := make([]Entry, 0, l.n-i)
	for b := i / ledgerBlock; b < len(l.blocks); b++ {
		blk := l.blocks[b]
		if b == i/ledgerBlock {
			blk = blk[i%ledgerBlock:]
		}
		out = append(out, blk...)
	}
	return out
}

// NewLedger returns an empty ledger whose first entry will have sequence
// number next (1 for a new vault; the service resumes at its last + 1).
func NewLedger(next uint64) *Ledger {
	if next == 0 {
		next = 1
	}
	return &Ledger{next: next}
}

func (l *Ledger) add(e Entry) {
	e.Seq = l.next
	l.next++
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1]) == ledgerBlock {
		l.blocks = append(l.blocks, make([]Entry, 0, ledgerBlock))
	}
	last := &l.blocks[len(l.blocks)-1]
	*last = append(*last, e)
	l.n++
}

// truncate drops every entry held, keeping the first block's memory and
// the sequence (benchmarks of a steady-state vault use it). The dropped
// entries of the first block are not cleared: the next entries overwrite
// them (clearing them cost the benchmark a write barrier per pointer
// while the collector runs, which no rebalance pays).
func (l *Ledger) truncate() {
	if len(l.blocks) > 0 {
		l.blocks[0] = l.blocks[0][:0]
		l.blocks = l.blocks[:1]
	}
	l.n = 0
}

// Len is the number of entries held.
func (l *Ledger) Len() int { return l.n }

// Next is the sequence number the next entry will get.
func (l *Ledger) Next() uint64 { return l.next }

// Entries returns a copy of every entry held.
func (l *Ledger) Entries() []Entry {
	if l.n == 0 {
		return []Entry(nil)
	}
	return l.from(0)
}

// Since returns a copy of the entries with Seq >= seq, for incremental
// persistence.
func (l *Ledger) Since(seq uint64) []Entry {
	i := sort.Search(l.n, func(i int) bool { return l.at(i).Seq >= seq })
	return l.from(i)
}

// Books are the balances a ledger implies: idle assets, total supply and
// each user's shares.
type Books struct {
	Idle   decimal.Decimal
	Supply decimal.Decimal
	Shares map[string]decimal.Decimal
}

// Replay recomputes the books from entries, starting from start (the zero
// Books for a ledger that begins with the vault). Entries must have
// strictly increasing sequence numbers; a share balance or the supply that
// would go negative is an error (KindInvalid) naming the entry. Idle may
// not go negative either.
func Replay(start Books, entries []Entry) (Books, error) {
	const op = "vault.Replay"
	b := Books{Idle: start.Idle, Supply: start.Supply, Shares: make(map[string]decimal.Decimal, len(start.Shares))}
	for u, s := range start.Shares {
		b.Shares[u] = s
	}
	var last uint64
	for i := range entries {
		e := &entries[i]
		if i > 0 && e.Seq <= last {
			return b, adapters.E(op, adapters.KindInvalid, "entry %d: sequence %d does not follow %d", i, e.Seq, last)
		}
		last = e.Seq
		b.Idle = b.Idle.Add(e.IdleDelta())
		if d := e.SharesDelta(); d.Sign() != 0 {
			s := b.Shares[e.User].Add(d)
			if s.Sign() < 0 {
				return b, adapters.E(op, adapters.KindInvalid, "entry seq %d (%s): shares of %q would be %s", e.Seq, e.Type, e.User, s)
			}
			if s.Sign() == 0 {
				delete(b.Shares, e.User)
			} else {
				b.Shares[e.User] = s
			}
			b.Supply = b.Supply.Add(d)
		}
		if b.Idle.Sign() < 0 {
			return b, adapters.E(op, adapters.KindInvalid, "entry seq %d (%s): idle would be %s", e.Seq, e.Type, b.Idle)
		}
	}
	return b, nil
}

// Diff lists the differences between two books, one line each, sorted;
// empty when they agree exactly.
func (b Books) Diff(o Books) []string {
	var out []string
	if !b.Idle.Equal(o.Idle) {
		out = append(out, fmt.Sprintf("idle %s != %s", b.Idle, o.Idle))
	}
	if !b.Supply.Equal(o.Supply) {
		out = append(out, fmt.Sprintf("supply %s != %s", b.Supply, o.Supply))
	}
	users := map[string]bool{}
	for u := range b.Shares {
		users[u] = true
	}
	for u := range o.Shares {
		users[u] = true
	}
	var us []string
	for u := range users {
		us = append(us, u)
	}
	sort.Strings(us)
	for _, u := range us {
		if !b.Shares[u].Equal(o.Shares[u]) {
			out = append(out, fmt.Sprintf("shares of %q %s != %s", u, b.Shares[u], o.Shares[u]))
		}
	}
	return out
}

// Reconcile replays the vault's ledger from the books it started with
// (empty for a new vault, the restored State's for a restored one) and
// compares the result with the vault's own idle, supply and balances. It returns
// nil when they agree to the last unit, else a KindInvalid error listing
// every difference.
func Reconcile(v *Vault) error {
	got, err := Replay(v.base, v.ledger.Entries())
	if err != nil {
		return err
	}
	if d := got.Diff(v.Books()); len(d) > 0 {
		return adapters.E("vault.Reconcile", adapters.KindInvalid, "ledger and vault disagree: %s", strings.Join(d, "; "))
	}
	return nil
}
