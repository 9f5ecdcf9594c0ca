package service

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
)

// journalTimeout bounds each call of the execution journal (its
// interface, execution.JournalStore, carries no context).
const journalTimeout = 30 * time.Second

// The Store is send mode's execution journal (execution.JournalStore):
// table execution_journal holds each signed transaction under its
// intent key and call index, committed before the transaction is
// broadcast, and the gas price each intent decided at (index -1). In the
// state database, every instance on it sees what another sent: the
// process that takes the lease resolves the previous holder's
// transactions from here, wherever it runs.

// PutTx records the signed transaction of call i of intent key, sent
// from account from. The same record again is kept; another transaction
// under the same call is an error (the intent's re-run must resolve the
// first, never sign a second), and so is a transaction whose nonce is
// journalled for another call of the account (two transactions on one
// nonce: one of them would be orphaned). It is not fenced by the lease:
// Fenced's journal is.
func (s *Store) PutTx(key string, i int, hash, from string, nonce uint64, raw []byte) error {
	return s.putTx(key, i, hash, from, nonce, raw, nil)
}

// putTx is PutTx, with the lease lc returns (called before the write
// begins) checked in the same transaction when lc is not nil.
func (s *Store) putTx(key string, i int, hash, from string, nonce uint64, raw []byte, lc func() *LeaseCheck) error {
	const op = "service.Store.PutTx"
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	var fence *LeaseCheck
	if lc != nil {
		fence = lc() // outside the write: it may renew the lease
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if fence != nil {
			if err := s.checkLease(ctx, tx, op, fence); errors.Is(err, ErrNotLeader) {
				return &adapters.Error{Op: op, Kind: adapters.KindPaused, Err: fmt.Errorf("%w (%w): the lease changed hands since this process took it, or lapsed", execution.ErrFenced, ErrNotLeader)}
			} else if err != nil {
				return err
			}
		}
		var have string
		err := s.queryRow(ctx, tx, "SELECT hash FROM execution_journal WHERE intent_key = ? AND idx = ?", key, i).Scan(&have)
		switch {
		case err == nil && have == hash:
			return nil
		case err == nil:
			return adapters.E(op, adapters.KindOther, "intent %s call %d is journalled with transaction %s, not %s", key, i+1, have, hash)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var okey string
		var oidx int
		err = s.queryRow(ctx, tx, "SELECT intent_key, idx, hash FROM execution_journal WHERE sender = ? AND nonce = ? AND sender != ''", from, int64(nonce)).Scan(&okey, &oidx, &have)
		if err == nil {
			return &adapters.Error{Op: op, Kind: adapters.KindOther, Err: fmt.Errorf("%w (%w): nonce %d of %s is journalled for intent %s call %d (%s): transaction %s is not recorded and not sent", ErrConflict, execution.ErrNonceTaken, nonce, from, okey, oidx+1, have, hash)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = s.exec(ctx, tx, "INSERT INTO execution_journal (intent_key, idx, hash, nonce, raw, gas_gwei, sender) VALUES (?, ?, ?, ?, ?, '', ?)",
			key, i, hash, int64(nonce), "0x"+hex.EncodeToString(raw), from)
		return err
	})
	if err != nil && !errors.As(err, new(*adapters.Error)) {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	return err
}

// MaxNonce is the highest nonce journalled for account from.
func (s *Store) MaxNonce(from string) (uint64, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	var n sql.NullInt64
	if err := s.queryRow(ctx, nil, "SELECT MAX(nonce) FROM execution_journal WHERE sender = ? AND sender != ''", from).Scan(&n); err != nil {
		return 0, false, adapters.Wrap("service.Store.MaxNonce", adapters.KindOther, err)
	}
	return uint64(n.Int64), n.Valid, nil
}

// Fenced is the store as the execution journal of a process that sends
// only while it holds the lease: each signed transaction is recorded
// only if, in the same write transaction, the lease still names the
// process with the generation lease returns (taken when PutTx is
// called); else PutTx records nothing and returns an error wrapping
// execution.ErrFenced and ErrNotLeader, after calling lost with it.
func (s *Store) Fenced(lease func() *LeaseCheck, lost func(error)) execution.JournalStore {
	return fencedJournal{Store: s, lease: lease, lost: lost}
}

type fencedJournal struct {
	*Store
	lease func() *LeaseCheck
	lost  func(error)
}

func (f fencedJournal) PutTx(key string, i int, hash, from string, nonce uint64, raw []byte) error {
	err := f.putTx(key, i, hash, from, nonce, raw, f.lease)
	if errors.Is(err, execution.ErrFenced) && f.lost != nil {
		f.lost(err)
	}
	return err
}

// GetTx returns the signed transaction of call i of intent key.
func (s *Store) GetTx(key string, i int) ([]byte, bool, error) {
	const op = "service.Store.GetTx"
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	var raw string
	err := s.queryRow(ctx, nil, "SELECT raw FROM execution_journal WHERE intent_key = ? AND idx = ? AND raw != ''", key, i).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, adapters.Wrap(op, adapters.KindOther, err)
	}
	b, err := hex.DecodeString(strings.TrimPrefix(raw, "0x"))
	if err != nil {
		return nil, false, adapters.E(op, adapters.KindInvalid, "execution journal: intent %s call %d is not hex: %v", key, i+1, err)
	}
	return b, true, nil
}

// PutGas records the gas price (gwei) intent key decided at; a price
// already recorded is kept.
func (s *Store) PutGas(key, gwei string) error {
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, "INSERT INTO execution_journal (intent_key, idx, hash, nonce, raw, gas_gwei) VALUES (?, -1, '', 0, '', ?) ON CONFLICT (intent_key, idx) DO NOTHING", key, gwei)
		return err
	})
	return adapters.Wrap("service.Store.PutGas", adapters.KindOther, err)
}

