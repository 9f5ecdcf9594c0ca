package execution

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// MorphoBlueLoop is a leveraged loop on a Morpho Blue market: wstETH
// supplied as collateral (Morpho.supplyCollateral), WETH borrowed
// (morpho/wsteth-weth-loop). Its deployment names the market by its
// MarketParams (MorphoMarket) and its contracts are Morpho Blue, WETH,
// Lido (stETH), wstETH and the Curve stETH/ETH pool; the rest of the
// loop (stake, wrap, unwrap, swap) is the Aave v3 loop's.
const MorphoBlueLoop Protocol = "morpho-blue-loop"

// loopVenue is the lending venue a loop holds its collateral and its
// debt in: the calls that supply and withdraw the collateral token and
// borrow and repay the debt asset for the vault, and the position read
// back. The loop's other calls (stake, wrap, unwrap, swap) do not depend
// on it.
type loopVenue interface {
	// spender is the address a supply's or a repay's approval names.
	spender() common.Address
	supplyCollateral(token common.Address, amount *big.Int) (Call, error)
	borrow(amount *big.Int) (Call, error)
	// withdrawCollateral withdraws amount of the collateral token; all
	// asks for everything the venue holds where it takes a sentinel
	// for it.
	withdrawCollateral(token common.Address, amount *big.Int, all bool) (Call, error)
	// repay repays amount of the debt asset, or shares of the debt
	// where the venue counts debt in shares (shares non-nil); all asks
	// for the whole debt.
	repay(amount, shares *big.Int, all bool) (Call, error)
	// read returns the vault's collateral (in the collateral token's
	// units) and debt (in the debt asset's), and how each was read.
	read(rd reader, collateral common.Address) (coll, debt *big.Int, collHow, debtHow string, err error)
}

// venueOf returns the lending venue of a loop deployment.
func venueOf(d *Deployment, vault common.Address) (loopVenue, error) {
	switch d.Protocol {
	case AaveV3Loop, AaveV3LoopWeETH:
		pool, err := d.Contract("pool")
		if err != nil {
			return nil, err
		}
		return aaveVenue{d: d, pool: pool, vault: vault}, nil
	case MorphoBlueLoop:
		blue, err := d.Contract("morpho")
		if err != nil {
			return nil, err
		}
		mp, err := morphoParamsOf(d)
		if err != nil {
			return nil, err
		}
		return morphoVenue{d: d, blue: blue, mp: mp, vault: vault}, nil
	}
	return nil, adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s (%s) is not a loop", d.Market, d.Protocol)
}

// aaveVenue is an Aave v3 Pool (aave/aave-v3-core contracts/interfaces/
// IPool.sol): supply and withdraw the collateral reserve, borrow and
// repay the asset's at the variable rate; type(uint256).max withdraws
// or repays everything.
type aaveVenue struct {
	d     *Deployment
	pool  Contract
	vault common.Address
}

const aaveVariableRate = 2 // DataTypes.InterestRateMode.VARIABLE

func (v aaveVenue) spender() common.Address { return v.pool.Address }

func (v aaveVenue) supplyCollateral(token common.Address, amount *big.Int) (Call, error) {
	return newCall(aavePoolABI, v.pool, nil, "supply", token, amount, v.vault, uint16(0))
}

func (v aaveVenue) borrow(amount *big.Int) (Call, error) {
	return newCall(aavePoolABI, v.pool, nil, "borrow", v.d.Asset.Address, amount, big.NewInt(aaveVariableRate), uint16(0), v.vault)
}

func (v aaveVenue) withdrawCollateral(token common.Address, amount *big.Int, all bool) (Call, error) {
	if all {
		amount = MaxUint256
	}
	return newCall(aavePoolABI, v.pool, nil, "withdraw", token, amount, v.vault)
}

func (v aaveVenue) repay(amount, _ *big.Int, all bool) (Call, error) {
	if all {
		amount = MaxUint256
	}
	return newCall(aavePoolABI, v.pool, nil, "repay", v.d.Asset.Address, amount, big.NewInt(aaveVariableRate), v.vault)
}

