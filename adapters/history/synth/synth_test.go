package synth

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	irm "github.com/yieldvault/yieldvault/adapters/lending"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// gen1 generates with the given scenario over [from, to] at step, seed 1,
// all built-in markets.
func gen1(t testing.TB, scenario, from, to string, step time.Duration) *history.Batch {
	t.Helper()
	b, err := Generate(Config{Scenario: scenario, From: date(from), To: date(to), Step: step, Seed: 1})
	if err != nil {
		t.Fatalf("Generate(%s): %v", scenario, err)
	}
	return b
}

// rowsOf returns one market's rows.
func rowsOf(b *history.Batch, id string) []history.Row {
	var out []history.Row
	for _, r := range b.Rows {
		if r.Market == id {
			out = append(out, r)
		}
	}
	return out
}

func val(t testing.TB, r history.Row, f adapters.Field) float64 {
	t.Helper()
	v, ok := r.Obs.Get(f)
	if !ok {
		t.Fatalf("%s at %s: %s not set", r.Market, r.Obs.Time.Format(time.RFC3339), f)
	}
	return v
}

func csvOf(t testing.TB, b *history.Batch) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := history.WriteNativeCSV(&buf, b.Rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGenerate_Deterministic(t *testing.T) {
	cfg := Config{Scenario: "steth-2022", From: date("2022-05-01T00:00:00Z"), To: date("2022-08-01T00:00:00Z"), Step: 6 * time.Hour, Seed: 42}
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(csvOf(t, a), csvOf(t, b)) {
		t.Errorf("two generations with the same config differ")
	}
	if diff := cmp.Diff(a.Events, b.Events); diff != "" {
		t.Errorf("events differ (-first +second):\n%s", diff)
	}

	// Market order in the config does not matter.
	cat := adapters.Builtin()
	ms := cat.Markets()
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	rev := cfg
	rev.Markets = ms
	c, err := Generate(rev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(csvOf(t, a), csvOf(t, c)) {
		t.Errorf("reversing the market list changed the output")
	}

	other := cfg
	other.Seed = 43
	d, err := Generate(other)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(csvOf(t, a), csvOf(t, d)) {
		t.Errorf("seeds 42 and 43 gave the same history")
	}
	if a.Source != "synth:steth-2022:42" || a.Format != "synth" {
		t.Errorf("Source, Format = %q, %q; want synth:steth-2022:42, synth", a.Source, a.Format)
	}
}

// A market's path depends on the seed and its own (and its underlying's)
// streams, not on which other markets are generated.
func TestGenerate_SubsetSamePaths(t *testing.T) {
	cfg := Config{From: date("2024-01-01T00:00:00Z"), To: date("2024-03-01T00:00:00Z"), Step: 6 * time.Hour, Seed: 9}
	all, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cat := adapters.Builtin()
	var sub []adapters.Market
	for _, id := range []string{"curve/steth-eth", "aave-v3/usdc", "renzo/ezeth"} {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		sub = append(sub, m)
	}
	cfg.Markets = sub
	part, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sub {
		if diff := cmp.Diff(rowsOf(all, m.ID), rowsOf(part, m.ID)); diff != "" {
			t.Errorf("%s differs between the full and the partial generation:\n%.2000s", m.ID, diff)
		}
	}
}

func TestGenerate_Errors(t *testing.T) {
	from, to := date("2024-01-01T00:00:00Z"), date("2024-02-01T00:00:00Z")
	cat := adapters.Builtin()
	lending, _ := cat.Market("aave-v3/weth")
	steth, _ := cat.Market("lido/steth")
	tests := []struct {
		name string
		cfg  Config
		kind error
		msg  string
	}{
		{"unknown scenario", Config{Scenario: "crash", From: from, To: to, Step: time.Hour}, adapters.ErrInvalid, "calm, default, steth-2022"},
		{"zero step", Config{From: from, To: to}, adapters.ErrInvalid, "step"},
		{"fractional step", Config{From: from, To: to, Step: 90*time.Second + time.Millisecond}, adapters.ErrInvalid, "step"},
		{"to before from", Config{From: to, To: from, Step: time.Hour}, adapters.ErrInvalid, "before"},
		{"no from", Config{To: to, Step: time.Hour}, adapters.ErrInvalid, "from and to"},
		{"too many rows", Config{From: from, To: from.AddDate(30, 0, 0), Step: time.Minute}, adapters.ErrInvalid, "rows"},
		{"duplicate market", Config{From: from, To: to, Step: time.Hour, Markets: []adapters.Market{steth, steth}}, adapters.ErrInvalid, "twice"},
		{"bad market", Config{From: from, To: to, Step: time.Hour, Markets: []adapters.Market{{ID: "nope", Kind: adapters.LST, Base: adapters.ETH}}}, adapters.ErrInvalid, "protocol/name"},
		{"no profile", Config{From: from, To: to, Step: time.Hour, Markets: []adapters.Market{{ID: "acme/x", Kind: adapters.LST, Base: adapters.ETH}}}, adapters.ErrNotFound, "acme"},
		{"slash without staking markets", Config{Scenario: "correlated-slash", From: from, To: to, Step: time.Hour, Markets: []adapters.Market{lending}}, adapters.ErrInvalid, "SlashScope"},
		{"slash scope nobody carries", Config{Scenario: "correlated-slash", From: from, To: to, Step: time.Hour, Markets: []adapters.Market{steth}, SlashScope: "operator:nobody"}, adapters.ErrInvalid, "operator:nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Generate(tt.cfg)
			if err == nil {
				t.Fatalf("Generate: got %d rows, want an error", len(b.Rows))
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("Generate: error %v is not %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Generate: error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestGenerate_Grid(t *testing.T) {
	tests := []struct {
		from, to string
		step     time.Duration
		want     int
	}{
		{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 6 * time.Hour, 5}, // To is included
		{"2024-01-01T00:00:00Z", "2024-01-01T23:00:00Z", 6 * time.Hour, 4},
		{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", time.Hour, 1},
	}
	for _, tt := range tests {
		b := gen1(t, "calm", tt.from, tt.to, tt.step)
		rows := rowsOf(b, "lido/steth")
		if len(rows) != tt.want {
			t.Errorf("%s..%s every %v: %d rows, want %d", tt.from, tt.to, tt.step, len(rows), tt.want)
			continue
		}
		if len(b.Rows) != tt.want*len(b.Markets) {
			t.Errorf("%d rows in all, want %d x %d markets", len(b.Rows), tt.want, len(b.Markets))
		}
		for i, r := range rows {
			if want := date(tt.from).Add(time.Duration(i) * tt.step); !r.Obs.Time.Equal(want) {
				t.Errorf("row %d at %s, want %s", i, r.Obs.Time, want)
			}
		}
	}
}

// Every row of every scenario passes Observation.Validate (and the batch
// passes the store's import checks); every event validates and lies in
// range.
func TestGenerate_RowsValidate(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			from := s.Date.AddDate(0, -2, 0)
			if s.Date.IsZero() {
				from = date("2024-01-01T00:00:00Z")
			}
			b := gen1(t, s.Name, from.Format(time.RFC3339), from.AddDate(0, 6, 0).Format(time.RFC3339), 6*time.Hour)
			for _, r := range b.Rows {
				if err := r.Obs.Validate(); err != nil {
					t.Fatalf("%s at %s: %v", r.Market, r.Obs.Time, err)
				}
			}
			for _, e := range b.Events {
				if err := e.Validate(); err != nil {
					t.Errorf("event %+v: %v", e, err)
				}
				if e.Time.Before(from) || e.Time.After(from.AddDate(0, 6, 0)) {
					t.Errorf("event %+v outside the range", e)
				}
			}
			if errs, _ := history.CheckBatch(b); len(errs) > 0 {
				t.Errorf("CheckBatch: %d errors, first %v", len(errs), errs[0])
			}
		})
	}
}

func TestBorrowAPY(t *testing.T) {
	tests := []struct {
		u, base, s1, s2, opt, want float64
	}{
		{0, 0, 0.027, 0.8, 0.9, 0},
		{0.45, 0, 0.027, 0.8, 0.9, 0.0135},
		{0.9, 0, 0.027, 0.8, 0.9, 0.027},
		{0.95, 0, 0.027, 0.8, 0.9, 0.427},
		{1, 0.015, 0.045, 2, 0.9, 2.06},
		{0.5, 0.01, 0.03, 0.12, 0, 0.025}, // no kink: linear
	}
	for _, tt := range tests {
		if got := BorrowAPY(tt.u, tt.base, tt.s1, tt.s2, tt.opt); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("BorrowAPY(u=%v, %v, %v, %v, opt=%v) = %v, want %v", tt.u, tt.base, tt.s1, tt.s2, tt.opt, got, tt.want)
		}
	}
}

// marketsOf returns the IDs of the batch's markets of a kind.
func marketsOf(b *history.Batch, k adapters.Kind) []adapters.Market {
	var out []adapters.Market
	for _, m := range b.Markets {
		if m.Kind == k {
			out = append(out, m)
		}
	}
	return out
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-300)
}

// The lending rows follow the market's kinked curve at the row's
// utilization, and supply, borrows and exit liquidity agree.
func TestLending_RatesFollowCurve(t *testing.T) {
	cat := adapters.Builtin()
	for _, scen := range []string{"calm", "utilization-spike"} {
		b := gen1(t, scen, "2024-07-01T00:00:00Z", "2024-09-01T00:00:00Z", 6*time.Hour)
		for _, m := range marketsOf(b, adapters.Lending) {
			p, err := cat.ProfileFor(m)
			if err != nil {
				t.Fatal(err)
			}
			rates, err := irm.RatesFromProfile(p)
			if err != nil {
				t.Fatal(err)
			}
			rows := rowsOf(b, m.ID)
			model := rates.At(rows[0].Obs.Time)
			for _, r := range rows {
				u := val(t, r, adapters.FieldUtilization)
				borrow := model.Borrow(u)
				if got := val(t, r, adapters.FieldBorrowAPY); !relClose(got, borrow, 1e-5) {
					t.Fatalf("%s %s %s: borrow_apy %v, curve gives %v at u=%v", scen, m.ID, r.Obs.Time, got, borrow, u)
				}
				if got, want := val(t, r, adapters.FieldAPY), model.Supply(u); !relClose(got, want, 1e-5) {
					t.Fatalf("%s %s %s: apy %v, want the supply curve's %v", scen, m.ID, r.Obs.Time, got, want)
				}
				supply, borrows := val(t, r, adapters.FieldSupply), val(t, r, adapters.FieldBorrows)
				if !relClose(borrows, u*supply, 1e-7) {
					t.Fatalf("%s %s: borrows %v, want u*supply %v", m.ID, r.Obs.Time, borrows, u*supply)
				}
				if got := val(t, r, adapters.FieldExitLiquidity); math.Abs(got-(supply-borrows)) > 1e-7*supply {
					t.Fatalf("%s %s: exit_liquidity %v, want supply - borrows %v", m.ID, r.Obs.Time, got, supply-borrows)
				}
			}
		}
	}
}

// The liquidity index compounds the supply APY, and an LST's exchange rate
// compounds its APY, step by step.
func TestGenerate_IndexCompoundsAPY(t *testing.T) {
	const step = 6 * time.Hour
	dt := step.Seconds() / (365 * 86400)
	b := gen1(t, "calm", "2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z", step)
	// keep is the share of the restaking reward compounded into the rate
	// by a market whose protocol does so (rewards_in_rate, Renzo): its
	// rate grows by the reward after the profile's haircut too.
	keep := map[string]float64{}
	check := func(m adapters.Market, f adapters.Field) {
		rows := rowsOf(b, m.ID)
		for i := 1; i < len(rows); i++ {
			prev, cur := val(t, rows[i-1], f), val(t, rows[i], f)
			want := prev * math.Pow(1+val(t, rows[i-1], adapters.FieldAPY), dt)
			tol := 1e-10
			if k := keep[m.ID]; k > 0 {
				want *= math.Pow(1+val(t, rows[i-1], adapters.FieldRewardAPY)*k, dt)
				tol = 3e-10 // the rate and its reward factor are each rounded to 11 digits
			}
			if !relClose(cur, want, tol) {
				t.Fatalf("%s %s at %s: %v, want %v x (1+apy)^dt = %v", m.ID, f, rows[i].Obs.Time, cur, prev, want)
			}
		}
	}
	for _, m := range marketsOf(b, adapters.Lending) {
		check(m, adapters.FieldIndex)
	}
	cat := adapters.Builtin()
	for _, m := range append(marketsOf(b, adapters.LST), marketsOf(b, adapters.LRT)...) {
		prof, err := cat.ProfileFor(m)
		if err != nil {
			t.Fatal(err)
		}
		if prof.ParamOr("rewards_in_rate", 0) != 0 {
			keep[m.ID] = 1 - prof.ParamOr("reward_haircut", 0)
		}
		if !prof.IsRebasing() {
			check(m, adapters.FieldExchangeRate)
			continue
		}
		// A rebasing token carries no exchange rate; its price is its peg.
		for _, r := range rowsOf(b, m.ID) {
			if r.Obs.Set.Has(adapters.FieldExchangeRate) {
				t.Fatalf("%s at %s: a rebasing token carries an exchange_rate", m.ID, r.Obs.Time)
			}
			if p := val(t, r, adapters.FieldPrice); p < 0.95 || p > 1.02 {
				t.Fatalf("%s at %s: price %v of a rebasing token, want its peg near 1", m.ID, r.Obs.Time, p)
			}
		}
	}
}

func TestAMM_FeeAPY(t *testing.T) {
	b := gen1(t, "usdc-2023", "2023-02-01T00:00:00Z", "2023-04-01T00:00:00Z", 6*time.Hour)
	cat := adapters.Builtin()
	for _, m := range marketsOf(b, adapters.AMM) {
		p, _ := cat.ProfileFor(m)
		fee := p.ParamOr("fee_tier", 0)
		for _, r := range rowsOf(b, m.ID) {
			if got := val(t, r, adapters.FieldFeeTier); got != fee {
				t.Fatalf("%s: fee_tier %v, want the profile's %v", m.ID, got, fee)
			}
			total := val(t, r, adapters.FieldBalance0) + val(t, r, adapters.FieldBalance1) + r.Obs.Value(adapters.FieldBalance2, 0)
			want := val(t, r, adapters.FieldVolume) * fee * 365 / total
			if got := val(t, r, adapters.FieldAPY); !relClose(got, want, 1e-5) {
				t.Fatalf("%s at %s: apy %v, want volume*fee*365/tvl = %v", m.ID, r.Obs.Time, got, want)
			}
			if got, want := val(t, r, adapters.FieldTVL), total*val(t, r, adapters.FieldBaseUSD); !relClose(got, want, 1e-5) {
				t.Fatalf("%s at %s: tvl %v USD, want balances x base_usd = %v", m.ID, r.Obs.Time, got, want)
			}
		}
	}
}

type stats struct{ n, sum, min, max float64 }

func (s *stats) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.n++
	s.sum += v
}

func (s *stats) mean() float64 { return s.sum / s.n }

// Over four calm years, mean reversion keeps every rate, peg and size near
// its level. ETH and BTC prices do not mean-revert (TestFit_ETHPrice): they
// stay within the reflecting bounds, 0.05x to 10x their level.
func TestGenerate_MeanReversion(t *testing.T) {
	if testing.Short() {
		t.Skip("four years of history")
	}
	b := gen1(t, "calm", "2021-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 12*time.Hour)
	var lidoAPY, lidoPeg, eth, btc, gas, aaveU, usdcPeg stats
	for _, r := range b.Rows {
		switch r.Market {
		case "lido/steth":
			lidoAPY.add(val(t, r, adapters.FieldAPY))
			lidoPeg.add(peg(r))
			eth.add(val(t, r, adapters.FieldBaseUSD))
			gas.add(val(t, r, adapters.FieldGasPrice))
		case "babylon/btc":
			btc.add(val(t, r, adapters.FieldBaseUSD))
		case "aave-v3/weth":
			aaveU.add(val(t, r, adapters.FieldUtilization))
		case "aave-v3/usdc":
			usdcPeg.add(val(t, r, adapters.FieldPrice))
		}
	}
	tests := []struct {
		name                  string
		s                     stats
		mean, meanTol, lo, hi float64
	}{
		{"lido apy (3.4% gross less 10%)", lidoAPY, 0.0306, 0.002, 0.02, 0.042},
		{"lido peg", lidoPeg, 0.9995, 0.0005, 0.995, 1.004},
		{"ETH USD (no mean reversion: only the bounds)", eth, eth.mean(), 0, 2900 * 0.05, 2900 * 10},
		{"BTC USD (no mean reversion: only the bounds)", btc, btc.mean(), 0, 60000 * 0.05, 60000 * 10},
		{"gas gwei", gas, 22, 4, 1, 400},
		{"aave-v3/weth utilization (median 0.854 as AaveScan; a logit-normal mean sits below)", aaveU, 0.845, 0.02, 0.6, 0.97},
		{"USDC peg", usdcPeg, 1, 0.0003, 0.997, 1.003},
	}
	for _, tt := range tests {
		if m := tt.s.mean(); math.Abs(m-tt.mean) > tt.meanTol {
			t.Errorf("%s: mean %v, want %v ± %v", tt.name, m, tt.mean, tt.meanTol)
		}
		if tt.s.min < tt.lo || tt.s.max > tt.hi {
			t.Errorf("%s: range [%v, %v], want within [%v, %v]", tt.name, tt.s.min, tt.s.max, tt.lo, tt.hi)
		}
	}
}

// FuzzGenerate: any seed, scenario, step and range either fails with a
// typed error or gives a full grid of valid rows; it never panics.
func FuzzGenerate(f *testing.F) {
	f.Add(uint64(1), uint8(0), uint16(360), uint16(30), int64(0))
	f.Add(uint64(99), uint8(2), uint16(60), uint16(60), int64(-200))
	f.Add(uint64(7), uint8(4), uint16(1), uint16(3), int64(500))
	f.Add(uint64(0), uint8(6), uint16(0), uint16(0), int64(-1000))
	names := scenarioNames()
	cat := adapters.Builtin()
	var ms []adapters.Market
	for _, id := range []string{"lido/steth", "renzo/ezeth", "aave-v3/usdc", "curve/3pool", "curve/steth-eth", "karak/weth"} {
		m, err := cat.Market(id)
		if err != nil {
			f.Fatal(err)
		}
		ms = append(ms, m)
	}
	f.Fuzz(func(t *testing.T, seed uint64, scen uint8, stepMin, days uint16, offsetDays int64) {
		from := date("2024-01-01T00:00:00Z").Add(time.Duration(offsetDays%2000) * 24 * time.Hour)
		cfg := Config{
			Scenario: names[int(scen)%len(names)], Seed: seed, Markets: ms,
			From: from, To: from.Add(time.Duration(days%400) * 24 * time.Hour), Step: time.Duration(stepMin) * time.Minute,
		}
		if int64(cfg.Step) > 0 && int64(cfg.To.Sub(cfg.From)/cfg.Step) > 20000 {
			cfg.Step = cfg.To.Sub(cfg.From) / 20000
			cfg.Step -= cfg.Step % time.Minute
			cfg.Step += time.Minute
		}
		b, err := Generate(cfg)
		if err != nil {
			if adapters.KindOf(err) != adapters.KindInvalid {
				t.Fatalf("Generate(%+v): %v is not KindInvalid", cfg, err)
			}
			return
		}
		want := int(cfg.To.Sub(cfg.From)/cfg.Step) + 1
		if len(b.Rows) != want*len(ms) {
			t.Fatalf("%d rows, want %d x %d markets", len(b.Rows), want, len(ms))
		}
		for _, r := range b.Rows {
			if err := r.Obs.Validate(); err != nil {
				t.Fatalf("%s at %s: %v", r.Market, r.Obs.Time, err)
			}
		}
		for _, e := range b.Events {
			if err := e.Validate(); err != nil {
				t.Fatalf("event %+v: %v", e, err)
			}
		}
	})
}

// A weighted pool's value shares drift around its weights; an even
// stableswap pool around half.
func TestAMM_PoolShares(t *testing.T) {
	cat := adapters.Builtin()
	weighted := adapters.Market{ID: "balancer/wsteth-weth-80-20", Kind: adapters.AMM, Base: adapters.ETH, Params: map[string]float64{"weight0": 0.8}}
	if err := cat.AddMarket(weighted); err != nil {
		t.Fatal(err)
	}
	even, _ := cat.Market("curve/steth-eth")
	weighted, _ = cat.Market(weighted.ID)
	b, err := Generate(Config{From: date("2024-01-01T00:00:00Z"), To: date("2025-01-01T00:00:00Z"), Step: 12 * time.Hour, Seed: 3,
		Markets: []adapters.Market{weighted, even}, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id       string
		mean, sd float64
	}{{weighted.ID, 0.8, 0.02}, {even.ID, 0.5, 0.02}} {
		var s stats
		for _, r := range rowsOf(b, tt.id) {
			s.add(share(adapters.FieldBalance0)(r))
		}
		if math.Abs(s.mean()-tt.mean) > tt.sd || s.min < tt.mean-0.15 || s.max > tt.mean+0.15 {
			t.Errorf("%s: coin 0 share mean %v in [%v, %v], want about %v", tt.id, s.mean(), s.min, s.max, tt.mean)
		}
	}
	// The weighted pool is named after wstETH: its price is wstETH in ETH,
	// the same as lido/wsteth's market price.
	if r := rowsOf(b, weighted.ID)[0]; val(t, r, adapters.FieldPrice) < 1.1 {
		t.Errorf("%s price %v, want wstETH's market price in ETH (> 1.1)", weighted.ID, val(t, r, adapters.FieldPrice))
	}
}
