package adapters

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Asset is a vault's base asset: the unit every balance, price and cost in
// that vault is expressed in.
type Asset string

// The base assets yieldvault knows.
const (
	ETH Asset = "ETH"
	BTC Asset = "BTC"
	USD Asset = "USD" // a USD stablecoin (USDC, USDT, DAI): one unit is one dollar at peg
)

// ParseAsset parses a base asset name, case-insensitively.
func ParseAsset(s string) (Asset, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ETH", "WETH":
		return ETH, nil
	case "BTC", "WBTC":
		return BTC, nil
	case "USD", "USDC", "USDT", "DAI":
		return USD, nil
	}
	return "", E("adapters.ParseAsset", KindInvalid, "unknown base asset %q (want ETH, BTC or USD)", s)
}

// Kind is the kind of market, which selects the adapter that models it.
type Kind string

// Market kinds.
const (
	LST     Kind = "lst"     // liquid staking token (stETH, rETH, cbETH, Babylon-staked BTC)
	LRT     Kind = "lrt"     // liquid restaking token (weETH, ezETH, rsETH, pufETH)
	Lending Kind = "lending" // supply side of a lending market (Aave, Compound, Morpho, Spark, Kamino)
	AMM     Kind = "amm"     // liquidity-provider position in an AMM pool (Curve, Uniswap, Balancer)
)

// Kinds lists the built-in market kinds in a fixed order. KnownKinds adds
// the kinds registered by other packages.
var Kinds = []Kind{LST, LRT, Lending, AMM}

// KnownKinds returns the built-in kinds, in Kinds' order, then the kinds
// other packages registered (Register, RegisterDriver), sorted.
func KnownKinds() []Kind {
	out := append([]Kind(nil), Kinds...)
	for _, k := range RegisteredKinds() {
		if !slices.Contains(Kinds, k) {
			out = append(out, k)
		}
	}
	return out
}

// ParseKind parses a market kind: a built-in one or one a package
// registered.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	known := KnownKinds()
	if slices.Contains(known, k) {
		return k, nil
	}
	names := make([]string, len(known))
	for i, v := range known {
		names[i] = string(v)
	}
	return "", E("adapters.ParseKind", KindInvalid, "unknown market kind %q (known: %s)", s, strings.Join(names, ", "))
}

// Market is a place where a vault's capital can sit.
//
// ID is "protocol/name" (lido/steth, aave-v3/weth, curve/steth-eth). Protocol
// names the protocol Profile that parameterises the market's adapter. Tags
// are risk tags of the form "key:value" (protocol:lido, layer:eigenlayer,
// avs:eigenda, operator:p2p, oracle:chainlink) that caps in strategies refer
// to; the market's protocol tag is always present (see Market.AllTags).
type Market struct {
	ID       string   `json:"id" yaml:"id"`
	Kind     Kind     `json:"kind" yaml:"kind"`
	Base     Asset    `json:"base" yaml:"base"`
	Protocol string   `json:"protocol" yaml:"protocol"` // profile name; defaults to the part of ID before "/"
	Token    string   `json:"token,omitempty" yaml:"token,omitempty"`
	Name     string   `json:"name,omitempty" yaml:"name,omitempty"` // human readable
	Tags     []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	// Params overrides numeric profile parameters for this market only
	// (for example an AMM pool's fee tier or amplification). Keys are
	// profile parameter names (see Profile.Param).
	Params map[string]float64 `json:"params,omitempty" yaml:"params,omitempty"`
	// Sources says where each override in Params comes from, by
	// parameter name (a contract, a governance post, a data file). Every
	// built-in override has one; `markets --params` lists them.
	Sources map[string]string `json:"param_sources,omitempty" yaml:"param_sources,omitempty"`
	// Exposure is, per risk tag the market carries, the share of its
	// backing exposed to what the tag names (an LRT's basket share in an
	// LST, its stake delegated to an operator or securing an AVS), in
	// [0, 1]: a slash scoped to the tag cuts the market by its size times
	// this share (ExposureTo). ExposureSources says where each share comes
	// from. A tag without a share is unknown: the slash hits by its full
	// size, and the backtest warns.
	Exposure        map[string]float64 `json:"exposure,omitempty" yaml:"exposure,omitempty"`
	ExposureSources map[string]string  `json:"exposure_sources,omitempty" yaml:"exposure_sources,omitempty"`
	// Driver names the driver of the market's kind that models it, one a
	// package registered with RegisterDriver; empty is the profile's
	// choice, else the kind's default driver.
	Driver string `json:"driver,omitempty" yaml:"driver,omitempty"`
	// Legs makes a lending market a leveraged loop: collateral supplied
	// to one reserve, debt borrowed from another of the same protocol.
	// Its history is composed from theirs (ComposeLoop) when the history
	// has none of its own.
	Legs *Legs `json:"legs,omitempty" yaml:"legs,omitempty"`
}

// Legs are the markets a loop market's history is composed of: the
// collateral reserve (its liquidity index, supply APY and, where the
// history carries it, the oracle's exchange rate), the debt reserve (its
// borrow index, borrow APY, utilization and size) and, optionally, the
// collateral token's own market (its exchange rate where the collateral
// reserve has none, its market price and its exit liquidity).
type Legs struct {
	Collateral string `json:"collateral" yaml:"collateral"`
	Debt       string `json:"debt" yaml:"debt"`
	Token      string `json:"token,omitempty" yaml:"token,omitempty"`
}

