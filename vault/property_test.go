package vault

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/strategies"
)

var propMarkets = []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "aave-v3/weth", propLoop}

// propLoop is the leveraged loop of the property tests: collateral and
// debt in one position, liquidated by the vault when its health factor
// falls below 1, unwound through the venue or the queue.
const propLoop = "aave-v3/wsteth-loop"

func openBuiltin(t testing.TB, ids []string) []*adapters.Adapter {
	t.Helper()
	cat := adapters.Builtin()
	var out []*adapters.Adapter
	for _, id := range ids {
		a, err := adapters.Open(cat, id)
		if err != nil {
			t.Fatalf("Open(%s): %v", id, err)
		}
		out = append(out, a)
	}
	return out
}

// observe feeds every market a random but plausible observation.
func observe(t testing.TB, v *Vault, rng *rand.Rand, at time.Time) {
	t.Helper()
	for _, id := range v.Markets() {
		var o adapters.Observation
		o.Time = at
		o.Put(adapters.FieldAPY, 0.02+0.04*rng.Float64())
		o.Put(adapters.FieldExitLiquidity, 20+1e4*rng.Float64())
		switch v.Adapter(id).Market().Kind {
		case adapters.LRT:
			o.Put(adapters.FieldRewardAPY, 0.01+0.05*rng.Float64())
		case adapters.Lending:
			o.Put(adapters.FieldUtilization, 0.5+0.4*rng.Float64())
		}
		if id == propLoop {
			// Mostly calm, sometimes a spike that liquidates a levered loop
			// within days (22.6% was Aave's WETH rate on 2024-07-05).
			b := 0.01 + 0.04*rng.Float64()
			if rng.IntN(8) == 0 {
				b = []float64{0.226, 3}[rng.IntN(2)]
			}
			o.Put(adapters.FieldBorrowAPY, b)
		}
		mustOK(t, v.Observe(id, o))
	}
	mustOK(t, v.SetGas(30*rng.Float64(), 1))
}

func randAmount(rng *rand.Rand, max float64) decimal.Decimal {
	return adapters.FromFloat(max * rng.Float64()).Truncate(9).Add(unit)
}

func randTarget(rng *rand.Rand, ids []string) strategies.Target {
	w := map[string]float64{}
	left := 0.95
	for _, id := range ids {
		if rng.IntN(3) == 0 {
			continue
		}
		x := left * rng.Float64()
		w[id] = x
		left -= x
	}
	t := target(w)
	for i := range t.Allocations {
		if t.Allocations[i].Market == propLoop {
			t.Allocations[i].Leverage = 1 + 12*rng.Float64()
		}
	}
	return t
}

