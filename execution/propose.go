package execution

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// Proposal is what propose mode wrote for one decision.
type Proposal struct {
	Name    string     // file name stem, from the intent key
	Batch   *SafeBatch // the Safe Transaction Builder batch
	Summary string     // the human summary
	Calls   []Call
}

// Plan returns the calls of a decision's orders for a vault, checked
// against the allowlist. A decision needing a call outside it, a
// recipient other than the vault, or an order that cannot be executed on
// chain yet is refused (KindInvalid) with the reason.
func (c *Config) Plan(vaultID string, d vault.Decision, maxLoss float64) ([]Call, error) {
	return c.PlanLoops(vaultID, d, maxLoss, nil)
}

// PlanLoops is Plan with the books of the decision's loop markets (by
// market ID), which their orders' calls need (LoopRequests).
func (c *Config) PlanLoops(vaultID string, d vault.Decision, maxLoss float64, loops map[string]LoopBook) ([]Call, error) {
	const op = "execution.Plan"
	addr, ok := c.Vaults[vaultID]
	if !ok {
		return nil, adapters.E(op, adapters.KindInvalid, "refused: vault %s has no on-chain address", vaultID)
	}
	enc := &Encoder{Vault: addr, Book: c.Book}
	var calls []Call
	for k, o := range d.Orders {
		dep, err := c.Book.Deployment(o.Market)
		if err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "refused: %s", trimOp(err))
		}
		var lb *LoopBook
		if b, ok := loops[o.Market]; ok {
			lb = &b
		}
		reqs, err := LoopRequests(dep, o, maxLoss, lb)
		if err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "refused: %s", trimOp(err))
		}
		for _, r := range reqs {
			cs, err := enc.Calls(r)
			if err != nil {
				return nil, adapters.E(op, adapters.KindInvalid, "refused: %s", trimOp(err))
			}
			for i := range cs {
				cs[i].Order = k
			}
			calls = append(calls, cs...)
		}
	}
	if err := c.Allow.Check(addr, calls); err != nil {
		return nil, err
	}
	return calls, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ProposalName is the file name stem of an intent key's proposal: the
// key without the vault's prefix, with every other character than
// letters, digits, '.', '_' and '-' replaced by '-'.
func ProposalName(vaultID, key string) string {
	k := strings.TrimPrefix(key, vaultID+"/")
	return strings.Trim(unsafeName.ReplaceAllString(k, "-"), "-")
}

// Propose writes the Safe Transaction Builder batch of a decision and its
// human summary to <Proposals>/<vault>/<name>.json and .txt. The files
// depend only on the decision (createdAt is the decision's time), so the
// re-run of an intent after a crash writes the same bytes. Nothing is
// sent. A decision without orders writes nothing.
func (c *Config) Propose(vaultID, key string, d vault.Decision, maxLoss float64) (*Proposal, error) {
	return c.ProposeLoops(vaultID, key, d, maxLoss, nil)
}

// ProposeLoops is Propose with the books of the decision's loop markets
// (PlanLoops).
func (c *Config) ProposeLoops(vaultID, key string, d vault.Decision, maxLoss float64, loops map[string]LoopBook) (*Proposal, error) {
	const op = "execution.Propose"
	if len(d.Orders) == 0 {
		return nil, nil
	}
	calls, err := c.PlanLoops(vaultID, d, maxLoss, loops)
	if err != nil {
		return nil, err
	}
	addr := c.Vaults[vaultID]
	name := ProposalName(vaultID, key)
	desc := fmt.Sprintf("yieldvault %s, intent %s: %d orders", vaultID, key, len(d.Orders))
	b, err := NewSafeBatch(c.ChainID, addr, d.Time.UnixMilli(), "yieldvault "+vaultID+" "+name, desc, calls)
	if err != nil {
		return nil, err
	}
	p := &Proposal{Name: name, Batch: b, Calls: calls, Summary: summary(vaultID, key, addr.Hex(), d, maxLoss, calls)}
	dir := filepath.Join(c.Proposals, vaultID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := writeAtomic(filepath.Join(dir, name+".json"), append(js, '\n')); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(dir, name+".txt"), []byte(p.Summary)); err != nil {
		return nil, err
	}
	return p, nil
}

