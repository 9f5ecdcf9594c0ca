package execution

import (
	"bytes"
	"math"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// word is the 32-byte ABI word of an address or an integer, built here
// without go-ethereum's abi (left-padded big-endian).
func word(v any) []byte {
	out := make([]byte, 32)
	switch x := v.(type) {
	case common.Address:
		copy(out[12:], x.Bytes())
	case *big.Int:
		b := x.Bytes()
		copy(out[32-len(b):], b)
	case int64:
		return word(big.NewInt(x))
	}
	return out
}

// encodeIndep is a call's data computed independently: the Keccak-256
// selector of the signature and the arguments' words (static types only).
func encodeIndep(sig string, args ...any) []byte {
	out := append([]byte(nil), crypto.Keccak256([]byte(sig))[:4]...)
	for _, a := range args {
		out = append(out, word(a)...)
	}
	return out
}

func loopDeployment(t *testing.T) *Deployment {
	t.Helper()
	d, err := Builtin().Deployment("aave-v3/wsteth-loop")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLoopRequests_Open: a 2x wstETH loop opened from 10 WETH is the
// equity staked and supplied, then rounds of borrow-stake-supply whose
// borrows add to (2 - 1) x 10 WETH; each round borrows at most LTV x
// (1 - borrowSlack) of the collateral less the debt, so the rounds are
// those of the geometric series 1 + l + l^2 + ... (adapters/lending's
// rounds) at that LTV; every call's data equals the one computed from
// the signatures here, and the allowlist of exactly those calls passes.
func TestLoopRequests_Open(t *testing.T) {
	d := loopDeployment(t)
	vaultAddr := common.HexToAddress("0x00000000000000000000000000000000000000A1")
	rate := decimal.RequireFromString("1.2")
	const ltv = 0.9
	lb := &LoopBook{Rate: rate, Peg: 1, LTV: ltv, LLTV: 0.93}
	o := vault.Order{Market: d.Market, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2}
	reqs, err := LoopRequests(d, o, 0.01, lb)
	if err != nil {
		t.Fatal(err)
	}
	// The rounds of 1 + l + ... reaching 2 at l = ltv (1 - 0.001).
	l := ltv * (1 - 1e-3)
	want, sum, term := 0, 1.0, 1.0
	for sum < 2-1e-12 {
		term *= l
		sum += term
		want++
	}
	borrowed := new(big.Int)
	rounds := 0
	for i, r := range reqs {
		wantOp := Supply
		if i%2 == 1 {
			wantOp = Borrow
		}
		if r.Op != wantOp {
			t.Fatalf("request %d: op %s, want %s (supply, then borrow and supply per round)", i, r.Op, wantOp)
		}
		if r.Op == Borrow {
			rounds++
			borrowed.Add(borrowed, r.Amount)
			if next := reqs[i+1]; next.Amount.Cmp(r.Amount) != 0 {
				t.Errorf("round %d stakes %s, want the %s borrowed", rounds, next.Amount, r.Amount)
			}
		}
		if r.Op == Supply {
			// wstETH supplied: the stETH wrapped (2 wei less) over the
			// rate, less one basis point.
			st := new(big.Rat).SetInt(new(big.Int).Sub(r.Amount, big.NewInt(2)))
			w := new(big.Rat).Mul(st, big.NewRat(9999, 10000))
			w.Quo(w, big.NewRat(12, 10))
			wf, _ := w.Float64()
			if got, _ := new(big.Float).SetInt(r.Shares).Float64(); math.Abs(got-wf) > 1 {
				t.Errorf("request %d supplies %s wstETH, want %.0f", i, r.Shares, wf)
			}
		}
	}
	if rounds != want {
		t.Errorf("%d borrow rounds, want %d", rounds, want)
	}
	tenETH, _ := new(big.Int).SetString("10000000000000000000", 10)
	if diff := new(big.Int).Sub(borrowed, tenETH); diff.CmpAbs(big.NewInt(1e6)) > 0 {
		t.Errorf("borrowed %s wei, want 10 ETH ((2 - 1) x 10)", borrowed)
	}
	// The first round's borrow is the most the first supply allows.
	if b, max := reqs[1].Amount, new(big.Float).Mul(big.NewFloat(10*l*0.9999), big.NewFloat(1e18)); new(big.Float).SetInt(b).Cmp(max) > 0 {
		t.Errorf("first borrow %s, above LTV x the collateral %s", b, max.String())
	}

	enc := &Encoder{Vault: vaultAddr, Book: Builtin()}
	pool, weth, steth, wst := d.Contracts["pool"].Address, d.Contracts["weth"].Address, d.Contracts["lido"].Address, d.Contracts["wsteth"].Address
	allow := NewAllowlist()
	for _, r := range reqs[:3] {
		calls, err := enc.Calls(r)
		if err != nil {
			t.Fatal(err)
		}
		var want []Call
		switch r.Op {
		case Supply:
			st := new(big.Int).Sub(r.Amount, big.NewInt(2))
			want = []Call{
				{To: weth, Data: encodeIndep("withdraw(uint256)", r.Amount)},
				{To: steth, Value: r.Amount, Data: encodeIndep("submit(address)", common.Address{})},
				{To: steth, Data: encodeIndep("approve(address,uint256)", wst, st)},
				{To: wst, Data: encodeIndep("wrap(uint256)", st)},
				{To: wst, Data: encodeIndep("approve(address,uint256)", pool, r.Shares)},
				{To: pool, Data: encodeIndep("supply(address,uint256,address,uint16)", wst, r.Shares, vaultAddr, int64(0))},
			}
		case Borrow:
			want = []Call{{To: pool, Data: encodeIndep("borrow(address,uint256,uint256,uint16,address)", weth, r.Amount, int64(2), int64(0), vaultAddr)}}
		}
		if len(calls) != len(want) {
			t.Fatalf("%s: %d calls, want %d", r.Op, len(calls), len(want))
		}
		for i, c := range calls {
			if c.To != want[i].To || !bytes.Equal(c.Data, want[i].Data) {
				t.Errorf("%s call %d: %s %x, want %s %x", r.Op, i, c.To.Hex(), c.Data, want[i].To.Hex(), want[i].Data)
			}
			if wv := want[i].Value; wv != nil && c.Value.Cmp(wv) != 0 {
				t.Errorf("%s call %d: value %s, want %s", r.Op, i, c.Value, wv)
			}
			allow.Allow(c.To, c.Method.RawName)
		}
		if err := allow.Check(vaultAddr, calls); err != nil {
			t.Errorf("%s: %v", r.Op, err)
		}
		if err := allow.Check(common.HexToAddress("0xB0"), calls); r.Op != Supply || err == nil {
			// supply names onBehalfOf: another vault's address is refused
			if r.Op == Supply {
				t.Errorf("supply on behalf of the vault checked against another address: no refusal")
			}
		}
	}
}

// TestLoopRequests_Unwind: selling the whole of a 2x loop (collateral 20,
// debt 10) at a quote of 1% cost and max_loss 1% withdraws wstETH, swaps
// the stETH it unwraps on the Curve pool at a minimum out of the stETH x
// 0.99 x 0.99, wraps and repays, in rounds each leaving the health factor
// at 1.01 or more; the last repay is the whole debt (type(uint256).max)
// and what is repaid covers the debt; the calls are the ABI's.
func TestLoopRequests_Unwind(t *testing.T) {
	d := loopDeployment(t)
	vaultAddr := common.HexToAddress("0x00000000000000000000000000000000000000A1")
	rate := decimal.RequireFromString("1.2")
	lb := &LoopBook{Collateral: decimal.NewFromInt(20), Debt: decimal.NewFromInt(10), Rate: rate, Peg: 1, LTV: 0.9, LLTV: 0.93}
	o := vault.Order{Market: d.Market, Side: vault.Sell, All: true, Amount: fixed.RequireFromString("10"), EstCost: fixed.RequireFromString("0.2"), Mode: adapters.ExitInstant}
	reqs, err := LoopRequests(d, o, 0.01, lb)
	if err != nil {
		t.Fatal(err)
	}
	q := (1 - 0.2/20.0) * 0.99
	c, b := 20.0, 10.0
	repaid := new(big.Int)
	var last, lastRepay Request
	for i, r := range reqs {
		switch r.Op {
		case Withdraw:
			w, _ := new(big.Float).SetInt(r.Amount).Float64()
			val := w / 1e18 * 1.2
			if b > 0 && (c-val)*0.93/b < 1.01-1e-9 {
				t.Errorf("request %d withdraws %g of collateral %g against debt %g: health factor %g below 1.01", i, val, c, b, (c-val)*0.93/b)
			}
			c -= val
			st, _ := new(big.Float).SetInt(r.Shares).Float64()
			if math.Abs(st-w*1.2*0.9999) > 1e3 {
				t.Errorf("request %d sells %g stETH, want %g", i, st, w*1.2*0.9999)
			}
			mo, _ := new(big.Float).SetInt(r.MinOut).Float64()
			if math.Abs(mo-st*q)/mo > 1e-12 {
				t.Errorf("request %d: min out %g, want %g", i, mo, st*q)
			}
		case Repay:
			v, _ := new(big.Float).SetInt(r.Amount).Float64()
			b -= v / 1e18
			repaid.Add(repaid, r.Amount)
			lastRepay = r
		default:
			t.Fatalf("request %d: op %s in an unwind", i, r.Op)
		}
		last = r
	}
	if !lastRepay.All {
		t.Errorf("last repay %+v, want the whole debt", lastRepay)
	}
	if last.Op != Withdraw || !last.All {
		t.Errorf("last request %+v, want the withdrawal of the rest of the collateral", last)
	}
	if tenETH, _ := new(big.Int).SetString("10000000000000000000", 10); repaid.Cmp(tenETH) < 0 {
		t.Errorf("repaid %s wei, less than the debt", repaid)
	}
	if c > 1e-9 {
		t.Errorf("collateral %g left after selling it all", c)
	}
	enc := &Encoder{Vault: vaultAddr, Book: Builtin()}
	pool, weth, steth, wst, curve := d.Contracts["pool"].Address, d.Contracts["weth"].Address, d.Contracts["lido"].Address, d.Contracts["wsteth"].Address, d.Contracts["curve"].Address
	for _, r := range []Request{reqs[0], reqs[1], lastRepay, last} {
		calls, err := enc.Calls(r)
		if err != nil {
			t.Fatal(err)
		}
		var want []Call
		switch r.Op {
		case Withdraw:
			amt := r.Amount
			if r.All {
				amt = MaxUint256
			}
			want = []Call{
				{To: pool, Data: encodeIndep("withdraw(address,uint256,address)", wst, amt, vaultAddr)},
				{To: wst, Data: encodeIndep("unwrap(uint256)", r.Amount)},
				{To: steth, Data: encodeIndep("approve(address,uint256)", curve, r.Shares)},
				{To: curve, Data: encodeIndep("exchange(int128,int128,uint256,uint256)", int64(1), int64(0), r.Shares, r.MinOut)},
			}
		case Repay:
			amt := r.Amount
			if r.All {
				amt = MaxUint256
			}
			want = []Call{
				{To: weth, Value: r.Amount, Data: encodeIndep("deposit()")},
				{To: weth, Data: encodeIndep("approve(address,uint256)", pool, r.Amount)},
				{To: pool, Data: encodeIndep("repay(address,uint256,uint256,address)", weth, amt, int64(2), vaultAddr)},
			}
		}
		if len(calls) != len(want) {
			t.Fatalf("%s: %d calls, want %d", r.Op, len(calls), len(want))
		}
		for i, c := range calls {
			if c.To != want[i].To || !bytes.Equal(c.Data, want[i].Data) {
				t.Errorf("%s call %d: %s %x, want %s %x", r.Op, i, c.To.Hex(), c.Data, want[i].To.Hex(), want[i].Data)
			}
			if wv := want[i].Value; wv != nil && c.Value.Cmp(wv) != 0 {
				t.Errorf("%s call %d: value %s, want %s", r.Op, i, c.Value, wv)
			}
		}
	}
}

// TestLoopRequests_Refusals: without a book, through the withdrawal
// queue, and too close to liquidation to withdraw first, a loop order is
// refused in words.
func TestLoopRequests_Refusals(t *testing.T) {
	d := loopDeployment(t)
	rate := decimal.RequireFromString("1.2")
	for _, c := range []struct {
		name string
		o    vault.Order
		lb   *LoopBook
		want string
	}{
		{"no book", vault.Order{Market: d.Market, Side: vault.Buy, Amount: fixed.RequireFromString("1"), Leverage: 2}, nil, "no loop book"},
		{"queue", vault.Order{Market: d.Market, Side: vault.Sell, All: true, Mode: adapters.ExitQueue},
			&LoopBook{Collateral: decimal.NewFromInt(2), Debt: decimal.NewFromInt(1), Rate: rate, LTV: 0.9, LLTV: 0.93}, "withdrawal queue"},
		{"at the threshold", vault.Order{Market: d.Market, Side: vault.Relever, Leverage: 2},
			&LoopBook{Collateral: decimal.NewFromInt(100), Debt: decimal.NewFromInt(93), Rate: rate, Peg: 1, LTV: 0.9, LLTV: 0.93}, "flash loan"},
	} {
		_, err := LoopRequests(d, c.o, 0.01, c.lb)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
