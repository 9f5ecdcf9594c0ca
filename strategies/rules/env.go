package rules

import (
	"math"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// marketEnv is the typed environment of the per-market rules (eligible,
// score, weight, exit.when). Field tags are the names rules use. W and the
// embedded parameter slots P are filled by the package: rules never name
// them directly (the compiler rewrites window calls to W[i] and
// params.<name> to P[i]).
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
	Holding        float64  `expr:"holding"`
	ExitImpact     float64  `expr:"exit_impact"`
	ExitDays       float64  `expr:"exit_days"`
	DataAge        float64  `expr:"data_age"`
	Score          float64  `expr:"score"`

	// Loop markets (borrowing against collateral).
	Leverage        float64 `expr:"leverage"`
	HealthFactor    float64 `expr:"health_factor"`
	LTV             float64 `expr:"ltv"`
	LoopAPY         float64 `expr:"loop_apy"`
	LiquidationDrop float64 `expr:"liquidation_drop"`
	MaxLeverage     float64 `expr:"max_leverage"`
	OracleGap       float64 `expr:"oracle_gap"`

	// Window values by window id. They are separate fields, not a slice,
	// so that reading one costs the VM a single field load.
	W0  float64 `expr:"__w0"`
	W1  float64 `expr:"__w1"`
	W2  float64 `expr:"__w2"`
	W3  float64 `expr:"__w3"`
	W4  float64 `expr:"__w4"`
	W5  float64 `expr:"__w5"`
	W6  float64 `expr:"__w6"`
	W7  float64 `expr:"__w7"`
	W8  float64 `expr:"__w8"`
	W9  float64 `expr:"__w9"`
	W10 float64 `expr:"__w10"`
	W11 float64 `expr:"__w11"`
	W12 float64 `expr:"__w12"`
	W13 float64 `expr:"__w13"`
	W14 float64 `expr:"__w14"`
	W15 float64 `expr:"__w15"`

	// Group values by group call id (rank(score, "kind"), ...), set
	// before rules.weight runs.
	G0 float64 `expr:"__g0"`
	G1 float64 `expr:"__g1"`
	G2 float64 `expr:"__g2"`
	G3 float64 `expr:"__g3"`
	G4 float64 `expr:"__g4"`
	G5 float64 `expr:"__g5"`
	G6 float64 `expr:"__g6"`
	G7 float64 `expr:"__g7"`
	paramSlots

	// lazy is the plan context the environment belongs to: a rule
	// compiled to closures (fast.go) computes a window it reads on its
	// first read (planCtx.window), so a window behind a condition that
	// already decided (`kind == "lst" && avg(peg, "6h") < 0.98` on a
	// lending market, `holding > 0 && ...` on a market not held) is never
	// computed. nil outside a plan: the slots are read as set.
	lazy *planCtx
}

// vaultEnv is the typed environment of rebalance.when and harvest.when;
// it embeds the same parameter slots as marketEnv.
type vaultEnv struct {
	NAV            float64 `expr:"nav"`
	Idle           float64 `expr:"idle"`
	Drift          float64 `expr:"drift"`
	GainAPY        float64 `expr:"gain_apy"`
	CostAPY        float64 `expr:"cost_apy"`
	PendingRewards float64 `expr:"pending_rewards"`
	HarvestCost    float64 `expr:"harvest_cost"`
	GasPrice       float64 `expr:"gas_price"`
	Now            Clock   `expr:"now"`

	paramSlots
}

// Clock is the type of `now` in rules: a UTC time.Time whose calendar
// methods return plain integers, so that rules compare them with numbers
// as the docs show (`now.Weekday() == 1` is Monday, Sunday is 0;
// `now.Month() == 12`). Every other time.Time method is there as is.
type Clock struct{ time.Time }

// Weekday is the day of the week, 0 (Sunday) to 6 (Saturday).
func (c Clock) Weekday() int { return int(c.Time.Weekday()) }

// Month is the month, 1 (January) to 12.
func (c Clock) Month() int { return int(c.Time.Month()) }

