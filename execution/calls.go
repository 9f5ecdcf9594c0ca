package execution

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/yieldvault/yieldvault/adapters"
)

// Call is one contract call: where it goes, the ether it sends, its
// ABI-encoded data, and the method and arguments it was encoded from (for
// the human summary and the Safe Transaction Builder file).
type Call struct {
	To       common.Address
	Value    *big.Int
	Data     []byte
	Contract string // the contract's name
	Method   abi.Method
	Args     []any
	// Order is the index of the decision's order the call carries out
	// (Config.Plan sets it; fills are read back per order).
	Order int
	// ExtraGas is gas the sender adds to the estimate for work the
	// estimate may not see: a Morpho Blue call estimated in the block
	// of the market's last interaction accrues no interest there, and
	// does when mined in a later one (morphoAccrualGas).
	ExtraGas uint64
}

// Selector is the call's 4-byte function selector.
func (c Call) Selector() [4]byte {
	var s [4]byte
	copy(s[:], c.Data)
	return s
}

// String is the call as a person reads it: contract.method(name=value, ...) [value].
func (c Call) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s.%s(", c.To.Hex(), c.Contract, c.Method.RawName)
	for i, in := range c.Method.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", in.Name, FormatArg(c.Args[i]))
	}
	b.WriteString(")")
	if c.Value != nil && c.Value.Sign() > 0 {
		fmt.Fprintf(&b, " value=%s wei", c.Value)
	}
	return b.String()
}

// FormatArg writes an argument as the Safe Transaction Builder expects a
// value: addresses checksummed, integers in decimal, arrays and tuples as
// JSON-like lists.
func FormatArg(v any) string {
	switch x := v.(type) {
	case common.Address:
		return x.Hex()
	case *big.Int:
		return x.String()
	case []*big.Int:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = n.String()
		}
		return "[" + strings.Join(parts, ",") + "]"
	case [2]*big.Int:
		return "[" + x[0].String() + "," + x[1].String() + "]"
	case [3]*big.Int:
		return "[" + x[0].String() + "," + x[1].String() + "," + x[2].String() + "]"
	case []byte:
		return "0x" + common.Bytes2Hex(x)
	case string:
		return x
	default:
		return fmt.Sprintf("%v", x)
	}
}

func newCall(a *abi.ABI, c Contract, value *big.Int, method string, args ...any) (Call, error) {
	m, ok := a.Methods[method]
	if !ok {
		return Call{}, adapters.E("execution.call", adapters.KindOther, "%s has no method %s", c.Name, method)
	}
	data, err := a.Pack(method, args...)
	if err != nil {
		return Call{}, adapters.Wrap("execution.call", adapters.KindInvalid, fmt.Errorf("%s.%s: %w", c.Name, method, err))
	}
	if value == nil {
		value = new(big.Int)
	}
	return Call{To: c.Address, Value: value, Data: data, Contract: c.Name, Method: m, Args: args}, nil
}

// Op is what a request asks of a market.
type Op string

// The operations. Amounts are in the smallest unit of the token spent:
// the market's asset for Supply, Repay and Swap (the coin From), the
// position token (or shares) for Withdraw, Unwrap and RequestWithdrawal.
const (
	// Supply enters the market: a lending supply, an ERC-4626 deposit,
	// an LST stake or an LRT deposit, a single-sided Curve add.
	Supply Op = "supply"
	// Withdraw leaves it instantly: a lending withdraw, an ERC-4626
	// redeem, a Curve remove_liquidity_one_coin, rETH's burn.
	Withdraw Op = "withdraw"
	// Borrow and Repay a lending market's asset.
	Borrow Op = "borrow"
	Repay  Op = "repay"
	// Wrap and Unwrap a rebasing token (stETH <-> wstETH, eETH <-> weETH).
	Wrap   Op = "wrap"
	Unwrap Op = "unwrap"
	// RequestWithdrawal enters a protocol's withdrawal queue (Lido,
	// ether.fi, EigenLayer); ClaimWithdrawal claims finalized requests.
	RequestWithdrawal Op = "request_withdrawal"
	ClaimWithdrawal   Op = "claim_withdrawal"
	// Swap exchanges coin From for coin To in a Curve pool.
	Swap Op = "swap"
	// SetEMode enters an Aave v3 e-mode category (a loop's, before it
	// borrows at the category's LTV).
	SetEMode Op = "set_emode"
	// Mint, Decrease and Collect a Uniswap v3 position.
	Mint     Op = "mint"
	Decrease Op = "decrease"
	Collect  Op = "collect"
)

