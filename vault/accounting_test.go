package vault

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Expected values in these tables were computed with exact rational
// arithmetic (Python fractions), independently of the decimal code.

func TestVault_Conversions(t *testing.T) {
	// alice deposits 1, 0.5 is donated: total assets 1.5, supply 1e6.
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {}})
	must(v.Deposit(t0, "alice", d("1")))(t)
	mustOK(t, v.Donate(t0, "x", d("0.5")))
	tests := []struct {
		name string
		got  decimal.Decimal
		want string
	}{
		{"PreviewDeposit(1) rounds down", v.PreviewDeposit(d("1")), "666666.666666666666888888"},
		{"PreviewWithdraw(1) rounds up", v.PreviewWithdraw(d("1")), "666666.666666666666888889"},
		{"PreviewMint(1e6) rounds up", v.PreviewMint(d("1000000")), "1.5"},
		{"PreviewRedeem(1e6) rounds down", v.PreviewRedeem(d("1000000")), "1.499999999999999999"},
		{"ConvertToShares(1)", v.ConvertToShares(d("1")), "666666.666666666666888888"},
		{"ConvertToAssets(1e6)", v.ConvertToAssets(d("1000000")), "1.499999999999999999"},
		{"MaxWithdraw(alice)", v.MaxWithdraw("alice"), "1.499999999999999999"},
	}
	for _, tc := range tests {
		if !tc.got.Equal(d(tc.want)) {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestVault_Deposit(t *testing.T) {
	tests := []struct {
		name       string
		offset     int
		deposits   []string
		wantShares []string
	}{
		{"first deposit mints assets x 10^offset", 6, []string{"1"}, []string{"1000000"}},
		{"offset 0 mints one share per asset", 0, []string{"2.5"}, []string{"2.5"}},
		{"second deposit at the same price", 6, []string{"1", "3"}, []string{"1000000", "3000000"}},
		{"smallest unit", 6, []string{"0.000000000000000001"}, []string{"0.000000000001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			cfg.DecimalsOffset = tc.offset
			v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
			for i, a := range tc.deposits {
				got := must(v.Deposit(t0, "u", d(a)))(t)
				if !got.Equal(d(tc.wantShares[i])) {
					t.Errorf("Deposit(%s) = %s shares, want %s", a, got, tc.wantShares[i])
				}
			}
			if err := Reconcile(v); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestVault_DepositErrors(t *testing.T) {
	cfg := plainConfig()
	cfg.DepositLimit = d("10")
	tests := []struct {
		name   string
		run    func(v *Vault) error
		want   error
		idleAt string
	}{
		{"zero", func(v *Vault) error { _, err := v.Deposit(t0, "u", d("0")); return err }, adapters.ErrInvalid, "5"},
		{"negative", func(v *Vault) error { _, err := v.Deposit(t0, "u", d("-1")); return err }, adapters.ErrInvalid, "5"},
		{"19 decimals", func(v *Vault) error { _, err := v.Deposit(t0, "u", d("0.0000000000000000001")); return err }, adapters.ErrInvalid, "5"},
		{"empty user", func(v *Vault) error { _, err := v.Deposit(t0, "", d("1")); return err }, adapters.ErrInvalid, "5"},
		{"over the limit", func(v *Vault) error { _, err := v.Deposit(t0, "u", d("5.000000000000000001")); return err }, adapters.ErrCapExceeded, "5"},
		{"mint over the limit", func(v *Vault) error { _, err := v.Mint(t0, "u", d("6000000")); return err }, adapters.ErrCapExceeded, "5"},
		{"time going backwards", func(v *Vault) error { _, err := v.Deposit(t0.Add(-time.Second), "u", d("1")); return err }, adapters.ErrInvalid, "5"},
		{"no time", func(v *Vault) error { _, err := v.Deposit(time.Time{}, "u", d("1")); return err }, adapters.ErrInvalid, "5"},
		{"up to the limit", func(v *Vault) error { _, err := v.Deposit(t0, "u", d("5")); return err }, nil, "10"},
		{"after shutdown", func(v *Vault) error {
			if _, _, err := v.Shutdown(t0); err != nil {
				return err
			}
			_, err := v.Deposit(t0, "u", d("1"))
			return err
		}, adapters.ErrPaused, "5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
			must(v.Deposit(t0, "first", d("5")))(t)
			err := tc.run(v)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want kind %v", err, tc.want)
			}
			if !v.Idle().Equal(d(tc.idleAt)) {
				t.Errorf("idle = %s, want %s", v.Idle(), tc.idleAt)
			}
		})
	}
}

func TestVault_Mint(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {}})
	must(v.Deposit(t0, "alice", d("1")))(t)
	mustOK(t, v.Donate(t0, "x", d("0.5")))
	got := must(v.Mint(t0, "bob", d("1000000")))(t)
	if want := d("1.5"); !got.Equal(want) {
		t.Errorf("Mint(1e6) charged %s, want %s", got, want)
	}
	if got, want := v.BalanceOf("bob"), d("1000000"); !got.Equal(want) {
		t.Errorf("bob's shares = %s, want %s", got, want)
	}
}

func TestVault_WithdrawRedeem(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {}})
	must(v.Deposit(t0, "alice", d("1")))(t)
	mustOK(t, v.Donate(t0, "x", d("0.5")))
	w := must(v.Withdraw(t0, "alice", d("1")))(t)
	if want := d("666666.666666666666888889"); !w.Shares.Equal(want) {
		t.Errorf("Withdraw(1) burned %s shares, want %s", w.Shares, want)
	}
	if !w.Paid.Equal(d("1")) || w.Loss.Sign() != 0 {
		t.Errorf("Withdraw(1) paid %s with loss %s, want 1 and 0", w.Paid, w.Loss)
	}
	r := must(v.Redeem(t0, "alice", v.BalanceOf("alice")))(t)
	if r.Paid.Cmp(d("0.5")) > 0 {
		t.Errorf("Redeem(rest) paid %s, more than the 0.5 left of alice's share", r.Paid)
	}
	if v.BalanceOf("alice").Sign() != 0 || v.TotalSupply().Sign() != 0 {
		t.Errorf("after redeeming everything: balance %s supply %s, want 0", v.BalanceOf("alice"), v.TotalSupply())
	}
	must(v.Deposit(t0, "bob", d("1")))(t)
	if _, err := v.Withdraw(t0, "bob", d("2")); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("Withdraw over the balance: err = %v, want cap exceeded", err)
	}
	if _, err := v.Redeem(t0, "bob", v.BalanceOf("bob").Add(unit)); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("Redeem over the balance: err = %v, want cap exceeded", err)
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}

