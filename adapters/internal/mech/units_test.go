package mech

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

func unitProfile(kind adapters.Kind, params map[string]float64) *adapters.Profile {
	p := &adapters.Profile{Name: "p", Kind: kind, Params: map[string]adapters.Param{}}
	for k, v := range params {
		p.Params[k] = adapters.Param{Value: v, Source: "test"}
	}
	return p
}

func TestReadUnitParams(t *testing.T) {
	lend := adapters.Market{ID: "x/usdc", Kind: adapters.Lending}
	tests := []struct {
		name    string
		m       adapters.Market
		p       *adapters.Profile
		want    UnitParams
		wantErr string // "" for no error
	}{
		{"all parameters", lend, unitProfile(adapters.Lending, map[string]float64{
			"reward_haircut": 0.2, "harvest_swap_cost": 0.01, "gas_deposit": 150000, "gas_withdraw": 120000, "gas_harvest": 300000}),
			UnitParams{RewardHaircut: 0.2, SwapCost: 0.01, GasDeposit: 150000, GasWithdraw: 120000, GasHarvest: 300000}, ""},
		{"absent parameters are zero", lend, unitProfile(adapters.Lending, nil), UnitParams{}, ""},
		{"no profile", lend, nil, UnitParams{}, "lending.New: market x/usdc: no profile"},
		{"profile of another kind", lend, unitProfile(adapters.AMM, nil), UnitParams{},
			"lending.New: market x/usdc (lending) with profile p (amm) is not a lending market"},
		{"market of another kind", adapters.Market{ID: "x/pool", Kind: adapters.AMM}, unitProfile(adapters.Lending, nil), UnitParams{},
			"lending.New: market x/pool (amm) with profile p (lending) is not a lending market"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadUnitParams("lending.New", tt.m, tt.p, adapters.Lending, "a lending")
			if tt.wantErr != "" {
				if !errors.Is(err, adapters.ErrInvalid) {
					t.Fatalf("ReadUnitParams() error = %v, want KindInvalid", err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("ReadUnitParams() error = %q, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadUnitParams() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadUnitParams() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnitParams_Check(t *testing.T) {
	tests := []struct {
		name    string
		u       UnitParams
		wantErr bool
	}{
		{"zero", UnitParams{}, false},
		{"bounds kept", UnitParams{RewardHaircut: 1, SwapCost: 0.999}, false},
		{"haircut above 1", UnitParams{RewardHaircut: 1.01}, true},
		{"swap cost of 1", UnitParams{SwapCost: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.u.Check("amm.New", "x/pool")
			if got := errors.Is(err, adapters.ErrInvalid); got != tt.wantErr {
				t.Errorf("Check() error = %v, want KindInvalid: %v", err, tt.wantErr)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("Check() error = %v, want nil", err)
			}
		})
	}
}

func TestUnitParams_Harvest(t *testing.T) {
	u := UnitParams{SwapCost: 0.01, GasHarvest: 100000}
	env := &adapters.Env{GasPrice: 10} // 100000 gas x 10 gwei = 0.001 base
	dec, num := decimal.RequireFromString, fixed.RequireFromString
	tests := []struct {
		name     string
		rewards  string
		want     adapters.Fill
		wantKind error // nil for a fill
	}{
		{"pays rewards less fee and gas", "1", adapters.Fill{Amount: num("0.989"), Value: num("1"), Gas: num("0.001"), Fee: num("0.01")}, nil},
		{"nothing accrued", "0", adapters.Fill{}, adapters.ErrNotReady},
		{"costs eat the harvest", "0.001", adapters.Fill{}, adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos := adapters.Position{Rewards: fixed.FromDec(dec(tt.rewards))}
			got, f, err := u.Harvest("amm.Harvest", "x/pool", pos, env)
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("Harvest() error = %v, want %v", err, tt.wantKind)
				}
				if !got.Rewards.Equal(pos.Rewards) {
					t.Errorf("Harvest() left rewards %s, want %s in place", got.Rewards, pos.Rewards)
				}
				return
			}
			if err != nil {
				t.Fatalf("Harvest() error = %v", err)
			}
			eq := cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })
			if diff := cmp.Diff(tt.want, f, eq); diff != "" {
				t.Errorf("Harvest() fill mismatch (-want +got):\n%s", diff)
			}
			if got.Rewards.Sign() != 0 {
				t.Errorf("Harvest() left rewards %s, want 0", got.Rewards)
			}
		})
	}
}
