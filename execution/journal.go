package execution

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/yieldvault/yieldvault/adapters"
)

// FileJournal is a Journal in an append-only file of JSON lines, each
// written and fsynced before Record returns: (intent key, call index,
// transaction hash, nonce, the signed transaction's bytes). A torn last
// line (a crash mid-write) is ignored at open: its transaction was never
// broadcast, as Record had not returned.
type FileJournal struct {
	mu   sync.Mutex
	f    *os.File
	path string
	txs  map[string]*types.Transaction
}

type journalLine struct {
	Key   string `json:"key"`
	Index int    `json:"i"`
	Hash  string `json:"hash"`
	Nonce uint64 `json:"nonce"`
	Raw   string `json:"raw"` // the signed transaction, hex of its binary encoding
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
	j.txs = txs
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
	line, err := json.Marshal(journalLine{Key: key, Index: i, Hash: tx.Hash().Hex(), Nonce: tx.Nonce(), Raw: fmt.Sprintf("0x%x", raw)})
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
	j.txs[journalKey(key, i)] = tx
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

// Close closes the file.
func (j *FileJournal) Close() error { return j.f.Close() }