// GetGas returns the gas price intent key decided at, when recorded.
func (s *Store) GetGas(key string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	var g string
	err := s.queryRow(ctx, nil, "SELECT gas_gwei FROM execution_journal WHERE intent_key = ? AND idx = -1", key).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, adapters.Wrap("service.Store.GetGas", adapters.KindOther, err)
	}
	return g, true, nil
}

// PutRates records the loop rates (by market) intent key's calls were
// encoded at; rates already recorded are kept.
func (s *Store) PutRates(key string, rates map[string]string) error {
	js, err := json.Marshal(rates)
	if err != nil {
		return adapters.Wrap("service.Store.PutRates", adapters.KindOther, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, "INSERT INTO execution_journal (intent_key, idx, hash, nonce, raw, gas_gwei, rates_json) VALUES (?, -2, '', 0, '', '', ?) ON CONFLICT (intent_key, idx) DO NOTHING", key, string(js))
		return err
	})
	return adapters.Wrap("service.Store.PutRates", adapters.KindOther, err)
}

// GetRates returns the loop rates intent key's calls were encoded at,
// when recorded.
func (s *Store) GetRates(key string) (map[string]string, bool, error) {
	const op = "service.Store.GetRates"
	ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
	defer cancel()
	var js string
	err := s.queryRow(ctx, nil, "SELECT rates_json FROM execution_journal WHERE intent_key = ? AND idx = -2", key).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, adapters.Wrap(op, adapters.KindOther, err)
	}
	var rs map[string]string
	if err := json.Unmarshal([]byte(js), &rs); err != nil {
		return nil, false, adapters.E(op, adapters.KindInvalid, "execution journal: the loop rates of %s are not JSON: %v", key, err)
	}
	return rs, true, nil
}

// JournalTx is one transaction of the execution journal.
type JournalTx struct {
	Key   string
	Index int
	Hash  string
	Nonce uint64
}

// JournalTxs lists the journal's transactions, by intent key and call.
func (s *Store) JournalTxs(ctx context.Context) ([]JournalTx, error) {
	rows, err := s.query(ctx, "SELECT intent_key, idx, hash, nonce FROM execution_journal WHERE raw != '' ORDER BY intent_key, idx")
	if err != nil {
		return nil, adapters.Wrap("service.Store.JournalTxs", adapters.KindOther, err)
	}
	defer rows.Close()
	var out []JournalTx
	for rows.Next() {
		var j JournalTx
		var nonce int64
		if err := rows.Scan(&j.Key, &j.Index, &j.Hash, &nonce); err != nil {
			return nil, adapters.Wrap("service.Store.JournalTxs", adapters.KindOther, err)
		}
		j.Nonce = uint64(nonce)
		out = append(out, j)
	}
	return out, rows.Err()
}
