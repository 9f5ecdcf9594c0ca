package execution

import (
	"fmt"
	"math/big"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// Modes of execution.
const (
	ModePaper   = "paper"   // the adapters' models, nothing on chain (the default)
	ModePropose = "propose" // Safe Transaction Builder batches written to a folder, nothing sent
	ModeSend    = "send"    // signed and sent from the keystore's account through an RPC endpoint
)

// File is the `execution` section of the service configuration as
// written in YAML.
type File struct {
	// Mode is paper (default) or propose.
	Mode string `yaml:"mode"`
	// ChainID is the chain the calls are for (default 1, Ethereum).
	ChainID uint64 `yaml:"chain_id"`
	// Proposals is the folder propose mode writes to (default
	// "proposals" beside the configuration file).
	Proposals string `yaml:"proposals"`
	// Vaults gives each vault's own address (its Safe): every token
	// recipient, owner and onBehalfOf of its calls.
	Vaults []VaultFile `yaml:"vaults"`
	// Allow is the allowlist: the only (contract, function) pairs the
	// executor may call.
	Allow []AllowFile `yaml:"allow"`
	// Deployments add or replace markets' deployments (a MetaMorpho
	// vault for morpho/usdc, say, or a test chain's contracts).
	Deployments []DeploymentFile `yaml:"deployments"`
	// Send mode: the node's RPC URL, the encrypted keystore file of the
	// vault's account and where its password is read from (an
	// environment variable's name or a file; never the password itself),
	// a journal file of sent transactions an earlier version wrote, which
	// the service imports into its state database at start (default
	// "execution-journal.jsonl" beside the configuration), and the gas
	// gate in gwei (the most a transaction may pay per gas; 0: none).
	RPC          string  `yaml:"rpc"`
	Keystore     string  `yaml:"keystore"`
	PasswordEnv  string  `yaml:"password_env"`
	PasswordFile string  `yaml:"password_file"`
	Journal      string  `yaml:"journal"`
	MaxFeeGwei   float64 `yaml:"max_fee_gwei"`
	// ReconcileTolerance is the largest difference between the book and
	// the chain, as a fraction of the vault's NAV, that does not pause
	// the vault (default DefaultTolerance).
	ReconcileTolerance *float64 `yaml:"reconcile_tolerance"`
	// Signer is an external signer over JSON-RPC (Clef, web3signer), in
	// place of a keystore.
	Signer *SignerFile `yaml:"signer"`
	// GasGateGwei gates non-urgent orders for a strategy that sets no
	// rebalance.max_gas_price (default DefaultGasGateGwei).
	GasGateGwei *float64 `yaml:"gas_gate_gwei"`
	// DepositConfirmations is how many blocks (the transfer's own
	// included) a deposit's transfer must have before the API books it
	// (default DefaultDepositConfirmations).
	DepositConfirmations *uint64 `yaml:"deposit_confirmations"`
}

// DeploymentFile is a market's deployment as written in YAML.
type DeploymentFile struct {
	Market   string `yaml:"market"`
	Protocol string `yaml:"protocol"`
	// Asset is the token the vault spends to enter the market.
	Asset     TokenFile               `yaml:"asset"`
	Contracts map[string]ContractFile `yaml:"contracts"`
	// MorphoMarket is a morpho-blue-loop's market: its MarketParams.
	MorphoMarket *MorphoMarketFile `yaml:"morpho_market"`
}

// MorphoMarketFile is a Morpho Blue market's MarketParams (addresses
// checksummed, lltv in 1e18 units) and their source.
type MorphoMarketFile struct {
	LoanToken       string `yaml:"loan_token"`
	CollateralToken string `yaml:"collateral_token"`
	Oracle          string `yaml:"oracle"`
	IRM             string `yaml:"irm"`
	LLTV            string `yaml:"lltv"`
	Source          string `yaml:"source"`
}

// TokenFile is a token's address, symbol, decimals and source.
type TokenFile struct {
	Address  string `yaml:"address"`
	Symbol   string `yaml:"symbol"`
	Decimals int    `yaml:"decimals"`
	Source   string `yaml:"source"`
}

// ContractFile is a contract's name, address and source.
type ContractFile struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Source  string `yaml:"source"`
}