// paramSlots are the parameter slots, by parameter id, that both
// environments embed: expr and the closure compiler (envFloatOffsets) read
// promoted fields as if they were the environment's own (a test checks
// both). They are separate fields, not a slice, so that reading one costs
// the VM a single field load.
type paramSlots struct {
	P0  float64 `expr:"__p0"`
	P1  float64 `expr:"__p1"`
	P2  float64 `expr:"__p2"`
	P3  float64 `expr:"__p3"`
	P4  float64 `expr:"__p4"`
	P5  float64 `expr:"__p5"`
	P6  float64 `expr:"__p6"`
	P7  float64 `expr:"__p7"`
	P8  float64 `expr:"__p8"`
	P9  float64 `expr:"__p9"`
	P10 float64 `expr:"__p10"`
	P11 float64 `expr:"__p11"`
	P12 float64 `expr:"__p12"`
	P13 float64 `expr:"__p13"`
	P14 float64 `expr:"__p14"`
	P15 float64 `expr:"__p15"`
	P16 float64 `expr:"__p16"`
	P17 float64 `expr:"__p17"`
	P18 float64 `expr:"__p18"`
	P19 float64 `expr:"__p19"`
	P20 float64 `expr:"__p20"`
	P21 float64 `expr:"__p21"`
	P22 float64 `expr:"__p22"`
	P23 float64 `expr:"__p23"`
	P24 float64 `expr:"__p24"`
	P25 float64 `expr:"__p25"`
	P26 float64 `expr:"__p26"`
	P27 float64 `expr:"__p27"`
	P28 float64 `expr:"__p28"`
	P29 float64 `expr:"__p29"`
	P30 float64 `expr:"__p30"`
	P31 float64 `expr:"__p31"`
}

