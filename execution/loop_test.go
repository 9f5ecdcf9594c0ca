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
	return builtinDeployment(t, "aave-v3/wsteth-loop")
}

func builtinDeployment(t *testing.T, market string) *Deployment {
	t.Helper()
	d, err := Builtin().Deployment(market)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLoopRequests_Open: a 2x wstETH or weETH loop opened from 10 WETH
// is the equity minted and supplied, then rounds of borrow-mint-supply
// whose borrows add to (2 - 1) x 10 WETH; each round borrows at most LTV
// x (1 - borrowSlack) of the collateral less the debt, so the rounds are
// those of the geometric series 1 + l + l^2 + ... (adapters/lending's
// rounds) at that LTV; every call's data equals the one computed from
// the signatures here, and the allowlist of exactly those calls passes.
// The weETH loop's book is in e-mode category 7 (weETH/ETH): its first
// request enters it, Pool.setUserEMode(7).
func TestLoopRequests_Open(t *testing.T) {
	for _, c := range []struct {
		market string
		emode  int
	}{{"aave-v3/wsteth-loop", 0}, {"aave-v3/weeth-loop", 7}} {
		t.Run(c.market, func(t *testing.T) { testLoopOpen(t, builtinDeployment(t, c.market), c.emode) })
	}
}

func testLoopOpen(t *testing.T, d *Deployment, emode int) {
	vaultAddr := common.HexToAddress("0x00000000000000000000000000000000000000A1")
	rate := decimal.RequireFromString("1.2")
	const ltv = 0.9
	lb := &LoopBook{Rate: rate, Peg: 1, LTV: ltv, LLTV: 0.93, EMode: emode}
	o := vault.Order{Market: d.Market, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2}
	reqs, err := LoopRequests(d, o, 0.01, lb)
	if err != nil {
		t.Fatal(err)
	}
	pool := d.Contracts["pool"].Address
	if emode > 0 {
		if reqs[0].Op != SetEMode || int(reqs[0].EMode) != emode {
			t.Fatalf("first request %+v, want the e-mode category %d entered", reqs[0], emode)
		}
		calls, err := (&Encoder{Vault: vaultAddr, Book: Builtin()}).Calls(reqs[0])
		if err != nil {
			t.Fatal(err)
		}
		if want := encodeIndep("setUserEMode(uint8)", int64(emode)); len(calls) != 1 || calls[0].To != pool || !bytes.Equal(calls[0].Data, want) {
			t.Errorf("set e-mode calls %v, want one setUserEMode(%d) on the Pool %s", calls, emode, pool.Hex())
		}
		reqs = reqs[1:]
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
	weth := d.Contracts["weth"].Address
	// The mint: Lido's submit(referral) on stETH, or ether.fi's deposit()
	// on its LiquidityPool; the wrap of the underlying into the collateral.
	minter, under, coll, mintSig := d.Contracts["lido"].Address, d.Contracts["lido"].Address, d.Contracts["wsteth"].Address, encodeIndep("submit(address)", common.Address{})
	if d.Protocol == AaveV3LoopWeETH {
		minter, under, coll, mintSig = d.Contracts["liquidity_pool"].Address, d.Contracts["eeth"].Address, d.Contracts["weeth"].Address, encodeIndep("deposit()")
	}
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
				{To: minter, Value: r.Amount, Data: mintSig},
				{To: under, Data: encodeIndep("approve(address,uint256)", coll, st)},
				{To: coll, Data: encodeIndep("wrap(uint256)", st)},
				{To: coll, Data: encodeIndep("approve(address,uint256)", pool, r.Shares)},
				{To: pool, Data: encodeIndep("supply(address,uint256,address,uint16)", coll, r.Shares, vaultAddr, int64(0))},
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
// debt 10) at a quote of 1% cost and max_loss 1% withdraws the
// collateral and sells it at a minimum out of its value x 0.99 x 0.99
// (wstETH: the stETH it unwraps, on the Curve stETH/ETH pool, the ether
// wrapped to repay; weETH: itself at the rate, on the Curve weETH/WETH
// pool, which pays WETH), and repays, in rounds each leaving the health
// factor at 1.01 or more; the last repay is the whole debt
// (type(uint256).max) and what is repaid covers the debt; the calls are
// the ABI's.
func TestLoopRequests_Unwind(t *testing.T) {
	for _, m := range []string{"aave-v3/wsteth-loop", "aave-v3/weeth-loop"} {
		t.Run(m, func(t *testing.T) { testLoopUnwind(t, builtinDeployment(t, m)) })
	}
}

func testLoopUnwind(t *testing.T, d *Deployment) {
	weeth := d.Protocol == AaveV3LoopWeETH
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
			// Sold: the stETH unwrapped (at the rate less the basis point
			// of slack), worth its amount; or the weETH itself, worth it
			// at the rate.
			st, _ := new(big.Float).SetInt(r.Shares).Float64()
			sold, worth := w*1.2*0.9999, st
			if weeth {
				sold, worth = w, st*1.2
			}
			if math.Abs(st-sold) > 1e3 {
				t.Errorf("request %d sells %g, want %g", i, st, sold)
			}
			mo, _ := new(big.Float).SetInt(r.MinOut).Float64()
			if math.Abs(mo-worth*q)/mo > 1e-12 {
				t.Errorf("request %d: min out %g, want %g", i, mo, worth*q)
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
	pool, weth, curve := d.Contracts["pool"].Address, d.Contracts["weth"].Address, d.Contracts["curve"].Address
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
			if weeth {
				wee := d.Contracts["weeth"].Address
				want = []Call{
					{To: pool, Data: encodeIndep("withdraw(address,uint256,address)", wee, amt, vaultAddr)},
					{To: wee, Data: encodeIndep("approve(address,uint256)", curve, r.Shares)},
					{To: curve, Data: encodeIndep("exchange(int128,int128,uint256,uint256)", int64(1), int64(0), r.Shares, r.MinOut)},
				}
				break
			}
			steth, wst := d.Contracts["lido"].Address, d.Contracts["wsteth"].Address
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
			if weeth {
				want = want[1:] // the venue paid WETH: nothing to wrap
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
// queue (Lido's or ether.fi's), and too close to liquidation to withdraw first, a loop order is
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
		// At its LTV (debt 1.8 of 2 at 90%) nothing can leave for the
		// queue before a repayment.
		{"queue at the LTV", vault.Order{Market: d.Market, Side: vault.Sell, All: true, Mode: adapters.ExitQueue},
			&LoopBook{Collateral: decimal.NewFromInt(2), Debt: decimal.RequireFromString("1.8"), Rate: rate, LTV: 0.9, LLTV: 0.93}, "no collateral can leave for Lido's withdrawal queue"},
		{"at the threshold", vault.Order{Market: d.Market, Side: vault.Relever, Leverage: 2},
			&LoopBook{Collateral: decimal.NewFromInt(100), Debt: decimal.NewFromInt(93), Rate: rate, Peg: 1, LTV: 0.9, LLTV: 0.93}, "flash loan"},
	} {
		_, err := LoopRequests(d, c.o, 0.01, c.lb)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	// E-mode is an Aave Pool's: a Morpho Blue loop has none to enter.
	if _, err := (&Encoder{Vault: common.HexToAddress("0xA1"), Book: Builtin()}).Calls(Request{Market: "morpho/wsteth-weth-loop", Op: SetEMode, EMode: 1}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("Aave v3 Pool")) {
		t.Errorf("set_emode on the Morpho loop: error %v, want a refusal naming the Aave v3 Pool", err)
	}
	// The weETH loop's queued unwind names ether.fi's queue.
	w := builtinDeployment(t, "aave-v3/weeth-loop")
	_, err := LoopRequests(w, vault.Order{Market: w.Market, Side: vault.Sell, All: true, Mode: adapters.ExitQueue}, 0.01,
		&LoopBook{Collateral: decimal.NewFromInt(2), Debt: decimal.NewFromInt(1), Rate: rate, LTV: 0.9, LLTV: 0.93, EMode: 7})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("ether.fi's withdrawal queue")) {
		t.Errorf("weETH loop through the queue: error %v, want one naming ether.fi's withdrawal queue", err)
	}
}
