package execution

import (
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// Units converts an amount of a token (a decimal in whole tokens) to its
// smallest unit, rounding down: a call never spends more than decided.
func Units(amount decimal.Decimal, decimals int) (*big.Int, error) {
	if amount.Sign() < 0 {
		return nil, adapters.E("execution.Units", adapters.KindInvalid, "negative amount %s", amount)
	}
	return amount.Shift(int32(decimals)).Truncate(0).BigInt(), nil
}

// Requests turns one of a rebalance decision's orders into the requests
// that carry it out on chain. The vault's base asset is held as the
// market's Asset (WETH for ETH, USDC or USDT for USD, WBTC for BTC) at
// par: a buy spends Amount of it; a sell of a lending market withdraws
// Amount of it (the whole position when All), since a lending position is
// denominated in its asset.
//
// A swap's minimum out is the order's quote (Amount less EstCost, the
// exit cost the model quoted) less the vault's max_loss: the call
// reverts rather than fill below (1 - maxLoss) of the quote.
//
// Orders whose calls need a chain reading the decision does not carry (a
// share balance, an exchange rate for a wrapped token, an LP token's
// price, a Uniswap position's ticks) are refused with the reason, never
// guessed.
func Requests(d *Deployment, o vault.Order, maxLoss float64) ([]Request, error) {
	return LoopRequests(d, o, maxLoss, nil)
}

// LoopRequests is Requests with a loop market's book (lb; nil for other
// markets): an order on a loop deployment (IsLoop) becomes its rounds
// of requests (loopRequests); on any other market lb is not read.
func LoopRequests(d *Deployment, o vault.Order, maxLoss float64, lb *LoopBook) ([]Request, error) {
	const op = "execution.Requests"
	if IsLoop(d.Protocol) {
		return loopRequests(d, o, maxLoss, lb)
	}
	refuse := func(why string) ([]Request, error) {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: a %s order cannot be executed on chain yet: %s", d.Market, o.Side, why)
	}
	switch {
	case o.Side == vault.Relever:
		return refuse(fmt.Sprintf("relevering a loop to %.4g is not encoded: up, it borrows WETH on the pool, mints the collateral (stake and wrap) and supplies it; down, it withdraws collateral, sells it for WETH (a swap whose minimum out needs the collateral's rate) and repays; nothing of it is sent: relever by hand, or run the vault with the paper executor", o.Leverage))
	case o.Side == vault.Buy && o.Leverage > 1:
		return refuse(fmt.Sprintf("opening a loop at leverage %.4g (supply, then borrow, mint and supply again in rounds or in one flash loan) is not encoded: a plain supply would not borrow", o.Leverage))
	}
	if maxLoss < 0 || maxLoss >= 1 {
		return nil, adapters.E(op, adapters.KindInvalid, "max_loss %v is not within [0, 1)", maxLoss)
	}
	amt, err := Units(o.Amount.Dec(), d.Asset.Decimals)
	if err != nil {
		return nil, err
	}
	if !o.All && amt.Sign() == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: the order's amount %s is below one unit of %s", d.Market, o.Amount, d.Asset.Symbol)
	}
	minOut := func() (*big.Int, error) {
		quote := o.Amount.Sub(o.EstCost)
		if quote.Sign() <= 0 {
			return nil, adapters.E(op, adapters.KindInvalid, "market %s: the quote (amount %s less cost %s) is not positive", d.Market, o.Amount, o.EstCost)
		}
		min := quote.Dec().Mul(decimal.NewFromFloat(1 - maxLoss))
		return Units(min, d.Asset.Decimals)
	}
	r := Request{Market: d.Market, Amount: amt}
	switch o.Side {
	case vault.Buy:
		switch d.Protocol {
		case AaveV3, CompoundV3, MorphoBlue, ERC4626, RocketPool, Renzo, Puffer, EtherFi, Swell:
		case Lido:
			if d.Wrapped {
				// stake and wrap: no rate needed (wrap takes stETH).
				break
			}
		case Kelp:
			return refuse("Kelp's depositETH needs a minimum of rsETH, which needs rsETH's rate from LRTOracle")
		case EigenLayer:
			return refuse("the strategy takes stETH, which the vault (holding WETH) must stake through lido first")
		case Curve:
			return refuse("add_liquidity's minimum needs the LP token's price (get_virtual_price)")
		case UniswapV3:
			return refuse("a position's ticks need the pool's current price (slot0)")
		default:
			return refuse("no entry is encoded for " + string(d.Protocol))
		}
		r.Op = Supply
		return []Request{r}, nil
	case vault.Sell:
		switch d.Protocol {
		case AaveV3, CompoundV3:
			r.Op, r.All = Withdraw, o.All
			return []Request{r}, nil
		case ERC4626:
			if o.All {
				return refuse("withdrawing a whole ERC-4626 position needs its share balance")
			}
			r.Op = Withdraw
			return []Request{r}, nil
		case Lido:
			if d.Wrapped {
				return refuse("a wstETH amount needs stETH's share rate")
			}
			if o.Mode == adapters.ExitQueue {
				r.Op = RequestWithdrawal
				return []Request{r}, nil
			}
			m, err := minOut()
			if err != nil {
				return nil, err
			}
			r.Op, r.MinOut = Swap, m
			return []Request{r}, nil
		}
		if _, ok := d.Contracts["rswexit"]; d.Protocol == Swell && !ok {
			return refuse(swellExitWhy)
		}
		return refuse("the position's token amount needs its exchange rate")
	}
	return nil, adapters.E(op, adapters.KindInvalid, "order side %q is not buy, sell or relever", o.Side)
}
