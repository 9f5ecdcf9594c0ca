package adapters

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/yieldvault/yieldvault/internal/yamlx"
)

// Param is one numeric profile parameter and the one-line note that says
// where its value comes from.
//
// A parameter may change over time: Since is the date it took effect
// (before it the mechanism it describes did not exist, such as a
// withdrawal queue that opened later), and Changes are later values,
// each from its own date with its own source. Value and Source are the
// value in force from Since (or always) until the first change. Adapters
// read the value in force at the simulated time (Profile.DatedParam).
type Param struct {
	Value   float64       `json:"value" yaml:"value"`
	Source  string        `json:"source" yaml:"source"`
	Since   string        `json:"since,omitempty" yaml:"since,omitempty"`
	Changes []ParamChange `json:"changes,omitempty" yaml:"changes,omitempty"`
}

// Profile holds a protocol's parameters. Profiles are data: the built-in
// table (Builtin) plus profiles users add from YAML (Catalog.LoadFile).
// Adapters read numeric parameters through Param/ParamOr; every parameter
// name must be one of ParamDocs.
type Profile struct {
	Name    string `json:"name" yaml:"name"`       // protocol id, the part of a market ID before "/"
	Display string `json:"display" yaml:"display"` // human readable name
	Kind    Kind   `json:"kind" yaml:"kind"`
	// Base is the base asset of the protocol's markets when all share one;
	// empty for protocols with markets in several bases (Aave, Curve).
	Base Asset `json:"base,omitempty" yaml:"base,omitempty"`
	// Venue is the market ID of the instant-exit venue (an AMM pool) for
	// LSTs and LRTs, when there is one.
	Venue string `json:"venue,omitempty" yaml:"venue,omitempty"`
	// Layer is the restaking layer an LRT restakes through (eigenlayer,
	// symbiotic, karak); it becomes the tag layer:<Layer>.
	Layer string `json:"layer,omitempty" yaml:"layer,omitempty"`
	// Rebasing is true for tokens whose balance grows (stETH, eETH) rather
	// than their exchange rate; the adapter models both through a rate.
	Rebasing bool `json:"rebasing,omitempty" yaml:"rebasing,omitempty"`
	// PoolType, for AMM protocols: constant_product, stableswap or
	// concentrated.
	PoolType     string           `json:"pool_type,omitempty" yaml:"pool_type,omitempty"`
	RewardTokens []string         `json:"reward_tokens,omitempty" yaml:"reward_tokens,omitempty"`
	Tags         []string         `json:"tags,omitempty" yaml:"tags,omitempty"`
	Params       map[string]Param `json:"params,omitempty" yaml:"params,omitempty"`
	Source       string           `json:"source,omitempty" yaml:"source,omitempty"` // overall reference for the protocol
	// Driver names the driver of the kind that models the protocol's
	// markets (RegisterDriver); empty is the kind's default driver.
	Driver string `json:"driver,omitempty" yaml:"driver,omitempty"`
}

// AMM pool types.
const (
	PoolConstantProduct = "constant_product"
	PoolStableswap      = "stableswap"
	PoolConcentrated    = "concentrated"
)

// ParamDoc describes a known profile parameter.
type ParamDoc struct {
	Name  string
	Kinds []Kind // the kinds it applies to; nil means every kind
	Unit  string
	Doc   string
}