// Reserved identifier prefixes of the environments (rules may not use
// them) and the number of window and parameter slots.
const (
	windowsIdent = "__w"
	paramsIdent  = "__p"
	// MaxWindows is the most distinct window calls a strategy may use.
	MaxWindows = 16
	// MaxParams is the most parameters a strategy may declare.
	MaxParams = 32
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
	{"peg", "float", "ratio", ScopeMarket, true, "market price / exchange rate (the price alone for a rebasing token, a stablecoin or a pool); 1 when the data cannot say: no price, or a value-accruing token whose data has no exchange rate (cbETH: its price is its value)"},
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
	{"holding", "float", "base units", ScopeMarket, false, "the vault's position in the market at its pricing (0 when it holds none)"},
	{"exit_impact", "float", "fraction", ScopeMarket, false, "the price impact of selling the whole holding at once into the instant-exit depth L, holding / (L + holding) (constant-product depth, docs/adapters.md); 1 when held with no depth, 0 when not held"},
	{"exit_days", "float", "days", ScopeMarket, false, "days the vault needs to leave its whole position: 0 when it holds none or the holding fits the instant-exit depth (holding <= exit_liquidity, the adapters' cap on an instant exit), else withdrawal_days"},
	{"data_age", "float", "hours", ScopeMarket, false, "hours from the market's latest observation (the time of its latest row at or before now: a row the history forward-fills keeps its own time, and a gap has no rows) to now; +Inf without one"},
	{"score", "float", "", ScopeWeight, false, "the score rule's result for the market"},
	{"leverage", "float", "collateral / equity", ScopeMarket, false, "loop markets: the position's leverage (1 without debt; 1 for other markets); after rules.leverage, the leverage it chose"},
	{"health_factor", "float", "ratio", ScopeMarket, false, "loop markets: collateral at the oracle's price x LLTV / debt of the position held; +Inf without debt"},
	{"ltv", "float", "fraction", ScopeMarket, false, "loop markets: debt / collateral at the oracle's price of the position held (0 without debt)"},
	{"loop_apy", "float", "fraction/year", ScopeMarket, false, "leverage x apy - (leverage - 1) x borrow_apy: the equity's yield at the leverage rules.leverage chose (the position's own in rules.leverage and exit.when); apy for other markets"},
	{"liquidation_drop", "float", "fraction", ScopeMarket, false, "loop markets: the fall of the collateral's oracle price that liquidates the position, 1 - 1/health_factor (at the chosen leverage when nothing is held); 1 without debt"},
	{"max_leverage", "float", "collateral / equity", ScopeMarket, false, "loop markets: 1 / (1 - the market's LTV now), the most a loop can borrow to; 1 for other markets"},
	{"oracle_gap", "float", "fraction", ScopeMarket, false, "loop markets: the collateral's market price / the lending protocol's oracle price of it - 1 (negative: it trades below what the oracle counts); 0 when the oracle prices it at the market, when no market price is observed, and for other markets"},
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

// profileConsts are the profile parameters the per-market names read,
// looked up once per profile rather than once per market per plan.
type profileConsts struct {
	withdrawalDays, exitLiquidity, slashRisk, depegRisk float64
	restakingAPY, rewardKeep                            float64 // net_apy: default reward, 1 - reward_haircut
	pegBasis                                            adapters.PegBasis
}

func constsOf(p *adapters.Profile) profileConsts {
	c := profileConsts{rewardKeep: 1}
	if p == nil {
		return c
	}
	c.pegBasis = p.PegBasis()
	c.withdrawalDays = p.ParamOr("withdrawal_days", 0)
	c.exitLiquidity = p.ParamOr("exit_liquidity", 0)
	c.slashRisk = p.ParamOr("slash_risk", 0)
	c.depegRisk = p.ParamOr("depeg_risk", 0)
	c.restakingAPY = p.ParamOr("restaking_apy", 0)
	c.rewardKeep = 1 - math.Min(math.Max(p.ParamOr("reward_haircut", 0), 0), 1)
	return c
}

// netAPY is strategies.NetAPY from the observation and the profile's
// constants (a test checks that they agree).
func (c *profileConsts) netAPY(ms *strategies.MarketState) float64 {
	if ms.Row < 0 {
		return 0
	}
	o := &ms.Obs
	reward, ok := o.Get(adapters.FieldRewardAPY)
	if !ok {
		reward = c.restakingAPY
	}
	v := o.Value(adapters.FieldAPY, 0) + reward*c.rewardKeep
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// fill sets the per-market fields of env from a market's state and its
// profile's constants at unix time t (the state's). holding, exit_impact
// and exit_days (a conversion of the position's value) are set only with
// holding; without, they are 0 (for rules that read none of them).
func (e *marketEnv) fill(ms *strategies.MarketState, tags []string, c *profileConsts, t int64, holding bool) {
	o := &ms.Obs
	e.APY = o.Value(adapters.FieldAPY, 0)
	e.RewardAPY = o.Value(adapters.FieldRewardAPY, 0)
	e.NetAPY = c.netAPY(ms)
	e.Peg, _ = o.Peg(c.pegBasis)
	e.Price = priceOf(o)
	e.TVL = o.Value(adapters.FieldTVL, 0)
	e.Utilization = o.Value(adapters.FieldUtilization, 0)
	e.BorrowAPY = o.Value(adapters.FieldBorrowAPY, 0)
	e.WithdrawalDays = c.withdrawalDaysOf(o)
	e.ExitLiquidity = c.exitLiquidityOf(o)
	e.SlashRisk = c.slashRisk
	e.DepegRisk = c.depegRisk
	e.Volume = o.Value(adapters.FieldVolume, 0)
	e.Kind = string(ms.Market.Kind)
	e.Protocol = ms.Market.Protocol
	e.ID = ms.Market.ID
	e.Tags = tags
	e.Weight = ms.Weight
	e.Holding, e.ExitImpact, e.ExitDays = holdingOf(ms, e.ExitLiquidity, e.WithdrawalDays, holding)
	e.DataAge = dataAge(ms, t)
	e.Score = 0
	e.Leverage, e.HealthFactor, e.LTV, e.LiquidationDrop, e.MaxLeverage, e.OracleGap = 1, math.Inf(1), 0, 1, 1, 0
	if l := ms.Loop; l != nil {
		e.Leverage, e.LTV, e.MaxLeverage, e.OracleGap = l.Leverage, l.LTV, l.MaxLeverage, l.OracleGap
		if l.HealthFactor > 0 {
			e.HealthFactor, e.LiquidationDrop = l.HealthFactor, l.LiquidationDrop
		}
	}
	e.LoopAPY = e.loopAPY(e.Leverage)
}

// holdingOf is holding, exit_impact and exit_days of a market whose
// exit_liquidity is l and withdrawal_days wd; all 0 without holding (a
// strategy that reads none of them) or without a position.
func holdingOf(ms *strategies.MarketState, l, wd float64, holding bool) (h, impact, days float64) {
	if !holding || ms.Value.Sign() <= 0 {
		return 0, 0, 0
	}
	h = ms.Value.InexactFloat64()
	if !(l > 0) || math.IsInf(l, 0) {
		l = 0
	}
	impact = h / (l + h)
	if h > l {
		days = wd
	}
	return h, impact, days
}

// dataAge is data_age at unix time t: +Inf without an observation.
func dataAge(ms *strategies.MarketState, t int64) float64 {
	if ms.Row >= 0 && !ms.Obs.Time.IsZero() {
		return float64(t-ms.Obs.Time.Unix()) / 3600
	}
	return math.Inf(1)
}

// leafRun is what a column plan's names are computed from: the state's
// markets, those the plan evaluates (idx), their profile constants (c,
// by position in idx), the plan's unix time and whether the holding
// names are computed.
type leafRun struct {
	ms      []strategies.MarketState
	idx     []int
	c       []*profileConsts
	t       int64
	holding bool
}

// leafCol computes one float name, as marketEnv.fill sets it, of every
// market of the run into out (by position in idx): what a column plan
// reads (colLeaf) without filling all the names of each market. A loop
// over the markets per name, not a call per market and name.
type leafCol func(r *leafRun, out []float64)

// obsCol is the name of an observed field, def when not observed.
func obsCol(f adapters.Field, def float64) leafCol {
	return func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = r.ms[i].Obs.Value(f, def)
		}
	}
}