func summary(vaultID, key, addr string, d vault.Decision, maxLoss float64, calls []Call) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Proposal for vault %s (Safe %s), chain 1\n", vaultID, addr)
	fmt.Fprintf(&b, "intent %s, decided %s (%s)\n\n", key, d.Time.UTC().Format(time.RFC3339), d.Trigger)
	fmt.Fprintf(&b, "Orders (estimated costs %s):\n", d.Costs.StringFixed(8))
	for _, o := range d.Orders {
		amt := o.Amount.StringFixed(8)
		if o.All {
			amt = "all"
		}
		fmt.Fprintf(&b, "- %s %s %s", o.Side, o.Market, amt)
		if o.Side == vault.Sell {
			fmt.Fprintf(&b, " (%s)", o.Mode)
		}
		fmt.Fprintf(&b, ", est. cost %s: %s\n", o.EstCost.StringFixed(8), o.Reason)
	}
	for _, r := range d.Reasons {
		fmt.Fprintf(&b, "  reason: %s\n", r)
	}
	fmt.Fprintf(&b, "\nCalls (%d, in order; swaps revert below their quote less max_loss %.4g):\n", len(calls), maxLoss)
	for i, c := range calls {
		fmt.Fprintf(&b, "%d. %s\n", i+1, c)
	}
	b.WriteString("\nNothing was sent. Import the .json file in the Safe's Transaction Builder, check it, and sign it\n")
	b.WriteString("with the owners. The service's book assumes the batch is executed as the models fill it.\n")
	return b.String()
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return adapters.Wrap("execution.Propose", adapters.KindOther, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return adapters.Wrap("execution.Propose", adapters.KindOther, err)
	}
	return nil
}

// ProposalInfo is a written proposal as the API lists it.
type ProposalInfo struct {
	Name  string `json:"name"`
	Calls int    `json:"calls"`
	Time  string `json:"created_at"`
}

// ListProposals lists a vault's proposals, newest first (none outside
// propose mode; a nil Config is paper mode).
func (c *Config) ListProposals(vaultID string) ([]ProposalInfo, error) {
	if c == nil || c.Mode != ModePropose {
		return []ProposalInfo{}, nil
	}
	return listProposals(filepath.Join(c.Proposals, vaultID))
}

func listProposals(dir string) ([]ProposalInfo, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return []ProposalInfo{}, nil
	}
	if err != nil {
		return nil, adapters.Wrap("execution.Proposals", adapters.KindOther, err)
	}
	out := []ProposalInfo{}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		js, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, adapters.Wrap("execution.Proposals", adapters.KindOther, err)
		}
		var b SafeBatch
		if err := json.Unmarshal(js, &b); err != nil {
			return nil, adapters.Wrap("execution.Proposals", adapters.KindOther, fmt.Errorf("%s: %w", e.Name(), err))
		}
		out = append(out, ProposalInfo{Name: name, Calls: len(b.Transactions), Time: time.UnixMilli(b.CreatedAt).UTC().Format(time.RFC3339)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time > out[j].Time
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

// ReadProposal returns a proposal's file: kind "json" (the batch) or
// "txt" (the summary). A name with anything but the characters
// ProposalName writes is not found.
func (c *Config) ReadProposal(vaultID, name, kind string) ([]byte, error) {
	if c == nil || c.Mode != ModePropose || name == "" || unsafeName.MatchString(name) || strings.HasPrefix(name, ".") || (kind != "json" && kind != "txt") {
		return nil, adapters.E("execution.ReadProposal", adapters.KindNotFound, "no proposal %q", name)
	}
	data, err := os.ReadFile(filepath.Join(c.Proposals, vaultID, name+"."+kind))
	if os.IsNotExist(err) {
		return nil, adapters.E("execution.ReadProposal", adapters.KindNotFound, "no proposal %q for vault %s", name, vaultID)
	}
	if err != nil {
		return nil, adapters.Wrap("execution.ReadProposal", adapters.KindOther, err)
	}
	return data, nil
}