// Request is one action on one market.
type Request struct {
	Market string
	Op     Op
	// Amount in the smallest unit of the token spent (see Op).
	Amount *big.Int
	// All withdraws the whole position where the protocol takes
	// type(uint256).max for it (Aave, Compound); elsewhere Amount is
	// needed.
	All bool
	// MinOut is the least the call may return (swaps, Curve adds and
	// removes, Kelp's deposit): below it the call reverts.
	MinOut *big.Int
	// From and To are Curve coin indexes (Swap: From to To; Supply adds
	// coin From; Withdraw removes to coin To).
	From, To int
	// RequestIDs and Hints are a Lido claim's requests and checkpoint
	// hints (findCheckpointHints).
	RequestIDs, Hints []*big.Int
	// Position is a Uniswap v3 position's parameters.
	Position *UniPosition
	// Shares is a second amount: Morpho Blue shares, when a Morpho
	// withdraw (a market's) or a loop's repay on Morpho is given in
	// shares rather than assets; in a loop's Supply the collateral
	// supplied (wstETH, weETH), in its Withdraw the amount sold (the
	// stETH unwrapped, or the weETH itself) (loopRequests).
	Shares *big.Int
	// EMode is a SetEMode request's category id.
	EMode uint8
}

// UniPosition holds a Uniswap v3 mint, decrease or collect's parameters.
type UniPosition struct {
	TokenID                *big.Int // decrease, collect
	TickLower, TickUpper   int32    // mint
	Amount0, Amount1       *big.Int // mint: desired
	Amount0Min, Amount1Min *big.Int
	Liquidity              *big.Int // decrease
	Deadline               *big.Int // unix seconds, mint and decrease
}

// MaxUint256 is type(uint256).max, the "everything" amount of Aave's and
// Comet's withdraw and of unlimited approvals.
var MaxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Encoder turns requests into calls for one vault: every call's
// recipient, owner or onBehalfOf is Vault.
type Encoder struct {
	Vault common.Address
	Book  *Book
}

// Calls returns the calls that carry out r, in order (ERC-20 approvals
// before the calls that spend them, WETH unwraps before native-ETH
// deposits and wraps after native-ETH receipts).
func (e *Encoder) Calls(r Request) ([]Call, error) {
	const op = "execution.Encoder.Calls"
	if e.Vault == (common.Address{}) {
		return nil, adapters.E(op, adapters.KindInvalid, "no vault address")
	}
	d, err := e.Book.Deployment(r.Market)
	if err != nil {
		return nil, err
	}
	if r.Amount != nil && r.Amount.Sign() < 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: negative amount %s", r.Market, r.Amount)
	}
	needAmount := func() error {
		if r.Amount == nil || r.Amount.Sign() == 0 {
			return adapters.E(op, adapters.KindInvalid, "market %s: %s needs a positive amount", r.Market, r.Op)
		}
		return nil
	}
	var calls []Call
	add := func(c Call, err error) error {
		if err != nil {
			return err
		}
		calls = append(calls, c)
		return nil
	}
	unsupported := func() ([]Call, error) {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s (%s): %s is not an action of this protocol", r.Market, d.Protocol, r.Op)
	}
	switch d.Protocol {
	case AaveV3:
		err = e.aave(d, r, add, needAmount)
	case AaveV3Loop, AaveV3LoopWeETH, MorphoBlueLoop:
		err = e.loop(d, r, add, needAmount)
	case CompoundV3:
		err = e.comet(d, r, add, needAmount)
	case MorphoBlue:
		err = e.morpho(d, r, add, needAmount)
	case ERC4626:
		err = e.erc4626(d, r, add, needAmount)
	case Lido:
		err = e.lido(d, r, add, needAmount)
	case RocketPool, Renzo, Kelp, Puffer, EtherFi, Swell:
		err = e.lrt(d, r, add, needAmount)
	case EigenLayer:
		err = e.eigen(d, r, add, needAmount)
	case Curve:
		err = e.curve(d, r, add, needAmount)
	case UniswapV3:
		err = e.uniswap(d, r, add)
	default:
		return unsupported()
	}
	if err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return unsupported()
	}
	return calls, nil
}