// checkInvariants checks what must hold after every operation.
func checkInvariants(t *testing.T, v *Vault, where string) {
	t.Helper()
	sum := zero
	for _, u := range v.Users() {
		b := v.BalanceOf(u)
		if b.Sign() <= 0 {
			t.Fatalf("%s: %s holds %s shares", where, u, b)
		}
		sum = sum.Add(b)
	}
	if !sum.Equal(v.TotalSupply()) {
		t.Fatalf("%s: balances sum to %s, supply %s", where, sum, v.TotalSupply())
	}
	if v.Idle().Sign() < 0 {
		t.Fatalf("%s: idle %s", where, v.Idle())
	}
	for _, id := range v.Markets() {
		p, _ := v.Position(id)
		if p.Units.Sign() < 0 || p.Rewards.Sign() < 0 {
			t.Fatalf("%s: position %s units %s rewards %s", where, id, p.Units, p.Rewards)
		}
		if v.Adapter(id).CanBorrow() {
			checkDebt(t, v, id, where)
		}
	}
	// Each market's value is the adapter's Value plus its claims (the
	// cache adds units x ValueRate on nums), GrossAssets their sum plus
	// idle, and MarketValuesFloat their ToFloat.
	vals := v.MarketValues(nil)
	floats := v.MarketValuesFloat(nil)
	gross := v.Idle()
	for i, id := range v.Markets() {
		p, _ := v.Position(id)
		e, _ := v.Env(id)
		want := zero
		if p.Units.Sign() != 0 {
			want = v.markets[i].ad.Value(&p, &e, v.Config().Pricing)
		}
		for _, c := range p.Claims {
			want = want.Add(c.Amount())
		}
		if !vals[i].Equal(want) {
			t.Fatalf("%s: %s is worth %s, Value + claims %s", where, id, vals[i], want)
		}
		if f := fixed.ToFloat(vals[i]); floats[i] != f {
			t.Fatalf("%s: %s: MarketValuesFloat %v, ToFloat of MarketValues %v", where, id, floats[i], f)
		}
		gross = gross.Add(vals[i])
	}
	if !gross.Equal(v.GrossAssets()) {
		t.Fatalf("%s: idle + market values = %s, GrossAssets %s", where, gross, v.GrossAssets())
	}
	// The num forms are the decimals, coefficient and exponent.
	if n, d := v.GrossAssetsNum().Dec(), v.GrossAssets(); !n.Equal(d) || n.Exponent() != d.Exponent() {
		t.Fatalf("%s: GrossAssetsNum %s (exponent %d), GrossAssets %s (exponent %d)", where, n, n.Exponent(), d, d.Exponent())
	}
	for _, u := range []string{"ann", "bob", "cat", "dan"} {
		s := v.BalanceOf(u)
		if n, d := v.ConvertToAssetsNum(fixed.FromDec(s)).Dec(), v.ConvertToAssets(s); !n.Equal(d) || n.Exponent() != d.Exponent() {
			t.Fatalf("%s: ConvertToAssetsNum(%s) %s (exponent %d), ConvertToAssets %s (exponent %d)", where, s, n, n.Exponent(), d, d.Exponent())
		}
	}
	// shares x price per share = total assets within one unit.
	ta := v.TotalAssets()
	if got := v.TotalSupply().Mul(v.PricePerShare()); got.Sub(ta).Abs().Cmp(unit) > 0 {
		t.Fatalf("%s: supply x price per share = %s, total assets %s", where, got, ta)
	}
}

