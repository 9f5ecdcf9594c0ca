package execution

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// TestABI_Selectors checks each function's selector against the one
// published for its signature (Etherscan's "Method ID" on the verified
// contracts, the 4byte.directory entries). A wrong type or name in a
// fragment changes the selector, and the protocol's contract would reject
// the call.
func TestABI_Selectors(t *testing.T) {
	tests := []struct {
		abi    *abi.ABI
		method string
		sig    string
		want   string
	}{
		{erc20ABI, "approve", "approve(address,uint256)", "095ea7b3"},
		{erc20ABI, "balanceOf", "balanceOf(address)", "70a08231"},
		{weth9ABI, "deposit", "deposit()", "d0e30db0"},
		{weth9ABI, "withdraw", "withdraw(uint256)", "2e1a7d4d"},
		{aavePoolABI, "supply", "supply(address,uint256,address,uint16)", "617ba037"},
		{aavePoolABI, "withdraw", "withdraw(address,uint256,address)", "69328dec"},
		{aavePoolABI, "borrow", "borrow(address,uint256,uint256,uint16,address)", "a415bcad"},
		{aavePoolABI, "repay", "repay(address,uint256,uint256,address)", "573ade81"},
		{aavePoolABI, "setUserEMode", "setUserEMode(uint8)", "28530a47"},
		{cometABI, "supply", "supply(address,uint256)", "f2b9fdb8"},
		{cometABI, "withdraw", "withdraw(address,uint256)", "f3fef3a3"},
		{morphoBlueABI, "supply", "supply((address,address,address,address,uint256),uint256,uint256,address,bytes)", "a99aad89"},
		{morphoBlueABI, "withdraw", "withdraw((address,address,address,address,uint256),uint256,uint256,address,address)", "5c2bea49"},
		{morphoBlueABI, "borrow", "borrow((address,address,address,address,uint256),uint256,uint256,address,address)", "50d8cd4b"},
		{morphoBlueABI, "repay", "repay((address,address,address,address,uint256),uint256,uint256,address,bytes)", "20b76e81"},
		{morphoBlueABI, "supplyCollateral", "supplyCollateral((address,address,address,address,uint256),uint256,address,bytes)", "238d6579"},
		{morphoBlueABI, "withdrawCollateral", "withdrawCollateral((address,address,address,address,uint256),uint256,address,address)", "8720316d"},
		{morphoViewABI, "position", "position(bytes32,address)", "93c52062"},
		{morphoViewABI, "market", "market(bytes32)", "5c60e39a"},
		{morphoIrmABI, "borrowRateView", "borrowRateView((address,address,address,address,uint256),(uint128,uint128,uint128,uint128,uint128,uint128))", "8c00bf6b"},
		{erc4626ABI, "deposit", "deposit(uint256,address)", "6e553f65"},
		{erc4626ABI, "redeem", "redeem(uint256,address,address)", "ba087652"},
		{lidoABI, "submit", "submit(address)", "a1903eab"},
		{wstETHABI, "wrap", "wrap(uint256)", "ea598cb0"},
		{wstETHABI, "unwrap", "unwrap(uint256)", "de0e9a3e"},
		{lidoQueueABI, "requestWithdrawals", "requestWithdrawals(uint256[],address)", "d6681042"},
		{lidoQueueABI, "requestWithdrawalsWstETH", "requestWithdrawalsWstETH(uint256[],address)", "19aa6257"},
		{lidoQueueABI, "claimWithdrawals", "claimWithdrawals(uint256[],uint256[])", "e3afe0a3"},
		{curve2ABI, "exchange", "exchange(int128,int128,uint256,uint256)", "3df02124"},
		{curveNGABI, "exchange", "exchange(int128,int128,uint256,uint256)", "3df02124"},
		{curve2ABI, "add_liquidity", "add_liquidity(uint256[2],uint256)", "0b4c7e4d"},
		{curve2ABI, "remove_liquidity_one_coin", "remove_liquidity_one_coin(uint256,int128,uint256)", "1a4d01d2"},
		{curve3ABI, "add_liquidity", "add_liquidity(uint256[3],uint256)", "4515cef3"},
		{uniNPMABI, "mint", "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))", "88316456"},
		{uniNPMABI, "decreaseLiquidity", "decreaseLiquidity((uint256,uint128,uint256,uint256,uint256))", "0c49ccbe"},
		{uniNPMABI, "collect", "collect((uint256,address,uint128,uint128))", "fc6f7865"},
		{rocketDepositABI, "deposit", "deposit()", "d0e30db0"},
		{rethABI, "burn", "burn(uint256)", "42966c68"},
		{etherfiPoolABI, "requestWithdraw", "requestWithdraw(address,uint256)", "397a1b28"},
		{renzoABI, "depositETH", "depositETH()", "f6326fb3"},
		{kelpABI, "depositETH", "depositETH(uint256,string)", "72c51c0b"},
		{pufferABI, "depositETH", "depositETH(address)", "2d2da806"},
		{eigenStrategyManagerABI, "depositIntoStrategy", "depositIntoStrategy(address,address,uint256)", "e7a050aa"},
		{eigenDelegationABI, "queueWithdrawals", "queueWithdrawals((address[],uint256[],address)[])", "0dd8dd02"},
		{swellABI, "deposit", "deposit()", "d0e30db0"},
		// No published Method ID at hand: the selector is Keccak-256 of
		// the signature as IrswETH.sol declares it, computed here apart
		// from the abi package's parse of the fragment.
		{swellABI, "rswETHToETHRate", "rswETHToETHRate()", hex.EncodeToString(crypto.Keccak256([]byte("rswETHToETHRate()"))[:4])},
		{swellABI, "AccessControlManager", "AccessControlManager()", hex.EncodeToString(crypto.Keccak256([]byte("AccessControlManager()"))[:4])},
		{swellACMABI, "rswEXIT", "rswEXIT()", hex.EncodeToString(crypto.Keccak256([]byte("rswEXIT()"))[:4])},
		{swellExitABI, "createWithdrawRequest", "createWithdrawRequest(uint256)", hex.EncodeToString(crypto.Keccak256([]byte("createWithdrawRequest(uint256)"))[:4])},
		{etherfiPoolABI, "withdrawRequestNFT", "withdrawRequestNFT()", hex.EncodeToString(crypto.Keccak256([]byte("withdrawRequestNFT()"))[:4])},
		{etherfiNFTABI, "claimWithdraw", "claimWithdraw(uint256)", hex.EncodeToString(crypto.Keccak256([]byte("claimWithdraw(uint256)"))[:4])},
		{swellExitABI, "finalizeWithdrawal", "finalizeWithdrawal(uint256)", hex.EncodeToString(crypto.Keccak256([]byte("finalizeWithdrawal(uint256)"))[:4])},
	}
	for _, tt := range tests {
		t.Run(tt.sig, func(t *testing.T) {
			m, ok := tt.abi.Methods[tt.method]
			if !ok {
				t.Fatalf("no method %s", tt.method)
			}
			if m.Sig != tt.sig {
				t.Errorf("signature = %s, want %s", m.Sig, tt.sig)
			}
			if got := hex.EncodeToString(m.ID); got != tt.want {
				t.Errorf("selector = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", ""},
		{"0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "checksum"}, // no checksum carried
		{"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756cc2", "checksum"}, // one letter's case wrong
		{"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc", "40 hex"},
		{"C02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "40 hex"},
		{"0xZ02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "40 hex"},
		{"", "40 hex"},
	}
	for _, tt := range tests {
		_, err := ParseAddress(tt.in)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("ParseAddress(%q): %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("ParseAddress(%q) = %v, want an invalid-input error about %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestBuiltin_CoversEveryMarket: every built-in market has a deployment
// or a stated reason why not, never both, and every address has a source.
func TestBuiltin_CoversEveryMarket(t *testing.T) {
	book := Builtin()
	known := map[string]bool{}
	for _, m := range adapters.Builtin().Markets() {
		known[m.ID] = true
		_, err := book.Deployment(m.ID)
		why, isUnmapped := unmapped[m.ID]
		switch {
		case err == nil && isUnmapped:
			t.Errorf("%s has a deployment and a reason for having none", m.ID)
		case err != nil && !isUnmapped:
			t.Errorf("%s: no deployment and no reason: %v", m.ID, err)
		case err != nil && !strings.Contains(err.Error(), why):
			t.Errorf("%s: error %q does not give the reason", m.ID, err)
		}
	}
	for _, m := range book.Markets() {
		if !known[m] {
			t.Errorf("deployment for %s, which is not a built-in market", m)
		}
	}
	for m := range unmapped {
		if !known[m] {
			t.Errorf("reason for %s, which is not a built-in market", m)
		}
	}
	for _, c := range book.Contracts() {
		if c.Source == "" || c.Name == "" {
			t.Errorf("contract %s %s has no name or source", c.Name, c.Address.Hex())
		}
		if _, err := ParseAddress(c.Address.Hex()); err != nil {
			t.Error(err)
		}
	}
	if n := len(book.Contracts()); n < 30 {
		t.Errorf("%d contracts, want the 30 or more of the table", n)
	}
}

// word is a 32-byte ABI word in hex.
func wordAddr(a common.Address) string { return hex.EncodeToString(common.LeftPadBytes(a.Bytes(), 32)) }
func wordInt(v int64) string {
	return hex.EncodeToString(common.LeftPadBytes(big.NewInt(v).Bytes(), 32))
}
func wordBig(v *big.Int) string { return hex.EncodeToString(common.LeftPadBytes(v.Bytes(), 32)) }

type wantCall struct {
	to    common.Address
	value int64
	sel   string
	words []string // the 32-byte words after the selector, per the ABI spec
}

var testVault = common.HexToAddress("0x00000000000000000000000000000000000000A1")

func e18(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// TestEncoder_Calls lays out each call's data by the Solidity ABI
// specification (head words, offsets of dynamic values, lengths) by hand,
// independently of the encoder.
func TestEncoder_Calls(t *testing.T) {
	enc := &Encoder{Vault: testVault, Book: Builtin()}
	usdc, weth, steth, wsteth := tUSDC.Address, tWETH.Address, tStETH.Address, tWstETH.Address
	pool := cAavePool.Address
	comet := common.HexToAddress("0xc3d688B66703497DAA19211EEdff47f25384cdc3")
	threePool := common.HexToAddress("0xbEbc44782C7dB0a1A60Cb6fe97d0b483032FF1C7")
	npm := common.HexToAddress("0xC36442b4a4522E871399CD717aBDD847Ab11FE88")
	max128 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	tests := []struct {
		name string
		req  Request
		want []wantCall
	}{
		{"aave supply USDC", Request{Market: "aave-v3/usdc", Op: Supply, Amount: big.NewInt(1_000_000)}, []wantCall{
			{usdc, 0, "095ea7b3", []string{wordAddr(pool), wordInt(1_000_000)}},
			{pool, 0, "617ba037", []string{wordAddr(usdc), wordInt(1_000_000), wordAddr(testVault), wordInt(0)}},
		}},
		{"aave withdraw all WETH", Request{Market: "aave-v3/weth", Op: Withdraw, All: true}, []wantCall{
			{pool, 0, "69328dec", []string{wordAddr(weth), wordBig(MaxUint256), wordAddr(testVault)}},
		}},
		{"aave borrow variable", Request{Market: "aave-v3/usdt", Op: Borrow, Amount: big.NewInt(5)}, []wantCall{
			{pool, 0, "a415bcad", []string{wordAddr(tUSDT.Address), wordInt(5), wordInt(2), wordInt(0), wordAddr(testVault)}},
		}},
		{"spark supply goes to SparkLend's pool", Request{Market: "spark/weth", Op: Supply, Amount: big.NewInt(7)}, []wantCall{
			{weth, 0, "095ea7b3", []string{wordAddr(cSparkPool.Address), wordInt(7)}},
			{cSparkPool.Address, 0, "617ba037", []string{wordAddr(weth), wordInt(7), wordAddr(testVault), wordInt(0)}},
		}},
		{"comet supply", Request{Market: "compound-v3/usdc", Op: Supply, Amount: big.NewInt(3)}, []wantCall{
			{usdc, 0, "095ea7b3", []string{wordAddr(comet), wordInt(3)}},
			{comet, 0, "f2b9fdb8", []string{wordAddr(usdc), wordInt(3)}},
		}},
		{"comet withdraw all", Request{Market: "compound-v3/usdc", Op: Withdraw, All: true}, []wantCall{
			{comet, 0, "f3fef3a3", []string{wordAddr(usdc), wordBig(MaxUint256)}},
		}},
		{"lido stake and wrap", Request{Market: "lido/wsteth", Op: Supply, Amount: e18(1)}, []wantCall{
			{weth, 0, "2e1a7d4d", []string{wordBig(e18(1))}},
			{steth, 1e18, "a1903eab", []string{wordInt(0)}},
			{steth, 0, "095ea7b3", []string{wordAddr(wsteth), wordBig(new(big.Int).Sub(e18(1), big.NewInt(2)))}},
			{wsteth, 0, "ea598cb0", []string{wordBig(new(big.Int).Sub(e18(1), big.NewInt(2)))}},
		}},
		{"lido request splits at 1000 stETH", Request{Market: "lido/steth", Op: RequestWithdrawal, Amount: e18(2500)}, []wantCall{
			{steth, 0, "095ea7b3", []string{wordAddr(cLidoQueue.Address), wordBig(e18(2500))}},
			{cLidoQueue.Address, 0, "d6681042", []string{wordInt(0x40), wordAddr(testVault), wordInt(3), wordBig(e18(1000)), wordBig(e18(1000)), wordBig(e18(500))}},
		}},
		{"lido claim", Request{Market: "lido/steth", Op: ClaimWithdrawal, RequestIDs: []*big.Int{big.NewInt(11), big.NewInt(12)}, Hints: []*big.Int{big.NewInt(3), big.NewInt(3)}}, []wantCall{
			{cLidoQueue.Address, 0, "e3afe0a3", []string{wordInt(0x40), wordInt(0xa0), wordInt(2), wordInt(11), wordInt(12), wordInt(2), wordInt(3), wordInt(3)}},
		}},
		{"lido instant exit through Curve", Request{Market: "lido/steth", Op: Swap, Amount: big.NewInt(100), MinOut: big.NewInt(99)}, []wantCall{
			{steth, 0, "095ea7b3", []string{wordAddr(cCurveStETH.Address), wordInt(100)}},
			{cCurveStETH.Address, 0, "3df02124", []string{wordInt(1), wordInt(0), wordInt(100), wordInt(99)}},
		}},
		{"curve 3pool swap USDC to USDT", Request{Market: "curve/3pool", Op: Swap, From: 1, To: 2, Amount: big.NewInt(1_000_000), MinOut: big.NewInt(999_000)}, []wantCall{
			{usdc, 0, "095ea7b3", []string{wordAddr(threePool), wordInt(1_000_000)}},
			{threePool, 0, "3df02124", []string{wordInt(1), wordInt(2), wordInt(1_000_000), wordInt(999_000)}},
		}},
		{"curve 3pool add USDC", Request{Market: "curve/3pool", Op: Supply, From: 1, Amount: big.NewInt(10), MinOut: big.NewInt(9)}, []wantCall{
			{usdc, 0, "095ea7b3", []string{wordAddr(threePool), wordInt(10)}},
			{threePool, 0, "4515cef3", []string{wordInt(0), wordInt(10), wordInt(0), wordInt(9)}},
		}},
		{"curve stETH pool add ETH", Request{Market: "curve/steth-eth", Op: Supply, From: 0, Amount: big.NewInt(10), MinOut: big.NewInt(9)}, []wantCall{
			{weth, 0, "2e1a7d4d", []string{wordInt(10)}},
			{cCurveStETH.Address, 10, "0b4c7e4d", []string{wordInt(10), wordInt(0), wordInt(9)}},
		}},
		{"curve remove one coin", Request{Market: "curve/3pool", Op: Withdraw, To: 2, Amount: big.NewInt(10), MinOut: big.NewInt(9)}, []wantCall{
			{threePool, 0, "1a4d01d2", []string{wordInt(10), wordInt(2), wordInt(9)}},
		}},
		{"rocket pool deposit", Request{Market: "rocketpool/reth", Op: Supply, Amount: big.NewInt(5)}, []wantCall{
			{weth, 0, "2e1a7d4d", []string{wordInt(5)}},
			{common.HexToAddress("0xDD3f50F8A6CafbE9b31a427582963f465E745AF8"), 5, "d0e30db0", nil},
		}},
		{"swell deposit mints rswETH to the vault", Request{Market: "swell/rsweth", Op: Supply, Amount: big.NewInt(5)}, []wantCall{
			{weth, 0, "2e1a7d4d", []string{wordInt(5)}},
			{common.HexToAddress("0xFAe103DC9cf190eD75350761e95403b7b8aFa6c0"), 5, "d0e30db0", nil},
		}},
		{"kelp deposit with min out", Request{Market: "kelp/rseth", Op: Supply, Amount: big.NewInt(5), MinOut: big.NewInt(4)}, []wantCall{
			{weth, 0, "2e1a7d4d", []string{wordInt(5)}},
			// depositETH(uint256, string ""): the string's offset, then its empty length.
			{common.HexToAddress("0x036676389e48133B63a802f8635AD39E752D375D"), 5, "72c51c0b", []string{wordInt(4), wordInt(0x40), wordInt(0)}},
		}},
		{"puffer deposit to the vault", Request{Market: "puffer/pufeth", Op: Supply, Amount: big.NewInt(5)}, []wantCall{
			{weth, 0, "2e1a7d4d", []string{wordInt(5)}},
			{common.HexToAddress("0xD9A442856C234a39a81a089C06451EBAa4306a72"), 5, "2d2da806", []string{wordAddr(testVault)}},
		}},
		{"eigenlayer deposit stETH", Request{Market: "eigenlayer/steth", Op: Supply, Amount: big.NewInt(8)}, []wantCall{
			{steth, 0, "095ea7b3", []string{wordAddr(common.HexToAddress("0x858646372CC42E1A627fcE94aa7A7033e7CF075A")), wordInt(8)}},
			{common.HexToAddress("0x858646372CC42E1A627fcE94aa7A7033e7CF075A"), 0, "e7a050aa", []string{wordAddr(common.HexToAddress("0x93c4b944D05dfe6df7645A86cd2206016c51564D")), wordAddr(steth), wordInt(8)}},
		}},
		{"eigenlayer queue", Request{Market: "eigenlayer/steth", Op: RequestWithdrawal, Amount: big.NewInt(8)}, []wantCall{
			// (address[],uint256[],address)[] with one element: offset of the
			// array, its length, the element's offset, the element's head
			// (two offsets and the withdrawer), then the two arrays.
			{common.HexToAddress("0x39053D51B77DC0d36036Fc1fCc8Cb819df8Ef37A"), 0, "0dd8dd02", []string{
				wordInt(0x20), wordInt(1), wordInt(0x20),
				wordInt(0x60), wordInt(0xa0), wordAddr(testVault),
				wordInt(1), wordAddr(common.HexToAddress("0x93c4b944D05dfe6df7645A86cd2206016c51564D")),
				wordInt(1), wordInt(8)}},
		}},
		{"uniswap collect everything owed", Request{Market: "uniswap-v3/weth-usdt", Op: Collect, Position: &UniPosition{TokenID: big.NewInt(42)}}, []wantCall{
			{npm, 0, "fc6f7865", []string{wordInt(42), wordAddr(testVault), wordBig(max128), wordBig(max128)}},
		}},
		{"uniswap decrease", Request{Market: "uniswap-v3/weth-usdt-range", Op: Decrease, Position: &UniPosition{TokenID: big.NewInt(42), Liquidity: big.NewInt(1000), Amount0Min: big.NewInt(1), Amount1Min: big.NewInt(2), Deadline: big.NewInt(1700000000)}}, []wantCall{
			{npm, 0, "0c49ccbe", []string{wordInt(42), wordInt(1000), wordInt(1), wordInt(2), wordInt(1700000000)}},
		}},
		{"uniswap mint full range", Request{Market: "uniswap-v3/weth-usdt", Op: Mint, Position: &UniPosition{TickLower: -887220, TickUpper: 887220, Amount0: big.NewInt(100), Amount1: big.NewInt(300), Deadline: big.NewInt(1700000000)}}, []wantCall{
			{weth, 0, "095ea7b3", []string{wordAddr(npm), wordInt(100)}},
			{tUSDT.Address, 0, "095ea7b3", []string{wordAddr(npm), wordInt(300)}},
			{npm, 0, "88316456", []string{wordAddr(weth), wordAddr(tUSDT.Address), wordInt(3000),
				// int24 -887220 in two's complement over 256 bits
				"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff2764c", wordInt(887220),
				wordInt(100), wordInt(300), wordInt(0), wordInt(0), wordAddr(testVault), wordInt(1700000000)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, err := enc.Calls(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != len(tt.want) {
				for _, c := range calls {
					t.Log(c)
				}
				t.Fatalf("%d calls, want %d", len(calls), len(tt.want))
			}
			for i, c := range calls {
				w := tt.want[i]
				if c.To != w.to {
					t.Errorf("call %d to %s, want %s", i, c.To.Hex(), w.to.Hex())
				}
				if c.Value.Cmp(big.NewInt(w.value)) != 0 {
					t.Errorf("call %d value %s, want %d", i, c.Value, w.value)
				}
				want := w.sel + strings.Join(w.words, "")
				if got := hex.EncodeToString(c.Data); got != want {
					t.Errorf("call %d (%s) data\n got %s\nwant %s", i, c.Method.Sig, got, want)
				}
			}
		})
	}
}

// TestEncoder_Morpho encodes Morpho Blue's MarketParams tuple and its
// trailing bytes argument on a deployment users would add.
func TestEncoder_Morpho(t *testing.T) {
	book := NewBook()
	blue := mustAddr("0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb")
	oracle := common.HexToAddress("0x00000000000000000000000000000000000000B1")
	irm := common.HexToAddress("0x00000000000000000000000000000000000000B2")
	if err := book.Add(Deployment{Market: "morpho-blue/usdc-wsteth", Protocol: MorphoBlue, Asset: tUSDC,
		Contracts:    map[string]Contract{"morpho": {Name: "Morpho Blue", Address: blue, Source: "test"}},
		MorphoMarket: &MorphoMarketParams{LoanToken: tUSDC.Address, CollateralToken: tWstETH.Address, Oracle: oracle, IRM: irm, LLTV: "860000000000000000"}}); err != nil {
		t.Fatal(err)
	}
	enc := &Encoder{Vault: testVault, Book: book}
	mp := []string{wordAddr(tUSDC.Address), wordAddr(tWstETH.Address), wordAddr(oracle), wordAddr(irm), wordInt(860000000000000000)}
	tests := []struct {
		req  Request
		sel  string
		tail []string
	}{
		{Request{Market: "morpho-blue/usdc-wsteth", Op: Supply, Amount: big.NewInt(9)}, "a99aad89",
			[]string{wordInt(9), wordInt(0), wordAddr(testVault), wordInt(0x120), wordInt(0)}},
		{Request{Market: "morpho-blue/usdc-wsteth", Op: Withdraw, Shares: big.NewInt(77)}, "5c2bea49",
			[]string{wordInt(0), wordInt(77), wordAddr(testVault), wordAddr(testVault)}},
	}
	for _, tt := range tests {
		calls, err := enc.Calls(tt.req)
		if err != nil {
			t.Fatal(err)
		}
		c := calls[len(calls)-1]
		want := tt.sel + strings.Join(mp, "") + strings.Join(tt.tail, "")
		if got := hex.EncodeToString(c.Data); got != want || c.To != blue {
			t.Errorf("%s: to %s data\n got %s\nwant %s", tt.req.Op, c.To.Hex(), got, want)
		}
	}
}

func TestEncoder_Errors(t *testing.T) {
	enc := &Encoder{Vault: testVault, Book: Builtin()}
	tests := []struct {
		name string
		req  Request
		kind error
		msg  string
	}{
		{"unknown market", Request{Market: "nope/x", Op: Supply, Amount: big.NewInt(1)}, adapters.ErrNotFound, "no on-chain deployment"},
		{"unmapped market says why", Request{Market: "kamino/usdc", Op: Supply, Amount: big.NewInt(1)}, adapters.ErrNotFound, "Solana"},
		{"zero amount", Request{Market: "aave-v3/usdc", Op: Supply}, adapters.ErrInvalid, "positive amount"},
		{"negative amount", Request{Market: "aave-v3/usdc", Op: Supply, Amount: big.NewInt(-1)}, adapters.ErrInvalid, "negative"},
		{"swap without a slippage limit", Request{Market: "curve/3pool", Op: Swap, From: 1, To: 2, Amount: big.NewInt(1)}, adapters.ErrInvalid, "min out"},
		{"swap to itself", Request{Market: "curve/3pool", Op: Swap, From: 1, To: 1, Amount: big.NewInt(1), MinOut: big.NewInt(1)}, adapters.ErrInvalid, "itself"},
		{"coin out of range", Request{Market: "curve/3pool", Op: Swap, From: 1, To: 3, Amount: big.NewInt(1), MinOut: big.NewInt(1)}, adapters.ErrInvalid, "out of"},
		{"op the protocol lacks", Request{Market: "rocketpool/reth", Op: RequestWithdrawal, Amount: big.NewInt(1)}, adapters.ErrInvalid, "not an action"},
		{"wrap on unwrapped stETH", Request{Market: "lido/steth", Op: Wrap, Amount: big.NewInt(1)}, adapters.ErrInvalid, "not an action"},
		{"claim without hints", Request{Market: "lido/steth", Op: ClaimWithdrawal, RequestIDs: []*big.Int{big.NewInt(1)}}, adapters.ErrInvalid, "hint"},
		{"kelp without min out", Request{Market: "kelp/rseth", Op: Supply, Amount: big.NewInt(1)}, adapters.ErrInvalid, "minimum"},
		{"mint with an empty range", Request{Market: "uniswap-v3/weth-usdt", Op: Mint, Position: &UniPosition{TickLower: 60, TickUpper: 60, Deadline: big.NewInt(1)}}, adapters.ErrInvalid, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := enc.Calls(tt.req)
			if err == nil || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tt.kind, tt.msg)
			}
		})
	}
	if _, err := (&Encoder{Book: Builtin()}).Calls(Request{Market: "aave-v3/usdc", Op: Supply, Amount: big.NewInt(1)}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("no vault address: err = %v", err)
	}
}

// TestRequests_Swell: a buy of rswETH is one Supply of the WETH amount
// (unwrapped and sent with deposit()); a sell, instant or queued, is
// refused naming Swell's withdrawal queue and why it has no address.
func TestRequests_Swell(t *testing.T) {
	d, err := Builtin().Deployment("swell/rsweth")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Requests(d, vault.Order{Market: "swell/rsweth", Side: vault.Buy, Amount: fixed.RequireFromString("1.5")}, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Op != Supply || rs[0].Amount.Cmp(new(big.Int).Mul(big.NewInt(15), big.NewInt(1e17))) != 0 {
		t.Errorf("buy 1.5: %+v, want one supply of 1.5e18 wei", rs)
	}
	for _, mode := range []adapters.ExitMode{adapters.ExitInstant, adapters.ExitQueue} {
		_, err = Requests(d, vault.Order{Market: "swell/rsweth", Side: vault.Sell, Amount: fixed.RequireFromString("1"), Mode: mode}, 0.01)
		if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "rswEXIT") || !strings.Contains(err.Error(), "no rpc is set") {
			t.Errorf("sell (%v): %v, want a refusal naming rswEXIT, read from the chain, and no rpc", mode, err)
		}
	}
}

// TestEncoder_SwellExitRefused: without the exit contract read from the
// chain (no node), every exit operation on swell/rsweth is refused with
// the reason, never encoded to a guessed address; the deposit still is
// encoded, to the sourced rswETH proxy.
func TestEncoder_SwellExitRefused(t *testing.T) {
	enc := &Encoder{Vault: testVault, Book: Builtin()}
	for _, op := range []Op{RequestWithdrawal, ClaimWithdrawal, Withdraw} {
		calls, err := enc.Calls(Request{Market: "swell/rsweth", Op: op, Amount: big.NewInt(1), RequestIDs: []*big.Int{big.NewInt(1)}})
		want := "no rpc is set"
		if op == Withdraw {
			want = "is not an action of this protocol"
		}
		if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), want) || calls != nil {
			t.Errorf("%s: calls %v, err %v; want a refusal saying %q", op, calls, err, want)
		}
	}
	calls, err := enc.Calls(Request{Market: "swell/rsweth", Op: Supply, Amount: big.NewInt(7)})
	if err != nil {
		t.Fatal(err)
	}
	// The rswETH proxy as Swell's organisation publishes it
	// (SwellNetwork/paraswap-dex-lib src/dex/swell/config.ts, 8de1c556).
	want := common.HexToAddress("0xfae103dc9cf190ed75350761e95403b7b8afa6c0")
	if last := calls[len(calls)-1]; last.To != want || last.Value.Int64() != 7 {
		t.Errorf("deposit goes to %s with %s wei, want %s with 7", last.To.Hex(), last.Value, want.Hex())
	}
}

// TestBuiltin_KarakRefused: karak/weth has no deployment, and the reason
// says what Karak publishes (its Ethereum vault list, without WETH) and
// what is missing (any deployed address), not "not encoded yet".
func TestBuiltin_KarakRefused(t *testing.T) {
	_, err := Builtin().Deployment("karak/weth")
	if !errors.Is(err, adapters.ErrNotFound) {
		t.Fatalf("err = %v, want not found", err)
	}
	for _, w := range []string{"no WETH", "VaultSupervisor", "publishes no deployed address", "e731d4e", "No announcement"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("karak refusal %q does not mention %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "not encoded yet") {
		t.Errorf("karak refusal still says only %q", "not encoded yet")
	}
}

// TestAllowlist_Swell: the rswETH deposit batch (WETH.withdraw, then
// rswETH.deposit with the ether) passes an allowlist holding both calls
// and is refused, naming the call, by one without rswETH.deposit; a
// configuration whose vault trades swell/rsweth stops at start with the
// exit's reason, since its sells cannot be executed.
func TestAllowlist_Swell(t *testing.T) {
	calls, err := (&Encoder{Vault: testVault, Book: Builtin()}).Calls(Request{Market: "swell/rsweth", Op: Supply, Amount: big.NewInt(5)})
	if err != nil {
		t.Fatal(err)
	}
	rsweth := mustAddr("0xFAe103DC9cf190eD75350761e95403b7b8aFa6c0")
	full := NewAllowlist()
	full.Allow(tWETH.Address, "withdraw")
	full.Allow(rsweth, "deposit")
	if err := full.Check(testVault, calls); err != nil {
		t.Errorf("allowed deposit refused: %v", err)
	}
	partial := NewAllowlist()
	partial.Allow(tWETH.Address, "withdraw")
	if err := partial.Check(testVault, calls); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "rswETH.deposit") || !strings.Contains(err.Error(), "not in the allowlist") {
		t.Errorf("deposit outside the allowlist: err = %v, want a refusal naming rswETH.deposit", err)
	}
	_, err = Check(&File{Mode: ModePropose, Proposals: t.TempDir(), Vaults: []VaultFile{{ID: "eth", Address: testVault.Hex()}},
		Allow: []AllowFile{{Contract: tWETH.Address.Hex(), Functions: []string{"withdraw"}}, {Contract: rsweth.Hex(), Functions: []string{"deposit"}}}},
		pathPos, func(s string) string { return s }, map[string][]string{"eth": {"swell/rsweth"}})
	if err == nil || !strings.Contains(err.Error(), "vault eth trades swell/rsweth") || !strings.Contains(err.Error(), "rswEXIT") {
		t.Errorf("config trading swell/rsweth: err = %v, want a stop naming the unencoded exit", err)
	}
}

// TestEncoder_SwellExit: with rswEXIT in the deployment (as
// ReadChainContracts adds it), a request is rswETH.approve(rswEXIT,
// amount) then createWithdrawRequest(amount), a claim one
// finalizeWithdrawal(tokenId) per request; each call's data is decoded
// back by the Solidity ABI's layout (selector, then 32-byte words), and
// the batches pass an allowlist of exactly these calls.
func TestEncoder_SwellExit(t *testing.T) {
	book := Builtin()
	d, err := book.Deployment("swell/rsweth")
	if err != nil {
		t.Fatal(err)
	}
	exit := mustAddr("0x00000000000000000000000000000000000e417E")
	d2 := *d
	d2.Contracts = map[string]Contract{"rswexit": {Name: "rswEXIT", Address: exit, Source: swellExitSource}}
	for r, c := range d.Contracts {
		d2.Contracts[r] = c
	}
	if err := book.Add(d2); err != nil {
		t.Fatal(err)
	}
	rsweth := mustAddr("0xFAe103DC9cf190eD75350761e95403b7b8aFa6c0")
	enc := &Encoder{Vault: testVault, Book: book}
	sel := func(sig string) string { return hex.EncodeToString(crypto.Keccak256([]byte(sig))[:4]) }
	check := func(name string, calls []Call, want []wantCall) {
		t.Helper()
		if len(calls) != len(want) {
			t.Fatalf("%s: %d calls, want %d", name, len(calls), len(want))
		}
		for i, w := range want {
			c := calls[i]
			data := hex.EncodeToString(c.Data)
			if c.To != w.to || c.Value.Int64() != w.value || data != w.sel+strings.Join(w.words, "") {
				t.Errorf("%s call %d: to %s value %s data %s, want to %s data %s%s", name, i+1, c.To.Hex(), c.Value, data, w.to.Hex(), w.sel, strings.Join(w.words, ""))
			}
		}
	}
	amt := e18(3)
	calls, err := enc.Calls(Request{Market: "swell/rsweth", Op: RequestWithdrawal, Amount: amt})
	if err != nil {
		t.Fatal(err)
	}
	check("request", calls, []wantCall{
		{rsweth, 0, sel("approve(address,uint256)"), []string{wordAddr(exit), fmt.Sprintf("%064x", amt)}},
		{exit, 0, sel("createWithdrawRequest(uint256)"), []string{fmt.Sprintf("%064x", amt)}},
	})
	claims, err := enc.Calls(Request{Market: "swell/rsweth", Op: ClaimWithdrawal, RequestIDs: []*big.Int{big.NewInt(4), big.NewInt(9)}})
	if err != nil {
		t.Fatal(err)
	}
	check("claim", claims, []wantCall{
		{exit, 0, sel("finalizeWithdrawal(uint256)"), []string{wordInt(4)}},
		{exit, 0, sel("finalizeWithdrawal(uint256)"), []string{wordInt(9)}},
	})
	if _, err := enc.Calls(Request{Market: "swell/rsweth", Op: ClaimWithdrawal}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("claim of no request: err = %v, want refused", err)
	}
	allow := NewAllowlist()
	allow.Allow(rsweth, "approve")
	allow.Allow(exit, "createWithdrawRequest", "finalizeWithdrawal")
	if err := allow.Check(testVault, append(calls, claims...)); err != nil {
		t.Errorf("allowed exit refused: %v", err)
	}
	narrow := NewAllowlist()
	narrow.Allow(rsweth, "approve")
	narrow.Allow(exit, "finalizeWithdrawal")
	if err := narrow.Check(testVault, calls); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "rswEXIT.createWithdrawRequest") {
		t.Errorf("request outside the allowlist: err = %v, want a refusal naming rswEXIT.createWithdrawRequest", err)
	}
	// The queued sell itself still needs rswETH's rate for its amount.
	_, err = Requests(&d2, vault.Order{Market: "swell/rsweth", Side: vault.Sell, Amount: fixed.RequireFromString("1"), Mode: adapters.ExitQueue}, 0.01)
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "exchange rate") {
		t.Errorf("queued sell with rswEXIT read: err = %v, want a refusal naming the exchange rate", err)
	}
}

// TestEncoder_EtherFiClaim: without the WithdrawRequestNFT read from the
// chain a claim on etherfi/weeth is refused, saying no rpc is set; with
// it (as ReadChainContracts adds it), a claim is one claimWithdraw(
// tokenId) per request on the NFT contract, its data decoded back by the
// ABI's layout, and it passes an allowlist holding it and no other.
func TestEncoder_EtherFiClaim(t *testing.T) {
	book := Builtin()
	claim := Request{Market: "etherfi/weeth", Op: ClaimWithdrawal, RequestIDs: []*big.Int{big.NewInt(17), big.NewInt(18)}}
	if _, err := (&Encoder{Vault: testVault, Book: book}).Calls(claim); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "no rpc is set") || !strings.Contains(err.Error(), "LiquidityPool.withdrawRequestNFT()") {
		t.Errorf("claim without the NFT read: err = %v, want a refusal naming the getter and no rpc", err)
	}
	d, err := book.Deployment("etherfi/weeth")
	if err != nil {
		t.Fatal(err)
	}
	nft := mustAddr("0x00000000000000000000000000000000000000f7")
	d2 := *d
	d2.Contracts = withRole(d.Contracts, "withdraw_request_nft", Contract{Name: "ether.fi WithdrawRequestNFT", Address: nft, Source: etherfiNFTSource})
	if err := book.Add(d2); err != nil {
		t.Fatal(err)
	}
	calls, err := (&Encoder{Vault: testVault, Book: book}).Calls(claim)
	if err != nil {
		t.Fatal(err)
	}
	sel := hex.EncodeToString(crypto.Keccak256([]byte("claimWithdraw(uint256)"))[:4])
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	for i, id := range []int64{17, 18} {
		if c := calls[i]; c.To != nft || c.Value.Sign() != 0 || hex.EncodeToString(c.Data) != sel+wordInt(id) {
			t.Errorf("call %d: to %s data %x, want claimWithdraw(%d) at %s", i+1, c.To.Hex(), c.Data, id, nft.Hex())
		}
	}
	allow := NewAllowlist()
	allow.Allow(nft, "claimWithdraw")
	if err := allow.Check(testVault, calls); err != nil {
		t.Errorf("allowed claim refused: %v", err)
	}
	if err := NewAllowlist().Check(testVault, calls); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "WithdrawRequestNFT.claimWithdraw") {
		t.Errorf("claim outside the allowlist: err = %v, want a refusal naming it", err)
	}
	if _, err := (&Encoder{Vault: testVault, Book: book}).Calls(Request{Market: "etherfi/weeth", Op: ClaimWithdrawal}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("claim of no request: err = %v, want refused", err)
	}
}
