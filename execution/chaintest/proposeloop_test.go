package chaintest

import (
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// execBatch executes a Safe Transaction Builder batch file through the
// Safe as the Safe's web app does: the transactions packed for
// MultiSendCallOnly (@gnosis.pm/safe-contracts 1.3.0
// contracts/libraries/MultiSendCallOnly.sol: per transaction the
// operation byte 0, the 20-byte address, the 32-byte value, the 32-byte
// data length and the data), delegate-called by Safe.execTransaction
// (operation 1) with the owner's pre-validated signature (r the owner's
// address, s 0, v 1), sent from the owner's account.
func execBatch(t *testing.T, c *chain, safe, multiSend common.Address, b *execution.SafeBatch) {
	t.Helper()
	var packed []byte
	for _, tx := range b.Transactions {
		value, ok := new(big.Int).SetString(tx.Value, 10)
		if !ok {
			t.Fatalf("value %q", tx.Value)
		}
		data := common.FromHex(tx.Data)
		packed = append(packed, 0)
		packed = append(packed, common.HexToAddress(tx.To).Bytes()...)
		packed = append(packed, common.LeftPadBytes(value.Bytes(), 32)...)
		packed = append(packed, common.LeftPadBytes(big.NewInt(int64(len(data))).Bytes(), 32)...)
		packed = append(packed, data...)
	}
	msArt, safeArt := loadArtifact(t, "SafeMultiSendCallOnly"), loadArtifact(t, "SafeGnosisSafe")
	inner, err := msArt.ABI.Pack("multiSend", packed)
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 65)
	copy(sig[12:32], c.signer.Address().Bytes())
	sig[64] = 1
	zero, none := new(big.Int), common.Address{}
	rc := c.transact(t, safeArt, safe, "execTransaction", multiSend, zero, inner, uint8(1), zero, zero, zero, none, none, sig)
	failure := safeArt.ABI.Events["ExecutionFailure"].ID
	for _, l := range rc.Logs {
		if l.Address == safe && len(l.Topics) > 0 && l.Topics[0] == failure {
			t.Fatal("the Safe's execution of the batch failed (ExecutionFailure)")
		}
	}
}

// TestPropose_MorphoLoopThroughSafe: propose mode writes the Morpho
// wstETH loop's decisions as Safe Transaction Builder batch files for a
// vault that is a Safe (deployed from @gnosis.pm/safe-contracts 1.3.0's
// published artifacts, the service's key its only owner); the test
// executes each file as the Safe's owners would, one MultiSendCallOnly
// batch through Safe.execTransaction, and reads the result back. The
// open at 2x from the Safe's 10 WETH leaves the Safe's Morpho position
// with exactly the wstETH the requests supplied and the WETH they
// borrowed as debt, no WETH at the Safe, and a reconciliation at the
// Safe's address without difference; the relever to 1.5 that follows
// (withdrawCollateral, unwrap, Curve sale, repay, all by the Safe)
// reaches its leverage on chain.
func TestPropose_MorphoLoopThroughSafe(t *testing.T) {
	mc := newMorphoLoopChain(t, "10")
	c := mc.c
	me := c.signer.Address()
	safe := deploySafe(t, c, me)
	multiSend := c.deploy(t, loadArtifact(t, "SafeMultiSendCallOnly"))
	// The Safe holds the vault's 10 WETH.
	c.transact(t, mc.erc20, mc.weth, "transfer", safe, e18("10"))
	const market = "morpho/wsteth-weth-loop"
	cfg := morphoLoopConfig(t, mc, execution.ModePropose)
	cfg.Vaults["v"] = safe
	cfg.Proposals = t.TempDir()
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	// Propose mode reads nothing on chain: the book's rate (the last
	// observation's, here the chain's 1.15).
	loops := map[string]execution.LoopBook{market: {Rate: decimal.RequireFromString("1.15"), LTV: 0.945, LLTV: 0.945, Peg: 1}}
	dep, err := cfg.Book.Deployment(market)
	if err != nil {
		t.Fatal(err)
	}

	propose := func(key string, d vault.Decision) *execution.SafeBatch {
		t.Helper()
		p, err := cfg.ProposeLoops("v", key, d, 0.01, loops)
		if err != nil {
			t.Fatal(err)
		}
		js, err := os.ReadFile(filepath.Join(cfg.Proposals, "v", p.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var b execution.SafeBatch
		if err := json.Unmarshal(js, &b); err != nil {
			t.Fatal(err)
		}
		if b.Meta.CreatedFromSafeAddress != safe.Hex() || len(b.Transactions) != len(p.Calls) {
			t.Fatalf("batch for %s with %d transactions, want the Safe %s and %d", b.Meta.CreatedFromSafeAddress, len(b.Transactions), safe.Hex(), len(p.Calls))
		}
		if sum, err := b.ComputeChecksum(); err != nil || sum != b.Meta.Checksum {
			t.Fatalf("batch checksum %s, computed %s (%v)", b.Meta.Checksum, sum, err)
		}
		return &b
	}

	open := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2}}}
	reqs, err := execution.LoopRequests(dep, open.Orders[0], 0.01, ptr(loops[market]))
	if err != nil {
		t.Fatal(err)
	}
	supplied, borrowed := new(big.Int), new(big.Int)
	for _, r := range reqs {
		switch r.Op {
		case execution.Supply:
			supplied.Add(supplied, r.Shares)
		case execution.Borrow:
			borrowed.Add(borrowed, r.Amount)
		}
	}
	execBatch(t, c, safe, multiSend, propose("v/rebalance/1", open))
	coll, debt := mc.checkOpened(t, safe, "the Safe's", supplied, borrowed)
	if c0, d0, _ := mc.position(t, me); c0.Sign() != 0 || d0.Sign() != 0 {
		t.Errorf("the owner's account holds a position (%s, %s): the batch acted for it, not the Safe", c0, d0)
	}
	lb := loops[market]
	lb.Collateral = decimal.NewFromBigInt(c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", coll), -18)
	lb.Debt = decimal.NewFromBigInt(debt, -18)
	loops[market] = lb
	rec, err := cfg.ReconcileLoops(t.Context(), c.client, "v", decimal.Zero, []string{market}, []decimal.Decimal{lb.Collateral.Sub(lb.Debt)}, decimal.Zero, map[string]execution.LoopBook{market: lb})
	if err != nil {
		t.Fatal(err)
	}
	if d := rec.Differences(); len(d) != 0 {
		t.Errorf("reconciliation at the Safe after the open: %s", execution.Describe(d))
	}

	execBatch(t, c, safe, multiSend, propose("v/relever/1", vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Relever, Leverage: 1.5}}}))
	coll, debt, _ = mc.position(t, safe)
	collEth := decimal.NewFromBigInt(c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", coll), -18)
	lev := collEth.Div(collEth.Sub(decimal.NewFromBigInt(debt, -18))).InexactFloat64()
	if lev > 1.5*1.001 || lev < 1.5*0.995 {
		t.Errorf("relever to 1.5 through the Safe: leverage on chain %g", lev)
	}
}