type adder func(Call, error) error

// wrapMinted wraps what a stake or deposit of sent wei just minted of a
// rebasing token (stETH, eETH) into its wrapper (wstETH, weETH): an
// approval and the wrap. The token is minted at its share rate, a wei or
// two below the ether sent (stETH's 1-2 wei corner case, docs.lido.fi;
// eETH alike), so the wrap takes two wei less than sent, which never fails.
func wrapMinted(d *Deployment, sent *big.Int, token, wrapper Contract, wrapperABI *abi.ABI, verb string, add func(Call, error) error) error {
	amt := new(big.Int).Sub(sent, big.NewInt(2))
	if amt.Sign() <= 0 {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: amount %s wei too small to %s and wrap", d.Market, sent, verb)
	}
	if err := add(approve(token, wrapper.Address, amt)); err != nil {
		return err
	}
	return add(newCall(wrapperABI, wrapper, nil, "wrap", amt))
}

func approve(token Contract, spender common.Address, amount *big.Int) (Call, error) {
	return newCall(erc20ABI, token, nil, "approve", spender, amount)
}

func errOp(d *Deployment, r Request) error {
	return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s (%s): %s is not an action of this protocol", d.Market, d.Protocol, r.Op)
}

func (e *Encoder) aave(d *Deployment, r Request, add adder, need func() error) error {
	pool, err := d.Contract("pool")
	if err != nil {
		return err
	}
	asset := d.Asset.Address
	const variableRate = 2 // DataTypes.InterestRateMode.VARIABLE
	switch r.Op {
	case Supply, Repay:
		if err := need(); err != nil {
			return err
		}
		if err := add(approve(d.Asset.Contract, pool.Address, r.Amount)); err != nil {
			return err
		}
		if r.Op == Supply {
			return add(newCall(aavePoolABI, pool, nil, "supply", asset, r.Amount, e.Vault, uint16(0)))
		}
		return add(newCall(aavePoolABI, pool, nil, "repay", asset, r.Amount, big.NewInt(variableRate), e.Vault))
	case Withdraw:
		amt := r.Amount
		if r.All {
			amt = MaxUint256
		} else if err := need(); err != nil {
			return err
		}
		return add(newCall(aavePoolABI, pool, nil, "withdraw", asset, amt, e.Vault))
	case Borrow:
		if err := need(); err != nil {
			return err
		}
		return add(newCall(aavePoolABI, pool, nil, "borrow", asset, r.Amount, big.NewInt(variableRate), uint16(0), e.Vault))
	}
	return errOp(d, r)
}

func (e *Encoder) comet(d *Deployment, r Request, add adder, need func() error) error {
	comet, err := d.Contract("comet")
	if err != nil {
		return err
	}
	switch r.Op {
	case Supply, Repay:
		if err := need(); err != nil {
			return err
		}
		if err := add(approve(d.Asset.Contract, comet.Address, r.Amount)); err != nil {
			return err
		}
		return add(newCall(cometABI, comet, nil, "supply", d.Asset.Address, r.Amount))
	case Withdraw, Borrow:
		amt := r.Amount
		if r.All && r.Op == Withdraw {
			amt = MaxUint256 // Comet.withdrawBase: max means the whole balance
		} else if err := need(); err != nil {
			return err
		}
		return add(newCall(cometABI, comet, nil, "withdraw", d.Asset.Address, amt))
	}
	return errOp(d, r)
}

func (e *Encoder) morpho(d *Deployment, r Request, add adder, need func() error) error {
	blue, err := d.Contract("morpho")
	if err != nil {
		return err
	}
	mp, err := morphoParamsOf(d)
	if err != nil {
		return err
	}
	zero := new(big.Int)
	switch r.Op {
	case Supply, Repay:
		if err := need(); err != nil {
			return err
		}
		if err := add(approve(d.Asset.Contract, blue.Address, r.Amount)); err != nil {
			return err
		}
		return add(newCall(morphoBlueABI, blue, nil, string(r.Op), mp, r.Amount, zero, e.Vault, []byte{}))
	case Withdraw, Borrow:
		assets, shares := r.Amount, zero
		if r.Shares != nil && r.Shares.Sign() > 0 && r.Op == Withdraw {
			assets, shares = zero, r.Shares // Morpho takes exactly one of the two
		} else if err := need(); err != nil {
			return err
		}
		return add(newCall(morphoBlueABI, blue, nil, string(r.Op), mp, assets, shares, e.Vault, e.Vault))
	}
	return errOp(d, r)
}

