package rules

import (
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// marketEnv is the typed environment of the per-market rules (eligible,
// score, weight, exit.when). Field tags are the names rules use. W and P
// are filled by the package: rules never name them directly (the compiler
// rewrites window calls to W[i] and params.<name> to P[i]).
type marketEnv struct {
	APY            float64  `expr:"apy"`
	RewardAPY      float64  `expr:"reward_apy"`
	NetAPY         float64  `expr:"net_apy"`
	Peg            float64  `expr:"peg"`
	Price          float64  `expr:"price"`
	TVL            float64  `expr:"tvl"`
	Utilization    float64  `expr:"utilization"`
	BorrowAPY      float64  `expr:"borrow_apy"`
	WithdrawalDays float64  `expr:"withdrawal_days"`
	SlashRisk      float64  `expr:"slash_risk"`
	DepegRisk      float64  `expr:"depeg_risk"`
	ExitLiquidity  float64  `expr:"exit_liquidity"`
	Volume         float64  `expr:"volume"`
	Kind           string   `expr:"kind"`
	Protocol       string   `expr:"protocol"`
	ID             string   `expr:"id"`
	Tags           []string `expr:"tags"`
	Weight         float64  `expr:"weight"`
	Score          float64  `expr:"score"`

	W []float64 `expr:"__w"` // window values, indexed by window id
	P []float64 `expr:"__p"` // parameter values, indexed by parameter id
}

// vaultEnv is the typed environment of rebalance.when and harvest.when.
type vaultEnv struct {
	NAV            float64   `expr:"nav"`
	Idle           float64   `expr:"idle"`
	Drift          float64   `expr:"drift"`
	GainAPY        float64   `expr:"gain_apy"`
	CostAPY        float64   `expr:"cost_apy"`
	PendingRewards float64   `expr:"pending_rewards"`
	HarvestCost    float64   `expr:"harvest_cost"`
	GasPrice       float64   `expr:"gas_price"`
	Now            time.Time `expr:"now"`

	P []float64 `expr:"__p"`
}

// Reserved identifiers of the environments; rules may not use them.
const (
	windowsIdent = "__w"
	paramsIdent  = "__p"
)

// Scope says which rules may read a name.
type Scope uint8

// Name scopes.
const (
	ScopeMarket Scope = iota // eligible, score, weight and exit.when
	ScopeWeight              // the weight rule only
	ScopeVault               // rebalance.when and harvest.when
)

func (s Scope) String() string {
	switch s {
	case ScopeMarket:
		return "per-market rules (rules.eligible, rules.score, rules.weight, exit.when)"
	case ScopeWeight:
		return "rules.weight"
	case ScopeVault:
		return "rebalance.when and harvest.when"
	}
	return "?"
}

// NameDoc documents one name that rules can read.
type NameDoc struct {
	Name   string
	Type   string // float, string, []string, time
	Unit   string
	Scope  Scope
	Window bool // usable as the first argument of a window function
	Doc    string
}

// Names lists every name rules can read, with its unit and scope. The
// strategy-language reference documents each of them (a test checks).
var Names = []NameDoc{
	{"apy", "float", "fraction/year", ScopeMarket, true, "base APY: staking yield, supply APY, AMM fee APY (0.035 = 3.5%)"},
	{"reward_apy", "float", "fraction/year", ScopeMarket, true, "extra reward APY (incentive tokens, restaking rewards), before the haircut"},
	{"net_apy", "float", "fraction/year", ScopeMarket, true, "apy + reward_apy x (1 - reward_haircut of the profile), strategies.NetAPY"},
	{"peg", "float", "ratio", ScopeMarket, true, "market price / exchange rate; 1 when either is not observed"},
	{"price", "float", "base units", ScopeMarket, true, "market price of one token; the exchange rate (or 1) when not observed"},
	{"tvl", "float", "USD", ScopeMarket, true, "total value locked"},
	{"utilization", "float", "fraction", ScopeMarket, true, "lending: borrows / supply"},
	{"borrow_apy", "float", "fraction/year", ScopeMarket, true, "lending: variable borrow APY"},
	{"withdrawal_days", "float", "days", ScopeMarket, true, "exit delay through the protocol's queue (observed, else the profile's withdrawal_days, else 0)"},
	{"slash_risk", "float", "fraction/year", ScopeMarket, false, "the profile's expected annual loss from slashing or failure (0 when unset)"},
	{"depeg_risk", "float", "fraction", ScopeMarket, false, "the profile's typical depeg depth under stress (0 when unset)"},
	{"exit_liquidity", "float", "base units", ScopeMarket, true, "instant-exit depth (observed, else the profile's exit_liquidity, else 0)"},
	{"volume", "float", "base units/day", ScopeMarket, true, "AMM: trading volume per day"},
	{"kind", "string", "", ScopeMarket, false, `market kind: "lst", "lrt", "lending" or "amm"`},
	{"protocol", "string", "", ScopeMarket, false, `protocol profile name ("lido")`},
	{"id", "string", "", ScopeMarket, false, `market ID ("lido/steth")`},
	{"tags", "[]string", "", ScopeMarket, false, `risk tags including protocol:<p> and kind:<k>; has_tag("layer:eigenlayer") tests one`},
	{"weight", "float", "fraction of NAV", ScopeMarket, false, "the market's current weight in the vault"},
	{"score", "float", "", ScopeWeight, false, "the score rule's result for the market"},
	{"nav", "float", "base units", ScopeVault, false, "the vault's total assets"},
	{"idle", "float", "base units", ScopeVault, false, "undeployed base asset"},
	{"drift", "float", "fraction of NAV", ScopeVault, false, "half the sum of |current - target| weights"},
	{"gain_apy", "float", "fraction/year", ScopeVault, false, "expected APY gain of moving to the target"},
	{"cost_apy", "float", "fraction/year", ScopeVault, false, "cost of the move annualised"},
	{"pending_rewards", "float", "base units", ScopeVault, false, "unharvested rewards"},
	{"harvest_cost", "float", "base units", ScopeVault, false, "cost of a harvest (gas and swap)"},
	{"gas_price", "float", "gwei", ScopeVault, false, "current gas price"},
	{"now", "time", "UTC time", ScopeVault, false, "the keeper's clock (simulated in backtests); now.Hour(), now.Weekday() ..."},
}

// Functions are the functions rules may call besides the window functions:
// has_tag and the expr builtins kept for rules. Builtins that read the wall
// clock (now(), date()) or allocate without bound are not available.
var Functions = []string{
	"has_tag",
	"abs", "ceil", "floor", "round", "min", "max", "int", "float", "len",
	"lower", "upper", "hasPrefix", "hasSuffix",
	"all", "any", "none", "one", "filter", "count", "map", "find",
}

// WindowFuncs are the window functions over the look-back.
var WindowFuncs = []string{"avg", "min", "max", "stddev", "change"}

func nameDoc(name string) (NameDoc, bool) {
	for _, d := range Names {
		if d.Name == name {
			return d, true
		}
	}
	return NameDoc{}, false
}

// fill sets the per-market fields of env from a market's state.
func (e *marketEnv) fill(ms *strategies.MarketState, tags []string) {
	o := &ms.Obs
	e.APY = o.Value(adapters.FieldAPY, 0)
	e.RewardAPY = o.Value(adapters.FieldRewardAPY, 0)
	e.NetAPY = strategies.NetAPY(ms)
	e.Peg = o.Peg()
	e.Price = o.Value(adapters.FieldPrice, o.Value(adapters.FieldExchangeRate, 1))
	e.TVL = o.Value(adapters.FieldTVL, 0)
	e.Utilization = o.Value(adapters.FieldUtilization, 0)
	e.BorrowAPY = o.Value(adapters.FieldBorrowAPY, 0)
	var wd, xl, sr, dr float64
	if p := ms.Profile; p != nil {
		wd = p.ParamOr("withdrawal_days", 0)
		xl = p.ParamOr("exit_liquidity", 0)
		sr = p.ParamOr("slash_risk", 0)
		dr = p.ParamOr("depeg_risk", 0)
	}
	e.WithdrawalDays = o.Value(adapters.FieldWithdrawalDays, wd)
	e.ExitLiquidity = o.Value(adapters.FieldExitLiquidity, xl)
	e.SlashRisk = sr
	e.DepegRisk = dr
	e.Volume = o.Value(adapters.FieldVolume, 0)
	e.Kind = string(ms.Market.Kind)
	e.Protocol = ms.Market.Protocol
	e.ID = ms.Market.ID
	e.Tags = tags
	e.Weight = ms.Weight
	e.Score = 0
}

// value returns the value of a plain name in env, for explanations.
func (e *marketEnv) value(name string) (any, bool) {
	switch name {
	case "apy":
		return e.APY, true
	case "reward_apy":
		return e.RewardAPY, true
	case "net_apy":
		return e.NetAPY, true
	case "peg":
		return e.Peg, true
	case "price":
		return e.Price, true
	case "tvl":
		return e.TVL, true
	case "utilization":
		return e.Utilization, true
	case "borrow_apy":
		return e.BorrowAPY, true
	case "withdrawal_days":
		return e.WithdrawalDays, true
	case "slash_risk":
		return e.SlashRisk, true
	case "depeg_risk":
		return e.DepegRisk, true
	case "exit_liquidity":
		return e.ExitLiquidity, true
	case "volume":
		return e.Volume, true
	case "kind":
		return e.Kind, true
	case "protocol":
		return e.Protocol, true
	case "id":
		return e.ID, true
	case "weight":
		return e.Weight, true
	case "score":
		return e.Score, true
	}
	return nil, false
}

// value returns the value of a plain name in env, for explanations.
func (e *vaultEnv) value(name string) (any, bool) {
	switch name {
	case "nav":
		return e.NAV, true
	case "idle":
		return e.Idle, true
	case "drift":
		return e.Drift, true
	case "gain_apy":
		return e.GainAPY, true
	case "cost_apy":
		return e.CostAPY, true
	case "pending_rewards":
		return e.PendingRewards, true
	case "harvest_cost":
		return e.HarvestCost, true
	case "gas_price":
		return e.GasPrice, true
	case "now":
		return e.Now.UTC(), true
	}
	return nil, false
}
