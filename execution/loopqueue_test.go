package execution

import (
	"errors"
	"math/big"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// TestLidoSplit: every part of a withdrawal request holds between 100 wei
// and 1000 stETH (WithdrawalQueue.sol's MIN_ and
// MAX_STETH_WITHDRAWAL_AMOUNT), each part's stETH computed here from the
// amount's share of the whole; the parts add up to the amount.
func TestLidoSplit(t *testing.T) {
	e := func(s string) *big.Int { return decimal.RequireFromString(s).Shift(18).BigInt() }
	min, max := big.NewInt(100), e("1000")
	for _, tc := range []struct {
		name          string
		amount, steth *big.Int
		wrapped       bool
		parts         int
	}{
		{"stETH 2500", e("2500"), e("2500"), false, 3},
		{"stETH 1000 and 50 wei", new(big.Int).Add(e("1000"), big.NewInt(50)), new(big.Int).Add(e("1000"), big.NewInt(50)), false, 2},
		{"stETH 100 wei", big.NewInt(100), big.NewInt(100), false, 1},
		{"wstETH 3000 at 1.15", e("3000"), e("3450"), true, 4},
		{"wstETH 869 at 1.15", e("869"), e("999.35"), true, 1},
		{"wstETH 869.56 at 1.15 (within the slack of the maximum)", e("869.56"), e("999.994"), true, 2},
		{"wstETH 1739.13 at 1.15", e("1739.13"), e("1999.9995"), true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := lidoSplit(tc.amount, tc.steth, tc.wrapped)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != tc.parts {
				t.Errorf("%d parts %v, want %d", len(parts), parts, tc.parts)
			}
			sum := new(big.Int)
			for _, p := range parts {
				sum.Add(sum, p)
				st := new(big.Int).Div(new(big.Int).Mul(p, tc.steth), tc.amount)
				if st.Cmp(min) < 0 || st.Cmp(max) > 0 {
					t.Errorf("part %s holds %s wei of stETH, outside [100, 1000e18]", p, st)
				}
			}
			if sum.Cmp(tc.amount) != 0 {
				t.Errorf("parts add to %s, want %s", sum, tc.amount)
			}
		})
	}
	if _, err := lidoSplit(big.NewInt(99), big.NewInt(99), false); err == nil {
		t.Error("99 wei of stETH: no error, want the queue's minimum")
	}
}

// TestLoopQueue_Unwind: a 3x wstETH loop (collateral 30, debt 20 at a
// rate of 1.15 and an LTV of 90%) unwound whole through Lido's queue. The
// first round withdraws and requests what leaves the debt at the LTV of
// the rest less the borrow rounds' 0.1%, (30 - 20 / (0.9 x 0.999)) / 1.15
// wstETH; each claim (paying the
// request's stETH at the rate) repays debt and requests the next round,
// until the debt is repaid and the collateral all queued. The rounds are
// as many as the model's (lending.QueueRounds); the calls are the venue's
// withdraw, the approval and requestWithdrawalsWstETH to the queue, the
// claim with its hints and WETH's deposit of what the repayment leaves.
func TestLoopQueue_Unwind(t *testing.T) {
	d := loopDeployment(t)
	rate := decimal.RequireFromString("1.15")
	lb := LoopBook{Collateral: decimal.NewFromInt(30), Debt: decimal.NewFromInt(20), Rate: rate, LTV: 0.9, LLTV: 0.93}
	sell := vault.Order{Market: d.Market, Side: vault.Sell, All: true, Amount: fixed.NewFromInt(10), Mode: adapters.ExitQueue}
	reqs, err := LoopRequests(d, sell, 0.01, &lb)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].Op != RequestWithdrawal {
		t.Fatalf("requests %+v, want one withdrawal request", reqs)
	}
	want := decimal.NewFromInt(30).Sub(decimal.NewFromInt(20).Div(decimal.NewFromFloat(0.9 * 0.999))).Div(rate).Shift(18)
	if got := decimal.NewFromBigInt(reqs[0].Amount, 0); got.Sub(want).Abs().Cmp(decimal.NewFromInt(2)) > 0 {
		t.Errorf("round 1 withdraws %s wei of wstETH, want %s", got, want.Truncate(0))
	}
	calls, err := (&Encoder{Vault: testVault, Book: Builtin()}).Calls(reqs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := methods(calls); got != "withdraw approve requestWithdrawalsWstETH" {
		t.Errorf("round 1 calls %s", got)
	}
	if calls[1].To != tWstETH.Address || calls[2].To != cLidoQueue.Address {
		t.Errorf("round 1 approves at %s and requests at %s, want wstETH and Lido's queue", calls[1].To.Hex(), calls[2].To.Hex())
	}

	// The rounds, the chain's part played here: the collateral falls by
	// each withdrawal, a claim pays its stETH, the debt falls by each
	// repayment (all of it with All).
	c, b := lb.Collateral, lb.Debt
	rounds, idle := 1, decimal.Zero
	pending := reqs[0]
	for n := 0; ; n++ {
		if n > 10 {
			t.Fatal("more than 10 claims")
		}
		w := decimal.NewFromBigInt(pending.Amount, -18).Mul(rate)
		c = c.Sub(w)
		eth := w.Shift(18).Truncate(0).BigInt()
		book := LoopBook{Collateral: c, Debt: b, Rate: rate, LTV: 0.9, LLTV: 0.93}
		reqs, err := ClaimRequests(d, &book, LoopClaim{IDs: []*big.Int{big.NewInt(int64(n + 1))}, Hints: []*big.Int{big.NewInt(1)}, Ether: eth}, b, c, true)
		if err != nil {
			t.Fatal(err)
		}
		if reqs[0].Op != ClaimWithdrawal {
			t.Fatalf("claim %d: first request %s", n+1, reqs[0].Op)
		}
		wrapped := new(big.Int).Set(reqs[0].Amount)
		var next *Request
		for i, r := range reqs[1:] {
			switch r.Op {
			case Repay:
				wrapped.Add(wrapped, r.Amount)
				pay := decimal.NewFromBigInt(r.Amount, -18)
				if r.All {
					idle = idle.Add(pay.Sub(b))
					pay = b
				}
				b = b.Sub(pay)
			case RequestWithdrawal:
				next = &reqs[1+i]
			default:
				t.Fatalf("claim %d: request %s", n+1, r.Op)
			}
		}
		if wrapped.Cmp(eth) != 0 {
			t.Errorf("claim %d wraps %s wei of the %s claimed", n+1, wrapped, eth)
		}
		idle = idle.Add(decimal.NewFromBigInt(reqs[0].Amount, -18))
		if next == nil {
			break
		}
		if b.Sign() > 0 {
			// The next round leaves the debt at the LTV of the rest, less
			// the borrow rounds' 0.1%.
			left := c.Sub(decimal.NewFromBigInt(next.Amount, -18).Mul(rate))
			if r := b.Div(left).InexactFloat64(); r > 0.8991+1e-9 || r < 0.8991-1e-6 {
				t.Errorf("round %d leaves debt / collateral %g, want 0.9 x 0.999", rounds+1, r)
			}
		}
		rounds++
		pending = *next
	}
	if b.Sign() != 0 {
		t.Errorf("debt %s left after the unwind, want 0", b)
	}
	if c.Abs().Cmp(decimal.New(1, -15)) > 0 {
		t.Errorf("collateral %s left after the unwind, want none", c)
	}
	if want := lending.QueueRounds(30, 20, 0.9); rounds != want {
		t.Errorf("%d rounds, want the model's %d", rounds, want)
	}
	// The equity reaches idle: 30 - 20, less the wei truncations.
	if idle.Sub(decimal.NewFromInt(10)).Abs().Cmp(decimal.New(1, -12)) > 0 {
		t.Errorf("idle %s after the unwind, want the equity 10", idle)
	}
}