// ParamDocs lists every profile parameter adapters understand.
var ParamDocs = []ParamDoc{
	{"typical_tvl", nil, "USD", "the market's documented typical TVL (the median of a public series, with its source): history refuses a series of the market whose median TVL is more than 10 times away from it, as a file in the wrong unit is (x100, /100); set per market"},
	{"typical_volume", []Kind{AMM}, "base units/day", "the pool's documented typical trading volume (the median of a public series, with its source): history refuses a series of the pool whose median volume is more than 10 times away from it; set per market"},
	{"fee_on_rewards", []Kind{LST, LRT}, "fraction", "share of staking rewards the protocol and operators keep"},
	{"withdrawal_days", []Kind{LST, LRT, Lending}, "days", "typical time to exit through the protocol's queue when observations do not say (loop markets: the collateral token's queue, which a loop unwinds through in rounds; unset: no queue)"},
	{"exit_liquidity", []Kind{LST, LRT}, "base units", "default instant-exit depth of the venue when observations do not say"},
	{"instant_exit_fee", []Kind{LST, LRT}, "fraction", "fee the protocol charges for an instant exit (Puffer's 1%)"},
	{"slash_risk", nil, "fraction/year", "expected annual loss from slashing or protocol failure, used in risk scores"},
	{"depeg_risk", nil, "fraction", "typical depth of a depeg under stress, used in risk scores"},
	{"insurance_cap", []Kind{LRT, LST}, "fraction", "share of a slash the protocol's insurance covers (0 = none)"},
	{"reward_haircut", []Kind{LRT, LST, Lending}, "fraction", "discount applied to reward tokens and points when valuing them"},
	{"restaking_apy", []Kind{LRT}, "fraction", "default AVS reward APY when observations do not carry reward_apy"},
	{"escrow_days", []Kind{LRT}, "days", "restaking-layer escrow added to the exit queue"},
	{"gas_deposit", nil, "gas units", "gas used by a deposit"},
	{"gas_withdraw", nil, "gas units", "gas used by an instant withdrawal or a queue request"},
	{"gas_claim", nil, "gas units", "gas used to claim a queued withdrawal"},
	{"gas_harvest", nil, "gas units", "gas used to claim and swap rewards"},
	{"harvest_swap_cost", nil, "fraction", "cost of swapping harvested reward tokens to the base asset"},
	{"irm_base", []Kind{Lending}, "fraction/year", "interest-rate model: borrow rate at zero utilization"},
	{"irm_slope1", []Kind{Lending}, "fraction/year", "interest-rate model: borrow-rate increase from zero to optimal utilization"},
	{"irm_slope2", []Kind{Lending}, "fraction/year", "interest-rate model: borrow-rate increase from optimal to full utilization"},
	{"irm_optimal", []Kind{Lending}, "fraction", "interest-rate model: the kink (optimal utilization)"},
	{"reserve_factor", []Kind{Lending}, "fraction", "share of borrow interest kept by the protocol (Morpho: the market fee)"},
	{"irm_curve_steepness", []Kind{Lending}, "number", "adaptive-curve rate model (Morpho AdaptiveCurveIRM): borrow rate at full utilization over the rate at target; setting it selects the model"},
	{"irm_adjustment_speed", []Kind{Lending}, "1/year", "adaptive-curve rate model: speed at which the log rate at target moves per unit of utilization error"},
	{"irm_rate_at_target", []Kind{Lending}, "fraction/year", "adaptive-curve rate model: the rate at target of a new market"},
	{"irm_min_rate_at_target", []Kind{Lending}, "fraction/year", "adaptive-curve rate model: lower bound of the rate at target"},
	{"irm_max_rate_at_target", []Kind{Lending}, "fraction/year", "adaptive-curve rate model: upper bound of the rate at target"},
	{"comet_supply_base", []Kind{Lending}, "fraction/year", "Compound v3 supply curve: rate at zero utilization (setting comet_supply_kink selects the model)"},
	{"comet_supply_slope_low", []Kind{Lending}, "fraction/year", "Compound v3 supply curve: rate increase per unit of utilization up to the supply kink"},
	{"comet_supply_slope_high", []Kind{Lending}, "fraction/year", "Compound v3 supply curve: rate increase per unit of utilization above the supply kink"},
	{"comet_supply_kink", []Kind{Lending}, "fraction", "Compound v3 supply curve: the kink"},
	{"comet_borrow_base", []Kind{Lending}, "fraction/year", "Compound v3 borrow curve: rate at zero utilization"},
	{"comet_borrow_slope_low", []Kind{Lending}, "fraction/year", "Compound v3 borrow curve: rate increase per unit of utilization up to the borrow kink"},
	{"comet_borrow_slope_high", []Kind{Lending}, "fraction/year", "Compound v3 borrow curve: rate increase per unit of utilization above the borrow kink"},
	{"comet_borrow_kink", []Kind{Lending}, "fraction", "Compound v3 borrow curve: the kink"},
	{"bridge_days", []Kind{Lending}, "days", "markets on another chain: time a deposit spends bridging from Ethereum, during which it earns nothing"},
	{"ltv", []Kind{Lending}, "fraction", "loop markets: the loan-to-value a borrow may reach (Aave's LTV, in the e-mode when the loop uses one; Morpho: the LLTV); the most leverage is 1 / (1 - ltv)"},
	{"lltv", []Kind{Lending}, "fraction", "loop markets: the liquidation threshold (Aave's liquidation threshold, Morpho's LLTV); health factor = collateral at the oracle's price x lltv / debt"},
	{"liquidation_bonus", []Kind{Lending}, "fraction", "loop markets: the collateral a liquidator receives above the debt it repays (Aave's liquidation bonus less 100%)"},
	{"liquidation_cursor", []Kind{Lending}, "fraction", "loop markets: Morpho Blue's LIQUIDATION_CURSOR; setting it makes the incentive factor min(max_liquidation_incentive, 1 / (cursor x lltv + 1 - cursor))"},
	{"max_liquidation_incentive", []Kind{Lending}, "factor", "loop markets: Morpho Blue's MAX_LIQUIDATION_INCENTIVE_FACTOR"},
	{"close_factor", []Kind{Lending}, "fraction", "loop markets: the share of the debt one liquidation call may repay (unset: all of it)"},
	{"close_factor_full_hf", []Kind{Lending}, "health factor", "loop markets: at or below this health factor one liquidation call may repay the whole debt (Aave v3's CLOSE_FACTOR_HF_THRESHOLD)"},
	{"borrow_cap", []Kind{Lending}, "base units", "loop markets: the debt reserve's borrow cap (Aave's borrowCap: its total debt may not pass it); a borrow of the vault's, an open or a relever up, that would take the market's borrows plus its own debt past it is refused; 0 or unset: no cap is known to bound it then (Morpho Blue has none), and backtests and plans say the loop's size is not bounded by one"},
	{"emode", []Kind{Lending}, "category id", "loop markets: the Aave e-mode category whose ltv and lltv apply; in propose and send modes the executor enters it (Pool.setUserEMode) before a loop borrows (0 = none)"},
	{"oracle_market_price", []Kind{Lending}, "0 or 1", "loop markets: 1 when the protocol's oracle prices the collateral at its market price (a depeg then moves the health factor); 0 when at its exchange rate (Aave's CAPO, Morpho's wstETH oracles)"},
	{"flash_loan_fee", []Kind{Lending}, "fraction", "loop markets: the flash-loan premium on the amount borrowed to open or unwind a loop in one transaction"},
	{"unwind_swap_cost", []Kind{Lending}, "fraction", "loop markets: the swap fee of selling the collateral token for the base asset when a loop is unwound"},
	{"gas_borrow", []Kind{Lending}, "gas units", "loop markets: gas of one borrow call"},
	{"gas_repay", []Kind{Lending}, "gas units", "loop markets: gas of one repay call"},
	{"gas_mint", []Kind{Lending}, "gas units", "loop markets: gas of minting the collateral token from the base asset (stake and wrap)"},
	{"gas_queue", []Kind{Lending}, "gas units", "loop markets: gas of requesting the collateral token's withdrawal from its queue (unwrap and request), on top of gas_withdraw"},
	{"gas_flash", []Kind{Lending}, "gas units", "loop markets: gas of opening or unwinding a whole loop in one flash-loan transaction (unset: no flash-loan route)"},
	{"fee_tier", []Kind{AMM}, "fraction", "swap fee"},
	{"amplification", []Kind{AMM}, "number", "stableswap amplification coefficient A"},
	{"range_lower", []Kind{AMM}, "price ratio", "concentrated liquidity: lower bound of the range relative to the entry price"},
	{"range_upper", []Kind{AMM}, "price ratio", "concentrated liquidity: upper bound of the range relative to the entry price"},
	{"weight0", []Kind{AMM}, "fraction", "weighted pools: weight of coin 0 (Balancer); 0.5 for an even pool"},
	{"price_inverted", []Kind{AMM}, "0 or 1", "1 when the pool's observed price is quoted as coin 1 per unit of the base coin (Uniswap WETH/USDT in an ETH vault: USDT per WETH) instead of as the price of coin 1 in the base asset"},
	{"gross_apy", []Kind{LST, LRT}, "0 or 1", "1 when the market's observed APYs are gross staking yields (fee_on_rewards is then taken off); 0 (default) when they are net, what holders earn"},
	{"venue_amplification", []Kind{LST, LRT}, "number", "stableswap amplification A of the instant-exit venue (Curve, Balancer stable pools): sales and buys are priced on the invariant; 0 prices the venue as constant-product depth"},
	{"venue_fee", []Kind{LST, LRT}, "fraction", "swap fee of a stableswap instant-exit venue"},
	{"queue", []Kind{LST, LRT}, "0 or 1", "1 (default) when the protocol's withdrawal queue is open to a vault; 0 when it has none a vault can use (Rocket Pool has no queue; cbETH unwraps only through a Coinbase account): exits go through a burn or the venue"},
	{"burn_liquidity", []Kind{LST, LRT}, "base units", "base the protocol redeems at the exchange rate at once (Rocket Pool burns rETH against its deposit pool's ETH); an instant exit that fits is a burn at the rate, paying gas_withdraw"},
	{"rewards_in_rate", []Kind{LRT}, "0 or 1", "1 when the protocol compounds its restaking rewards into the token's exchange rate (Renzo's ezETH) instead of paying them out for harvesting"},
	{"yield_paid", []Kind{LST, LRT}, "0 or 1", "1 (default) while the protocol pays its staking yield; 0 makes the market's yield and rewards zero whatever its observations say (Babylon's phase 1 locked BTC without rewards); usually dated"},
	{"rebasing", []Kind{LST, LRT}, "0 or 1", "per-market override of Profile.Rebasing: 1 when the token rebases (its market price is per token worth one base unit at NAV), 0 for a value-accruing wrapper (wstETH, weETH)"},
}