func (e *Encoder) erc4626(d *Deployment, r Request, add adder, need func() error) error {
	v, err := d.Contract("vault")
	if err != nil {
		return err
	}
	switch r.Op {
	case Supply:
		if err := need(); err != nil {
			return err
		}
		if err := add(approve(d.Asset.Contract, v.Address, r.Amount)); err != nil {
			return err
		}
		return add(newCall(erc4626ABI, v, nil, "deposit", r.Amount, e.Vault))
	case Withdraw:
		// Shares redeems them (the whole position: the share balance);
		// otherwise Amount of assets is withdrawn.
		if r.Shares != nil && r.Shares.Sign() > 0 {
			return add(newCall(erc4626ABI, v, nil, "redeem", r.Shares, e.Vault, e.Vault))
		}
		if r.All {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: withdrawing the whole position of an ERC-4626 vault needs its share balance (Shares)", d.Market)
		}
		if err := need(); err != nil {
			return err
		}
		return add(newCall(erc4626ABI, v, nil, "withdraw", r.Amount, e.Vault, e.Vault))
	}
	return errOp(d, r)
}

// unwrapWETH is the WETH.withdraw that turns the vault's WETH into the
// ether a payable deposit sends.
func unwrapWETH(d *Deployment, amount *big.Int, add adder) error {
	weth, err := d.Contract("weth")
	if err != nil {
		return err
	}
	return add(newCall(weth9ABI, weth, nil, "withdraw", amount))
}

func (e *Encoder) lido(d *Deployment, r Request, add adder, need func() error) error {
	lido, err := d.Contract("lido")
	if err != nil {
		return err
	}
	queue, err := d.Contract("queue")
	if err != nil {
		return err
	}
	var wst Contract
	if d.Wrapped {
		if wst, err = d.Contract("wsteth"); err != nil {
			return err
		}
	}
	switch r.Op {
	case Supply:
		if err := need(); err != nil {
			return err
		}
		if err := unwrapWETH(d, r.Amount, add); err != nil {
			return err
		}
		if err := add(newCall(lidoABI, lido, r.Amount, "submit", common.Address{})); err != nil {
			return err
		}
		if !d.Wrapped {
			return nil
		}
		return wrapMinted(d, r.Amount, lido, wst, wstETHABI, "stake", add)
	case Wrap, Unwrap:
		if !d.Wrapped {
			return errOp(d, r)
		}
		if err := need(); err != nil {
			return err
		}
		if r.Op == Wrap {
			if err := add(approve(lido, wst.Address, r.Amount)); err != nil {
				return err
			}
			return add(newCall(wstETHABI, wst, nil, "wrap", r.Amount))
		}
		return add(newCall(wstETHABI, wst, nil, "unwrap", r.Amount))
	case RequestWithdrawal:
		if err := need(); err != nil {
			return err
		}
		if !d.Wrapped {
			return lidoRequest(d, add, lido, queue, false, r.Amount, r.Amount, e.Vault)
		}
		// The split needs each part's stETH: the wstETH's at the rate.
		if r.Shares == nil || r.Shares.Sign() <= 0 {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a withdrawal request of wstETH needs the stETH it unwraps to (Shares), to keep each request within the queue's limits", d.Market)
		}
		return lidoRequest(d, add, wst, queue, true, r.Amount, r.Shares, e.Vault)
	case ClaimWithdrawal:
		return lidoClaim(d, add, queue, r)
	case Swap, Withdraw:
		// The instant exit: the Curve stETH/ETH pool (coin 1 to coin 0),
		// after unwrapping wstETH; the ether received is wrapped to WETH
		// by the next decision's deposit (WETH.deposit), not here, as the
		// amount is known only after the swap.
		if err := need(); err != nil {
			return err
		}
		if r.MinOut == nil || r.MinOut.Sign() <= 0 {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a swap needs a positive min out (slippage limit)", d.Market)
		}
		pool, err := d.Contract("curve")
		if err != nil {
			return err
		}
		amt := r.Amount
		if d.Wrapped {
			if err := add(newCall(wstETHABI, wst, nil, "unwrap", r.Amount)); err != nil {
				return err
			}
			// The stETH received is the wstETH amount at the share rate,
			// known to the caller: swap MinOut's quote input is then the
			// stETH amount, which the caller passes as Shares.
			if r.Shares == nil || r.Shares.Sign() <= 0 {
				return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: an instant exit of wstETH needs the stETH amount it unwraps to (Shares)", d.Market)
			}
			amt = r.Shares
		}
		if err := add(approve(lido, pool.Address, amt)); err != nil {
			return err
		}
		return add(newCall(curve2ABI, pool, nil, "exchange", big.NewInt(1), big.NewInt(0), amt, r.MinOut))
	}
	return errOp(d, r)
}