// leafCols are the names a column plan computes alone, each as fill does
// (TestLeafCols compares them on random states); the loop names, the
// windows, group values, parameters and score are not among them.
var leafCols = map[string]leafCol{
	"apy":         obsCol(adapters.FieldAPY, 0),
	"reward_apy":  obsCol(adapters.FieldRewardAPY, 0),
	"tvl":         obsCol(adapters.FieldTVL, 0),
	"utilization": obsCol(adapters.FieldUtilization, 0),
	"borrow_apy":  obsCol(adapters.FieldBorrowAPY, 0),
	"volume":      obsCol(adapters.FieldVolume, 0),
	"net_apy": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = r.c[k].netAPY(&r.ms[i])
		}
	},
	"peg": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k], _ = r.ms[i].Obs.Peg(r.c[k].pegBasis)
		}
	},
	"price": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = priceOf(&r.ms[i].Obs)
		}
	},
	"withdrawal_days": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = r.c[k].withdrawalDaysOf(&r.ms[i].Obs)
		}
	},
	"exit_liquidity": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = r.c[k].exitLiquidityOf(&r.ms[i].Obs)
		}
	},
	"slash_risk": func(r *leafRun, out []float64) {
		for k := range r.idx {
			out[k] = r.c[k].slashRisk
		}
	},
	"depeg_risk": func(r *leafRun, out []float64) {
		for k := range r.idx {
			out[k] = r.c[k].depegRisk
		}
	},
	"weight": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = r.ms[i].Weight
		}
	},
	"holding":     holdingCol(0),
	"exit_impact": holdingCol(1),
	"exit_days":   holdingCol(2),
	"data_age": func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			out[k] = dataAge(&r.ms[i], r.t)
		}
	},
}

// holdingCol is holding (which 0), exit_impact (1) or exit_days (2).
func holdingCol(which int) leafCol {
	return func(r *leafRun, out []float64) {
		for k, i := range r.idx {
			ms, c := &r.ms[i], r.c[k]
			h, impact, days := holdingOf(ms, c.exitLiquidityOf(&ms.Obs), c.withdrawalDaysOf(&ms.Obs), r.holding)
			out[k] = [3]float64{h, impact, days}[which]
		}
	}
}

// withdrawalDaysOf is withdrawal_days: the observed, else the profile's.
func (c *profileConsts) withdrawalDaysOf(o *adapters.Observation) float64 {
	return o.Value(adapters.FieldWithdrawalDays, c.withdrawalDays)
}

// exitLiquidityOf is exit_liquidity: the observed, else the profile's.
func (c *profileConsts) exitLiquidityOf(o *adapters.Observation) float64 {
	return o.Value(adapters.FieldExitLiquidity, c.exitLiquidity)
}