// ParamDocFor looks up a parameter's documentation: a built-in one
// (ParamDocs) or one a package registered (RegisterParamDoc).
func ParamDocFor(name string) (ParamDoc, bool) {
	for _, d := range ParamDocs {
		if d.Name == name {
			return d, true
		}
	}
	paramDocsMu.RLock()
	defer paramDocsMu.RUnlock()
	for _, d := range paramDocsReg {
		if d.Name == name {
			return d, true
		}
	}
	return ParamDoc{}, false
}

var (
	paramDocsMu  sync.RWMutex
	paramDocsReg []ParamDoc
)

// RegisterParamDoc makes a profile parameter known to catalogs, for the
// drivers of a kind (or a named driver) registered outside this module: a
// profile or a market may then set it (with a source note, as every
// parameter). It panics when the name is empty or already known. Call it
// from an init function, beside Register.
func RegisterParamDoc(d ParamDoc) {
	if d.Name == "" {
		panic("adapters: RegisterParamDoc with an empty name")
	}
	if _, dup := ParamDocFor(d.Name); dup {
		panic("adapters: RegisterParamDoc called twice for " + d.Name)
	}
	paramDocsMu.Lock()
	paramDocsReg = append(paramDocsReg, d)
	paramDocsMu.Unlock()
}