// SignerFile is an external signer: its JSON-RPC URL, the method it
// signs with (account_signTransaction for Clef, the default;
// eth_signTransaction for web3signer) and the account it signs for.
type SignerFile struct {
	URL     string `yaml:"url"`
	Method  string `yaml:"method"`
	Address string `yaml:"address"`
}

// VaultFile is a vault's on-chain address.
type VaultFile struct {
	ID      string `yaml:"id"`
	Address string `yaml:"address"`
	// Safe, in send mode, says Address is a Safe the keystore's account
	// owns (threshold 1): the calls are executed through it.
	Safe bool `yaml:"safe"`
}

// AllowFile is one allowlist entry: a contract and the functions of it
// that may be called.
type AllowFile struct {
	Contract  string   `yaml:"contract"`
	Functions []string `yaml:"functions"`
	// Note is free text (which contract this is), for the reader.
	Note string `yaml:"note"`
}

// Config is a checked execution section.
type Config struct {
	Mode      string
	ChainID   uint64
	Proposals string
	Vaults    map[string]common.Address
	// Safes are the vaults whose address is a Safe the signer owns (send
	// mode executes through it).
	Safes map[string]bool
	Allow *Allowlist
	Book  *Book
	// Send mode.
	RPC          string
	Signer       Signer // a keystore's key, or an external signer
	JournalPath  string
	MaxFeePerGas *big.Int // wei; nil: no gate
	// Tolerance is reconciliation's, a fraction of NAV.
	Tolerance decimal.Decimal
	// GasGate (gwei) holds non-urgent orders while the chain's gas is
	// above it, for strategies that set no gate of their own.
	GasGate float64
	// DepositConfirmations is the confirmations an API deposit's
	// transfer needs (propose and send modes).
	DepositConfirmations uint64
}

// DefaultGasGateGwei is send mode's gas gate for a strategy that sets no
// rebalance.max_gas_price: above 100 gwei (base fee plus tip) no
// non-urgent order is sent. A judgement: the vaults' gas is costed at 10
// gwei where the data carries none (vaults[].gas_price), so at 100 gwei
// a decision costed that way pays ten times what its gain-over-cost test
// weighed; exits still go (their urgency is the point), bounded only by
// max_fee_gwei.
const DefaultGasGateGwei = 100.0

// protocols a deployment file may name (those a deployment needs no more
// than an asset and contracts for).
var fileProtocols = map[Protocol][]string{AaveV3: {"pool"}, CompoundV3: {"comet"}, ERC4626: {"vault"},
	AaveV3Loop: loopRoles(AaveV3Loop), AaveV3LoopWeETH: loopRoles(AaveV3LoopWeETH), MorphoBlueLoop: loopRoles(MorphoBlueLoop)}