// TestVault_DonationAttack runs the classic first-depositor attack: the
// attacker deposits a tiny amount, donates a large one to inflate the
// share price, and hopes the victim's deposit rounds to (almost) no
// shares. With the virtual-share offset the victim keeps their deposit
// (within 10^-offset of the amounts) and the attacker loses most of the
// donation; with offset 0 the victim loses a third.
func TestVault_DonationAttack(t *testing.T) {
	tests := []struct {
		name                     string
		offset                   int
		attack, donation, victim string
		wantVictim, wantAttacker string
	}{
		{"offset 0: victim loses a third", 0, "0.000000000000000001", "1", "1", "0.666666666666666667", "0.666666666666666667"},
		{"1 wei, donate 1, deposit 1", 6, "0.000000000000000001", "1", "1", "0.9999997499999375", "0.500000125000031251"},
		{"1 wei, donate 10000, deposit 1", 6, "0.000000000000000001", "10000", "1", "0.995000497450503674", "5000.002499751274748164"},
		{"1 wei, donate 100, deposit 20000", 6, "0.000000000000000001", "100", "20000", "19999.999999751243780477", "50.000000124378109762"},
		{"1 ETH, donate 10000, deposit 20000", 6, "1", "10000", "20000", "19999.999999999999999999", "10000.999999999999990001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			cfg.DecimalsOffset = tc.offset
			v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
			must(v.Deposit(t0, "attacker", d(tc.attack)))(t)
			mustOK(t, v.Donate(t0, "attacker", d(tc.donation)))
			must(v.Deposit(t0, "victim", d(tc.victim)))(t)
			vr := must(v.Redeem(t0, "victim", v.BalanceOf("victim")))(t)
			ar := must(v.Redeem(t0, "attacker", v.BalanceOf("attacker")))(t)
			if !vr.Paid.Equal(d(tc.wantVictim)) {
				t.Errorf("victim redeemed %s, want %s", vr.Paid, tc.wantVictim)
			}
			if !ar.Paid.Equal(d(tc.wantAttacker)) {
				t.Errorf("attacker redeemed %s, want %s", ar.Paid, tc.wantAttacker)
			}
			spent := d(tc.attack).Add(d(tc.donation))
			if ar.Paid.Cmp(spent) >= 0 {
				t.Errorf("attacker got %s back for %s spent: the attack pays", ar.Paid, spent)
			}
			if tc.offset > 0 {
				// The victim's loss is bounded by the amounts over 10^offset.
				bound := spent.Add(d(tc.victim)).Shift(int32(-tc.offset))
				if loss := d(tc.victim).Sub(vr.Paid); loss.Cmp(bound) > 0 {
					t.Errorf("victim lost %s, more than %s", loss, bound)
				}
			}
		})
	}
}

