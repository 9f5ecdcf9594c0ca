package execution

import (
	"bytes"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// TestBuiltin_MorphoMarketID: the built-in Morpho loop's market is the
// one its source names: its Id, keccak256 of the five MarketParams words
// (computed here without go-ethereum's abi), is the published id, and
// MorphoMarketID agrees.
func TestBuiltin_MorphoMarketID(t *testing.T) {
	d, err := Builtin().Deployment("morpho/wsteth-weth-loop")
	if err != nil {
		t.Fatal(err)
	}
	m := d.MorphoMarket
	if m == nil || m.Source == "" {
		t.Fatalf("morpho/wsteth-weth-loop: market params %+v, want them with a source", m)
	}
	lltv, _ := new(big.Int).SetString(m.LLTV, 10)
	var enc []byte
	for _, w := range []any{m.LoanToken, m.CollateralToken, m.Oracle, m.IRM, lltv} {
		enc = append(enc, word(w)...)
	}
	if got := crypto.Keccak256Hash(enc).Hex(); got != morphoWstETHWETHID {
		t.Errorf("keccak256(abi.encode(MarketParams)) = %s, want the published %s", got, morphoWstETHWETHID)
	}
	if got, err := MorphoMarketID(*m); err != nil || got.Hex() != morphoWstETHWETHID {
		t.Errorf("MorphoMarketID = %s, %v; want %s", got.Hex(), err, morphoWstETHWETHID)
	}
	if m.LoanToken != tWETH.Address || m.CollateralToken != tWstETH.Address || m.LLTV != "945000000000000000" {
		t.Errorf("market params %+v: want WETH lent against wstETH at an LLTV of 94.5%%", m)
	}
	if blue, _ := d.Contract("morpho"); blue.Address != common.HexToAddress("0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb") {
		t.Errorf("Morpho Blue at %s", blue.Address.Hex())
	}
}

// TestMorphoShares: SharesMathLib's conversions, against the formulas
// written out with decimals: toAssetsUp rounds up, toSharesDown down,
// both with one virtual asset and a million virtual shares.
func TestMorphoShares(t *testing.T) {
	for _, c := range []struct{ x, ta, ts string }{
		{"1000000000000000000", "5000000000000000000", "4900000000000000000000000"},
		{"7", "1000", "999000000"},
		{"123456789012345678", "0", "0"},
	} {
		x, _ := new(big.Int).SetString(c.x, 10)
		ta, _ := new(big.Int).SetString(c.ta, 10)
		ts, _ := new(big.Int).SetString(c.ts, 10)
		dx, dta, dts := decimal.NewFromBigInt(x, 0), decimal.NewFromBigInt(ta, 0), decimal.NewFromBigInt(ts, 0)
		wantA := dx.Mul(dta.Add(decimal.NewFromInt(1))).Div(dts.Add(decimal.NewFromInt(1e6)))
		if got := decimal.NewFromBigInt(morphoToAssetsUp(x, ta, ts), 0); !got.Equal(wantA.Ceil()) {
			t.Errorf("toAssetsUp(%s, %s, %s) = %s, want %s", x, ta, ts, got, wantA.Ceil())
		}
		wantS := dx.Mul(dts.Add(decimal.NewFromInt(1e6))).Div(dta.Add(decimal.NewFromInt(1)))
		if got := decimal.NewFromBigInt(morphoToSharesDown(x, ta, ts), 0); !got.Equal(wantS.Floor()) {
			t.Errorf("toSharesDown(%s, %s, %s) = %s, want %s", x, ta, ts, got, wantS.Floor())
		}
	}
}

// TestLoopRequests_Morpho: the Morpho loop's calls are the Aave loop's
// around a Morpho Blue venue: supplyCollateral, borrow, withdrawCollateral
// and repay on Morpho with the market's MarketParams, the vault as
// onBehalf and receiver. A whole unwind without the position read on
// chain is refused; with it, the withdrawals add up to the collateral
// exactly, the repayments (by shares) to the borrow shares exactly, and
// the last one's assets cover its shares' at the market's totals.
func TestLoopRequests_Morpho(t *testing.T) {
	d, err := Builtin().Deployment("morpho/wsteth-weth-loop")
	if err != nil {
		t.Fatal(err)
	}
	vaultAddr := common.HexToAddress("0x00000000000000000000000000000000000000A1")
	enc := &Encoder{Vault: vaultAddr, Book: Builtin()}
	blue := common.HexToAddress("0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb")
	m := d.MorphoMarket
	lltv, _ := new(big.Int).SetString(m.LLTV, 10)
	mpWords := [][]byte{word(m.LoanToken), word(m.CollateralToken), word(m.Oracle), word(m.IRM), word(lltv)}
	rate := decimal.RequireFromString("1.2")
	lb := &LoopBook{Rate: rate, Peg: 1, LTV: 0.945, LLTV: 0.945}
	open := vault.Order{Market: d.Market, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 3}
	reqs, err := LoopRequests(d, open, 0.01, lb)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range reqs {
		calls, err := enc.Calls(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.To != blue {
				continue
			}
			seen[c.Method.RawName]++
			// Every Morpho call starts with the MarketParams' five words.
			if !bytes.Equal(c.Data[4:4+5*32], bytes.Join(mpWords, nil)) {
				t.Errorf("%s: MarketParams words %x", c.Method.RawName, c.Data[4:4+5*32])
			}
			switch c.Method.RawName {
			case "supplyCollateral":
				// (params, assets, onBehalf, data): the wstETH of Shares.
				if !bytes.Equal(c.Data[4+5*32:4+7*32], append(word(r.Shares), word(vaultAddr)...)) {
					t.Errorf("supplyCollateral args %x", c.Data[4+5*32:])
				}
			case "borrow":
				// (params, assets, shares 0, onBehalf, receiver).
				if !bytes.Equal(c.Data[4+5*32:], bytes.Join([][]byte{word(r.Amount), word(int64(0)), word(vaultAddr), word(vaultAddr)}, nil)) {
					t.Errorf("borrow args %x", c.Data[4+5*32:])
				}
			}
		}
	}
	if seen["supplyCollateral"] == 0 || seen["borrow"] == 0 || seen["supplyCollateral"] != seen["borrow"]+1 {
		t.Errorf("Morpho calls of the open %v: want a supply for the equity and one per borrow round", seen)
	}

	held := &LoopBook{Collateral: decimal.NewFromInt(30), Debt: decimal.NewFromInt(20), Rate: rate, Peg: 1, LTV: 0.945, LLTV: 0.945}
	sell := vault.Order{Market: d.Market, Side: vault.Sell, All: true, Amount: fixed.RequireFromString("10"), EstCost: fixed.RequireFromString("0.01"), Mode: adapters.ExitInstant}
	if _, err := LoopRequests(d, sell, 0.01, held); err == nil || !strings.Contains(err.Error(), "borrow shares") {
		t.Errorf("a whole unwind without the position read on chain: error = %v, want a refusal naming the shares", err)
	}
	// On chain: 25 wstETH (30 ether at 1.2) and 20 ether of debt in
	// shares at a market whose shares are worth 1.01 assets each.
	coll, _ := new(big.Int).SetString("25000000000000000000", 10)
	ta, _ := new(big.Int).SetString("1010000000000000000000", 10)
	ts, _ := new(big.Int).SetString("1000000000000000000000000000", 10)
	shares := morphoToSharesDown(new(big.Int).Mul(big.NewInt(20), big.NewInt(1e18)), ta, ts)
	held.Venue = &VenueState{Collateral: coll, BorrowShares: shares, TotalBorrowAssets: ta, TotalBorrowShares: ts}
	reqs, err = LoopRequests(d, sell, 0.01, held)
	if err != nil {
		t.Fatal(err)
	}
	if held.Venue.Collateral.Cmp(coll) != 0 || held.Venue.BorrowShares.Cmp(shares) != 0 {
		t.Errorf("the book's venue state changed: %+v", held.Venue)
	}
	withdrawn, repaid := new(big.Int), new(big.Int)
	var last Request
	for _, r := range reqs {
		switch r.Op {
		case Withdraw:
			withdrawn.Add(withdrawn, r.Amount)
		case Repay:
			if r.Shares == nil {
				t.Fatalf("a repayment of a whole unwind without shares: %+v", r)
			}
			repaid.Add(repaid, r.Shares)
			last = r
			calls, err := enc.Calls(r)
			if err != nil {
				t.Fatal(err)
			}
			c := calls[len(calls)-1]
			// repay(params, assets 0, shares, onBehalf, data).
			if c.Method.RawName != "repay" || !bytes.Equal(c.Data[4+5*32:4+8*32], bytes.Join([][]byte{word(int64(0)), word(r.Shares), word(vaultAddr)}, nil)) {
				t.Errorf("repay by shares: %s %x", c.Method.RawName, c.Data[4+5*32:])
			}
			// Its assets (wrapped and approved) cover the shares.
			if need := morphoToAssetsUp(r.Shares, ta, ts); need.Cmp(r.Amount) > 0 {
				t.Errorf("repay of %s shares needs %s wei, only %s wrapped", r.Shares, need, r.Amount)
			}
		}
	}
	if withdrawn.Cmp(coll) != 0 {
		t.Errorf("withdrawn %s wstETH wei, want exactly the %s held", withdrawn, coll)
	}
	if repaid.Cmp(shares) != 0 || !last.All {
		t.Errorf("repaid %s shares (last all %v), want exactly the %s held, the last repayment the rest", repaid, last.All, shares)
	}
}

// TestMorphoInterest: MathLib.wTaylorCompounded's three terms times the
// total borrowed, rounded down, against e^(rt) - 1 computed with the
// math package: below it by at most the Taylor tail (x^4/24 e^x), for a
// year, a day and no time at 10% a year.
func TestMorphoInterest(t *testing.T) {
	borrowed := new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
	rate := big.NewInt(int64(1e17) / (365 * 24 * 3600))
	for _, secs := range []int64{365 * 24 * 3600, 24 * 3600, 0} {
		got := decimal.NewFromBigInt(morphoInterest(borrowed, rate, big.NewInt(secs)), -18).Div(decimal.NewFromInt(1000)).InexactFloat64()
		x := float64(rate.Int64()) * float64(secs) / 1e18
		want := math.Expm1(x)
		if d := want - got; d < -1e-12 || d > x*x*x*x/24*math.Exp(x)+1e-12 {
			t.Errorf("%d s: interest %.12f of the borrowed, want %.12f less at most the Taylor tail", secs, got, want)
		}
	}
}