// IDs are the leg markets, collateral, debt, then token when set.
func (l *Legs) IDs() []string {
	out := []string{l.Collateral, l.Debt}
	if l.Token != "" {
		out = append(out, l.Token)
	}
	return out
}

// ExposureTo is the share of the market's backing a slash scoped to scope
// hits, and whether that share is known: 1 for an unscoped slash or the
// market's own protocol or kind tag; 0 for a tag the market does not
// carry; the market's Exposure of the tag; else 1, unknown (the slash
// applies fully, the caller warns). Tags a market inherits from its
// profile (the protocol's layer, oracle) cover the whole protocol, and the
// catalog records them at 1.
func (m *Market) ExposureTo(scope string) (share float64, known bool) {
	if scope == "" || scope == "protocol:"+m.Protocol || scope == "kind:"+string(m.Kind) {
		return 1, true
	}
	if !m.HasTag(scope) {
		return 0, true
	}
	if v, ok := m.Exposure[scope]; ok {
		return v, true
	}
	return 1, false
}

// DriverOf is the driver that models the market: its own Driver, else its
// profile's (p may be nil); "" is the kind's default driver.
func (m *Market) DriverOf(p *Profile) string {
	if m.Driver == "" && p != nil {
		return p.Driver
	}
	return m.Driver
}

// SplitID splits a market ID into protocol and name.
func SplitID(id string) (protocol, name string, err error) {
	p, n, ok := strings.Cut(id, "/")
	if !ok || p == "" || n == "" || strings.Contains(n, "/") || strings.TrimSpace(id) != id {
		return "", "", E("adapters.SplitID", KindInvalid, "market ID %q is not of the form protocol/name", id)
	}
	return p, n, nil
}

// Validate checks that the market is well formed.
func (m *Market) Validate() error {
	const op = "adapters.Market.Validate"
	p, _, err := SplitID(m.ID)
	if err != nil {
		return err
	}
	if _, err := ParseKind(string(m.Kind)); err != nil {
		return E(op, KindInvalid, "market %s: %v", m.ID, err)
	}
	if _, err := ParseAsset(string(m.Base)); err != nil || m.Base != Asset(strings.ToUpper(string(m.Base))) {
		return E(op, KindInvalid, "market %s: base %q is not ETH, BTC or USD", m.ID, m.Base)
	}
	if m.Protocol == "" {
		m.Protocol = p
	}
	for _, t := range m.Tags {
		if k, v, ok := strings.Cut(t, ":"); !ok || k == "" || v == "" {
			return E(op, KindInvalid, "market %s: tag %q is not of the form key:value", m.ID, t)
		}
	}
	for _, t := range sortedKeys(m.Exposure) {
		v := m.Exposure[t]
		if !m.HasTag(t) {
			return E(op, KindInvalid, "market %s: exposure names %q, a tag the market does not carry", m.ID, t)
		}
		if !(v >= 0 && v <= 1) {
			return E(op, KindInvalid, "market %s: exposure to %s = %g must be a share in [0, 1]", m.ID, t, v)
		}
		if strings.TrimSpace(m.ExposureSources[t]) == "" {
			return E(op, KindInvalid, "market %s: exposure to %s has no source (exposure_sources)", m.ID, t)
		}
	}
	if l := m.Legs; l != nil {
		if m.Kind != Lending {
			return E(op, KindInvalid, "market %s: legs make a lending loop, but the market is %s", m.ID, m.Kind)
		}
		for _, id := range l.IDs() {
			if _, _, err := SplitID(id); err != nil {
				return E(op, KindInvalid, "market %s: legs: %v", m.ID, err)
			}
			if id == m.ID {
				return E(op, KindInvalid, "market %s: a leg cannot be the loop itself", m.ID)
			}
		}
		if l.Collateral == l.Debt {
			return E(op, KindInvalid, "market %s: legs: collateral and debt are both %s", m.ID, l.Debt)
		}
	}
	for t := range m.ExposureSources {
		if _, ok := m.Exposure[t]; !ok {
			return E(op, KindInvalid, "market %s: exposure_sources names %q, which has no exposure", m.ID, t)
		}
	}
	return nil
}

// AllTags returns the market's risk tags plus its protocol and kind tags,
// sorted and without duplicates: "kind:lst", "protocol:lido", ...
func (m *Market) AllTags() []string {
	set := map[string]struct{}{
		"protocol:" + m.Protocol: {},
		"kind:" + string(m.Kind): {},
	}
	for _, t := range m.Tags {
		set[t] = struct{}{}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// HasTag reports whether the market carries tag (including its implicit
// protocol and kind tags).
func (m *Market) HasTag(tag string) bool {
	if tag == "protocol:"+m.Protocol || tag == "kind:"+string(m.Kind) {
		return true
	}
	for _, t := range m.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

func (m Market) String() string { return fmt.Sprintf("%s (%s, %s)", m.ID, m.Kind, m.Base) }