func TestVault_WithdrawUnwindsQueue(t *testing.T) {
	cfg := plainConfig()
	cfg.MaxLoss = 0.02
	cfg.WithdrawQueue = []string{"f/b", "f/a"}
	tests := []struct {
		name      string
		amount    string
		wantPaid  string
		wantErr   error
		wantSells []string // markets sold, in order
	}{
		{"idle covers it", "1", "1", nil, nil},
		// 2 idle + 3 from f/b: slippage 3*3/(100+3) = 0.087378640776699029.
		{"queue order: f/b first, loss to the withdrawer", "5", "4.912621359223300971", nil, []string{"f/b"}},
		// 2 idle + 5 from f/b (slippage 25/105) + 1 from f/a: 0.238 > 2% of 8.
		{"max loss", "8", "", adapters.ErrCapExceeded, nil},
		// 2 idle + 5 + 5: only 12 in all.
		{"not enough", "12.5", "", adapters.ErrCapExceeded, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVault(t, cfg, map[string]*fake{"f/a": {}, "f/b": {liq: 100}})
			must(v.Deposit(t0, "u", d("12")))(t)
			for _, id := range []string{"f/a", "f/b"} {
				s := v.markets[v.byID[id]]
				np, f, err := s.ad.Deposit(s.pos, s.env(), fixed.RequireFromString("5"))
				mustOK(t, err)
				s.set(np)
				v.idle = v.idle.Sub(f.Amount)
			}
			before := v.Ledger().Next()
			w, err := v.Withdraw(t0, "u", d(tc.amount))
			if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if v.Ledger().Next() != before || !v.Idle().Equal(d("2")) {
					t.Errorf("a failed withdrawal changed the vault: ledger next %d -> %d, idle %s", before, v.Ledger().Next(), v.Idle())
				}
				return
			}
			if !w.Paid.Equal(d(tc.wantPaid)) {
				t.Errorf("paid %s, want %s", w.Paid, tc.wantPaid)
			}
			if got := w.Assets.Sub(w.Paid); !got.Equal(w.Loss) {
				t.Errorf("assets - paid = %s, loss %s", got, w.Loss)
			}
			var sold []string
			for _, e := range v.Ledger().Since(before) {
				if e.Type == EntrySell {
					sold = append(sold, e.Market)
				}
			}
			if len(sold) != len(tc.wantSells) || (len(sold) > 0 && sold[0] != tc.wantSells[0]) {
				t.Errorf("sold %v, want %v", sold, tc.wantSells)
			}
		})
	}
}

func TestVault_WithdrawIlliquid(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/q": {maxExit: 1, queue: true, delay: 24 * time.Hour}})
	must(v.Deposit(t0, "u", d("10")))(t)
	_, r, err := v.Rebalance(t0, time.Time{}, TriggerManual, target(map[string]float64{"f/q": 1}))
	mustOK(t, err)
	if len(r.Executed) != 1 {
		t.Fatalf("rebalance executed %d orders, want 1: %+v", len(r.Executed), r)
	}
	if _, err := v.Withdraw(t0, "u", d("3")); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Fatalf("withdrawing 3 with 1 of exit liquidity: err = %v, want insufficient liquidity", err)
	}
	w := must(v.Withdraw(t0, "u", d("1")))(t)
	if !w.Paid.Equal(d("1")) {
		t.Errorf("paid %s, want 1", w.Paid)
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}