// TestVault_Properties runs random sequences of deposits, mints,
// withdrawals, redemptions, accruals, harvests, rebalances, claims and
// slashes by several users over the built-in LST, LRT and lending
// adapters, and checks the accounting invariants after every step.
func TestVault_Properties(t *testing.T) {
	seeds := 40
	steps := 160
	if testing.Short() {
		seeds = 8
	}
	var maxRounding decimal.Decimal
	seen := map[string]int{} // what the sequences exercised, across seeds
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 99))
			cfg := DefaultConfig("prop", adapters.ETH)
			cfg.ManagementFee = 0.02 * rng.Float64()
			cfg.PerformanceFee = 0.3 * rng.Float64()
			cfg.ProfitUnlock = time.Duration(rng.IntN(10)) * 24 * time.Hour
			cfg.MaxLoss = 0.05
			cfg.Rebalance.MinTrade = d("0.001")
			cfg.Rebalance.MinGainOverCost = 0
			cfg.CompoundHarvest = rng.IntN(2) == 0
			v, err := New(cfg, openBuiltin(t, propMarkets), t0)
			mustOK(t, err)
			users := []string{"ann", "bob", "cat", "dan"}
			ledgerSeen := 0
			at := t0
			observe(t, v, rng, at)
			for step := 0; step < steps; step++ {
				at = at.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
				if rng.IntN(4) == 0 {
					observe(t, v, rng, at)
				}
				mustOK(t, v.Accrue(at))
				ta, supply := v.TotalAssets(), v.TotalSupply()
				den := supply.Add(v.VirtualShares())
				num := ta.Add(unit)
				user := users[rng.IntN(len(users))]
				before := v.Books()
				where := fmt.Sprintf("step %d", step)
				switch op := rng.IntN(10); op {
				case 0, 1: // deposit
					a := randAmount(rng, 50)
					s, err := v.Deposit(at, user, a)
					if err != nil {
						t.Fatalf("%s deposit %s: %v", where, a, err)
					}
					// Rounding favours the vault: s x (ta+1) <= a x (supply+virtual).
					if s.Mul(num).Cmp(a.Mul(den)) > 0 {
						t.Fatalf("%s: deposit of %s minted %s shares, more than they are worth", where, a, s)
					}
				case 2: // mint
					s := randAmount(rng, 5e7)
					a, err := v.Mint(at, user, s)
					if err != nil {
						t.Fatalf("%s mint %s: %v", where, s, err)
					}
					if a.Mul(den).Cmp(s.Mul(num)) < 0 {
						t.Fatalf("%s: minting %s shares charged %s, less than they are worth", where, s, a)
					}
				case 3, 4: // withdraw or redeem part of a balance
					bal := v.BalanceOf(user)
					if bal.Sign() == 0 {
						continue
					}
					var w Withdrawn
					var err error
					if op == 3 {
						a := v.MaxWithdraw(user).Mul(decimal.NewFromFloat(rng.Float64())).Truncate(18)
						if a.Sign() == 0 {
							continue
						}
						w, err = v.Withdraw(at, user, a)
					} else {
						s := bal
						if rng.IntN(3) > 0 {
							s = bal.Mul(decimal.NewFromFloat(rng.Float64())).Truncate(18)
						}
						if s.Sign() == 0 {
							continue
						}
						w, err = v.Redeem(at, user, s)
					}
					if err != nil {
						k := adapters.KindOf(err)
						if k != adapters.KindInsufficientLiquidity && k != adapters.KindCapExceeded && k != adapters.KindInvalid {
							t.Fatalf("%s: withdrawal error of kind %s: %v", where, k, err)
						}
						if diff := before.Diff(v.Books()); len(diff) > 0 {
							// Matured claims may have been collected; nothing else.
							if !v.Idle().GreaterThanOrEqual(before.Idle) || !v.TotalSupply().Equal(before.Supply) {
								t.Fatalf("%s: failed withdrawal changed the books: %v", where, diff)
							}
						}
						continue
					}
					// Never more than the shares were worth.
					if w.Paid.Add(w.Loss).Mul(den).Cmp(w.Shares.Mul(num)) > 0 {
						t.Fatalf("%s: burned %s shares for %s + loss %s, more than they are worth", where, w.Shares, w.Paid, w.Loss)
					}
					if w.Loss.Sign() > 0 {
						seen["withdrawal unwinding positions"]++
					}
					if w.Paid.Sign() < 0 || w.Loss.Sign() < 0 {
						t.Fatalf("%s: paid %s loss %s", where, w.Paid, w.Loss)
					}
				case 5: // rebalance
					dec, err := v.Decide(at, at, TriggerSchedule, randTarget(rng, propMarkets))
					mustOK(t, err)
					r, err := v.Execute(at, dec)
					mustOK(t, err)
					if got, want := r.NAVBefore.Sub(r.NAVAfter), r.Costs.Add(r.Rounding); !got.Equal(want) {
						t.Fatalf("%s: NAV fell %s, costs + rounding %s", where, got, want)
					}
					for _, e := range r.Executed {
						seen[string(e.Order.Side)+" "+e.Mode.String()]++
					}
					if r.Rounding.Abs().Cmp(maxRounding) > 0 {
						maxRounding = r.Rounding.Abs()
					}
				case 6: // harvest
					if h := must(v.Harvest(at, at))(t); h.Proceeds.Sign() > 0 {
						seen["harvest"]++
					}
				case 7: // slash or bad debt
					id := propMarkets[rng.IntN(len(propMarkets))]
					typ := adapters.EventSlash
					if v.Adapter(id).Market().Kind == adapters.Lending && (id != propLoop || rng.IntN(2) == 0) {
						typ = adapters.EventBadDebt
					}
					if loss := must(v.ApplyEvent(at, adapters.Event{Time: at, Market: id, Type: typ, Size: 0.05 * rng.Float64()}))(t); loss.Sign() > 0 {
						seen["loss"]++
					}
				case 8: // claims
					if got := must(v.Claim(at))(t); got.Sign() > 0 {
						seen["claim"]++
					}
				case 9: // a round trip never gains
					a := randAmount(rng, 10)
					s := must(v.Deposit(at, "trip", a))(t)
					w, err := v.Redeem(at, "trip", s)
					if err != nil {
						t.Fatalf("%s: round trip: %v", where, err)
					}
					if w.Paid.Cmp(a) > 0 {
						t.Fatalf("%s: deposited %s and redeemed %s", where, a, w.Paid)
					}
				}
				checkInvariants(t, v, where)
				countLoop(v, seen, &ledgerSeen)
				if step%40 == 0 {
					if err := Reconcile(v); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
				}
			}
			if err := Reconcile(v); err != nil {
				t.Fatal(err)
			}
			// Wind down: unwind, collect claims, everyone leaves. Nobody can
			// take out more than their share of what is left.
			// Gas is free for the wind-down: otherwise dust positions that
			// cost more to exit than they hold would stay (as they would
			// on chain until gas falls).
			at = at.Add(time.Hour)
			mustOK(t, v.SetGas(0, 1))
			must(v.Harvest(at, time.Time{}))(t)
			_, _, err = v.Shutdown(at)
			mustOK(t, err)
			// A loop unwound through the queue goes round by round: each
			// claim queues the next.
			for k := 0; k < 12; k++ {
				at = at.Add(5 * 24 * time.Hour)
				must(v.Claim(at))(t)
			}
			at = at.Add(60 * 24 * time.Hour)
			must(v.Claim(at))(t)
			_, _, err = v.Shutdown(at) // whatever a pause or liquidity held back
			mustOK(t, err)
			for k := 0; k < 12; k++ {
				at = at.Add(5 * 24 * time.Hour)
				must(v.Claim(at))(t)
			}
			at = at.Add(60 * 24 * time.Hour)
			must(v.Claim(at))(t)
			mustOK(t, v.Accrue(at))
			holders := v.Users()
			sort.Strings(holders)
			total := v.TotalAssets()
			paid := zero
			for _, u := range holders {
				share := v.ConvertToAssets(v.BalanceOf(u))
				w, err := v.Redeem(at, u, v.BalanceOf(u))
				if err != nil {
					t.Fatalf("final redeem by %s: %v", u, err)
				}
				if w.Paid.Cmp(share) > 0 {
					t.Errorf("%s redeemed %s, more than their share %s", u, w.Paid, share)
				}
				paid = paid.Add(w.Paid)
			}
			if paid.Cmp(total) > 0 {
				t.Errorf("users took %s out of %s", paid, total)
			}
			if v.TotalSupply().Sign() != 0 {
				t.Errorf("supply after everyone left = %s", v.TotalSupply())
			}
			if err := Reconcile(v); err != nil {
				t.Error(err)
			}
		})
	}
	t.Logf("largest rebalance rounding residual: %s; exercised %v", maxRounding, seen)
	for _, k := range []string{"withdrawal unwinding positions", "buy auto", "sell instant", "sell queue", "harvest", "loss", "claim",
		"loop liquidation", "loop relever", "loop queued unwind", "loop claim repaid debt"} {
		if seen[k] == 0 {
			t.Errorf("the random sequences never exercised %q", k)
		}
	}
	// Unit rounding in the adapters (claims valued with a different
	// float-to-decimal conversion than positions) stays below 1e-12.
	if maxRounding.Cmp(d("0.000000000001")) > 0 {
		t.Errorf("rounding residual %s is not tiny", maxRounding)
	}
}