// IsRebasing reports whether the market's token rebases: the "rebasing"
// parameter when set (a per-market override, 0 or 1), else Rebasing.
//
// By convention a rebasing token carries no exchange_rate in observations
// (one token is worth one base unit by the protocol's accounting; its
// balance grows instead) and its price is the market price of one token,
// so its peg is the price alone. A value-accruing token (wstETH, rETH)
// carries both, and its peg is price / exchange_rate.
func (p *Profile) IsRebasing() bool {
	if v, ok := p.Param("rebasing"); ok {
		return v != 0
	}
	return p.Rebasing
}

// PegBasis is the basis of the peg of the profile's markets
// (PegBasisOf its kind and IsRebasing); PegPrice for a nil profile.
func (p *Profile) PegBasis() PegBasis {
	if p == nil {
		return PegPrice
	}
	return PegBasisOf(p.Kind, p.IsRebasing())
}

// Param returns a parameter's value and whether the profile sets it.
func (p *Profile) Param(name string) (float64, bool) {
	v, ok := p.Params[name]
	return v.Value, ok
}

// ParamOr returns a parameter's value, or def when the profile lacks it.
func (p *Profile) ParamOr(name string, def float64) float64 {
	if v, ok := p.Params[name]; ok {
		return v.Value
	}
	return def
}