// read: the collateral reserve's aToken balance and the asset reserve's
// variable debt token balance, both found by Pool.getReserveData.
func (v aaveVenue) read(rd reader, collateral common.Address) (coll, debt *big.Int, collHow, debtHow string, err error) {
	const op = "execution.Reconcile"
	reserve := func(asset common.Address, field string) (common.Address, error) {
		vals, err := rd.call(aaveReserveABI, v.pool.Address, "getReserveData", asset)
		if err != nil {
			return common.Address{}, err
		}
		a, _ := reflectFields(vals[0])[field].(common.Address)
		if a == (common.Address{}) {
			return a, adapters.E(op, adapters.KindOther, "market %s: the pool %s lists no reserve for %s", v.d.Market, v.pool.Address.Hex(), asset.Hex())
		}
		return a, nil
	}
	aToken, err := reserve(collateral, "ATokenAddress")
	if err != nil {
		return nil, nil, "", "", err
	}
	vdebt, err := reserve(v.d.Asset.Address, "VariableDebtTokenAddress")
	if err != nil {
		return nil, nil, "", "", err
	}
	if coll, err = rd.uint(erc20ABI, aToken, "balanceOf", rd.vault); err != nil {
		return nil, nil, "", "", err
	}
	if debt, err = rd.uint(erc20ABI, vdebt, "balanceOf", rd.vault); err != nil {
		return nil, nil, "", "", err
	}
	return coll, debt, fmt.Sprintf("aToken %s balanceOf (%s %s)", aToken.Hex(), units(coll, 18), loopRoutes[v.d.Protocol].collateralSym), "variable debt token " + vdebt.Hex() + " balanceOf", nil
}

// morphoVenue is a Morpho Blue market (morpho-org/morpho-blue
// src/Morpho.sol): supplyCollateral and withdrawCollateral move the
// collateral token, which earns nothing there (no sentinel for "all":
// the amount is exact); borrow and repay take assets or shares, exactly
// one of them non-zero; a whole debt is repaid by its shares, since
// assets convert to shares rounding down (SharesMathLib) and shares
// more than held revert.
type morphoVenue struct {
	d     *Deployment
	blue  Contract
	mp    morphoParams
	vault common.Address
}

func (v morphoVenue) spender() common.Address { return v.blue.Address }

func (v morphoVenue) supplyCollateral(_ common.Address, amount *big.Int) (Call, error) {
	return newCall(morphoBlueABI, v.blue, nil, "supplyCollateral", v.mp, amount, v.vault, []byte{})
}

// morphoAccrualGas is the gas a Morpho Blue borrow, repay or collateral
// withdrawal is given above its estimate: each accrues the market's
// interest first (Morpho._accrueInterest: the IRM's borrowRate, which
// the AdaptiveCurveIrm answers with a storage write, then the market's
// totals and last update written and an AccrueInterest event), but only
// when the block's timestamp moved since the market's last update. An
// estimate run on the block of the loop's previous call on the market
// sees no time elapsed and leaves that work out, and the 20% the sender
// adds need not cover it (the test's mined withdrawal ran out of gas
// without it). 60,000 is a judgement: about twice the cold storage
// reads and writes and the external call that work takes; gas not used
// is not paid.
const morphoAccrualGas = 60_000

func accrues(c Call, err error) (Call, error) {
	c.ExtraGas = morphoAccrualGas
	return c, err
}

func (v morphoVenue) borrow(amount *big.Int) (Call, error) {
	return accrues(newCall(morphoBlueABI, v.blue, nil, "borrow", v.mp, amount, new(big.Int), v.vault, v.vault))
}

func (v morphoVenue) withdrawCollateral(_ common.Address, amount *big.Int, _ bool) (Call, error) {
	return accrues(newCall(morphoBlueABI, v.blue, nil, "withdrawCollateral", v.mp, amount, v.vault, v.vault))
}

func (v morphoVenue) repay(amount, shares *big.Int, all bool) (Call, error) {
	if shares != nil && shares.Sign() > 0 {
		return accrues(newCall(morphoBlueABI, v.blue, nil, "repay", v.mp, new(big.Int), shares, v.vault, []byte{}))
	}
	if all {
		return Call{}, adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a whole Morpho Blue debt is repaid by its borrow shares, read on chain (send mode reads them); none were given", v.d.Market)
	}
	return accrues(newCall(morphoBlueABI, v.blue, nil, "repay", v.mp, amount, new(big.Int), v.vault, []byte{}))
}

// read: Morpho.position(id, vault)'s collateral and borrow shares, the
// shares converted to assets at Morpho.market(id)'s totals rounding up
// (SharesMathLib.toAssetsUp, as Morpho's health check counts debt), the
// totals with the interest accrued since the market's last interaction
// (readMorpho).
func (v morphoVenue) read(rd reader, _ common.Address) (coll, debt *big.Int, collHow, debtHow string, err error) {
	st, err := readMorpho(rd, v.blue.Address, v.mp)
	if err != nil {
		return nil, nil, "", "", err
	}
	debt = morphoToAssetsUp(st.BorrowShares, st.TotalBorrowAssets, st.TotalBorrowShares)
	id := v.mp.id()
	return st.Collateral, debt,
		fmt.Sprintf("Morpho %s position(%s).collateral (%s wstETH)", v.blue.Address.Hex(), id.Hex(), units(st.Collateral, 18)),
		fmt.Sprintf("Morpho position(%s).borrowShares %s at market(%s)'s totals with the interest accrued since (%s assets / %s shares), rounded up", id.Hex(), st.BorrowShares, id.Hex(), st.TotalBorrowAssets, st.TotalBorrowShares), nil
}

