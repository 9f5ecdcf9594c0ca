package execution

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"
	"github.com/yieldvault/yieldvault/adapters"
)

// FileJournal is a Journal in an append-only file of JSON lines, each
// written and fsynced before Record returns: (intent key, call index,
// transaction hash, nonce, the signed transaction's bytes). A torn last
// line (a crash mid-write) is ignored at open: its transaction was never
// broadcast, as Record had not returned.
//
// A line may instead hold the gas price an intent decided at (Gas, no
// transaction): a re-run of the intent decides at the same price, so it
// makes the same decision and resolves the same transactions. Or the
// exchange rates its loop calls were encoded at (Rates, by market): a
// re-run encodes the same calls.
type FileJournal struct {
	mu    sync.Mutex
	f     *os.File
	path  string
	txs   map[string]*types.Transaction
	gas   map[string]string
	rates map[string]map[string]string
}

type journalLine struct {
	Key   string `json:"key"`
	Index int    `json:"i"`
	Hash  string `json:"hash,omitempty"`
	Nonce uint64 `json:"nonce,omitempty"`
	Raw   string `json:"raw,omitempty"` // the signed transaction, hex of its binary encoding
	Gas   string `json:"gas_gwei,omitempty"`
	// Rates are a loop's collateral rates by market (RecordRates).
	Rates map[string]string `json:"rates,omitempty"`
}

// OpenFileJournal opens (creating) a journal file.
func OpenFileJournal(path string) (*FileJournal, error) {
	const op = "execution.OpenFileJournal"
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	j := &FileJournal{path: path}
	if err := j.load(data); err != nil {
		return nil, err
	}
	if n := len(data); n > 0 && data[n-1] != '\n' {
		// Cut the torn last line, or the next record would be appended
		// to it and make one damaged line of both.
		if err := os.Truncate(path, int64(bytes.LastIndexByte(data, '\n')+1)); err != nil {
			return nil, adapters.Wrap(op, adapters.KindOther, err)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	j.f = f
	return j, nil
}

// load (re)reads the journal's records from its file's content.
func (j *FileJournal) load(data []byte) error {
	const op = "execution.OpenFileJournal"
	path := j.path
	txs := map[string]*types.Transaction{}
	gas := map[string]string{}
	rates := map[string]map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	line := 0
	for sc.Scan() {
		line++
		var l journalLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			if !bytes.HasSuffix(data, []byte("\n")) && line == bytes.Count(data, []byte("\n"))+1 {
				break // the torn last line
			}
			return (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: fmt.Errorf("not a journal line: %v", err)}).At(fmt.Sprintf("%s:%d", path, line))
		}
		if len(l.Rates) > 0 && l.Raw == "" {
			for m, r := range l.Rates {
				if _, err := decimal.NewFromString(r); err != nil {
					return (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: fmt.Errorf("rate %q of %s is not a number", r, m)}).At(fmt.Sprintf("%s:%d", path, line))
				}
			}
			if _, ok := rates[l.Key]; !ok {
				rates[l.Key] = l.Rates
			}
			continue
		}
		if l.Gas != "" && l.Raw == "" {
			if _, err := decimal.NewFromString(l.Gas); err != nil {
				return (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: fmt.Errorf("gas price %q is not a number", l.Gas)}).At(fmt.Sprintf("%s:%d", path, line))
			}
			if _, ok := gas[l.Key]; !ok {
				gas[l.Key] = l.Gas
			}
			continue
		}
		raw, err := hexBytes(l.Raw)
		if err != nil {
			return (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: err}).At(fmt.Sprintf("%s:%d", path, line))
		}
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(raw); err != nil || tx.Hash().Hex() != l.Hash {
			return (&adapters.Error{Op: op, Kind: adapters.KindInvalid, Err: fmt.Errorf("transaction %s does not decode to its hash", l.Hash)}).At(fmt.Sprintf("%s:%d", path, line))
		}
		txs[journalKey(l.Key, l.Index)] = tx
	}
	j.txs, j.gas, j.rates = txs, gas, rates
	return nil
}

func journalKey(key string, i int) string { return fmt.Sprintf("%s\x00%d", key, i) }