// Check checks an execution section. pos returns file:line:col of a YAML
// path ($.execution.allow[0].contract); abs makes a path absolute;
// universes are the configured vaults' markets by vault ID. Every error
// (KindInvalid) carries the position of the value at fault: a bad
// address or checksum, a contract no market's deployment holds, a
// function the executor never calls on it, a vault without an address,
// and a market of a vault's universe whose calls the allowlist does not
// name (a missing entry) or that has no deployment.
func Check(f *File, pos func(path string) string, abs func(string) string, universes map[string][]string) (*Config, error) {
	errAt := func(p, format string, args ...any) error {
		return &adapters.Error{Op: "execution.Check", Kind: adapters.KindInvalid, Pos: pos(p), Err: fmt.Errorf(format, args...)}
	}
	c := &Config{Mode: f.Mode, ChainID: f.ChainID, Vaults: map[string]common.Address{}, Safes: map[string]bool{}, Allow: NewAllowlist(), Book: Builtin()}
	switch c.Mode {
	case "":
		c.Mode = ModePaper
	case ModePaper, ModePropose, ModeSend:
	default:
		return nil, errAt("$.execution.mode", "execution mode %q is not paper, propose or send", c.Mode)
	}
	if c.ChainID == 0 {
		c.ChainID = 1
	}
	if c.ChainID != 1 {
		// Another chain: only the deployments of the file apply.
		c.Book = NewBook()
	}
	for i, df := range f.Deployments {
		p := fmt.Sprintf("$.execution.deployments[%d]", i)
		d, err := df.check(p, errAt)
		if err != nil {
			return nil, err
		}
		if err := c.Book.Add(d); err != nil {
			return nil, errAt(p+".market", "%v", trimOp(err))
		}
	}
	c.Proposals = f.Proposals
	if c.Proposals == "" {
		c.Proposals = "proposals"
	}
	c.Proposals = abs(c.Proposals)
	for i, v := range f.Vaults {
		p := fmt.Sprintf("$.execution.vaults[%d]", i)
		if _, ok := universes[v.ID]; !ok {
			return nil, errAt(p+".id", "vault %q is not one of the configured vaults", v.ID)
		}
		if _, dup := c.Vaults[v.ID]; dup {
			return nil, errAt(p+".id", "vault %s is listed twice", v.ID)
		}
		a, err := ParseAddress(v.Address)
		if err != nil {
			return nil, errAt(p+".address", "vault %s: %v", v.ID, trimOp(err))
		}
		if a == (common.Address{}) {
			return nil, errAt(p+".address", "vault %s: the zero address is not a vault", v.ID)
		}
		c.Vaults[v.ID] = a
		if v.Safe {
			if c.Mode != ModeSend {
				return nil, errAt(p+".safe", "vault %s: safe applies to send mode (propose mode writes batches for a Safe at any address)", v.ID)
			}
			c.Safes[v.ID] = true
		}
	}
	callable := c.Book.callable()
	for i, e := range f.Allow {
		p := fmt.Sprintf("$.execution.allow[%d]", i)
		a, err := ParseAddress(e.Contract)
		if err != nil {
			return nil, errAt(p+".contract", "%v", trimOp(err))
		}
		fns, ok := callable[a]
		if !ok {
			return nil, errAt(p+".contract", "unknown contract %s: no market's deployment holds it", a.Hex())
		}
		if len(e.Functions) == 0 {
			return nil, errAt(p+".functions", "contract %s: no functions", a.Hex())
		}
		for j, fn := range e.Functions {
			if !fns[fn] {
				return nil, errAt(fmt.Sprintf("%s.functions[%d]", p, j), "the executor never calls %s on %s (it calls %s)", fn, a.Hex(), strings.Join(sortedSet(fns), ", "))
			}
		}
		c.Allow.Allow(a, e.Functions...)
	}
	if c.Mode == ModePaper {
		return c, nil
	}
	c.DepositConfirmations = DefaultDepositConfirmations
	if n := f.DepositConfirmations; n != nil {
		if *n < 1 || *n > 10000 {
			return nil, errAt("$.execution.deposit_confirmations", "deposit_confirmations %d is not within [1, 10000] blocks", *n)
		}
		c.DepositConfirmations = *n
	}
	if c.Mode == ModePropose && f.RPC != "" {
		// Optional in propose mode: API deposits are checked on chain
		// through it.
		if !validRPC(f.RPC) {
			return nil, errAt("$.execution.rpc", "rpc must be an http(s):// or ws(s):// URL or an .ipc path of the node")
		}
		c.RPC = f.RPC
	}
	if c.Mode == ModeSend {
		if err := c.checkSend(f, errAt, abs); err != nil {
			return nil, err
		}
		// Reconciliation compares each vault's book with its address's
		// balances: two vaults on one address would each see the other's.
		seen := map[common.Address]string{}
		for i, v := range f.Vaults {
			a := c.Vaults[v.ID]
			if other, dup := seen[a]; dup {
				return nil, errAt(fmt.Sprintf("$.execution.vaults[%d].address", i), "vaults %s and %s have the same address %s: in send mode each vault needs its own (reconciliation compares a vault's book with its address's balances)", other, v.ID, a.Hex())
			}
			seen[a] = v.ID
		}
	}
	ids := make([]string, 0, len(universes))
	for id := range universes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		addr, ok := c.Vaults[id]
		if !ok {
			return nil, errAt("$.execution.vaults", "vault %s has no address (execution.vaults: id and address)", id)
		}
		enc := &Encoder{Vault: addr, Book: c.Book}
		for _, m := range universes[id] {
			d, err := c.Book.Deployment(m)
			if err != nil {
				return nil, errAt("$.execution.vaults", "vault %s trades %s: %v", id, m, trimOp(err))
			}
			for _, o := range sampleOrders(d) {
				reqs, err := LoopRequests(d, o, 0.01, sampleLoopOf(d))
				if err != nil {
					return nil, errAt("$.execution.vaults", "vault %s trades %s: %v", id, m, trimOp(err))
				}
				for _, r := range reqs {
					calls, err := enc.Calls(r)
					if err != nil {
						return nil, errAt("$.execution.vaults", "vault %s trades %s: %v", id, m, trimOp(err))
					}
					for _, call := range calls {
						if !c.Allow.Allowed(call.To, call.Method.RawName) {
							return nil, errAt("$.execution.allow", "missing allowlist entry: vault %s trades %s, whose %s orders call %s.%s at %s", id, m, o.Side, call.Contract, call.Method.RawName, call.To.Hex())
						}
					}
				}
			}
		}
	}
	return c, nil
}

