package execution

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/yieldvault/yieldvault/adapters"
)

// The JSON-RPC methods an external signer signs a transaction with.
const (
	// SignClef is Clef's account_signTransaction (go-ethereum
	// signer/core/api.go; the user confirms or a rule file approves).
	SignClef = "account_signTransaction"
	// SignEth is eth_signTransaction, as web3signer (Consensys'
	// eth1 signing) and geth answer it.
	SignEth = "eth_signTransaction"
)

// RPCSigner signs through an external signer over JSON-RPC (Clef,
// web3signer): the key never enters the service. The signed transaction
// it returns is checked against the one asked for (the same sender,
// chain, nonce, fees, gas, recipient, value and data) before it is used:
// a signer that changes anything is refused.
type RPCSigner struct {
	URL     string
	Method  string // SignClef or SignEth
	Account common.Address
	// Call makes a JSON-RPC call to the signer (execution/node.SignerCall
	// dials it with go-ethereum's rpc client; this package does no
	// networking). An error with an ErrorCode method is the signer's own
	// answer; any other a transport failure.
	Call func(ctx context.Context, result any, method string, args ...any) error
}

// Address is the signing account.
func (s *RPCSigner) Address() common.Address { return s.Account }

// String names the signer, never a credential (a URL's user info and
// query are left out).
func (s *RPCSigner) String() string {
	return "external signer " + s.Method + " at " + redactURL(s.URL) + " for " + s.Account.Hex()
}

func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.LastIndex(rest, "@"); j >= 0 && j < strings.IndexAny(rest+"/", "/") {
			rest = rest[j+1:]
		}
		u = u[:i+3] + rest
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

// txArgs is the transaction object both methods take (go-ethereum's
// apitypes.SendTxArgs: hex quantities; Clef reads "data", others
// "input", so both are sent).
type txArgs struct {
	From                 common.MixedcaseAddress  `json:"from"`
	To                   *common.MixedcaseAddress `json:"to"`
	Gas                  hexutil.Uint64           `json:"gas"`
	MaxFeePerGas         *hexutil.Big             `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big             `json:"maxPriorityFeePerGas"`
	Value                hexutil.Big              `json:"value"`
	Nonce                hexutil.Uint64           `json:"nonce"`
	Data                 hexutil.Bytes            `json:"data"`
	Input                hexutil.Bytes            `json:"input"`
	ChainID              *hexutil.Big             `json:"chainId"`
}

// SignTx asks the external signer to sign tx (an EIP-1559 transaction)
// for chainID.
func (s *RPCSigner) SignTx(tx *types.Transaction, chainID *big.Int) (*types.Transaction, error) {
	const op = "execution.RPCSigner"
	if tx.To() == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "a contract creation is not signed")
	}
	to := common.NewMixedcaseAddress(*tx.To())
	args := txArgs{From: common.NewMixedcaseAddress(s.Account), To: &to, Gas: hexutil.Uint64(tx.Gas()),
		MaxFeePerGas: (*hexutil.Big)(tx.GasFeeCap()), MaxPriorityFeePerGas: (*hexutil.Big)(tx.GasTipCap()),
		Value: hexutil.Big(*tx.Value()), Nonce: hexutil.Uint64(tx.Nonce()), Data: tx.Data(), Input: tx.Data(), ChainID: (*hexutil.Big)(chainID)}
	if s.Call == nil {
		return nil, adapters.E(op, adapters.KindOther, "signer %s: not connected", redactURL(s.URL))
	}
	// Clef waits for a person to approve: give it time.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var result json.RawMessage
	if err := s.Call(ctx, &result, s.Method, args); err != nil {
		var rpcErr interface{ ErrorCode() int }
		if errors.As(err, &rpcErr) {
			return nil, adapters.E(op, adapters.KindInvalid, "signer %s refused %s: %s (code %d)", redactURL(s.URL), s.Method, err.Error(), rpcErr.ErrorCode())
		}
		// A transport error may carry the URL with its credentials.
		return nil, adapters.E(op, adapters.KindOther, "signer %s: the request failed", redactURL(s.URL))
	}
	r := struct{ Result json.RawMessage }{result}
	// web3signer answers the raw transaction; Clef and geth an object
	// with "raw" (and the decoded "tx").
	var raw hexutil.Bytes
	if err := json.Unmarshal(r.Result, &raw); err != nil {
		var obj struct {
			Raw hexutil.Bytes `json:"raw"`
		}
		if err := json.Unmarshal(r.Result, &obj); err != nil || len(obj.Raw) == 0 {
			return nil, adapters.E(op, adapters.KindOther, "signer %s: the answer holds no signed transaction", redactURL(s.URL))
		}
		raw = obj.Raw
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(raw); err != nil {
		return nil, adapters.E(op, adapters.KindOther, "signer %s: the signed transaction does not decode: %v", redactURL(s.URL), err)
	}
	if err := sameTx(signed, tx, chainID, s.Account); err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "signer %s: refused its transaction: %v", redactURL(s.URL), err)
	}
	return signed, nil
}

// sameTx checks a signed transaction is the one asked for, from account.
func sameTx(got, want *types.Transaction, chainID *big.Int, account common.Address) error {
	from, err := types.Sender(types.LatestSignerForChainID(chainID), got)
	if err != nil {
		return fmt.Errorf("its signature does not verify: %v", err)
	}
	switch {
	case from != account:
		return fmt.Errorf("signed by %s, not %s", from.Hex(), account.Hex())
	case got.Type() != want.Type() || got.ChainId().Cmp(chainID) != 0:
		return fmt.Errorf("type %d on chain %s, asked type %d on chain %s", got.Type(), got.ChainId(), want.Type(), chainID)
	case got.Nonce() != want.Nonce() || got.Gas() != want.Gas() || got.GasFeeCap().Cmp(want.GasFeeCap()) != 0 || got.GasTipCap().Cmp(want.GasTipCap()) != 0:
		return fmt.Errorf("nonce, gas or fees changed (nonce %d gas %d fee cap %s tip %s; asked %d %d %s %s)", got.Nonce(), got.Gas(), got.GasFeeCap(), got.GasTipCap(), want.Nonce(), want.Gas(), want.GasFeeCap(), want.GasTipCap())
	case got.To() == nil || *got.To() != *want.To() || got.Value().Cmp(want.Value()) != 0 || !bytes.Equal(got.Data(), want.Data()):
		return fmt.Errorf("recipient, value or data changed")
	}
	return nil
}
