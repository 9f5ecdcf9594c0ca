package chaintest

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// TestSend_SwellDeposit runs swell/rsweth's calls on the simulated chain
// against SwellRswETH (testdata/SwellMocks.sol: rswETH's ABI, its
// deposit's minting and whitelist as in Swell's RswETH.sol) and WETH9:
// a buy unwraps WETH and deposits the ether, minting rswETH at the
// rate; reconciliation reads it back at rswETHToETHRate (clean, then a
// difference once the rate moves and the book does not); a deposit
// while the whitelist excludes the vault reverts in simulation and
// nothing is sent; a call outside the allowlist and a sell (rswEXIT not read
// from the chain) are refused before anything is signed.
func TestSend_SwellDeposit(t *testing.T) {
	wethArt := loadArtifact(t, "LoopWETH9")
	rswArt := loadArtifact(t, "SwellRswETH")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()

	rate := e18("1.05")
	weth, wethTok, setup := c.tenWETH(t)
	rsw := c.deploy(t, rswArt, rate)

	book := swellBook(t, wethTok, rsw)
	allow := execution.NewAllowlist()
	allow.Allow(weth, "withdraw")
	allow.Allow(rsw, "deposit")
	cfg := &execution.Config{Mode: execution.ModePropose, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book}
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	buy := func(amount string) vault.Decision {
		return vault.Decision{Time: at, Orders: []vault.Order{{Market: "swell/rsweth", Side: vault.Buy, Amount: fixed.RequireFromString(amount)}}}
	}

	// A buy of 2 ETH: WETH.withdraw(2e18), then deposit() with 2e18 wei.
	calls, err := cfg.Plan("v", buy("2"), 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].Method.RawName != "withdraw" || calls[1].Method.RawName != "deposit" || calls[1].To != rsw || calls[1].Value.Cmp(e18("2")) != 0 {
		t.Fatalf("calls %v, want WETH.withdraw then rswETH.deposit with 2 ETH", calls)
	}
	if _, err := s.Send(ctx, "v/rebalance/1", calls); err != nil {
		t.Fatal(err)
	}
	// RswETH._deposit: minted = value x 1e18 / rate, rounded down.
	wantRsw := new(big.Int).Div(new(big.Int).Mul(e18("2"), e18("1")), rate)
	if got := c.uint(t, rswArt, rsw, "balanceOf", me); got.Cmp(wantRsw) != 0 {
		t.Errorf("rswETH %s, want %s (2e18 x 1e18 / %s)", got, wantRsw, rate)
	}
	if got := c.uint(t, wethArt, weth, "balanceOf", me); got.Cmp(e18("8")) != 0 {
		t.Errorf("WETH %s, want 8e18", got)
	}

	// Reconciliation values rswETH at balanceOf x rswETHToETHRate / 1e18
	// (a wei under the 2 ETH paid): the book's 2 and idle 8 are clean.
	chainETH := decimal.NewFromBigInt(new(big.Int).Div(new(big.Int).Mul(wantRsw, rate), e18("1")), -18)
	rec, err := cfg.Reconcile(ctx, c.client, "v", decimal.NewFromInt(8), []string{"swell/rsweth"}, []decimal.Decimal{decimal.NewFromInt(2)}, decimal.Zero)
	if err != nil {
		t.Fatal(err)
	}
	if d := rec.Differences(); len(d) != 0 {
		t.Errorf("differences after the buy: %s", execution.Describe(d))
	}
	for _, h := range rec.Holdings {
		if h.Market == "swell/rsweth" && !h.Chain.Equal(chainETH) {
			t.Errorf("rswETH read as %s, want %s", h.Chain, chainETH)
		}
	}
	// The rate moves to 1.10 and the book does not follow: the chain's
	// value, 2 x 1.10 / 1.05, is a difference beyond the tolerance.
	setRate, _ := rswArt.ABI.Pack("setRate", e18("1.10"))
	if _, err := setup.Send(ctx, "setup/rate", []execution.Call{{To: rsw, Data: setRate, Contract: "rswETH", Method: rswArt.ABI.Methods["setRate"], Args: []any{e18("1.10")}}}); err != nil {
		t.Fatal(err)
	}
	rec, err = cfg.Reconcile(ctx, c.client, "v", decimal.NewFromInt(8), []string{"swell/rsweth"}, []decimal.Decimal{decimal.NewFromInt(2)}, decimal.Zero)
	if err != nil {
		t.Fatal(err)
	}
	want := decimal.NewFromBigInt(new(big.Int).Div(new(big.Int).Mul(wantRsw, e18("1.10")), e18("1")), -18)
	if d := rec.Differences(); len(d) != 1 || d[0].Market != "swell/rsweth" || !d[0].Chain.Equal(want) {
		t.Errorf("after the reprice: differences %v, want swell/rsweth at %s", d, want)
	}

	// Swell's whitelist on, the vault not in it: deposit() reverts. The
	// Sender simulates the new batch whole first (eth_simulateV1), so the
	// revert stops it before its first transaction: the WETH.withdraw
	// before the deposit is not sent either, and the book still matches.
	wl, _ := rswArt.ABI.Pack("setWhitelist", true, me, false)
	if _, err := setup.Send(ctx, "setup/whitelist", []execution.Call{{To: rsw, Data: wl, Contract: "rswETH", Method: rswArt.ABI.Methods["setWhitelist"], Args: []any{true, me, false}}}); err != nil {
		t.Fatal(err)
	}
	calls, err = cfg.Plan("v", buy("1"), 0.01)
	if err != nil {
		t.Fatal(err)
	}
	refused := func(s *execution.Sender, key string, sent uint64, wethLeft string, idle int64) {
		t.Helper()
		before, _ := c.client.NonceAt(ctx, me, nil)
		_, err := s.Send(ctx, key, calls)
		var re *execution.RevertError
		if !errors.As(err, &re) || re.Mined {
			t.Errorf("whitelisted deposit: err = %v, want a revert caught by simulation", err)
		}
		if re != nil && (re.Index != 1 || !strings.Contains(re.Call, "deposit")) {
			t.Errorf("revert at call %d (%s), want call 2, rswETH.deposit", re.Index+1, re.Call)
		}
		if after, _ := c.client.NonceAt(ctx, me, nil); after != before+sent {
			t.Errorf("%d transactions sent, want %d", after-before, sent)
		}
		if got := c.uint(t, wethArt, weth, "balanceOf", me); got.Cmp(e18(wethLeft)) != 0 {
			t.Errorf("WETH %s after the refused deposit, want %s", got, e18(wethLeft))
		}
		if got := c.uint(t, rswArt, rsw, "balanceOf", me); got.Cmp(wantRsw) != 0 {
			t.Errorf("rswETH %s after the refused deposit, want %s unchanged", got, wantRsw)
		}
		rec, err := cfg.Reconcile(ctx, c.client, "v", decimal.NewFromInt(8), []string{"swell/rsweth"}, []decimal.Decimal{want}, decimal.Zero)
		if err != nil {
			t.Fatal(err)
		}
		if d := rec.Differences(); (idle == 8 && len(d) != 0) || (idle != 8 && (len(d) != 1 || d[0].Market != "idle" || !d[0].Chain.Equal(decimal.NewFromInt(idle)))) {
			t.Errorf("after the refused deposit: differences %v, want idle WETH at %d on chain against the book's 8", d, idle)
		}
	}
	refused(s, "v/rebalance/2", 0, "8", 8)
	// A node without batch simulation: each call is simulated just before
	// it is sent, so the WETH.withdraw is mined before the deposit's
	// revert is seen. The vault is left holding ether, which reconciliation
	// does not count as idle WETH (a difference that pauses the vault).
	plain := &execution.Sender{Client: c.client.Client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	refused(plain, "v/rebalance/3", 1, "7", 7)
	before, _ := c.client.NonceAt(ctx, me, nil)

	// An allowlist without rswETH.deposit refuses the batch at planning.
	narrow := execution.NewAllowlist()
	narrow.Allow(weth, "withdraw")
	cfgNarrow := *cfg
	cfgNarrow.Allow = narrow
	if _, err := cfgNarrow.Plan("v", buy("1"), 0.01); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "rswETH.deposit") {
		t.Errorf("deposit outside the allowlist: err = %v, want a refusal naming rswETH.deposit", err)
	}
	// A sell is refused with the reason: rswEXIT was not read from the chain.
	sell := vault.Decision{Time: at, Orders: []vault.Order{{Market: "swell/rsweth", Side: vault.Sell, Amount: fixed.RequireFromString("1"), Mode: adapters.ExitQueue}}}
	if _, err := cfg.Plan("v", sell, 0.01); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "rswEXIT") {
		t.Errorf("sell: err = %v, want a refusal naming rswEXIT", err)
	}
	if after, _ := c.client.NonceAt(ctx, me, nil); after != before {
		t.Errorf("refusals sent %d transactions", after-before)
	}
}