func hexBytes(s string) ([]byte, error) {
	if len(s) < 2 || s[:2] != "0x" {
		return nil, fmt.Errorf("raw transaction %q is not 0x-prefixed hex", s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, fmt.Errorf("raw transaction is not hex: %v", err)
	}
	return b, nil
}

// Record appends and fsyncs the transaction.
func (j *FileJournal) Record(key string, i int, tx *types.Transaction) error {
	const op = "execution.FileJournal.Record"
	raw, err := tx.MarshalBinary()
	if err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	return j.append(op, journalLine{Key: key, Index: i, Hash: tx.Hash().Hex(), Nonce: tx.Nonce(), Raw: fmt.Sprintf("0x%x", raw)},
		func() { j.txs[journalKey(key, i)] = tx })
}

// append writes l as a line of the journal file and fsyncs it, then,
// still under j.mu, applies it to the in-memory index (apply).
func (j *FileJournal) append(op string, l journalLine, apply func()) error {
	line, err := json.Marshal(l)
	if err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := j.f.Sync(); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	apply()
	return nil
}

// Lookup returns the recorded transaction of (key, i), or nil. A miss
// reads the file again: another process (the lease holder before a
// takeover) may have recorded it.
func (j *FileJournal) Lookup(key string, i int) (*types.Transaction, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if tx := j.txs[journalKey(key, i)]; tx != nil {
		return tx, nil
	}
	data, err := os.ReadFile(j.path)
	if err != nil {
		return nil, adapters.Wrap("execution.FileJournal.Lookup", adapters.KindOther, err)
	}
	if err := j.load(data); err != nil {
		return nil, err
	}
	return j.txs[journalKey(key, i)], nil
}

// GasOf returns the gas price (gwei) intent key decided at, when it was
// journalled (RecordGas), reading the file again on a miss: another
// process (the lease holder before a takeover) may have journalled it.
func (j *FileJournal) GasOf(key string) (decimal.Decimal, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	g, ok := j.gas[key]
	if !ok {
		data, err := os.ReadFile(j.path)
		if err != nil {
			return decimal.Decimal{}, false, adapters.Wrap("execution.FileJournal.GasOf", adapters.KindOther, err)
		}
		if err := j.load(data); err != nil {
			return decimal.Decimal{}, false, err
		}
		if g, ok = j.gas[key]; !ok {
			return decimal.Decimal{}, false, nil
		}
	}
	d, err := decimal.NewFromString(g)
	return d, err == nil, err
}

// RecordGas journals (fsynced) the gas price intent key decided at,
// before its first transaction is sent: every later run of the intent
// decides at the same price, so it makes the same decision and resolves
// the same transactions. A price already journalled is kept.
func (j *FileJournal) RecordGas(key string, gwei decimal.Decimal) error {
	const op = "execution.FileJournal.RecordGas"
	if _, ok, err := j.GasOf(key); err != nil || ok {
		return err
	}
	return j.append(op, journalLine{Key: key, Index: -1, Gas: gwei.String()}, func() { j.gas[key] = gwei.String() })
}

// RatesOf returns the loop rates (by market) intent key's calls were
// encoded at, when they were journalled (RecordRates), reading the file
// again on a miss as GasOf does.
func (j *FileJournal) RatesOf(key string) (map[string]decimal.Decimal, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rs, ok := j.rates[key]
	if !ok {
		data, err := os.ReadFile(j.path)
		if err != nil {
			return nil, false, adapters.Wrap("execution.FileJournal.RatesOf", adapters.KindOther, err)
		}
		if err := j.load(data); err != nil {
			return nil, false, err
		}
		if rs, ok = j.rates[key]; !ok {
			return nil, false, nil
		}
	}
	out := make(map[string]decimal.Decimal, len(rs))
	for m, r := range rs {
		d, err := decimal.NewFromString(r)
		if err != nil {
			return nil, false, err
		}
		out[m] = d
	}
	return out, true, nil
}

// RecordRates journals (fsynced) the rates intent key's loop calls are
// encoded at, before its first transaction is sent: a re-run encodes the
// same calls, so it resolves the same transactions (a rate read again
// after a Lido report would change the amounts, and the journal would
// hold other transactions than the calls). Rates already journalled are
// kept.
func (j *FileJournal) RecordRates(key string, rates map[string]decimal.Decimal) error {
	const op = "execution.FileJournal.RecordRates"
	if len(rates) == 0 {
		return nil
	}
	if _, ok, err := j.RatesOf(key); err != nil || ok {
		return err
	}
	rs := make(map[string]string, len(rates))
	for m, r := range rates {
		rs[m] = r.String()
	}
	return j.append(op, journalLine{Key: key, Index: -1, Rates: rs}, func() { j.rates[key] = rs })
}

// MaxNonce is the highest nonce of a journalled transaction signed by
// account from, read from the file again (another process may have
// recorded one).
func (j *FileJournal) MaxNonce(from common.Address) (uint64, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	data, err := os.ReadFile(j.path)
	if err != nil {
		return 0, false, adapters.Wrap("execution.FileJournal.MaxNonce", adapters.KindOther, err)
	}
	if err := j.load(data); err != nil {
		return 0, false, err
	}
	var top uint64
	ok := false
	for _, tx := range j.txs {
		if f, err := senderOf(tx); err == nil && f == from && (!ok || tx.Nonce() > top) {
			top, ok = tx.Nonce(), true
		}
	}
	return top, ok, nil
}

// Started reports whether intent key has a journalled transaction: it
// ran before and sent (or was about to send) something.
func (j *FileJournal) Started(key string) (bool, error) {
	tx, err := j.Lookup(key, 0)
	return tx != nil, err
}

// Close closes the file.
func (j *FileJournal) Close() error { return j.f.Close() }

// ReadFileJournal returns a journal file's records in file order (the
// file's torn last line, if any, left out): the records Import copies
// into a JournalStore. A missing file has none.
func ReadFileJournal(path string) ([]JournalRecord, error) {
	const op = "execution.ReadFileJournal"
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	j := &FileJournal{path: path}
	if err := j.load(data); err != nil {
		return nil, err
	}
	var out []JournalRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		var l journalLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			break // the torn last line (load refused any other)
		}
		if l.Raw == "" && len(l.Rates) > 0 {
			out = append(out, JournalRecord{Key: l.Key, Index: -2, Rates: l.Rates})
			continue
		}
		if l.Raw == "" {
			out = append(out, JournalRecord{Key: l.Key, Index: -1, Gas: l.Gas})
			continue
		}
		raw, err := hexBytes(l.Raw)
		if err != nil {
			return nil, err
		}
		out = append(out, JournalRecord{Key: l.Key, Index: l.Index, Hash: l.Hash, Nonce: l.Nonce, Raw: raw})
	}
	return out, nil
}
