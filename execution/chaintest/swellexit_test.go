package chaintest

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// TestSend_SwellExit reads swell/rsweth's exit contract from the chain
// and sends its request and claim in send mode, against
// testdata/SwellMocks.sol (no Swell artifact is published on npm):
// SwellRswETH (rswETH's ABI: deposit, rswETHToETHRate, burn, and
// Whitelist.sol's public AccessControlManager), SwellAccessControlManager
// (IAccessControlManager.sol's rswEXIT()) and SwellRswEXIT
// (IrswEXIT.sol's createWithdrawRequest and finalizeWithdrawal, the
// logic of RswEXIT.sol). Before the reading the exit is refused, saying
// no rpc is set; ReadChainContracts finds rswEXIT through rswETH's
// getter; the request burns the vault's rswETH and mints it the request
// NFT; a claim before processing reverts in simulation and sends
// nothing; after processing at a higher rate, the claim pays the
// request's rswETH at the lesser rate (the one when created), as
// RswEXIT.finalizeWithdrawal does, to the vault.
func TestSend_SwellExit(t *testing.T) {
	rswArt := loadArtifact(t, "SwellRswETH")
	acmArt := loadArtifact(t, "SwellAccessControlManager")
	exitArt := loadArtifact(t, "SwellRswEXIT")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()

	rate := e18("1.05")
	weth, wethTok, _ := c.tenWETH(t)
	rsw := c.deploy(t, rswArt, rate)
	acm := c.deploy(t, acmArt, rsw)
	exit := c.deploy(t, exitArt, rsw, big.NewInt(100), e18("500"))
	c.transact(t, acmArt, acm, "setRswEXIT", exit)
	c.transact(t, rswArt, rsw, "setAccessControlManager", acm)

	book := swellBook(t, wethTok, rsw)
	allow := execution.NewAllowlist()
	allow.Allow(weth, "withdraw")
	allow.Allow(rsw, "deposit", "approve")
	allow.Allow(exit, "createWithdrawRequest", "finalizeWithdrawal")
	cfg := &execution.Config{Mode: execution.ModeSend, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book}
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	q := requests{t: t, c: c, vault: me, enc: &execution.Encoder{Vault: me, Book: book}, allow: allow, s: s}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	buy := vault.Decision{Time: at, Orders: []vault.Order{{Market: "swell/rsweth", Side: vault.Buy, Amount: fixed.RequireFromString("2")}}}
	calls, err := cfg.Plan("v", buy, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, "v/rebalance/1", calls); err != nil {
		t.Fatal(err)
	}
	held := new(big.Int).Div(new(big.Int).Mul(e18("2"), e18("1")), rate)

	// Before the chain is read (no node) the exit is refused in words;
	// then rswEXIT is read through rswETH's getter.
	request := execution.Request{Market: "swell/rsweth", Op: execution.RequestWithdrawal, Amount: held}
	q.readFromChain(book, request, "swell/rsweth", "rswexit", exit, "rswETH.AccessControlManager().rswEXIT()")

	// The request of the whole rswETH: approve, createWithdrawRequest.
	q.send("v/exit/1", request)
	if b := c.uint(t, rswArt, rsw, "balanceOf", me); b.Sign() != 0 {
		t.Errorf("rswETH after the request %s, want 0", b)
	}
	if n := c.uint(t, rswArt, rsw, "totalSupply"); n.Sign() != 0 {
		t.Errorf("rswETH supply after the request %s, want 0 (burnt)", n)
	}
	if n := c.uint(t, exitArt, exit, "balanceOf", me); n.Cmp(big.NewInt(1)) != 0 {
		t.Errorf("request NFTs of the vault %s, want 1", n)
	}
	if o := c.address(t, exitArt, exit, "ownerOf", big.NewInt(1)); o != me {
		t.Errorf("request 1 owned by %s, want the vault %s", o.Hex(), me.Hex())
	}

	// Not processed yet: the claim reverts in simulation, nothing sent.
	claim := execution.Request{Market: "swell/rsweth", Op: execution.ClaimWithdrawal, RequestIDs: []*big.Int{big.NewInt(1)}}
	q.reverts("v/claim/early", claim, "claim before processing")

	// The rate rises to 1.10, then Swell processes request 1 (another
	// account sends the ether): the claim pays held x min(1.10, 1.05).
	c.transact(t, rswArt, rsw, "setRate", e18("1.10"))
	user, key := c.newUser(t)
	c.sendRaw(t, c.key, user, e18("3"), nil)
	pay := new(big.Int).Div(new(big.Int).Mul(held, rate), e18("1"))
	c.txAs(t, key, exit, pay, &exitArt, "processWithdrawals", big.NewInt(1))
	if gain := q.etherGain("v/claim/1", claim); gain.Cmp(pay) != 0 {
		t.Errorf("ether claimed %s, want %s (%s rswETH x 1.05)", gain, pay, held)
	}
	if n := c.uint(t, exitArt, exit, "balanceOf", me); n.Sign() != 0 {
		t.Errorf("request NFTs after the claim %s, want 0 (burnt)", n)
	}
	if b, _ := c.client.BalanceAt(ctx, exit, nil); b.Sign() != 0 {
		t.Errorf("rswEXIT keeps %s wei after the claim, want 0", b)
	}
}