// lidoMinRequest and lidoMaxRequest are WithdrawalQueue's
// MIN_STETH_WITHDRAWAL_AMOUNT (100 wei) and MAX_STETH_WITHDRAWAL_AMOUNT
// (1000 stETH), the bounds of one request's stETH
// (lidofinance/core contracts/0.8.9/WithdrawalQueue.sol,
// _checkWithdrawalRequestAmount: RequestAmountTooSmall, RequestAmountTooLarge).
var (
	lidoMinRequest = big.NewInt(100)
	lidoMaxRequest = new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
)

// lidoRequest approves amount of token (stETH, or wstETH) to Lido's
// WithdrawalQueueERC721 and requests its withdrawal for owner
// (requestWithdrawals, or requestWithdrawalsWstETH when wrapped), split
// so that each request's stETH is within the queue's bounds; steth is the
// stETH the whole amount is worth (amount itself for stETH; for wstETH
// its stETH at the rate, which the queue's unwrap gives).
func lidoRequest(d *Deployment, add adder, token, queue Contract, wrapped bool, amount, steth *big.Int, owner common.Address) error {
	parts, err := lidoSplit(amount, steth, wrapped)
	if err != nil {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: %v", d.Market, err)
	}
	method := "requestWithdrawals"
	if wrapped {
		method = "requestWithdrawalsWstETH"
	}
	if err := add(approve(token, queue.Address, amount)); err != nil {
		return err
	}
	return add(newCall(lidoQueueABI, queue, nil, method, parts, owner))
}

// lidoClaim claims a Lido withdrawal's finalized requests with their
// checkpoint hints (claimWithdrawals; findCheckpointHints gives the
// hints, ReadLoopClaim reads both): the ether goes to the requests'
// owner, the vault's address.
func lidoClaim(d *Deployment, add adder, queue Contract, r Request) error {
	if len(r.RequestIDs) == 0 || len(r.RequestIDs) != len(r.Hints) {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a claim needs request ids and one checkpoint hint per id (findCheckpointHints)", d.Market)
	}
	return add(newCall(lidoQueueABI, queue, nil, "claimWithdrawals", r.RequestIDs, r.Hints))
}

// lidoSplit splits amount of a token worth steth of stETH into requests
// of at most lidoMaxRequest and at least lidoMinRequest of stETH each:
// full parts and the rest, the rest topped up from the part before it
// when it is below the minimum. A wrapped token's parts are bounded
// rateSlack inside the maximum and at twice the minimum, so that a rate
// that moved since steth was computed keeps them within the bounds.
func lidoSplit(amount, steth *big.Int, wrapped bool) ([]*big.Int, error) {
	if amount == nil || steth == nil || amount.Sign() <= 0 || steth.Cmp(lidoMinRequest) < 0 {
		return nil, fmt.Errorf("a withdrawal request of %v (%v of stETH) is below the queue's minimum of %s wei of stETH", amount, steth, lidoMinRequest)
	}
	// max and min are per part in the token's units.
	max := new(big.Int).Set(lidoMaxRequest)
	min := new(big.Int).Set(lidoMinRequest)
	if wrapped {
		max.Mul(max, amount)
		max.Div(max, steth)
		max.Sub(max, new(big.Int).Div(max, big.NewInt(int64(1/rateSlack))))
		min.Mul(min, amount)
		min.Add(min, new(big.Int).Sub(steth, big.NewInt(1)))
		min.Div(min, steth)
		min.Lsh(min, 1)
		if amount.Cmp(min) < 0 {
			return nil, fmt.Errorf("a withdrawal request of %s wei of wstETH (%s of stETH) is too close to the queue's minimum of %s wei of stETH", amount, steth, lidoMinRequest)
		}
	}
	var out []*big.Int
	rest := new(big.Int).Set(amount)
	for rest.Cmp(max) > 0 {
		out = append(out, new(big.Int).Set(max))
		rest.Sub(rest, max)
	}
	if n := len(out); n > 0 && rest.Cmp(min) < 0 {
		top := new(big.Int).Sub(min, rest)
		out[n-1].Sub(out[n-1], top)
		rest.Add(rest, top)
	}
	return append(out, rest), nil
}