// priceOf is price: the observed price, else the exchange rate, else 1.
func priceOf(o *adapters.Observation) float64 {
	return o.Value(adapters.FieldPrice, o.Value(adapters.FieldExchangeRate, 1))
}

// loopAPY is the equity's yield of a loop at leverage lev:
// lev x apy - (lev - 1) x borrow_apy.
func (e *marketEnv) loopAPY(lev float64) float64 {
	return lev*e.APY - (lev-1)*e.BorrowAPY
}

// atLeverage sets the loop names for a loop of leverage lev opened now
// (when nothing is held) or relevered to it: loop_apy, and for a position
// without debt the health factor and liquidation drop of a loop at lev
// with the market's LLTV (l.LLTV / ((lev - 1) / lev)).
func (e *marketEnv) atLeverage(l *adapters.LoopFigures, lev float64) {
	e.Leverage, e.LoopAPY = lev, e.loopAPY(lev)
	if l != nil && l.HealthFactor == 0 && lev > 1 && l.LLTV > 0 {
		e.HealthFactor = l.LLTV * lev / (lev - 1)
		e.LiquidationDrop = math.Max(0, 1-1/e.HealthFactor)
		e.LTV = (lev - 1) / lev
	}
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
	case "holding":
		return e.Holding, true
	case "exit_impact":
		return e.ExitImpact, true
	case "exit_days":
		return e.ExitDays, true
	case "data_age":
		return e.DataAge, true
	case "score":
		return e.Score, true
	case "leverage":
		return e.Leverage, true
	case "health_factor":
		return e.HealthFactor, true
	case "ltv":
		return e.LTV, true
	case "loop_apy":
		return e.LoopAPY, true
	case "liquidation_drop":
		return e.LiquidationDrop, true
	case "max_leverage":
		return e.MaxLeverage, true
	case "oracle_gap":
		return e.OracleGap, true
	}
	return nil, false
}

// float returns the value of a plain name of type float in env (value
// without boxing it, for explanations written into a buffer).
func (e *vaultEnv) float(name string) (float64, bool) {
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
	}
	return 0, false
}

// setW sets window slot i.
func (e *marketEnv) setW(i int, v float64) {
	switch i {
	case 0:
		e.W0 = v
	case 1:
		e.W1 = v
	case 2:
		e.W2 = v
	case 3:
		e.W3 = v
	case 4:
		e.W4 = v
	case 5:
		e.W5 = v
	case 6:
		e.W6 = v
	case 7:
		e.W7 = v
	case 8:
		e.W8 = v
	case 9:
		e.W9 = v
	case 10:
		e.W10 = v
	case 11:
		e.W11 = v
	case 12:
		e.W12 = v
	case 13:
		e.W13 = v
	case 14:
		e.W14 = v
	case 15:
		e.W15 = v
	}
}

// setP sets parameter slot i.
func (e *paramSlots) setP(i int, v float64) {
	switch i {
	case 0:
		e.P0 = v
	case 1:
		e.P1 = v
	case 2:
		e.P2 = v
	case 3:
		e.P3 = v
	case 4:
		e.P4 = v
	case 5:
		e.P5 = v
	case 6:
		e.P6 = v
	case 7:
		e.P7 = v
	case 8:
		e.P8 = v
	case 9:
		e.P9 = v
	case 10:
		e.P10 = v
	case 11:
		e.P11 = v
	case 12:
		e.P12 = v
	case 13:
		e.P13 = v
	case 14:
		e.P14 = v
	case 15:
		e.P15 = v
	case 16:
		e.P16 = v
	case 17:
		e.P17 = v
	case 18:
		e.P18 = v
	case 19:
		e.P19 = v
	case 20:
		e.P20 = v
	case 21:
		e.P21 = v
	case 22:
		e.P22 = v
	case 23:
		e.P23 = v
	case 24:
		e.P24 = v
	case 25:
		e.P25 = v
	case 26:
		e.P26 = v
	case 27:
		e.P27 = v
	case 28:
		e.P28 = v
	case 29:
		e.P29 = v
	case 30:
		e.P30 = v
	case 31:
		e.P31 = v
	}
}

// setParams sets every parameter slot from vals.
func (e *paramSlots) setParams(vals []float64) {
	for i, v := range vals {
		e.setP(i, v)
	}
}