// sampleOrders are the orders a rebalance may send to a market: a buy
// and an instant sell, and a queued sell where the protocol has a queue.
func sampleOrders(d *Deployment) []vault.Order {
	one := fixed.NewFromInt(1)
	cost := fixed.RequireFromString("0.001")
	out := []vault.Order{{Market: d.Market, Side: vault.Buy, Amount: one}, {Market: d.Market, Side: vault.Sell, Amount: one, EstCost: cost, Mode: adapters.ExitInstant}}
	if d.Protocol == Lido {
		out = append(out, vault.Order{Market: d.Market, Side: vault.Sell, Amount: one, Mode: adapters.ExitQueue})
	}
	if IsLoop(d.Protocol) {
		// A loop opens at a leverage and relevers both ways.
		out[0].Leverage = 3
		out = append(out, vault.Order{Market: d.Market, Side: vault.Relever, Leverage: 3}, vault.Order{Market: d.Market, Side: vault.Relever, Leverage: 1.5})
	}
	return out
}

// sampleLoop is the book sampleOrders' loop orders are encoded with: a
// 2x position at an LTV and threshold of Aave's ETH-correlated e-mode's
// order, in an e-mode category where the venue has them (Aave), as the
// built-in Aave loops' profiles have them (only which calls the orders
// make matters here).
var sampleLoop = &LoopBook{Collateral: decimal.NewFromInt(2), Debt: decimal.NewFromInt(1), Rate: decimal.RequireFromString("1.2"), Peg: 1, LTV: 0.9, LLTV: 0.93}

// sampleLoopOf is sampleLoop for deployment d: in e-mode category 1 on
// an Aave v3 Pool.
func sampleLoopOf(d *Deployment) *LoopBook {
	lb := *sampleLoop
	if loopLenders[d.Protocol] == "pool" {
		lb.EMode = 1
	}
	return &lb
}