// VenueState is a loop's position as its venue holds it, in its own
// units, read on chain (ChainRates) where a whole exit needs exact
// amounts: on Morpho Blue the collateral (the collateral token's units,
// which earn nothing) and the borrow shares with the market's totals,
// so that the last withdrawal takes exactly the collateral and the
// repayments exactly the shares.
type VenueState struct {
	Collateral, BorrowShares             *big.Int
	TotalBorrowAssets, TotalBorrowShares *big.Int
}

// The virtual shares and assets of Morpho Blue's share accounting
// (morpho-org/morpho-blue src/libraries/SharesMathLib.sol: VIRTUAL_SHARES
// = 1e6, VIRTUAL_ASSETS = 1).
var (
	morphoVirtualShares = big.NewInt(1e6)
	morphoVirtualAssets = big.NewInt(1)
)

// morphoToAssetsUp is SharesMathLib.toAssetsUp: shares x (totalAssets +
// 1) / (totalShares + 1e6), rounded up.
func morphoToAssetsUp(shares, totalAssets, totalShares *big.Int) *big.Int {
	num := new(big.Int).Mul(shares, new(big.Int).Add(totalAssets, morphoVirtualAssets))
	den := new(big.Int).Add(totalShares, morphoVirtualShares)
	return ceilDiv(num, den)
}

// morphoToSharesDown is SharesMathLib.toSharesDown: assets x
// (totalShares + 1e6) / (totalAssets + 1), rounded down.
func morphoToSharesDown(assets, totalAssets, totalShares *big.Int) *big.Int {
	num := new(big.Int).Mul(assets, new(big.Int).Add(totalShares, morphoVirtualShares))
	return num.Quo(num, new(big.Int).Add(totalAssets, morphoVirtualAssets))
}

