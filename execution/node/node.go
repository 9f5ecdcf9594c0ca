// Package node connects send mode to an Ethereum node over JSON-RPC
// (go-ethereum's ethclient). It is apart from execution so that the
// packages importing execution (the service) do not build the RPC client;
// only the CLI, which dials, does.
package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"
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
	return client{c}, nil
}

// client is a node over JSON-RPC that simulates batches
// (execution.BatchSimulator).
type client struct{ *ethclient.Client }

func (c client) SimulateCalls(ctx context.Context, calls []ethereum.CallMsg) ([]execution.SimulatedCall, error) {
	return SimulateCalls(ctx, c.Client, calls)
}

// V1Simulator is a client with eth_simulateV1: go-ethereum's ethclient,
// and its simulated backend's client.
type V1Simulator interface {
	SimulateV1(ctx context.Context, opts ethclient.SimulateOptions, block *rpc.BlockNumberOrHash) ([]ethclient.SimulateBlockResult, error)
}

// SimulateCalls simulates calls in sequence in one block on the latest
// state with eth_simulateV1 (execution.BatchSimulator). A node without
// the method answers execution.ErrNoBatchSimulation.
func SimulateCalls(ctx context.Context, c V1Simulator, calls []ethereum.CallMsg) ([]execution.SimulatedCall, error) {
	latest := rpc.BlockNumberOrHashWithNumber(rpc.LatestBlockNumber)
	res, err := c.SimulateV1(ctx, ethclient.SimulateOptions{BlockStateCalls: []ethclient.SimulateBlock{{Calls: calls}}}, &latest)
	if err != nil {
		var re rpc.Error
		if errors.As(err, &re) && re.ErrorCode() == -32601 { // method not found
			return nil, fmt.Errorf("%w: %v", execution.ErrNoBatchSimulation, err)
		}
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("eth_simulateV1 answered %d blocks for one", len(res))
	}
	out := make([]execution.SimulatedCall, len(res[0].Calls))
	for i, r := range res[0].Calls {
		if r.Status == types.ReceiptStatusSuccessful {
			continue
		}
		out[i].Reverted = true
		if r.Error != nil {
			out[i].Reason = execution.RevertReason(r.Error.Data, r.Error.Message)
		} else {
			out[i].Reason = execution.RevertReason(fmt.Sprintf("%x", r.ReturnValue), "reverted")
		}
	}
	return out, nil
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