// TestLoopQueue_Claim: a claim's calls are claimWithdrawals with the ids
// and hints, WETH's deposit of what the repayment leaves, then the
// repayment's own deposit, approval and repay; nothing finalized is not
// ready; the weETH loop's queue is refused in words.
func TestLoopQueue_Claim(t *testing.T) {
	d := loopDeployment(t)
	lb := LoopBook{Collateral: decimal.NewFromInt(10), Debt: decimal.NewFromInt(2), Rate: decimal.RequireFromString("1.15"), LTV: 0.9, LLTV: 0.93}
	reqs, err := ClaimRequests(d, &lb, LoopClaim{IDs: []*big.Int{big.NewInt(7), big.NewInt(9)}, Hints: []*big.Int{big.NewInt(2), big.NewInt(3)}, Ether: e18(3)}, lb.Debt, decimal.Zero, true)
	if err != nil {
		t.Fatal(err)
	}
	enc := &Encoder{Vault: testVault, Book: Builtin()}
	var calls []Call
	for _, r := range reqs {
		cs, err := enc.Calls(r)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, cs...)
	}
	if got := methods(calls); got != "claimWithdrawals deposit deposit approve repay" {
		t.Errorf("calls %s", got)
	}
	// The whole debt of 2 with a basis point: 2.0002 wrapped to repay,
	// 0.9998 for idle.
	if got, want := calls[1].Value, decimal.RequireFromString("0.9998").Shift(18).BigInt(); got.Cmp(want) != 0 {
		t.Errorf("idle's wrap %s, want %s", got, want)
	}
	if !reqs[1].All {
		t.Error("the repayment of the whole debt is not All")
	}
	if _, err := ClaimRequests(d, &lb, LoopClaim{Pending: []*big.Int{big.NewInt(7)}}, lb.Debt, decimal.Zero, true); !errors.Is(err, adapters.ErrNotReady) {
		t.Errorf("nothing finalized: error %v, want not ready", err)
	}
	w := builtinDeployment(t, "aave-v3/weeth-loop")
	if _, err := ClaimRequests(w, &lb, LoopClaim{IDs: []*big.Int{big.NewInt(1)}, Hints: []*big.Int{big.NewInt(1)}, Ether: e18(1)}, lb.Debt, decimal.Zero, true); err == nil {
		t.Error("weETH loop claim: no error")
	}
}

func methods(cs []Call) string {
	out := ""
	for i, c := range cs {
		if i > 0 {
			out += " "
		}
		out += c.Method.RawName
	}
	return out
}
