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
// (swellExitSource); an ether.fi deployment's WithdrawRequestNFT (role
// "withdraw_request_nft") is LiquidityPool.withdrawRequestNFT()
// (etherfiNFTSource). A deployment that already holds the role (a
// contracts file's) is left as it is. Called at start where a node is
// configured; without one the exits that need these contracts are
// refused with the reason.
func (b *Book) ReadChainContracts(ctx context.Context, cl ethereum.ContractCaller) error {
	const op = "execution.ReadChainContracts"
	for _, m := range b.Markets() {
		d := b.deps[m]
		if d.Protocol == EtherFi {
			if err := readEtherFiNFT(ctx, cl, m, d); err != nil {
				return err
			}
			continue
		}
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
		d.Contracts = withRole(d.Contracts, "rswexit", Contract{Name: "rswEXIT", Address: exit, Source: swellExitSource})
	}
	return nil
}

func readEtherFiNFT(ctx context.Context, cl ethereum.ContractCaller, m string, d *Deployment) error {
	if _, ok := d.Contracts["withdraw_request_nft"]; ok {
		return nil
	}
	lp, err := d.Contract("liquidity_pool")
	if err != nil {
		return err
	}
	nft, err := (reader{ctx: ctx, cl: cl}).address(etherfiPoolABI, lp.Address, "withdrawRequestNFT")
	if err != nil {
		return adapters.E("execution.ReadChainContracts", adapters.KindInvalid, "market %s: reading ether.fi's WithdrawRequestNFT (LiquidityPool.withdrawRequestNFT() at %s): %v", m, lp.Address.Hex(), trimOp(err))
	}
	if nft == (common.Address{}) {
		return adapters.E("execution.ReadChainContracts", adapters.KindInvalid, "market %s: ether.fi's LiquidityPool %s names no WithdrawRequestNFT (the zero address)", m, lp.Address.Hex())
	}
	d.Contracts = withRole(d.Contracts, "withdraw_request_nft", Contract{Name: "ether.fi WithdrawRequestNFT", Address: nft, Source: etherfiNFTSource})
	return nil
}

// withRole returns a copy of cs with role set to c.
func withRole(cs map[string]Contract, role string, c Contract) map[string]Contract {
	out := make(map[string]Contract, len(cs)+1)
	for r, x := range cs {
		out[r] = x
	}
	out[role] = c
	return out
}