func ceilDiv(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

type morphoParams struct {
	LoanToken       common.Address
	CollateralToken common.Address
	Oracle          common.Address
	Irm             common.Address
	Lltv            *big.Int
}

func morphoParamsOf(d *Deployment) (morphoParams, error) {
	if d.MorphoMarket == nil {
		return morphoParams{}, adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: no Morpho Blue market parameters", d.Market)
	}
	lltv, ok := new(big.Int).SetString(d.MorphoMarket.LLTV, 10)
	if !ok || lltv.Sign() <= 0 {
		return morphoParams{}, adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: lltv %q is not a positive integer", d.Market, d.MorphoMarket.LLTV)
	}
	m := d.MorphoMarket
	return morphoParams{m.LoanToken, m.CollateralToken, m.Oracle, m.IRM, lltv}, nil
}

var morphoParamsArgs = func() abi.Arguments {
	addr, _ := abi.NewType("address", "", nil)
	u256, _ := abi.NewType("uint256", "", nil)
	return abi.Arguments{{Type: addr}, {Type: addr}, {Type: addr}, {Type: addr}, {Type: u256}}
}()

// id is the market's Id: keccak256(abi.encode(marketParams))
// (morpho-org/morpho-blue src/libraries/MarketParamsLib.sol).
func (mp morphoParams) id() common.Hash {
	b, err := morphoParamsArgs.Pack(mp.LoanToken, mp.CollateralToken, mp.Oracle, mp.Irm, mp.Lltv)
	if err != nil {
		panic("execution: packing MarketParams: " + err.Error())
	}
	return crypto.Keccak256Hash(b)
}

// MorphoMarketID is a Morpho Blue market's Id, keccak256 of its
// ABI-encoded MarketParams.
func MorphoMarketID(m MorphoMarketParams) (common.Hash, error) {
	mp, err := morphoParamsOf(&Deployment{Market: "morpho", MorphoMarket: &m})
	if err != nil {
		return common.Hash{}, err
	}
	return mp.id(), nil
}

// morphoMarketState is Morpho's Market struct, as borrowRateView takes it.
type morphoMarketState struct {
	TotalSupplyAssets, TotalSupplyShares *big.Int
	TotalBorrowAssets, TotalBorrowShares *big.Int
	LastUpdate, Fee                      *big.Int
}

// headReader is what of a node client gives the latest block's time.
type headReader interface {
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// readMorpho reads the vault's position in a Morpho Blue market and the
// market's borrow totals, with the interest accrued since the market's
// last update as MorphoBalancesLib.expectedMarketBalances computes it
// (the IRM's borrowRateView over the seconds elapsed to the latest
// block, compounded by MathLib.wTaylorCompounded, times the total
// borrowed, rounded down), when the client reads block headers; the
// totals as stored otherwise.
func readMorpho(rd reader, blue common.Address, mp morphoParams) (*VenueState, error) {
	id := mp.id()
	pos, err := rd.call(morphoViewABI, blue, "position", id, rd.vault)
	if err != nil {
		return nil, err
	}
	mk, err := rd.call(morphoViewABI, blue, "market", id)
	if err != nil {
		return nil, err
	}
	st := &VenueState{}
	var ok [4]bool
	st.BorrowShares, ok[0] = pos[1].(*big.Int)
	st.Collateral, ok[1] = pos[2].(*big.Int)
	st.TotalBorrowAssets, ok[2] = mk[2].(*big.Int)
	st.TotalBorrowShares, ok[3] = mk[3].(*big.Int)
	if !(ok[0] && ok[1] && ok[2] && ok[3]) || len(pos) != 3 || len(mk) != 6 {
		return nil, adapters.E("execution.Reconcile", adapters.KindOther, "Morpho %s: position or market of %s does not decode", blue.Hex(), id.Hex())
	}
	hr, ok2 := rd.cl.(headReader)
	if !ok2 || st.TotalBorrowAssets.Sign() == 0 || mp.Irm == (common.Address{}) {
		return st, nil
	}
	var m morphoMarketState
	for i, f := range []**big.Int{&m.TotalSupplyAssets, &m.TotalSupplyShares, &m.TotalBorrowAssets, &m.TotalBorrowShares, &m.LastUpdate, &m.Fee} {
		*f, _ = mk[i].(*big.Int)
		if *f == nil {
			return nil, adapters.E("execution.Reconcile", adapters.KindOther, "Morpho %s: market %s does not decode", blue.Hex(), id.Hex())
		}
	}
	head, err := hr.HeaderByNumber(rd.ctx, nil)
	if err != nil {
		return nil, adapters.Wrap("execution.Reconcile", adapters.KindOther, err)
	}
	elapsed := new(big.Int).Sub(new(big.Int).SetUint64(head.Time), m.LastUpdate)
	if elapsed.Sign() <= 0 {
		return st, nil
	}
	rate, err := rd.uint(morphoIrmABI, mp.Irm, "borrowRateView", mp, m)
	if err != nil {
		return nil, err
	}
	st.TotalBorrowAssets = new(big.Int).Add(st.TotalBorrowAssets, morphoInterest(st.TotalBorrowAssets, rate, elapsed))
	return st, nil
}

var wad = big.NewInt(1e18)

// morphoInterest is the interest on borrowed over elapsed seconds at
// rate per second (1e18 = 100%): borrowed.wMulDown(rate.wTaylorCompounded(
// elapsed)), wTaylorCompounded being nx + (nx)^2/2 + (nx)^3/6 in WAD,
// each term rounded down (morpho-org/morpho-blue src/libraries/MathLib.sol).
func morphoInterest(borrowed, rate, elapsed *big.Int) *big.Int {
	first := new(big.Int).Mul(rate, elapsed)
	second := new(big.Int).Quo(new(big.Int).Mul(first, first), new(big.Int).Mul(big.NewInt(2), wad))
	third := new(big.Int).Quo(new(big.Int).Mul(second, first), new(big.Int).Mul(big.NewInt(3), wad))
	sum := new(big.Int).Add(first, new(big.Int).Add(second, third))
	return sum.Quo(sum.Mul(sum, borrowed), wad)
}

// The journal keeps a loop's chain readings with the intent's rates
// (RecordRates), so that a re-run encodes the same calls: the rate under
// the market's ID, a venue state's fields under "<market> <field>".
var venueFields = []string{"collateral", "borrow_shares", "total_borrow_assets", "total_borrow_shares"}

func (s *VenueState) fields() []**big.Int {
	return []**big.Int{&s.Collateral, &s.BorrowShares, &s.TotalBorrowAssets, &s.TotalBorrowShares}
}

// ChainReadings are the loops' readings from the chain (ChainRates) as
// the journal keeps them with an intent: each loop's rate under its
// market ID and its venue state's fields under "<market> <field>".
func ChainReadings(loops map[string]LoopBook) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for m, lb := range loops {
		out[m] = lb.Rate
		if lb.Venue != nil {
			for i, f := range lb.Venue.fields() {
				out[m+" "+venueFields[i]] = decimal.NewFromBigInt(*f, 0)
			}
		}
	}
	return out
}

// SetChainReadings sets loops' rates and venue states from a map
// ChainReadings wrote; a loop it holds no rate for is left as it is.
func SetChainReadings(loops map[string]LoopBook, rs map[string]decimal.Decimal) {
	for m, lb := range loops {
		r, ok := rs[m]
		if !ok {
			continue
		}
		lb.Rate = r
		st := &VenueState{}
		n := 0
		for i, f := range st.fields() {
			if v, ok := rs[m+" "+venueFields[i]]; ok {
				*f = v.BigInt()
				n++
			}
		}
		if n == len(venueFields) {
			lb.Venue = st
		}
		loops[m] = lb
	}
}
