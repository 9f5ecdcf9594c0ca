package execution

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"
	"github.com/yieldvault/yieldvault/adapters"
)

func signedTx(t *testing.T, nonce uint64) *types.Transaction {
	t.Helper()
	key, err := crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	if err != nil {
		t.Fatal(err)
	}
	to := tWETH.Address
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 21000, To: &to}), types.LatestSignerForChainID(big.NewInt(1)), key)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestFileJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := signedTx(t, 7), signedTx(t, 8)
	if err := j.Record("v/rebalance/1", 0, a); err != nil {
		t.Fatal(err)
	}
	if err := j.Record("v/rebalance/1", 1, b); err != nil {
		t.Fatal(err)
	}
	j.Close()
	// A crash mid-write leaves a torn last line: its transaction was
	// never broadcast (Record had not returned), so it is ignored.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"key":"v/rebalance/2","i":0,"hash":"0x12`)
	f.Close()
	j, err = OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i, want := range []*types.Transaction{a, b} {
		got, _ := j.Lookup("v/rebalance/1", i)
		if got == nil || got.Hash() != want.Hash() || got.Nonce() != want.Nonce() {
			t.Errorf("call %d: got %v, want %s", i, got, want.Hash().Hex())
		}
	}
	if got, _ := j.Lookup("v/rebalance/2", 0); got != nil {
		t.Error("the torn line was read")
	}
	// The torn line was cut: a record after it reads back after a
	// reopen (appended to the torn line, it made one damaged line).
	c := signedTx(t, 9)
	if err := j.Record("v/rebalance/2", 0, c); err != nil {
		t.Fatal(err)
	}
	// The gas price an intent decided at: journalled once, read back
	// after a reopen, never replaced.
	if _, ok, err := j.GasOf("v/rebalance/2"); ok || err != nil {
		t.Errorf("gas before it was recorded: %v %v", ok, err)
	}
	if err := j.RecordGas("v/rebalance/2", decimal.RequireFromString("12.5")); err != nil {
		t.Fatal(err)
	}
	if err := j.RecordGas("v/rebalance/2", decimal.RequireFromString("99")); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got, _ := j.Lookup("v/rebalance/2", 0); got == nil || got.Hash() != c.Hash() {
		t.Errorf("the record after the torn line: got %v", got)
	}
	if g, ok, err := j.GasOf("v/rebalance/2"); !ok || err != nil || !g.Equal(decimal.RequireFromString("12.5")) {
		t.Errorf("gas %s %v %v, want the first 12.5", g, ok, err)
	}
	if started, _ := j.Started("v/rebalance/2"); !started {
		t.Error("an intent with a journalled transaction is not started")
	}
	if started, _ := j.Started("v/rebalance/3"); started {
		t.Error("an intent with nothing journalled is started")
	}
	// A damaged line in the middle is an error naming file:line.
	data, _ := os.ReadFile(path)
	lines := strings.SplitN(string(data), "\n", 2)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(strings.Replace(lines[0], `"raw":"0x`, `"raw":"0xzz`, 1)+"\n"+lines[1]), 0o600)
	if _, err := OpenFileJournal(bad); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), bad+":1") {
		t.Errorf("damaged journal: err = %v, want an error at %s:1", err, bad)
	}
}

// TestFileJournal_Rates: the loop rates an intent's calls were encoded at
// are journalled once (a second record keeps the first), read back after
// a reopen, and a line whose rate is not a number is refused with its
// file:line.
func TestFileJournal_Rates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]decimal.Decimal{"aave-v3/wsteth-loop": decimal.RequireFromString("1.2171")}
	if err := j.RecordRates("v/rebalance/1", first); err != nil {
		t.Fatal(err)
	}
	if err := j.RecordRates("v/rebalance/1", map[string]decimal.Decimal{"aave-v3/wsteth-loop": decimal.RequireFromString("1.3")}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := j.RatesOf("v/rebalance/2"); ok || err != nil {
		t.Errorf("rates of an unknown key: ok %v err %v", ok, err)
	}
	j.Close()
	j, err = OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rs, ok, err := j.RatesOf("v/rebalance/1")
	if err != nil || !ok || !rs["aave-v3/wsteth-loop"].Equal(first["aave-v3/wsteth-loop"]) {
		t.Errorf("rates after reopen %v (ok %v, err %v), want the first recorded, 1.2171", rs, ok, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"key":"v/rebalance/1","i":-1,"rates":{"aave-v3/wsteth-loop":"x"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileJournal(bad); err == nil || !strings.Contains(err.Error(), bad+":1") {
		t.Errorf("a rate that is not a number: error %v, want one at %s:1", err, bad)
	}
}