// Validate checks the profile: a name, a known kind, known parameters with
// finite values and a source note each.
func (p *Profile) Validate() error {
	const op = "adapters.Profile.Validate"
	if p.Name == "" || strings.ContainsAny(p.Name, "/ \t") {
		return E(op, KindInvalid, "profile name %q must be non-empty with no spaces or slashes", p.Name)
	}
	if _, err := ParseKind(string(p.Kind)); err != nil {
		return E(op, KindInvalid, "profile %s: %v", p.Name, err)
	}
	if err := checkDriver(p.Kind, p.Driver); err != nil {
		return E(op, KindNotFound, "profile %s: %v", p.Name, err)
	}
	if p.Base != "" {
		if _, err := ParseAsset(string(p.Base)); err != nil {
			return E(op, KindInvalid, "profile %s: %v", p.Name, err)
		}
	}
	if p.Kind == AMM {
		switch p.PoolType {
		case PoolConstantProduct, PoolStableswap, PoolConcentrated:
		default:
			return E(op, KindInvalid, "profile %s: pool_type %q must be constant_product, stableswap or concentrated", p.Name, p.PoolType)
		}
	}
	for _, t := range p.Tags {
		if k, v, ok := strings.Cut(t, ":"); !ok || k == "" || v == "" {
			return E(op, KindInvalid, "profile %s: tag %q is not of the form key:value", p.Name, t)
		}
	}
	for _, name := range sortedKeys(p.Params) {
		v := p.Params[name]
		if _, ok := ParamDocFor(name); !ok {
			return E(op, KindInvalid, "profile %s: unknown parameter %q", p.Name, name)
		}
		if v.Value != v.Value || v.Value > 1e18 || v.Value < -1e18 {
			return E(op, KindInvalid, "profile %s: parameter %s = %g is not a finite number", p.Name, name, v.Value)
		}
		if v.Value < 0 {
			return E(op, KindInvalid, "profile %s: parameter %s = %g must be >= 0", p.Name, name, v.Value)
		}
		if strings.TrimSpace(v.Source) == "" {
			return E(op, KindInvalid, "profile %s: parameter %s has no source note", p.Name, name)
		}
		if msg := v.validateDates(); msg != "" {
			return E(op, KindInvalid, "profile %s: parameter %s: %s", p.Name, name, msg)
		}
	}
	return nil
}

// Tags returns the risk tags a market of this profile inherits: the
// profile's tags plus layer:<Layer>.
func (p *Profile) allTags() []string {
	tags := append([]string(nil), p.Tags...)
	if p.Layer != "" {
		tags = append(tags, "layer:"+p.Layer)
	}
	return tags
}

// Catalog is a set of protocol profiles and the markets built on them.
// The zero value is empty; Builtin returns the built-in catalog. A Catalog
// is not safe for concurrent modification; read it freely once built.
type Catalog struct {
	profiles map[string]*Profile
	markets  map[string]*Market
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{profiles: map[string]*Profile{}, markets: map[string]*Market{}}
}

// Builtin returns a fresh copy of the built-in catalog: every protocol
// profile and market yieldvault knows without configuration.
func Builtin() *Catalog {
	c := NewCatalog()
	for _, p := range builtinProfiles() {
		if err := c.AddProfile(p); err != nil {
			panic("adapters: bad built-in profile: " + err.Error())
		}
	}
	for _, m := range builtinMarkets() {
		if err := c.AddMarket(m); err != nil {
			panic("adapters: bad built-in market: " + err.Error())
		}
	}
	return c
}

