package chaintest

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/execution/node"
)

// rpcSigner is an external signer at url, connected as the CLI connects
// it (node.ConnectSigner: go-ethereum's rpc client).
func rpcSigner(t *testing.T, url, method string, account common.Address) *execution.RPCSigner {
	t.Helper()
	s := &execution.RPCSigner{URL: url, Method: method, Account: account}
	if err := node.ConnectSigner(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeSigner is an external signer over JSON-RPC as Clef
// (account_signTransaction, answering {raw, tx}) and web3signer
// (eth_signTransaction, answering the raw transaction) serve it: it
// decodes the transaction object, builds the EIP-1559 transaction and
// signs it with a real key. tamper, when set, changes the transaction
// before signing (a signer that cannot be trusted).
type fakeSigner struct {
	key    *ecdsa.PrivateKey
	tamper func(*types.DynamicFeeTx)
	calls  int
}

func (f *fakeSigner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		ID     any    `json:"id"`
		Method string `json:"method"`
		Params []struct {
			From                 common.Address  `json:"from"`
			To                   *common.Address `json:"to"`
			Gas                  hexutil.Uint64  `json:"gas"`
			MaxFeePerGas         *hexutil.Big    `json:"maxFeePerGas"`
			MaxPriorityFeePerGas *hexutil.Big    `json:"maxPriorityFeePerGas"`
			Value                hexutil.Big     `json:"value"`
			Nonce                hexutil.Uint64  `json:"nonce"`
			Data                 hexutil.Bytes   `json:"data"`
			ChainID              *hexutil.Big    `json:"chainId"`
		} `json:"params"`
	}
	answer := func(v map[string]any) {
		v["jsonrpc"], v["id"] = "2.0", req.ID
		json.NewEncoder(w).Encode(v)
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Params) != 1 {
		answer(map[string]any{"error": map[string]any{"code": -32600, "message": "bad request"}})
		return
	}
	f.calls++
	p := req.Params[0]
	if p.From != crypto.PubkeyToAddress(f.key.PublicKey) {
		answer(map[string]any{"error": map[string]any{"code": -32000, "message": "unknown account"}})
		return
	}
	tx := &types.DynamicFeeTx{ChainID: p.ChainID.ToInt(), Nonce: uint64(p.Nonce), GasTipCap: p.MaxPriorityFeePerGas.ToInt(), GasFeeCap: p.MaxFeePerGas.ToInt(),
		Gas: uint64(p.Gas), To: p.To, Value: p.Value.ToInt(), Data: p.Data}
	if f.tamper != nil {
		f.tamper(tx)
	}
	signed, err := types.SignTx(types.NewTx(tx), types.LatestSignerForChainID(p.ChainID.ToInt()), f.key)
	if err != nil {
		answer(map[string]any{"error": map[string]any{"code": -32000, "message": err.Error()}})
		return
	}
	raw, _ := signed.MarshalBinary()
	if req.Method == execution.SignClef {
		answer(map[string]any{"result": map[string]any{"raw": hexutil.Bytes(raw), "tx": signed}})
		return
	}
	answer(map[string]any{"result": hexutil.Bytes(raw)})
}

// TestSend_ExternalSigner: the sender signs through an external signer
// over JSON-RPC, for both methods (Clef's account_signTransaction and
// web3signer's eth_signTransaction), against a fake signer holding the
// vault account's real key: a mint is sent, mined, and the balance moves.
// A signer that returns another transaction than the one asked for (here
// a different recipient) is refused and nothing is sent.
func TestSend_ExternalSigner(t *testing.T) {
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()
	asset := c.deploy(t, token, "Test USD", "tUSD")
	key, err := crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeSigner{key: key}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	mint := func(amount string) execution.Call {
		data, _ := token.ABI.Pack("mint", me, e18(amount))
		return execution.Call{To: asset, Data: data, Contract: "tUSD", Method: token.ABI.Methods["mint"], Args: []any{me, e18(amount)}}
	}
	want := new(big.Int)
	for i, method := range []string{execution.SignClef, execution.SignEth} {
		s := &execution.Sender{Client: c.client, Signer: rpcSigner(t, srv.URL, method, me), Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
		sent, err := s.Send(ctx, "v/mint/"+method, []execution.Call{mint("5")})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if fake.calls != i+1 {
			t.Errorf("%s: the signer was asked %d times", method, fake.calls)
		}
		from, _ := types.Sender(types.LatestSignerForChainID(sent[0].Tx.ChainId()), sent[0].Tx)
		if from != me || sent[0].Receipt.Status != types.ReceiptStatusSuccessful {
			t.Errorf("%s: from %s status %d", method, from.Hex(), sent[0].Receipt.Status)
		}
		want.Add(want, e18("5"))
		if got := c.uint(t, token, asset, "balanceOf", me); got.Cmp(want) != 0 {
			t.Errorf("%s: balance %s, want %s", method, got, want)
		}
	}
	// The signer's own refusal (an account it does not hold) fails with
	// its message.
	stranger := common.HexToAddress("0x00000000000000000000000000000000000000aA")
	if _, err := rpcSigner(t, srv.URL, execution.SignClef, stranger).SignTx(types.NewTx(&types.DynamicFeeTx{To: &asset, GasFeeCap: big.NewInt(1), GasTipCap: big.NewInt(1)}), big.NewInt(1337)); err == nil || !strings.Contains(err.Error(), "refused account_signTransaction: unknown account (code -32000)") {
		t.Errorf("a refusal: err = %v", err)
	}
	fake.tamper = func(tx *types.DynamicFeeTx) {
		other := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
		tx.To = &other
	}
	before, _ := c.client.NonceAt(ctx, me, nil)
	s := &execution.Sender{Client: c.client, Signer: rpcSigner(t, srv.URL, execution.SignEth, me), Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	if _, err := s.Send(ctx, "v/mint/tampered", []execution.Call{mint("5")}); err == nil || !strings.Contains(err.Error(), "recipient, value or data changed") {
		t.Errorf("a tampered transaction: err = %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if after, _ := c.client.NonceAt(ctx, me, nil); after != before {
		t.Errorf("the tampered transaction was sent")
	}
}
