package execution

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// JournalStore is durable storage for a journal's records: the
// service's state database, so that every instance on it sees what
// another sent. Put methods return only once the record is durable (a
// committed transaction); a second record under the same (key, index)
// leaves the first, and PutTx reports a different one as an error, as
// it does a transaction whose nonce the store holds for another call of
// the same account (from, 0x-hex; "" records no account, and the record
// then takes part in neither that check nor MaxNonce). A store that fences sending refuses
// PutTx, with an error wrapping ErrFenced, when the process does not
// hold the lease.
type JournalStore interface {
	PutTx(key string, i int, hash, from string, nonce uint64, raw []byte) error
	GetTx(key string, i int) (raw []byte, ok bool, err error)
	// MaxNonce is the highest nonce of a transaction held for account
	// from; ok is false when it holds none.
	MaxNonce(from string) (nonce uint64, ok bool, err error)
	PutGas(key, gwei string) error
	GetGas(key string) (gwei string, ok bool, err error)
	PutRates(key string, rates map[string]string) error
	GetRates(key string) (rates map[string]string, ok bool, err error)
}

// StoreJournal is a Journal over a JournalStore, with the FileJournal's
// gas records and Started.
type StoreJournal struct {
	S JournalStore
}

// Record stores the signed transaction of call i of intent key.
func (j StoreJournal) Record(key string, i int, tx *types.Transaction) error {
	const op = "execution.StoreJournal.Record"
	raw, err := tx.MarshalBinary()
	if err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	from, err := senderOf(tx)
	if err != nil {
		return adapters.Wrap(op, adapters.KindInvalid, err)
	}
	return j.S.PutTx(key, i, tx.Hash().Hex(), from.Hex(), tx.Nonce(), raw)
}

// MaxNonce is the highest nonce journalled for account from.
func (j StoreJournal) MaxNonce(from common.Address) (uint64, bool, error) {
	return j.S.MaxNonce(from.Hex())
}

// senderOf recovers a signed transaction's sending account.
func senderOf(tx *types.Transaction) (common.Address, error) {
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
	if err != nil {
		return common.Address{}, fmt.Errorf("transaction %s: its signature gives no sender: %v", tx.Hash().Hex(), err)
	}
	return from, nil
}

// Lookup returns the recorded transaction of (key, i), or nil.
func (j StoreJournal) Lookup(key string, i int) (*types.Transaction, error) {
	const op = "execution.StoreJournal.Lookup"
	raw, ok, err := j.S.GetTx(key, i)
	if err != nil || !ok {
		return nil, err
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "journal record %s#%d does not decode: %v", key, i, err)
	}
	return tx, nil
}

// RecordGas stores the gas price (gwei) intent key decided at; a price
// already stored is kept.
func (j StoreJournal) RecordGas(key string, gwei decimal.Decimal) error {
	return j.S.PutGas(key, gwei.String())
}

// GasOf returns the gas price intent key decided at, when stored.
func (j StoreJournal) GasOf(key string) (decimal.Decimal, bool, error) {
	g, ok, err := j.S.GetGas(key)
	if err != nil || !ok {
		return decimal.Decimal{}, false, err
	}
	d, err := decimal.NewFromString(g)
	if err != nil {
		return decimal.Decimal{}, false, adapters.E("execution.StoreJournal.GasOf", adapters.KindInvalid, "journal gas price %q of %s is not a number", g, key)
	}
	return d, true, nil
}

// RecordRates stores the loop rates (by market) intent key's calls are
// encoded at, before its first transaction; rates already stored are
// kept (FileJournal.RecordRates).
func (j StoreJournal) RecordRates(key string, rates map[string]decimal.Decimal) error {
	if len(rates) == 0 {
		return nil
	}
	rs := make(map[string]string, len(rates))
	for m, r := range rates {
		rs[m] = r.String()
	}
	return j.S.PutRates(key, rs)
}

// RatesOf returns the loop rates intent key's calls were encoded at,
// when stored.
func (j StoreJournal) RatesOf(key string) (map[string]decimal.Decimal, bool, error) {
	rs, ok, err := j.S.GetRates(key)
	if err != nil || !ok {
		return nil, false, err
	}
	out := make(map[string]decimal.Decimal, len(rs))
	for m, r := range rs {
		d, err := decimal.NewFromString(r)
		if err != nil {
			return nil, false, adapters.E("execution.StoreJournal.RatesOf", adapters.KindInvalid, "journal rate %q of %s for %s is not a number", r, m, key)
		}
		out[m] = d
	}
	return out, true, nil
}

// Started reports whether intent key has a journalled transaction.
func (j StoreJournal) Started(key string) (bool, error) {
	_, ok, err := j.S.GetTx(key, 0)
	return ok, err
}

// JournalRecord is one record of a journal: a transaction (Raw set),
// the gas price an intent decided at (Gas set) or its loop rates (Rates
// set).
type JournalRecord struct {
	Key   string
	Index int
	Hash  string
	Nonce uint64
	Raw   []byte
	Gas   string
	Rates map[string]string
}

// Import copies a file journal's records into s (an upgrade from the
// journal file to the state database), without their sending account
// (see PutTx): records s already holds are kept, a different transaction
// under the same call is an error naming the file.
func Import(path string, s JournalStore) (int, error) {
	recs, err := ReadFileJournal(path)
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		switch {
		case r.Raw != nil:
			// No account: an earlier version's file may hold two
			// transactions on one nonce (one replaced or dropped), which
			// the one-transaction-per-nonce rule would refuse; its
			// transactions are resolved by their intents, not counted
			// for the next nonce.
			err = s.PutTx(r.Key, r.Index, r.Hash, "", r.Nonce, r.Raw)
		case r.Rates != nil:
			err = s.PutRates(r.Key, r.Rates)
		default:
			err = s.PutGas(r.Key, r.Gas)
		}
		if err != nil {
			return 0, fmt.Errorf("importing %s: %w", path, err)
		}
	}
	return len(recs), nil
}
