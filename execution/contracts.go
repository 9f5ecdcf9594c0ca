package execution

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/yieldvault/yieldvault/adapters"
)

// ParseAddress reads an Ethereum address as users and the built-in table
// write it: "0x" and 40 hex digits in the EIP-55 mixed-case checksum form.
// An all-lower-case or all-upper-case address carries no checksum and is
// refused too: a typo in it could not be caught.
func ParseAddress(s string) (common.Address, error) {
	const op = "execution.ParseAddress"
	if !strings.HasPrefix(s, "0x") || len(s) != 42 || !common.IsHexAddress(s) {
		return common.Address{}, adapters.E(op, adapters.KindInvalid, "address %q is not 0x and 40 hex digits", s)
	}
	a := common.HexToAddress(s)
	if want := a.Hex(); want != s {
		return common.Address{}, adapters.E(op, adapters.KindInvalid, "address %s has a bad EIP-55 checksum (the checksummed form is %s; check the address against its source)", s, want)
	}
	return a, nil
}

// Contract is one deployed contract a market's calls go to, with where
// its address comes from.
type Contract struct {
	Name    string         `json:"name"`
	Address common.Address `json:"address"`
	Source  string         `json:"source"`
}

// Token is an ERC-20 token with its decimals.
type Token struct {
	Contract
	Symbol   string `json:"symbol"`
	Decimals int    `json:"decimals"`
}

// Protocol names how a market's actions become calls (the calls of
// protocol P are built by one function of this package).
type Protocol string

// The protocols the encoder knows.
const (
	AaveV3     Protocol = "aave-v3"     // Aave v3 and its forks (SparkLend)
	CompoundV3 Protocol = "compound-v3" // Comet
	MorphoBlue Protocol = "morpho-blue" // a Morpho Blue market (MarketParams)
	ERC4626    Protocol = "erc4626"     // any ERC-4626 vault (MetaMorpho, ...)
	Lido       Protocol = "lido"        // stETH, optionally wrapped to wstETH
	RocketPool Protocol = "rocketpool"  // rETH
	EtherFi    Protocol = "etherfi"     // eETH wrapped to weETH
	Renzo      Protocol = "renzo"       // ezETH
	Kelp       Protocol = "kelp"        // rsETH
	Puffer     Protocol = "puffer"      // pufETH (an ERC-4626 vault with an ETH entry)
	Swell      Protocol = "swell"       // rswETH (minted by deposit() of native ETH)
	EigenLayer Protocol = "eigenlayer"  // a token restaked in an EigenLayer strategy
	Curve      Protocol = "curve"       // a Curve stableswap pool
	UniswapV3  Protocol = "uniswap-v3"  // positions through the NonfungiblePositionManager
)

// Deployment is what the executor needs to act on one market on
// Ethereum mainnet: its protocol, the token a vault spends to enter it
// (Asset; WETH for native-ETH entries, which unwrap it first), the
// token it holds while in it (Position), and the contracts by role.
type Deployment struct {
	Market    string              `json:"market"`
	Protocol  Protocol            `json:"protocol"`
	Asset     Token               `json:"asset"`
	Position  *Token              `json:"position,omitempty"`
	Contracts map[string]Contract `json:"contracts"`
	// Coins are a Curve pool's coins in pool order (the zero address for
	// native ETH); Uniswap's token0 and token1.
	Coins []Token `json:"coins,omitempty"`
	// Morpho Blue's market, when Protocol is MorphoBlue.
	MorphoMarket *MorphoMarketParams `json:"morpho_market,omitempty"`
	// FeeTier is a Uniswap v3 pool's fee (hundredths of a basis point).
	FeeTier uint32 `json:"fee_tier,omitempty"`
	// Wrapped marks a Lido market held as wstETH.
	Wrapped bool `json:"wrapped,omitempty"`
}

// MorphoMarketParams is Morpho Blue's MarketParams struct.
type MorphoMarketParams struct {
	LoanToken       common.Address `json:"loan_token"`
	CollateralToken common.Address `json:"collateral_token"`
	Oracle          common.Address `json:"oracle"`
	IRM             common.Address `json:"irm"`
	LLTV            string         `json:"lltv"` // decimal string, 1e18 = 100%
	Source          string         `json:"source,omitempty"`
}

// Contract returns the deployment's contract of a role.
func (d *Deployment) Contract(role string) (Contract, error) {
	c, ok := d.Contracts[role]
	if !ok {
		return Contract{}, adapters.E("execution.Deployment", adapters.KindNotFound, "market %s has no %s contract in the deployment table", d.Market, role)
	}
	return c, nil
}

// Book is a set of deployments by market ID.
type Book struct {
	deps map[string]*Deployment
}

// NewBook returns an empty book.
func NewBook() *Book { return &Book{deps: map[string]*Deployment{}} }

// Add adds or replaces a deployment.
func (b *Book) Add(d Deployment) error {
	if _, _, err := adapters.SplitID(d.Market); err != nil {
		return err
	}
	if d.Protocol == "" {
		return adapters.E("execution.Book.Add", adapters.KindInvalid, "market %s: no protocol", d.Market)
	}
	cp := d
	b.deps[d.Market] = &cp
	return nil
}

// Deployment returns the deployment of a market.
func (b *Book) Deployment(market string) (*Deployment, error) {
	d, ok := b.deps[market]
	if !ok {
		if why, ok := unmapped[market]; ok {
			return nil, adapters.E("execution.Book", adapters.KindNotFound, "market %s has no on-chain deployment: %s", market, why)
		}
		return nil, adapters.E("execution.Book", adapters.KindNotFound, "market %s has no on-chain deployment (add it to the execution contracts)", market)
	}
	return d, nil
}

// Markets lists the markets of the book, sorted.
func (b *Book) Markets() []string {
	out := make([]string, 0, len(b.deps))
	for m := range b.deps {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Contracts lists every contract of the book (deployments' contracts,
// assets, positions and coins), deduplicated by address, sorted by name.
func (b *Book) Contracts() []Contract {
	seen := map[common.Address]Contract{}
	add := func(c Contract) {
		if c.Address != (common.Address{}) {
			if _, ok := seen[c.Address]; !ok {
				seen[c.Address] = c
			}
		}
	}
	for _, m := range b.Markets() {
		d := b.deps[m]
		add(d.Asset.Contract)
		if d.Position != nil {
			add(d.Position.Contract)
		}
		for _, c := range d.Coins {
			add(c.Contract)
		}
		roles := make([]string, 0, len(d.Contracts))
		for r := range d.Contracts {
			roles = append(roles, r)
		}
		sort.Strings(roles)
		for _, r := range roles {
			add(d.Contracts[r])
		}
	}
	out := make([]Contract, 0, len(seen))
	for _, c := range seen {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Address.Hex() < out[j].Address.Hex()
	})
	return out
}

func (b *Book) String() string { return fmt.Sprintf("execution.Book(%d markets)", len(b.deps)) }