// AddProfile validates p and adds it; a profile of the same name is
// replaced (so users can override built-in parameters).
func (c *Catalog) AddProfile(p Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if c.profiles == nil {
		c.profiles = map[string]*Profile{}
	}
	cp := p
	cp.Params = make(map[string]Param, len(p.Params))
	for k, v := range p.Params {
		v.Changes = append([]ParamChange(nil), v.Changes...)
		cp.Params[k] = v
	}
	c.profiles[p.Name] = &cp
	return nil
}

// AddMarket validates m against its profile and adds it, replacing a
// market with the same ID. The market inherits its profile's tags.
func (c *Catalog) AddMarket(m Market) error {
	const op = "adapters.Catalog.AddMarket"
	if err := m.Validate(); err != nil {
		return err
	}
	p, ok := c.profiles[m.Protocol]
	if !ok {
		return E(op, KindNotFound, "market %s: no protocol profile %q", m.ID, m.Protocol)
	}
	if p.Kind != m.Kind {
		return E(op, KindInvalid, "market %s: kind %s differs from its profile %s (%s)", m.ID, m.Kind, p.Name, p.Kind)
	}
	if p.Base != "" && p.Base != m.Base {
		return E(op, KindInvalid, "market %s: base %s differs from its profile %s (%s)", m.ID, m.Base, p.Name, p.Base)
	}
	if err := checkDriver(m.Kind, m.Driver); err != nil {
		return E(op, KindNotFound, "market %s: %v", m.ID, err)
	}
	for name, v := range m.Params {
		if _, ok := ParamDocFor(name); !ok {
			return E(op, KindInvalid, "market %s: unknown parameter %q", m.ID, name)
		}
		if v != v || v < 0 || v > 1e18 {
			return E(op, KindInvalid, "market %s: parameter %s = %g must be a finite number >= 0", m.ID, name, v)
		}
	}
	for name := range m.Sources {
		if _, ok := m.Params[name]; !ok {
			return E(op, KindInvalid, "market %s: param_sources names %q, which the market does not override", m.ID, name)
		}
	}
	cp := m
	seen := map[string]bool{}
	var tags []string
	for _, t := range append(p.allTags(), m.Tags...) {
		if !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	cp.Tags = tags
	// A tag inherited from the profile names the protocol as a whole (its
	// layer, its oracle): the whole market is exposed to it.
	if pt := p.allTags(); len(pt) > 0 {
		exp, src := make(map[string]float64, len(m.Exposure)+len(pt)), make(map[string]string, len(m.Exposure)+len(pt))
		for k, v := range m.Exposure {
			exp[k], src[k] = v, m.ExposureSources[k]
		}
		for _, t := range pt {
			if _, ok := exp[t]; !ok {
				exp[t], src[t] = 1, "profile "+p.Name+"'s tag: the protocol as a whole"
			}
		}
		cp.Exposure, cp.ExposureSources = exp, src
	}
	if c.markets == nil {
		c.markets = map[string]*Market{}
	}
	c.markets[m.ID] = &cp
	return nil
}

// Profile returns the named profile.
func (c *Catalog) Profile(name string) (*Profile, error) {
	if p, ok := c.profiles[name]; ok {
		return p, nil
	}
	return nil, E("adapters.Catalog.Profile", KindNotFound, "no protocol profile %q", name)
}

// Market returns the market with the given ID.
func (c *Catalog) Market(id string) (Market, error) {
	if m, ok := c.markets[id]; ok {
		return *m, nil
	}
	return Market{}, E("adapters.Catalog.Market", KindNotFound, "unknown market %q", id)
}

// Profiles returns every profile sorted by name.
func (c *Catalog) Profiles() []*Profile {
	out := make([]*Profile, 0, len(c.profiles))
	for _, n := range sortedKeys(c.profiles) {
		out = append(out, c.profiles[n])
	}
	return out
}

// Markets returns every market sorted by ID.
func (c *Catalog) Markets() []Market {
	out := make([]Market, 0, len(c.markets))
	for _, id := range sortedKeys(c.markets) {
		out = append(out, *c.markets[id])
	}
	return out
}

// ProfileFor returns the profile of market m with m's per-market parameter
// overrides applied.
func (c *Catalog) ProfileFor(m Market) (*Profile, error) {
	p, err := c.Profile(m.Protocol)
	if err != nil {
		return nil, err
	}
	if len(m.Params) == 0 {
		return p, nil
	}
	cp := *p
	cp.Params = make(map[string]Param, len(p.Params)+len(m.Params))
	for k, v := range p.Params {
		cp.Params[k] = v
	}
	for k, v := range m.Params {
		src := "market " + m.ID + " override"
		if note := strings.TrimSpace(m.Sources[k]); note != "" {
			src += ": " + note
		}
		cp.Params[k] = Param{Value: v, Source: src}
	}
	return &cp, nil
}

// CatalogFile is the YAML form users add profiles and markets with.
type CatalogFile struct {
	Profiles []Profile `yaml:"profiles"`
	Markets  []Market  `yaml:"markets"`
}

// LoadFile reads a YAML file of profiles and markets into the catalog.
// Decoding is strict; every error names the file and, where it can, the
// line and column. Nothing is added unless the whole file is valid.
func (c *Catalog) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return Wrap("adapters.Catalog.LoadFile", KindNotFound, err)
	}
	return c.Load(path, data)
}