// checkDebt checks a borrowing position after an operation, from its own
// fields (the protocol's accounting, not the adapter's Value): the debt
// and what remains of an unwind are never negative (nor the unwind above
// what the position holds); the market's value is the equity, collateral
// Units x Index x Rate less debt Debt x DebtIndex (floored at 0: the loan
// is non-recourse), plus the claims of a queued unwind; and, once the
// vault has advanced (where it liquidates), the equity is never negative:
// a position with debt has a health factor of at least 1, collateral x
// LLTV >= debt, or it has been liquidated until it has.
func checkDebt(t *testing.T, v *Vault, id, where string) {
	t.Helper()
	p, _ := v.Position(id)
	if p.Debt.Sign() < 0 || p.UnwindDebt.Sign() < 0 || p.UnwindUnits.Sign() < 0 {
		t.Fatalf("%s: %s debt %s, unwind debt %s, unwind units %s: negative", where, id, p.Debt, p.UnwindDebt, p.UnwindUnits)
	}
	if p.UnwindDebt.Cmp(p.Debt) > 0 || p.UnwindUnits.Cmp(p.Units) > 0 {
		t.Fatalf("%s: %s unwinds %s of debt and %s units, more than its %s and %s", where, id, p.UnwindDebt, p.UnwindUnits, p.Debt, p.Units)
	}
	if p.Units.Sign() == 0 && p.Debt.Sign() != 0 {
		t.Fatalf("%s: %s debt %s without collateral", where, id, p.Debt)
	}
	if v.Config().Pricing != adapters.PriceRate {
		t.Fatalf("the property test values at the rate; pricing %s", v.Config().Pricing)
	}
	coll, debt := decimal.Zero, decimal.Zero
	if p.Units.Sign() > 0 {
		coll = p.Units.Dec().Mul(adapters.FromFloat(p.Index * p.Rate))
	}
	if p.Debt.Sign() > 0 {
		debt = p.Debt.Dec().Mul(adapters.FromFloat(p.DebtIndex))
	}
	want := decimal.Max(decimal.Zero, coll.Sub(debt))
	for _, c := range p.Claims {
		want = want.Add(c.Amount())
	}
	got := v.MarketValues(nil)[slices.Index(v.Markets(), id)]
	// To 1e-12 of the collateral: the adapter multiplies on its own
	// fixed-point numbers, this test on decimals.
	if tol := decimal.Max(d("0.000000000001"), coll.Mul(d("0.000000000001"))); got.Sub(want).Abs().Cmp(tol) > 0 {
		t.Fatalf("%s: %s is worth %s; collateral %s - debt %s + claims = %s", where, id, got, coll, debt, want)
	}
	// The vault liquidates when it advances (every operation but an
	// event's own step): advance to now and look.
	mustOK(t, v.Accrue(v.Time()))
	p, _ = v.Position(id)
	if p.Debt.Sign() == 0 {
		return
	}
	coll = p.Units.Dec().Mul(adapters.FromFloat(p.Index * p.Rate))
	debt = p.Debt.Dec().Mul(adapters.FromFloat(p.DebtIndex))
	e, _ := v.Env(id)
	lltv := v.Adapter(id).Leverer().Figures(&p, &e, 0).LLTV
	if hf := coll.InexactFloat64() * lltv / debt.InexactFloat64(); hf < 1-1e-12 {
		t.Fatalf("%s: %s health factor %.15g < 1 after the vault advanced: collateral %s, debt %s", where, id, hf, coll, debt)
	}
	if coll.Cmp(debt) <= 0 {
		t.Fatalf("%s: %s negative equity without a liquidation: collateral %s, debt %s", where, id, coll, debt)
	}
}

// countLoop counts what the sequences did to loops, from the ledger's new
// entries since *n.
func countLoop(v *Vault, seen map[string]int, n *int) {
	l := v.Ledger()
	for _, e := range l.from(*n) {
		if e.Market != propLoop {
			continue
		}
		switch {
		case e.Type == EntryLiquidation:
			seen["loop liquidation"]++
		case e.Type == EntryRelever:
			seen["loop relever"]++
		case e.Type == EntryQueue:
			seen["loop queued unwind"]++
		case e.Type == EntryClaim && strings.Contains(e.Reason, "repaid"):
			seen["loop claim repaid debt"]++
		}
	}
	*n = l.Len()
}