// lrt covers the native-ETH entries of Rocket Pool, ether.fi, Renzo, Kelp,
// Puffer and Swell.
func (e *Encoder) lrt(d *Deployment, r Request, add adder, need func() error) error {
	if d.Protocol == Swell && (r.Op == RequestWithdrawal || r.Op == ClaimWithdrawal) {
		return e.swellExit(d, r, add, need)
	}
	if d.Protocol == EtherFi && r.Op == ClaimWithdrawal {
		// claimWithdraw pays a finalized request's ether to the NFT's
		// owner, the vault (WithdrawRequestNFT.sol): one call each.
		nft, ok := d.Contracts["withdraw_request_nft"]
		if !ok {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: %s", d.Market, etherfiClaimWhy)
		}
		if len(r.RequestIDs) == 0 {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a claim names no request", d.Market)
		}
		for _, id := range r.RequestIDs {
			if err := add(newCall(etherfiNFTABI, nft, nil, "claimWithdraw", id)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := need(); err != nil {
		return err
	}
	switch {
	case r.Op == Supply:
		if err := unwrapWETH(d, r.Amount, add); err != nil {
			return err
		}
		switch d.Protocol {
		case RocketPool:
			c, err := d.Contract("deposit_pool")
			if err != nil {
				return err
			}
			return add(newCall(rocketDepositABI, c, r.Amount, "deposit"))
		case Renzo:
			c, err := d.Contract("restake_manager")
			if err != nil {
				return err
			}
			return add(newCall(renzoABI, c, r.Amount, "depositETH"))
		case Kelp:
			c, err := d.Contract("deposit_pool")
			if err != nil {
				return err
			}
			min := r.MinOut
			if min == nil || min.Sign() <= 0 {
				return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: Kelp's depositETH needs a positive minimum of rsETH (MinOut)", d.Market)
			}
			return add(newCall(kelpABI, c, r.Amount, "depositETH", min, ""))
		case Puffer:
			c, err := d.Contract("vault")
			if err != nil {
				return err
			}
			return add(newCall(pufferABI, c, r.Amount, "depositETH", e.Vault))
		case Swell:
			// rswETH mints to msg.sender, the vault's address.
			c, err := d.Contract("rsweth")
			if err != nil {
				return err
			}
			return add(newCall(swellABI, c, r.Amount, "deposit"))
		case EtherFi:
			lp, err := d.Contract("liquidity_pool")
			if err != nil {
				return err
			}
			eeth, err := d.Contract("eeth")
			if err != nil {
				return err
			}
			weeth, err := d.Contract("weeth")
			if err != nil {
				return err
			}
			if err := add(newCall(etherfiPoolABI, lp, r.Amount, "deposit")); err != nil {
				return err
			}
			return wrapMinted(d, r.Amount, eeth, weeth, weETHABI, "deposit", add)
		}
	case r.Op == Withdraw && d.Protocol == RocketPool:
		c, err := d.Contract("reth")
		if err != nil {
			return err
		}
		return add(newCall(rethABI, c, nil, "burn", r.Amount))
	case r.Op == Withdraw && d.Protocol == Puffer:
		c, err := d.Contract("vault")
		if err != nil {
			return err
		}
		return add(newCall(erc4626ABI, c, nil, "redeem", r.Amount, e.Vault, e.Vault))
	case r.Op == Unwrap && d.Protocol == EtherFi:
		weeth, err := d.Contract("weeth")
		if err != nil {
			return err
		}
		return add(newCall(weETHABI, weeth, nil, "unwrap", r.Amount))
	case r.Op == RequestWithdrawal && d.Protocol == EtherFi:
		// eETH is requested (unwrap weETH first); the LiquidityPool pulls
		// it and mints a WithdrawRequestNFT to the recipient.
		lp, err := d.Contract("liquidity_pool")
		if err != nil {
			return err
		}
		eeth, err := d.Contract("eeth")
		if err != nil {
			return err
		}
		if err := add(approve(eeth, lp.Address, r.Amount)); err != nil {
			return err
		}
		return add(newCall(etherfiPoolABI, lp, nil, "requestWithdraw", e.Vault, r.Amount))
	}
	return errOp(d, r)
}

// swellExit encodes rswETH's exit through Swell's rswEXIT, whose
// address ReadChainContracts reads from the chain at start (role
// "rswexit"); without it the exit is refused with the reason.
func (e *Encoder) swellExit(d *Deployment, r Request, add adder, need func() error) error {
	exit, ok := d.Contracts["rswexit"]
	if !ok {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: %s", d.Market, swellExitWhy)
	}
	if r.Op == ClaimWithdrawal {
		// finalizeWithdrawal pays a processed request's ether to the
		// NFT's owner, the vault (RswEXIT.sol): one call per request.
		if len(r.RequestIDs) == 0 {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a claim names no request", d.Market)
		}
		for _, id := range r.RequestIDs {
			if err := add(newCall(swellExitABI, exit, nil, "finalizeWithdrawal", id)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := need(); err != nil {
		return err
	}
	// createWithdrawRequest pulls the rswETH from the sender (an
	// approval first), burns it and mints the request NFT to the
	// sender, the vault (RswEXIT.sol).
	rsw, err := d.Contract("rsweth")
	if err != nil {
		return err
	}
	if err := add(approve(rsw, exit.Address, r.Amount)); err != nil {
		return err
	}
	return add(newCall(swellExitABI, exit, nil, "createWithdrawRequest", r.Amount))
}

type eigenQueueParams struct {
	Strategies    []common.Address
	DepositShares []*big.Int
	Withdrawer    common.Address
}

func (e *Encoder) eigen(d *Deployment, r Request, add adder, need func() error) error {
	if err := need(); err != nil {
		return err
	}
	strategy, err := d.Contract("strategy")
	if err != nil {
		return err
	}
	switch r.Op {
	case Supply:
		sm, err := d.Contract("strategy_manager")
		if err != nil {
			return err
		}
		if err := add(approve(d.Asset.Contract, sm.Address, r.Amount)); err != nil {
			return err
		}
		return add(newCall(eigenStrategyManagerABI, sm, nil, "depositIntoStrategy", strategy.Address, d.Asset.Address, r.Amount))
	case RequestWithdrawal:
		// Amount is in strategy shares. The withdrawer must be the staker
		// (DelegationManager requires it; since the slashing upgrade the
		// field is deprecated and ignored).
		dm, err := d.Contract("delegation_manager")
		if err != nil {
			return err
		}
		p := []eigenQueueParams{{Strategies: []common.Address{strategy.Address}, DepositShares: []*big.Int{r.Amount}, Withdrawer: e.Vault}}
		return add(newCall(eigenDelegationABI, dm, nil, "queueWithdrawals", p))
	}
	return errOp(d, r)
}

func (e *Encoder) curve(d *Deployment, r Request, add adder, need func() error) error {
	pool, err := d.Contract("pool")
	if err != nil {
		return err
	}
	n := len(d.Coins)
	a := curve2ABI
	if n == 3 {
		a = curve3ABI
	} else if n != 2 {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: a pool of %d coins is not encoded", d.Market, n)
	}
	if err := need(); err != nil {
		return err
	}
	if r.MinOut == nil || r.MinOut.Sign() <= 0 {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: %s needs a positive min out (slippage limit)", d.Market, r.Op)
	}
	coin := func(i int) (Token, error) {
		if i < 0 || i >= n {
			return Token{}, adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: coin index %d out of 0..%d", d.Market, i, n-1)
		}
		return d.Coins[i], nil
	}
	// spend prepares coin i of amount: an approval for a token, the
	// value for ether (unwrapped from WETH first).
	spend := func(i int) (*big.Int, error) {
		c, err := coin(i)
		if err != nil {
			return nil, err
		}
		if c.Address == (common.Address{}) {
			if err := unwrapWETH(d, r.Amount, add); err != nil {
				return nil, err
			}
			return r.Amount, nil
		}
		return nil, add(approve(c.Contract, pool.Address, r.Amount))
	}
	switch r.Op {
	case Swap:
		if r.From == r.To {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: swap from coin %d to itself", d.Market, r.From)
		}
		if _, err := coin(r.To); err != nil {
			return err
		}
		value, err := spend(r.From)
		if err != nil {
			return err
		}
		return add(newCall(a, pool, value, "exchange", big.NewInt(int64(r.From)), big.NewInt(int64(r.To)), r.Amount, r.MinOut))
	case Supply:
		value, err := spend(r.From)
		if err != nil {
			return err
		}
		var amounts any
		if n == 2 {
			var v [2]*big.Int
			for i := range v {
				v[i] = new(big.Int)
			}
			v[r.From] = r.Amount
			amounts = v
		} else {
			var v [3]*big.Int
			for i := range v {
				v[i] = new(big.Int)
			}
			v[r.From] = r.Amount
			amounts = v
		}
		return add(newCall(a, pool, value, "add_liquidity", amounts, r.MinOut))
	case Withdraw:
		if _, err := coin(r.To); err != nil {
			return err
		}
		return add(newCall(a, pool, nil, "remove_liquidity_one_coin", r.Amount, big.NewInt(int64(r.To)), r.MinOut))
	}
	return errOp(d, r)
}

type uniMint struct {
	Token0         common.Address
	Token1         common.Address
	Fee            *big.Int
	TickLower      *big.Int
	TickUpper      *big.Int
	Amount0Desired *big.Int
	Amount1Desired *big.Int
	Amount0Min     *big.Int
	Amount1Min     *big.Int
	Recipient      common.Address
	Deadline       *big.Int
}

type uniDecrease struct {
	TokenId    *big.Int
	Liquidity  *big.Int
	Amount0Min *big.Int
	Amount1Min *big.Int
	Deadline   *big.Int
}

type uniCollect struct {
	TokenId    *big.Int
	Recipient  common.Address
	Amount0Max *big.Int
	Amount1Max *big.Int
}

// maxUint128 is type(uint128).max, collect's "everything owed".
var maxUint128 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

func (e *Encoder) uniswap(d *Deployment, r Request, add adder) error {
	npm, err := d.Contract("npm")
	if err != nil {
		return err
	}
	p := r.Position
	if p == nil {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: %s needs the position's parameters", d.Market, r.Op)
	}
	z := func(v *big.Int) *big.Int {
		if v == nil {
			return new(big.Int)
		}
		return v
	}
	if len(d.Coins) != 2 {
		return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: no token0/token1", d.Market)
	}
	switch r.Op {
	case Mint:
		if p.TickLower >= p.TickUpper {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: tick range %d..%d is empty", d.Market, p.TickLower, p.TickUpper)
		}
		if p.Deadline == nil || p.Deadline.Sign() <= 0 {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: mint needs a deadline", d.Market)
		}
		for i, amt := range []*big.Int{p.Amount0, p.Amount1} {
			if amt != nil && amt.Sign() > 0 {
				if err := add(approve(d.Coins[i].Contract, npm.Address, amt)); err != nil {
					return err
				}
			}
		}
		m := uniMint{d.Coins[0].Address, d.Coins[1].Address, big.NewInt(int64(d.FeeTier)), big.NewInt(int64(p.TickLower)), big.NewInt(int64(p.TickUpper)),
			z(p.Amount0), z(p.Amount1), z(p.Amount0Min), z(p.Amount1Min), e.Vault, p.Deadline}
		return add(newCall(uniNPMABI, npm, nil, "mint", m))
	case Decrease:
		if p.TokenID == nil || p.Liquidity == nil || p.Liquidity.Sign() <= 0 || p.Deadline == nil {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: decrease needs a token id, a positive liquidity and a deadline", d.Market)
		}
		return add(newCall(uniNPMABI, npm, nil, "decreaseLiquidity", uniDecrease{p.TokenID, p.Liquidity, z(p.Amount0Min), z(p.Amount1Min), p.Deadline}))
	case Collect:
		if p.TokenID == nil {
			return adapters.E("execution.Encoder.Calls", adapters.KindInvalid, "market %s: collect needs a token id", d.Market)
		}
		return add(newCall(uniNPMABI, npm, nil, "collect", uniCollect{p.TokenID, e.Vault, maxUint128, maxUint128}))
	}
	return errOp(d, r)
}