// Load is LoadFile on data already read; name is used in errors.
func (c *Catalog) Load(name string, data []byte) error {
	const op = "adapters.Catalog.Load"
	var f CatalogFile
	if err := yamlx.Decode(name, data, &f); err != nil {
		var pe *yamlx.PosError
		if pos, ok := err.(*yamlx.PosError); ok {
			pe = pos
			return (&Error{Op: op, Kind: KindInvalid, Err: fmt.Errorf("%s", pe.Msg)}).At(pe.Pos())
		}
		return Wrap(op, KindInvalid, err)
	}
	// Errors point at the entry, or at its kind or driver when those are
	// at fault: file:line:col.
	tree, _ := yamlx.Parse(data)
	at := func(list string, i int, key string, kind ErrorKind, err error) error {
		entry := fmt.Sprintf("$.%s[%d]", list, i)
		pos := ""
		if key != "" {
			pos = yamlx.Pos(name, tree, entry+"."+key)
		}
		if pos == "" {
			pos = yamlx.Pos(name, tree, entry)
		}
		if pos == "" {
			pos = fmt.Sprintf("%s: %s[%d]", name, list, i)
		}
		return (&Error{Op: op, Kind: kind, Err: err}).At(pos)
	}
	// Validate into a scratch copy so that a bad file changes nothing.
	tmp := c.clone()
	for i, p := range f.Profiles {
		if _, err := ParseKind(string(p.Kind)); err != nil {
			return at("profiles", i, "kind", KindInvalid, fmt.Errorf("profile %s: %v", p.Name, Message(err)))
		}
		if err := checkDriver(p.Kind, p.Driver); err != nil {
			return at("profiles", i, "driver", KindNotFound, fmt.Errorf("profile %s: %w", p.Name, err))
		}
		if err := tmp.AddProfile(p); err != nil {
			return at("profiles", i, "", KindOf(err), err)
		}
	}
	for i, m := range f.Markets {
		if _, err := ParseKind(string(m.Kind)); err != nil {
			return at("markets", i, "kind", KindInvalid, fmt.Errorf("market %s: %v", m.ID, Message(err)))
		}
		if err := checkDriver(m.Kind, m.Driver); err != nil {
			return at("markets", i, "driver", KindNotFound, fmt.Errorf("market %s: %w", m.ID, err))
		}
		if err := tmp.AddMarket(m); err != nil {
			return at("markets", i, "", KindOf(err), err)
		}
	}
	*c = *tmp
	return nil
}

// Clone returns a copy of the catalog that can be extended (Load,
// AddMarket) without changing c.
func (c *Catalog) Clone() *Catalog { return c.clone() }

func (c *Catalog) clone() *Catalog {
	n := NewCatalog()
	for k, v := range c.profiles {
		n.profiles[k] = v
	}
	for k, v := range c.markets {
		n.markets[k] = v
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
