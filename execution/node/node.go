// Package node connects send mode to an Ethereum node over JSON-RPC
// (go-ethereum's ethclient). It is apart from execution so that the
// packages importing execution (the service) do not build the RPC client;
// only the CLI, which dials, does.
package node

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
)

// Dial connects to the node at url and checks it serves chainID.
func Dial(ctx context.Context, url string, chainID uint64) (execution.Client, error) {
	const op = "node.Dial"
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindInvalid, fmt.Errorf("execution.rpc: cannot connect: %w", err))
	}
	id, err := c.ChainID(ctx)
	if err != nil {
		c.Close()
		return nil, adapters.Wrap(op, adapters.KindInvalid, fmt.Errorf("execution.rpc: the node does not answer eth_chainId: %w", err))
	}
	if id.Uint64() != chainID {
		c.Close()
		return nil, adapters.E(op, adapters.KindInvalid, "execution.rpc: the node serves chain %s, the configuration says chain_id %d", id, chainID)
	}
	return c, nil
}

// ConnectSigner connects an external signer (execution.RPCSigner) to its
// JSON-RPC endpoint with go-ethereum's rpc client. The connection is lazy
// (HTTP): a signer that is down fails the first transaction, with its
// URL shown without credentials.
func ConnectSigner(ctx context.Context, s *execution.RPCSigner) error {
	c, err := rpc.DialContext(ctx, s.URL)
	if err != nil {
		return adapters.E("node.ConnectSigner", adapters.KindInvalid, "execution.signer: cannot connect to %s", s)
	}
	s.Call = c.CallContext
	return nil
}
