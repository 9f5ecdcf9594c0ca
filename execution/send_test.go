package execution

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// headLagNode serves a transaction's receipt in block 5 while its head
// reads block 4 for the first lag header requests, as geth does between
// writing a block's transaction lookups and moving its head.
type headLagNode struct {
	Client // only the methods below are called
	lag    int
	heads  int
}

func (n *headLagNode) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	return &types.Receipt{Status: types.ReceiptStatusSuccessful, BlockNumber: big.NewInt(5)}, nil
}

func (n *headLagNode) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	n.heads++
	if n.heads <= n.lag {
		return &types.Header{Number: big.NewInt(4)}, nil
	}
	return &types.Header{Number: big.NewInt(5)}, nil
}

func TestSenderWait_HeadReachesReceiptBlock(t *testing.T) {
	node := &headLagNode{lag: 3}
	s := &Sender{Client: node, Poll: time.Millisecond, Timeout: 5 * time.Second}
	rc, err := s.wait(context.Background(), common.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	if rc.BlockNumber.Int64() != 5 {
		t.Fatalf("receipt block %s", rc.BlockNumber)
	}
	if node.heads != 4 {
		t.Fatalf("wait returned after %d head reads; the head reached the receipt's block on the 4th", node.heads)
	}
}

func TestSenderWait_HeadNeverReachesReceiptBlock(t *testing.T) {
	s := &Sender{Client: &headLagNode{lag: 1 << 30}, Poll: time.Millisecond, Timeout: 50 * time.Millisecond}
	_, err := s.wait(context.Background(), common.Hash{1})
	if err == nil || !strings.Contains(err.Error(), "did not reach that block") {
		t.Fatalf("err = %v, want the head's lag named", err)
	}
}
