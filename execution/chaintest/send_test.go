package chaintest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	rpcnode "github.com/yieldvault/yieldvault/execution/node"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// artifact is a compiled contract: its ABI and creation bytecode, with
// the places where library addresses are linked in (Hardhat's
// linkReferences: byte offsets per library name).
type artifact struct {
	ABI      abi.ABI
	Bytecode []byte
	Links    map[string][]int
}

// linked returns the bytecode with each library's address written at its
// link references.
func (a artifact) linked(t *testing.T, libs map[string]common.Address) []byte {
	t.Helper()
	code := append([]byte{}, a.Bytecode...)
	for lib, offs := range a.Links {
		addr, ok := libs[lib]
		if !ok {
			t.Fatalf("library %s not deployed", lib)
		}
		for _, o := range offs {
			copy(code[o:o+20], addr.Bytes())
		}
	}
	return code
}

func loadArtifact(t *testing.T, name string) artifact {
	t.Helper()
	dir := filepath.Join("testdata", "artifacts")
	if _, err := os.Stat(filepath.Join(dir, "STAMP")); err != nil {
		msg := "EVM artifacts missing: run scripts/evm-artifacts.sh (it needs npm and the npm registry)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	js, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		ABI            json.RawMessage `json:"abi"`
		Bytecode       string          `json:"bytecode"`
		LinkReferences map[string]map[string][]struct {
			Start, Length int
		} `json:"linkReferences"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	a, err := abi.JSON(strings.NewReader(string(raw.ABI)))
	if err != nil {
		t.Fatal(err)
	}
	// Link placeholders (__$...$__) are not hex: zero them before
	// decoding; linked writes the addresses there.
	hexCode := []byte(strings.TrimPrefix(raw.Bytecode, "0x"))
	links := map[string][]int{}
	for _, libs := range raw.LinkReferences {
		for lib, refs := range libs {
			for _, r := range refs {
				copy(hexCode[2*r.Start:2*(r.Start+r.Length)], strings.Repeat("0", 2*r.Length))
				links[lib] = append(links[lib], r.Start)
			}
		}
	}
	code, err := hex.DecodeString(string(hexCode))
	if err != nil || len(code) == 0 {
		t.Fatalf("%s: no bytecode (%v)", name, err)
	}
	return artifact{ABI: a, Bytecode: code, Links: links}
}

// chain is a simulated chain mining a block every few milliseconds, and
// the vault's account in a keystore file.
type chain struct {
	backend  *simulated.Backend
	client   simNode
	signer   *execution.KeystoreSigner
	key      *ecdsa.PrivateKey // the signer's key (the genesis-funded account)
	keyfile  string
	password string
}

const testPassword = "correct horse battery staple"

// simNode is the simulated backend's client with batch simulation
// (execution.BatchSimulator) through eth_simulateV1, as the service's
// node client (execution/node) has it. simNode.Client alone is a node
// without it.
type simNode struct{ simulated.Client }

func (n simNode) SimulateCalls(ctx context.Context, calls []ethereum.CallMsg) ([]execution.SimulatedCall, error) {
	v, ok := n.Client.(rpcnode.V1Simulator)
	if !ok {
		return nil, execution.ErrNoBatchSimulation
	}
	return rpcnode.SimulateCalls(ctx, v, calls)
}

func newChain(t *testing.T, opts ...func(*node.Config, *ethconfig.Config)) *chain {
	t.Helper()
	key, err := crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	if err != nil {
		t.Fatal(err)
	}
	ks := keystore.NewKeyStore(t.TempDir(), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.ImportECDSA(key, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := execution.OpenKeystore(acct.URL.Path, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	b := simulated.NewBackend(types.GenesisAlloc{signer.Address(): {Balance: new(big.Int).Mul(big.NewInt(100), eth)}}, opts...)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a block every 10 ms, as a node would mine
		defer wg.Done()
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				b.Commit()
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait(); b.Close() })
	return &chain{backend: b, client: simNode{b.Client()}, signer: signer, key: key, keyfile: acct.URL.Path, password: testPassword}
}

func (c *chain) wait(t *testing.T, h common.Hash) *types.Receipt {
	t.Helper()
	for i := 0; i < 500; i++ {
		// The receipt can be served before the head reaches its block
		// (execution.Sender.wait says why): wait for both, so that the
		// next call reads the state after this transaction.
		if rc, err := c.client.TransactionReceipt(context.Background(), h); err == nil {
			if head, err := c.client.HeaderByNumber(context.Background(), nil); err == nil && head.Number.Cmp(rc.BlockNumber) >= 0 {
				return rc
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no receipt for %s", h.Hex())
	return nil
}

// send signs tx at account from's pending nonce (sign: with its key),
// broadcasts it and waits for its receipt. The node's transaction pool
// sees the balances a new head moved only once its own reset has run,
// apart from the chain's insertion (an account funded a block ago can
// read as empty to it), so a broadcast it refuses for insufficient
// funds is tried again, for up to 5 s.
func (c *chain) send(t *testing.T, from common.Address, tx types.DynamicFeeTx, sign func(*types.Transaction, *big.Int) (*types.Transaction, error)) *types.Receipt {
	t.Helper()
	ctx := context.Background()
	id, _ := c.client.ChainID(ctx)
	nonce, err := c.client.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tx.ChainID, tx.Nonce, tx.GasTipCap, tx.GasFeeCap = id, nonce, big.NewInt(1e9), big.NewInt(10e9)
	signed, err := sign(types.NewTx(&tx), id)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		err := c.client.SendTransaction(ctx, signed)
		if err == nil {
			break
		}
		if i == 500 || !strings.Contains(err.Error(), "insufficient funds") {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c.wait(t, signed.Hash())
}

// signWith signs with key, as send's sign.
func signWith(key *ecdsa.PrivateKey) func(*types.Transaction, *big.Int) (*types.Transaction, error) {
	return func(tx *types.Transaction, id *big.Int) (*types.Transaction, error) {
		return types.SignTx(tx, types.LatestSignerForChainID(id), key)
	}
}

// confirmed waits until rc's block has n confirmations (the chain
// mines a block every 10 ms).
func (c *chain) confirmed(t *testing.T, rc *types.Receipt, n uint64) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		h, err := c.client.HeaderByNumber(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if h.Number.Uint64() >= rc.BlockNumber.Uint64()+n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("block %s never had %d confirmations", rc.BlockNumber, n)
}

// tenWETH deploys WETH9 (testdata/LoopMocks.sol) and wraps 10 ether
// of the vault's account into it; it returns its address, the token as
// a deployment names it, and a Sender for the test's own setup calls.
func (c *chain) tenWETH(t *testing.T) (common.Address, execution.Token, *execution.Sender) {
	t.Helper()
	art := loadArtifact(t, "LoopWETH9")
	weth := c.deploy(t, art)
	setup := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	wrap, _ := art.ABI.Pack("deposit")
	if _, err := setup.Send(context.Background(), "setup/wrap", []execution.Call{{To: weth, Value: e18("10"), Data: wrap, Contract: "WETH", Method: art.ABI.Methods["deposit"]}}); err != nil {
		t.Fatal(err)
	}
	return weth, execution.Token{Contract: execution.Contract{Name: "WETH", Address: weth, Source: "deployed by the test"}, Symbol: "WETH", Decimals: 18}, setup
}

// deploy deploys a contract from the vault's account.
func (c *chain) deploy(t *testing.T, a artifact, args ...any) common.Address {
	t.Helper()
	return c.deployLinked(t, a, nil, args...)
}

// deployLinked deploys a contract linked to libraries.
func (c *chain) deployLinked(t *testing.T, a artifact, libs map[string]common.Address, args ...any) common.Address {
	t.Helper()
	input, err := a.ABI.Pack("", args...)
	if err != nil {
		t.Fatal(err)
	}
	rc := c.send(t, c.signer.Address(), types.DynamicFeeTx{Gas: 15_000_000, Data: append(a.linked(t, libs), input...)}, c.signer.SignTx)
	if rc.Status != types.ReceiptStatusSuccessful {
		t.Fatal("deployment reverted")
	}
	return rc.ContractAddress
}

// call reads a view function's single uint256 result.
func (c *chain) uint(t *testing.T, a artifact, at common.Address, method string, args ...any) *big.Int {
	t.Helper()
	data, err := a.ABI.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.client.CallContract(context.Background(), ethereum.CallMsg{To: &at, Data: data}, nil)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	vals, err := a.ABI.Unpack(method, out)
	if err != nil {
		t.Fatal(err)
	}
	return vals[0].(*big.Int)
}

func e18(s string) *big.Int {
	d := decimal.RequireFromString(s).Shift(18)
	return d.BigInt()
}

// flaky wraps a client whose broadcasts are lost: SendTransaction
// returns an error without sending, as if the process died right after
// journalling a transaction and before the node got it.
type flaky struct {
	execution.Client
	lose bool
}

func (f *flaky) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if f.lose {
		return errors.New("connection reset (the test's simulated crash)")
	}
	return f.Client.SendTransaction(ctx, tx)
}

// TestSend_ERC4626 runs a vault's decisions on a real EVM end to end: an
// OpenZeppelin ERC-20 as the asset, OpenZeppelin's ERC-4626 as the
// market, the calls planned from vault orders and the allowlist, signed
// with a keystore key, simulated, sent as EIP-1559 transactions, and the
// balances read back from the contracts.
func TestSend_ERC4626(t *testing.T) {
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	vaultArt := loadArtifact(t, "OZVault")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()

	asset := c.deploy(t, token, "Test USD", "tUSD")
	v := c.deploy(t, vaultArt, asset)
	mint, _ := token.ABI.Pack("mint", me, e18("1000"))
	setup := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	if _, err := setup.Send(ctx, "setup/mint", []execution.Call{{To: asset, Data: mint, Contract: "tUSD", Method: token.ABI.Methods["mint"], Args: []any{me, e18("1000")}}}); err != nil {
		t.Fatal(err)
	}

	book := execution.NewBook()
	if err := book.Add(execution.Deployment{Market: "test/vault", Protocol: execution.ERC4626,
		Asset:     execution.Token{Contract: execution.Contract{Name: "tUSD", Address: asset, Source: "deployed by the test"}, Symbol: "tUSD", Decimals: 18},
		Contracts: map[string]execution.Contract{"vault": {Name: "OZVault", Address: v, Source: "deployed by the test"}}}); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	allow.Allow(asset, "approve")
	allow.Allow(v, "deposit", "withdraw", "redeem")
	cfg := &execution.Config{Mode: execution.ModePropose, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book}
	jpath := filepath.Join(t.TempDir(), "journal.jsonl")
	j := newJournal(t, jpath)
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: j, Poll: 10 * time.Millisecond}
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

	// A buy of 400: approve, then deposit.
	buy := vault.Decision{Time: at, Orders: []vault.Order{{Market: "test/vault", Side: vault.Buy, Amount: fixed.RequireFromString("400")}}}
	calls, err := cfg.Plan("v", buy, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(ctx, "v/rebalance/1", calls)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 {
		t.Fatalf("%d transactions, want 2 (approve, deposit)", len(sent))
	}
	for _, x := range sent {
		if x.Tx.Type() != types.DynamicFeeTxType || x.Receipt.Status != types.ReceiptStatusSuccessful || x.Resumed {
			t.Errorf("%s: type %d status %d resumed %v", x.Call.Method.RawName, x.Tx.Type(), x.Receipt.Status, x.Resumed)
		}
	}
	checkBalances := func(step, assetWant, sharesWant string) {
		t.Helper()
		if got := c.uint(t, token, asset, "balanceOf", me); got.Cmp(e18(assetWant)) != 0 {
			t.Errorf("%s: asset balance %s, want %s", step, got, e18(assetWant))
		}
		if got := c.uint(t, vaultArt, v, "balanceOf", me); got.Cmp(e18(sharesWant)) != 0 {
			t.Errorf("%s: shares %s, want %s", step, got, e18(sharesWant))
		}
	}
	// OpenZeppelin's first deposit mints shares 1:1 (no decimals offset).
	checkBalances("after the buy", "600", "400")
	nonceAfterBuy, _ := c.client.NonceAt(ctx, me, nil)

	// The same intent again (a re-run after a crash): nothing is sent.
	j2 := reopen(t, j, jpath)
	s.Journal = j2
	again, err := s.Send(ctx, "v/rebalance/1", calls)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.client.NonceAt(ctx, me, nil); n != nonceAfterBuy || len(again) != 2 || !again[0].Resumed || !again[1].Resumed || again[1].Tx.Hash() != sent[1].Tx.Hash() {
		t.Errorf("re-run: nonce %d (was %d), %d results resumed %v", n, nonceAfterBuy, len(again), again)
	}
	checkBalances("after the re-run", "600", "400")

	// A sell of 150: ERC-4626 withdraw of the assets to the vault.
	sell := vault.Decision{Time: at, Orders: []vault.Order{{Market: "test/vault", Side: vault.Sell, Amount: fixed.RequireFromString("150"), Mode: adapters.ExitInstant}}}
	calls, err = cfg.Plan("v", sell, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, "v/rebalance/2", calls); err != nil {
		t.Fatal(err)
	}
	checkBalances("after the sell", "750", "250")

	// A redeem of more shares than held reverts in simulation, with
	// OpenZeppelin's reason, and nothing is sent.
	enc := &execution.Encoder{Vault: me, Book: book}
	bad, err := enc.Calls(execution.Request{Market: "test/vault", Op: execution.Withdraw, Shares: e18("1000")})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := c.client.NonceAt(ctx, me, nil)
	_, err = s.Send(ctx, "v/rebalance/3", bad)
	var re *execution.RevertError
	if !errors.As(err, &re) || re.Mined || !strings.Contains(re.Reason, "ERC4626: redeem more than max") || !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("err = %v, want a simulated revert with OpenZeppelin's reason", err)
	}
	if after, _ := c.client.NonceAt(ctx, me, nil); after != before {
		t.Errorf("a reverted simulation sent %d transactions", after-before)
	}
	if tx, _ := s.Journal.Lookup("v/rebalance/3", 0); tx != nil {
		t.Error("a reverted simulation was journalled")
	}

	// The gas gate: a fee cap below what the chain needs sends nothing.
	gated := &execution.Sender{Client: c.client, Signer: c.signer, Journal: s.Journal, MaxFeePerGas: big.NewInt(1), Poll: 10 * time.Millisecond}
	if _, err := gated.Send(ctx, "v/rebalance/4", calls); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("gas gate: err = %v, want cap exceeded", err)
	}
	if after, _ := c.client.NonceAt(ctx, me, nil); after != before {
		t.Error("the gas gate let a transaction through")
	}

	// A crash between journalling and broadcast: the transaction is
	// recorded, the node never got it. The re-run broadcasts the same
	// signed bytes once; the sell happens exactly once.
	lossy := &execution.Sender{Client: &flaky{Client: c.client, lose: true}, Signer: c.signer, Journal: s.Journal, Poll: 10 * time.Millisecond}
	sell50 := vault.Decision{Time: at, Orders: []vault.Order{{Market: "test/vault", Side: vault.Sell, Amount: fixed.RequireFromString("50"), Mode: adapters.ExitInstant}}}
	calls, err = cfg.Plan("v", sell50, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lossy.Send(ctx, "v/rebalance/5", calls); err == nil {
		t.Fatal("the lost broadcast was not reported")
	}
	recorded, _ := s.Journal.Lookup("v/rebalance/5", 0)
	if recorded == nil {
		t.Fatal("the transaction was not journalled before its broadcast")
	}
	checkBalances("after the lost broadcast", "750", "250")
	res, err := s.Send(ctx, "v/rebalance/5", calls)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Resumed || res[0].Tx.Hash() != recorded.Hash() {
		t.Errorf("the re-run sent a new transaction %s, not the journalled %s", res[0].Tx.Hash().Hex(), recorded.Hash().Hex())
	}
	checkBalances("after the re-run of the lost broadcast", "800", "200")
	if n, _ := c.client.NonceAt(ctx, me, nil); n != before+1 {
		t.Errorf("nonce %d, want %d: one transaction for the sell of 50", n, before+1)
	}
	if _, err := s.Send(ctx, "v/rebalance/5", calls); err != nil {
		t.Fatal(err)
	}
	checkBalances("after a second re-run", "800", "200")
}

// TestOpenKeystore_WrongPassword: a wrong password is an error that
// names the file and never the password.
func TestOpenKeystore_WrongPassword(t *testing.T) {
	key, _ := crypto.GenerateKey()
	ks := keystore.NewKeyStore(t.TempDir(), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.ImportECDSA(key, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "hunter2-not-the-password"
	_, err = execution.OpenKeystore(acct.URL.Path, wrong)
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), acct.URL.Path) || !strings.Contains(err.Error(), "password does not decrypt") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), testPassword) {
		t.Errorf("the error shows a password: %v", err)
	}
	s, err := execution.OpenKeystore(acct.URL.Path, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); strings.Contains(got, hex.EncodeToString(crypto.FromECDSA(key))) {
		t.Errorf("String shows the key: %s", got)
	}
}

func newJournal(t *testing.T, path string) *execution.FileJournal {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "journal.jsonl")
	}
	j, err := execution.OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// reopen closes a journal and opens its file again, as a restarted
// process does.
func reopen(t *testing.T, j *execution.FileJournal, path string) *execution.FileJournal {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return newJournal(t, path)
}

func asRevert(err error, re **execution.RevertError) bool { return errors.As(err, re) }

// newUser returns a fresh account and its key, with 1 ether for gas sent
// by the signer's account (ether is not one of a USD vault's tokens:
// reconciliation reads its asset only).
func (c *chain) newUser(t *testing.T) (common.Address, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	user := crypto.PubkeyToAddress(k.PublicKey)
	c.sendRaw(t, c.key, user, e18("1"), nil)
	return user, k
}
