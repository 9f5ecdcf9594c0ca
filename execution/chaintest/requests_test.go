package chaintest

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
)

// swellBook is a book of swell/rsweth: rswETH at rsw, bought with the
// WETH of wethTok.
func swellBook(t *testing.T, wethTok execution.Token, rsw common.Address) *execution.Book {
	t.Helper()
	rswC := execution.Contract{Name: "rswETH", Address: rsw, Source: "deployed by the test"}
	book := execution.NewBook()
	if err := book.Add(execution.Deployment{Market: "swell/rsweth", Protocol: execution.Swell, Asset: wethTok,
		Position:  &execution.Token{Contract: rswC, Symbol: "rswETH", Decimals: 18},
		Contracts: map[string]execution.Contract{"rsweth": rswC, "weth": wethTok.Contract}}); err != nil {
		t.Fatal(err)
	}
	return book
}

// requests sends a vault's requests on the chain: encoded (Encoder),
// checked against the allowlist, sent (Sender).
type requests struct {
	t     *testing.T
	c     *chain
	vault common.Address
	enc   *execution.Encoder
	allow *execution.Allowlist
	s     *execution.Sender
}

// calls encodes r and checks its calls against the allowlist.
func (q requests) calls(r execution.Request) []execution.Call {
	q.t.Helper()
	calls, err := q.enc.Calls(r)
	if err != nil {
		q.t.Fatal(err)
	}
	if err := q.allow.Check(q.vault, calls); err != nil {
		q.t.Fatal(err)
	}
	return calls
}

// send sends r's calls under key.
func (q requests) send(key string, r execution.Request) []execution.Sent {
	q.t.Helper()
	sent, err := q.s.Send(context.Background(), key, q.calls(r))
	if err != nil {
		q.t.Fatal(err)
	}
	return sent
}

// reverts checks that r reverts in simulation and sends nothing (what:
// the request, for the message).
func (q requests) reverts(key string, r execution.Request, what string) {
	q.t.Helper()
	ctx := context.Background()
	calls := q.calls(r)
	before, _ := q.c.client.NonceAt(ctx, q.vault, nil)
	var re *execution.RevertError
	if _, err := q.s.Send(ctx, key, calls); !errors.As(err, &re) || re.Mined {
		q.t.Errorf("%s: err = %v, want a revert caught by simulation", what, err)
	}
	if after, _ := q.c.client.NonceAt(ctx, q.vault, nil); after != before {
		q.t.Errorf("%s sent %d transactions", what, after-before)
	}
}

// readFromChain checks that r is refused, saying no rpc is set, until
// the book reads its contracts from the chain, and that it then reads
// market's contract name at want, sourced from getter.
func (q requests) readFromChain(book *execution.Book, r execution.Request, market, name string, want common.Address, getter string) {
	q.t.Helper()
	if _, err := q.enc.Calls(r); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "no rpc is set") {
		q.t.Fatalf("%s before reading the chain: err = %v, want a refusal saying no rpc is set", r.Op, err)
	}
	if err := book.ReadChainContracts(context.Background(), q.c.client); err != nil {
		q.t.Fatal(err)
	}
	d, err := book.Deployment(market)
	if err != nil {
		q.t.Fatal(err)
	}
	got, err := d.Contract(name)
	if err != nil || got.Address != want || !strings.Contains(got.Source, "read from "+getter+" at start") {
		q.t.Fatalf("%s read as %+v (%v), want %s read from %s", name, got, err, want.Hex(), getter)
	}
}

// etherGain sends r under key and returns the ether it brought the
// vault: its balance's change plus the gas it paid.
func (q requests) etherGain(key string, r execution.Request) *big.Int {
	q.t.Helper()
	ctx := context.Background()
	before, err := q.c.client.BalanceAt(ctx, q.vault, nil)
	if err != nil {
		q.t.Fatal(err)
	}
	sent := q.send(key, r)
	after, err := q.c.client.BalanceAt(ctx, q.vault, nil)
	if err != nil {
		q.t.Fatal(err)
	}
	gain := new(big.Int).Sub(after, before)
	for _, x := range sent {
		gain.Add(gain, new(big.Int).Mul(new(big.Int).SetUint64(x.Receipt.GasUsed), x.Receipt.EffectiveGasPrice))
	}
	return gain
}
