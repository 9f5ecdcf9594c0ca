package chaintest

import (
	"math/big"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/execution"
)

// TestSend_EtherFiClaim reads ether.fi's WithdrawRequestNFT from the
// LiquidityPool's getter and sends a withdrawal's request and claim in
// send mode, against testdata/LoopMocks.sol's LoopEtherFiLiquidityPool,
// LoopEETH, LoopWeETH and LoopWithdrawRequestNFT (ether.fi's ABIs:
// LiquidityPool.sol's requestWithdraw and withdrawRequestNFT,
// WithdrawRequestNFT.sol's finalizeRequests and claimWithdraw; no
// compiled artifact is published on npm). Before the reading the claim
// is refused, saying no rpc is set; the request (weETH unwrapped, eETH
// approved and requested) mints the vault the NFT; a claim before
// finalization reverts in simulation and sends nothing; after it, the
// claim pays the vault min(amount, shares x the rate rounded up / 1e18),
// as WithdrawRequestNFT._getClaimableAmount does, and burns the NFT.
func TestSend_EtherFiClaim(t *testing.T) {
	lpArt := loadArtifact(t, "LoopEtherFiLiquidityPool")
	eethArt := loadArtifact(t, "LoopEETH")
	weethArt := loadArtifact(t, "LoopWeETH")
	nftArt := loadArtifact(t, "LoopWithdrawRequestNFT")
	c := newChain(t)
	me := c.signer.Address()

	weth, wethTok, _ := c.tenWETH(t)
	lp := c.deploy(t, lpArt, e18("1"), e18("1.05"))
	eeth := c.address(t, lpArt, lp, "eETH")
	weeth := c.deploy(t, weethArt, lp)
	nft := c.address(t, lpArt, lp, "withdrawRequestNFT")

	src := "deployed by the test"
	ctr := func(name string, a [20]byte) execution.Contract {
		return execution.Contract{Name: name, Address: a, Source: src}
	}
	book := execution.NewBook()
	if err := book.Add(execution.Deployment{Market: "etherfi/weeth", Protocol: execution.EtherFi, Asset: wethTok,
		Position: &execution.Token{Contract: ctr("weETH", weeth), Symbol: "weETH", Decimals: 18},
		Contracts: map[string]execution.Contract{"liquidity_pool": ctr("ether.fi LiquidityPool", lp), "eeth": ctr("eETH", eeth),
			"weeth": ctr("weETH", weeth), "weth": wethTok.Contract}}); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	allow.Allow(weth, "withdraw")
	allow.Allow(lp, "deposit", "requestWithdraw")
	allow.Allow(eeth, "approve")
	allow.Allow(weeth, "wrap", "unwrap")
	allow.Allow(nft, "claimWithdraw")
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	q := requests{t: t, c: c, vault: me, enc: &execution.Encoder{Vault: me, Book: book}, allow: allow, s: s}
	send := q.send
	send("v/buy", execution.Request{Market: "etherfi/weeth", Op: execution.Supply, Amount: e18("2")})
	send("v/unwrap", execution.Request{Market: "etherfi/weeth", Op: execution.Unwrap, Amount: c.uint(t, weethArt, weeth, "balanceOf", me)})
	amount := c.uint(t, eethArt, eeth, "balanceOf", me)
	// LiquidityPool.sharesForAmount at the request: amount x total
	// shares / pooled ether, rounded down.
	share := new(big.Int).Div(new(big.Int).Mul(amount, c.uint(t, eethArt, eeth, "totalShares")), c.uint(t, lpArt, lp, "getTotalPooledEther"))

	claim := execution.Request{Market: "etherfi/weeth", Op: execution.ClaimWithdrawal, RequestIDs: []*big.Int{big.NewInt(1)}}
	q.readFromChain(book, claim, "etherfi/weeth", "withdraw_request_nft", nft, "LiquidityPool.withdrawRequestNFT()")

	send("v/request", execution.Request{Market: "etherfi/weeth", Op: execution.RequestWithdrawal, Amount: amount})
	if o := c.address(t, nftArt, nft, "ownerOf", big.NewInt(1)); o != me {
		t.Fatalf("request 1 owned by %s, want the vault %s", o.Hex(), me.Hex())
	}
	if n := c.uint(t, eethArt, eeth, "shares", nft); n.Cmp(share) != 0 {
		t.Errorf("eETH shares held for the request %s, want %s", n, share)
	}

	q.reverts("v/claim/early", claim, "claim before finalization")

	// Finalized at amountPerShareCeil: ceil(1e18 x pooled / shares).
	pooled, total := c.uint(t, lpArt, lp, "getTotalPooledEther"), c.uint(t, eethArt, eeth, "totalShares")
	rate := new(big.Int).Div(new(big.Int).Sub(new(big.Int).Add(new(big.Int).Mul(e18("1"), pooled), total), big.NewInt(1)), total)
	c.transact(t, nftArt, nft, "finalizeRequests", big.NewInt(1))
	want := new(big.Int).Div(new(big.Int).Mul(share, rate), e18("1"))
	if want.Cmp(amount) > 0 {
		want = amount
	}
	if gain := q.etherGain("v/claim/1", claim); gain.Cmp(want) != 0 {
		t.Errorf("ether claimed %s, want %s (min of %s eETH and %s shares x %s / 1e18)", gain, want, amount, share, rate)
	}
	if n := c.uint(t, nftArt, nft, "balanceOf", me); n.Sign() != 0 {
		t.Errorf("request NFTs after the claim %s, want 0 (burnt)", n)
	}
	if n := c.uint(t, eethArt, eeth, "shares", nft); n.Sign() != 0 {
		t.Errorf("eETH shares left with the NFT contract %s, want 0 (burnt)", n)
	}
}
