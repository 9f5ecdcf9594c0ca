package execution

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// Modes of execution.
const (
	ModePaper   = "paper"   // the adapters' models, nothing on chain (the default)
	ModePropose = "propose" // Safe Transaction Builder batches written to a folder, nothing sent
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
}

// VaultFile is a vault's on-chain address.
type VaultFile struct {
	ID      string `yaml:"id"`
	Address string `yaml:"address"`
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
	Allow     *Allowlist
	Book      *Book
}

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
	c := &Config{Mode: f.Mode, ChainID: f.ChainID, Vaults: map[string]common.Address{}, Allow: NewAllowlist(), Book: Builtin()}
	switch c.Mode {
	case "":
		c.Mode = ModePaper
	case ModePaper, ModePropose:
	case "send":
		return nil, errAt("$.execution.mode", "execution mode send is not available yet (use propose, or paper)")
	default:
		return nil, errAt("$.execution.mode", "execution mode %q is not paper or propose", c.Mode)
	}
	if c.ChainID == 0 {
		c.ChainID = 1
	}
	if c.ChainID != 1 {
		return nil, errAt("$.execution.chain_id", "chain_id %d: the deployment table is Ethereum mainnet's (chain 1)", c.ChainID)
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
				reqs, err := Requests(d, o, 0.01)
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
	one := decimal.NewFromInt(1)
	cost := decimal.RequireFromString("0.001")
	out := []vault.Order{{Market: d.Market, Side: vault.Buy, Amount: one}, {Market: d.Market, Side: vault.Sell, Amount: one, EstCost: cost, Mode: adapters.ExitInstant}}
	if d.Protocol == Lido {
		out = append(out, vault.Order{Market: d.Market, Side: vault.Sell, Amount: one, Mode: adapters.ExitQueue})
	}
	return out
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
		for _, op := range []Op{Supply, Withdraw, Borrow, Repay, Wrap, Unwrap, RequestWithdrawal, ClaimWithdrawal, Swap, Mint, Decrease, Collect} {
			for _, r := range []Request{
				{Market: m, Op: op, Amount: one, MinOut: one, From: 0, To: 1, Shares: one,
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
