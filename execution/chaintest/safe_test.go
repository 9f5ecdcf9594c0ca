package chaintest

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
)

// deploySafe deploys a Safe as the Safe's own deployment does: the
// GnosisSafe singleton and GnosisSafeProxyFactory from
// @gnosis.pm/safe-contracts 1.3.0's published artifacts, then a proxy
// created by the factory and set up with owner as its only owner and a
// threshold of 1. It returns the proxy (the Safe's address).
func deploySafe(t *testing.T, c *chain, owner common.Address) common.Address {
	t.Helper()
	singletonArt := loadArtifact(t, "SafeGnosisSafe")
	factoryArt := loadArtifact(t, "SafeGnosisSafeProxyFactory")
	singleton := c.deploy(t, singletonArt)
	factory := c.deploy(t, factoryArt)
	zero := common.Address{}
	setup, err := singletonArt.ABI.Pack("setup", []common.Address{owner}, big.NewInt(1), zero, []byte{}, zero, zero, new(big.Int), zero)
	if err != nil {
		t.Fatal(err)
	}
	rc := c.transact(t, factoryArt, factory, "createProxy", singleton, setup)
	ev := factoryArt.ABI.Events["ProxyCreation"]
	for _, l := range rc.Logs {
		if l.Address == factory && len(l.Topics) > 0 && l.Topics[0] == ev.ID {
			vals, err := ev.Inputs.Unpack(l.Data)
			if err != nil {
				t.Fatal(err)
			}
			proxy := vals[0].(common.Address)
			if got := c.uint(t, singletonArt, proxy, "getThreshold"); got.Cmp(big.NewInt(1)) != 0 {
				t.Fatalf("Safe threshold %s", got)
			}
			return proxy
		}
	}
	t.Fatal("no ProxyCreation event")
	return common.Address{}
}

// TestService_SendModeSafe: the vault is a Safe the service's key owns
// (threshold 1). A rebalance through the API executes every call
// through Safe.execTransaction with the owner's pre-validated signature,
// sent from the owner's account: the Safe's own tUSD goes into Aave and
// the ERC-4626 vault, the positions are the Safe's, the owner's account
// holds none of them, and every transaction it sent went to the Safe.
// The book equals the Safe's holdings (reconciled at the Safe's address).
func TestService_SendModeSafe(t *testing.T) {
	f := newSendFixtureWith(t, "1000", "", "", true)
	ctx := context.Background()
	me, safe := f.c.signer.Address(), f.addr
	if safe == me {
		t.Fatal("the fixture's vault is not a Safe")
	}
	before, _ := f.c.client.NonceAt(ctx, me, nil)
	if code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	out, sum := f.lastDecision(t)
	if out != "traded" || strings.Contains(sum, "paused") {
		t.Fatalf("decision %s %s", out, sum)
	}
	after, _ := f.c.client.NonceAt(ctx, me, nil)
	if after-before != 4 {
		t.Errorf("the owner sent %d transactions, want 4 (approve and supply, approve and deposit, each through the Safe)", after-before)
	}
	// Every transaction went to the Safe: read them back from the
	// decision's fills.
	_, body := f.do("GET", "/v1/vaults/usd/decisions?limit=1&detail=1", "")
	var ds struct {
		Decisions []struct {
			Detail json.RawMessage `json:"detail"`
		} `json:"decisions"`
	}
	if err := json.Unmarshal(body, &ds); err != nil || len(ds.Decisions) != 1 {
		t.Fatalf("decisions: %s", body)
	}
	n := 0
	for _, part := range strings.Split(string(ds.Decisions[0].Detail), "on chain: ")[1:] {
		hashes, _, _ := strings.Cut(part, ", gas ")
		for _, h := range strings.Split(hashes, ", ") {
			tx, _, err := f.c.client.TransactionByHash(ctx, common.HexToHash(h))
			if err != nil {
				t.Fatalf("%s: %v", h, err)
			}
			if tx.To() == nil || *tx.To() != safe {
				t.Errorf("transaction %s went to %v, not the Safe %s", h, tx.To(), safe.Hex())
			}
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d transactions named in the fills, want 4", n)
	}
	aave := f.c.uint(t, f.aTokenArt, f.aToken, "balanceOf", safe)
	shares := f.c.uint(t, f.vaultArt, f.v4626, "balanceOf", safe)
	idle := f.c.uint(t, f.token, f.asset, "balanceOf", safe)
	if aave.Sign() <= 0 || shares.Sign() <= 0 {
		t.Errorf("the Safe holds aToken %s and shares %s: nothing bought", aave, shares)
	}
	if got := new(big.Int).Add(new(big.Int).Add(aave, shares), idle); got.Cmp(e18("1000")) != 0 {
		t.Errorf("the Safe's aToken %s + shares %s + tUSD %s = %s, want the 1000 it held", aave, shares, idle, got)
	}
	for _, x := range []struct {
		a  artifact
		at common.Address
	}{{f.aTokenArt, f.aToken}, {f.vaultArt, f.v4626}, {f.token, f.asset}} {
		if got := f.c.uint(t, x.a, x.at, "balanceOf", me); got.Sign() != 0 {
			t.Errorf("the owner's account holds %s of %s", got, x.at.Hex())
		}
	}
	v := f.vault(t)
	within := decimal.New(1, -9)
	if v.Idle.Sub(decimal.NewFromBigInt(idle, -18)).Abs().Cmp(within) > 0 {
		t.Errorf("book idle %s, the Safe's tUSD %s", v.Idle, idle)
	}
	for _, p := range v.Positions {
		want := aave
		if p.Market == "morpho/usdc" {
			want = shares // OpenZeppelin's first deposit mints 1:1
		}
		if p.Value.Sub(decimal.NewFromBigInt(want, -18)).Abs().Cmp(within) > 0 {
			t.Errorf("%s: book %s, the Safe's %s", p.Market, p.Value, want)
		}
	}
}