// callable is, for every contract of the book, the functions the encoder
// may call on it (found by encoding every operation on every market).
func (b *Book) callable() map[common.Address]map[string]bool {
	out := map[common.Address]map[string]bool{}
	for _, c := range b.Contracts() {
		out[c.Address] = map[string]bool{}
	}
	enc := &Encoder{Vault: common.HexToAddress("0x0000000000000000000000000000000000000001"), Book: b}
	one := big.NewInt(1e6)
	for _, m := range b.Markets() {
		for _, op := range []Op{Supply, Withdraw, Borrow, Repay, Wrap, Unwrap, RequestWithdrawal, ClaimWithdrawal, Swap, Mint, Decrease, Collect, SetEMode} {
			for _, r := range []Request{
				{Market: m, Op: op, Amount: one, MinOut: one, From: 0, To: 1, Shares: one, EMode: 1,
					RequestIDs: []*big.Int{one}, Hints: []*big.Int{one},
					Position: &UniPosition{TokenID: one, TickLower: -60, TickUpper: 60, Amount0: one, Amount1: one, Liquidity: one, Deadline: one}},
				{Market: m, Op: op, Amount: one, MinOut: one, From: 1, To: 0},
				{Market: m, Op: op, All: true},
			} {
				calls, err := enc.Calls(r)
				if err != nil {
					continue
				}
				for _, c := range calls {
					if out[c.To] == nil {
						out[c.To] = map[string]bool{}
					}
					out[c.To][c.Method.RawName] = true
				}
			}
		}
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// trimOp returns an adapters.Error's message without its op prefix, for
// errors re-wrapped at a position.
func trimOp(err error) string {
	if e, ok := err.(*adapters.Error); ok && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}

func (df DeploymentFile) check(p string, errAt func(string, string, ...any) error) (Deployment, error) {
	d := Deployment{Market: df.Market, Protocol: Protocol(df.Protocol), Contracts: map[string]Contract{}}
	if _, _, err := adapters.SplitID(df.Market); err != nil {
		return d, errAt(p+".market", "%v", trimOp(err))
	}
	roles, ok := fileProtocols[d.Protocol]
	if !ok {
		return d, errAt(p+".protocol", "protocol %q: a deployments entry may be aave-v3, aave-v3-loop, aave-v3-loop-weeth, morpho-blue-loop, compound-v3 or erc4626", df.Protocol)
	}
	a, err := ParseAddress(df.Asset.Address)
	if err != nil {
		return d, errAt(p+".asset.address", "%v", trimOp(err))
	}
	if df.Asset.Symbol == "" || df.Asset.Decimals < 0 || df.Asset.Decimals > 36 || df.Asset.Source == "" {
		return d, errAt(p+".asset", "the asset needs a symbol, decimals in [0, 36] and a source")
	}
	d.Asset = Token{Contract: Contract{Name: df.Asset.Symbol, Address: a, Source: df.Asset.Source}, Symbol: df.Asset.Symbol, Decimals: df.Asset.Decimals}
	all := roles
	if rt := loopRoutes[d.Protocol]; rt != nil && rt.queueRole != "" {
		// Optional: the collateral's withdrawal queue, for a queued
		// unwind (without it a queued unwind is refused).
		if _, ok := df.Contracts[rt.queueRole]; ok {
			all = append(slices.Clone(roles), rt.queueRole)
		}
	}
	for _, r := range all {
		cf, ok := df.Contracts[r]
		if !ok {
			return d, errAt(p+".contracts", "protocol %s needs a %s contract", d.Protocol, r)
		}
		a, err := ParseAddress(cf.Address)
		if err != nil {
			return d, errAt(p+".contracts."+r+".address", "%v", trimOp(err))
		}
		if cf.Name == "" || cf.Source == "" {
			return d, errAt(p+".contracts."+r, "contract %s needs a name and a source", r)
		}
		d.Contracts[r] = Contract{Name: cf.Name, Address: a, Source: cf.Source}
	}
	if len(df.Contracts) != len(all) {
		if rt := loopRoutes[d.Protocol]; rt != nil && rt.queueRole != "" {
			return d, errAt(p+".contracts", "protocol %s takes the contracts %v and, optionally, %s only", d.Protocol, roles, rt.queueRole)
		}
		return d, errAt(p+".contracts", "protocol %s takes the contracts %v only", d.Protocol, roles)
	}
	if df.MorphoMarket != nil && d.Protocol != MorphoBlueLoop {
		return d, errAt(p+".morpho_market", "only a morpho-blue-loop names a Morpho market")
	}
	if IsLoop(d.Protocol) {
		// The loop spends and borrows WETH and holds its collateral: its
		// asset must be the weth contract, and its position is the
		// collateral's (wsteth, weeth).
		if d.Asset.Address != d.Contracts["weth"].Address {
			return d, errAt(p+".asset.address", "an %s's asset is its weth contract %s (the WETH it spends and borrows)", d.Protocol, d.Contracts["weth"].Address.Hex())
		}
		if d.Protocol == MorphoBlueLoop {
			mm, err := df.MorphoMarket.check(p+".morpho_market", errAt, d.Contracts["weth"].Address, d.Contracts["wsteth"].Address)
			if err != nil {
				return d, err
			}
			d.MorphoMarket = mm
		}
		rt := loopRoutes[d.Protocol]
		d.Position = rt.position(&d)
		d.Coins = rt.coins(&d)
	}
	return d, nil
}

// checkSend loads send mode's settings: the keystore (decrypted with its
// password now, so a wrong one stops the service at start), the RPC
// URL, the journal and the gas gate. Every vault's address must be the
// keystore's account: it signs for the vault.
func (c *Config) checkSend(f *File, errAt func(string, string, ...any) error, abs func(string) string) error {
	if !validRPC(f.RPC) {
		return errAt("$.execution.rpc", "send mode needs rpc: an http(s):// or ws(s):// URL or an .ipc path of the node")
	}
	c.RPC = f.RPC
	if f.Signer != nil {
		if f.Keystore != "" || f.PasswordEnv != "" || f.PasswordFile != "" {
			return errAt("$.execution.signer", "set signer (an external signer) or keystore with its password, not both")
		}
		sg := f.Signer
		if !(strings.HasPrefix(sg.URL, "http://") || strings.HasPrefix(sg.URL, "https://")) {
			return errAt("$.execution.signer.url", "the signer's url must be http:// or https:// (Clef's --http, web3signer's eth1 endpoint)")
		}
		m := sg.Method
		if m == "" {
			m = SignClef
		}
		if m != SignClef && m != SignEth {
			return errAt("$.execution.signer.method", "signer method %q is not %s (Clef) or %s (web3signer)", sg.Method, SignClef, SignEth)
		}
		a, err := ParseAddress(sg.Address)
		if err != nil {
			return errAt("$.execution.signer.address", "%v", trimOp(err))
		}
		c.Signer = &RPCSigner{URL: sg.URL, Method: m, Account: a}
		return c.checkSendRest(f, errAt, abs)
	}
	if f.Keystore == "" {
		return errAt("$.execution", "send mode needs keystore (the encrypted keystore file of the vault's account) or signer (an external signer)")
	}
	var password string
	switch {
	case f.PasswordEnv != "" && f.PasswordFile != "":
		return errAt("$.execution.password_env", "set password_env or password_file, not both")
	case f.PasswordEnv != "":
		v, ok := lookupEnv(f.PasswordEnv)
		if !ok {
			return errAt("$.execution.password_env", "the environment variable %s is not set", f.PasswordEnv)
		}
		password = v
	case f.PasswordFile != "":
		b, err := os.ReadFile(abs(f.PasswordFile))
		if err != nil {
			return errAt("$.execution.password_file", "cannot read the password file")
		}
		password = strings.TrimRight(string(b), "\r\n")
	default:
		return errAt("$.execution", "send mode needs password_env or password_file: where the keystore's password is read from (never the password itself)")
	}
	s, err := OpenKeystore(abs(f.Keystore), password)
	if err != nil {
		return errAt("$.execution.keystore", "%v", trimOp(err))
	}
	c.Signer = s
	return c.checkSendRest(f, errAt, abs)
}

// checkSendRest checks what send mode needs beside the signer: each
// vault's address (the signer's account, or a Safe it owns), the
// journal, the gas gates and the reconciliation tolerance.
func (c *Config) checkSendRest(f *File, errAt func(string, string, ...any) error, abs func(string) string) error {
	s := c.Signer
	for i, v := range f.Vaults {
		if a := c.Vaults[v.ID]; a != s.Address() && !c.Safes[v.ID] {
			return errAt(fmt.Sprintf("$.execution.vaults[%d].address", i), "vault %s's address %s is not the signing account %s (the keystore's or the external signer's; or set safe: true for a Safe it owns)", v.ID, a.Hex(), s.Address().Hex())
		}
	}
	c.JournalPath = f.Journal
	if c.JournalPath == "" {
		c.JournalPath = "execution-journal.jsonl"
	}
	c.JournalPath = abs(c.JournalPath)
	if f.MaxFeeGwei < 0 || f.MaxFeeGwei > 1e6 {
		return errAt("$.execution.max_fee_gwei", "max_fee_gwei %v is not within [0, 1e6]", f.MaxFeeGwei)
	}
	if f.MaxFeeGwei > 0 {
		c.MaxFeePerGas = decimal.NewFromFloat(f.MaxFeeGwei).Shift(9).BigInt()
	}
	c.GasGate = DefaultGasGateGwei
	if g := f.GasGateGwei; g != nil {
		if !(*g > 0 && *g <= 1e6) {
			return errAt("$.execution.gas_gate_gwei", "gas_gate_gwei %v is not within (0, 1e6]", *g)
		}
		c.GasGate = *g
	}
	c.Tolerance = DefaultTolerance
	if t := f.ReconcileTolerance; t != nil {
		if !(*t > 0 && *t < 1) {
			return errAt("$.execution.reconcile_tolerance", "reconcile_tolerance %v is not a fraction of NAV within (0, 1)", *t)
		}
		c.Tolerance = decimal.NewFromFloat(*t)
	}
	return nil
}

// validRPC reports whether u is an http(s):// or ws(s):// URL or an .ipc
// path.
func validRPC(u string) bool {
	return u != "" && (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "ws://") || strings.HasPrefix(u, "wss://") || strings.HasSuffix(u, ".ipc"))
}

// lookupEnv is os.LookupEnv (a variable for tests).
var lookupEnv = os.LookupEnv

// check parses a morpho-blue-loop's market: every address checksummed,
// the loan token the loop's WETH and the collateral its wstETH, an LLTV
// in (0, 1e18) and a source.
func (mf *MorphoMarketFile) check(p string, errAt func(string, string, ...any) error, weth, wsteth common.Address) (*MorphoMarketParams, error) {
	if mf == nil {
		return nil, errAt(strings.TrimSuffix(p, ".morpho_market"), "a morpho-blue-loop needs morpho_market: the market's loan_token, collateral_token, oracle, irm, lltv and source")
	}
	var addrs [4]common.Address
	for i, f := range []struct{ name, v string }{{"loan_token", mf.LoanToken}, {"collateral_token", mf.CollateralToken}, {"oracle", mf.Oracle}, {"irm", mf.IRM}} {
		a, err := ParseAddress(f.v)
		if err != nil {
			return nil, errAt(p+"."+f.name, "%v", trimOp(err))
		}
		addrs[i] = a
	}
	if addrs[0] != weth {
		return nil, errAt(p+".loan_token", "the market's loan token must be the loop's weth contract %s", weth.Hex())
	}
	if addrs[1] != wsteth {
		return nil, errAt(p+".collateral_token", "the market's collateral token must be the loop's wsteth contract %s", wsteth.Hex())
	}
	lltv, ok := new(big.Int).SetString(mf.LLTV, 10)
	if !ok || lltv.Sign() <= 0 || lltv.Cmp(big.NewInt(1e18)) >= 0 {
		return nil, errAt(p+".lltv", "lltv %q must be an integer in (0, 1e18) (94.5%% is 945000000000000000)", mf.LLTV)
	}
	if mf.Source == "" {
		return nil, errAt(p, "the market needs a source")
	}
	return &MorphoMarketParams{LoanToken: addrs[0], CollateralToken: addrs[1], Oracle: addrs[2], IRM: addrs[3], LLTV: lltv.String(), Source: mf.Source}, nil
}
