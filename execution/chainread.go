package execution

import (
	"context"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/yieldvault/yieldvault/adapters"
)

// ReadChainContracts reads, through the node, the contracts a protocol
// names only on chain from a sourced contract of the book, and adds them
// to their deployments with that source: swell/rsweth's exit contract
// (role "rswexit") is rswETH.AccessControlManager().rswEXIT()
// (swellExitSource). A deployment that already holds the role (a
// contracts file's) is left as it is. Called at start where a node is
// configured; without one the exits that need these contracts are
// refused with the reason.
func (b *Book) ReadChainContracts(ctx context.Context, cl ethereum.ContractCaller) error {
	const op = "execution.ReadChainContracts"
	for _, m := range b.Markets() {
		d := b.deps[m]
		if d.Protocol != Swell {
			continue
		}
		if _, ok := d.Contracts["rswexit"]; ok {
			continue
		}
		rsw, err := d.Contract("rsweth")
		if err != nil {
			return err
		}
		rd := reader{ctx: ctx, cl: cl}
		acm, err := rd.address(swellABI, rsw.Address, "AccessControlManager")
		if err != nil {
			return adapters.E(op, adapters.KindInvalid, "market %s: reading rswETH's access control manager (rswETH.AccessControlManager() at %s): %v", m, rsw.Address.Hex(), trimOp(err))
		}
		exit, err := rd.address(swellACMABI, acm, "rswEXIT")
		if err != nil {
			return adapters.E(op, adapters.KindInvalid, "market %s: reading Swell's exit contract (rswEXIT() of the access control manager %s): %v", m, acm.Hex(), trimOp(err))
		}
		if exit == (common.Address{}) {
			return adapters.E(op, adapters.KindInvalid, "market %s: Swell's access control manager %s names no rswEXIT (the zero address)", m, acm.Hex())
		}
		cs := make(map[string]Contract, len(d.Contracts)+1)
		for r, c := range d.Contracts {
			cs[r] = c
		}
		cs["rswexit"] = Contract{Name: "rswEXIT", Address: exit, Source: swellExitSource}
		d.Contracts = cs
	}
	return nil
}
