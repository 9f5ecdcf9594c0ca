package execution

import (
	"context"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"
	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// DefaultTolerance is reconciliation's default tolerance, a fraction of
// the vault's NAV: a market (or idle) whose book value and chain value
// differ by more is a difference that pauses the vault. 0.001 (10 basis
// points) is a judgement: it is above the rounding of the calls (a unit
// or two of the token per order) and above a day of difference between
// the history's rate and the chain's accrual at up to 36% APY apart
// (0.001 x 365), and below any loss an operator would accept unseen
// (a 1 000 000 vault pauses on a 1 000 difference).
var DefaultTolerance = decimal.RequireFromString("0.001")

// Holding is one line of a reconciliation: a market (or "idle", the
// vault's asset tokens, or "<market> debt") with the book's value and
// the chain's, in the base asset.
type Holding struct {
	Market string          `json:"market"`
	Book   decimal.Decimal `json:"book"`
	Chain  decimal.Decimal `json:"chain"`
	// Read says how the chain's value was read; Unread why it could not
	// be (then Chain is zero and the line is not compared).
	Read   string `json:"read,omitempty"`
	Unread string `json:"unread,omitempty"`
}

// Diff is Chain - Book.
func (h Holding) Diff() decimal.Decimal { return h.Chain.Sub(h.Book) }

// Reconciliation compares a vault's book with what the chain holds at
// its address.
type Reconciliation struct {
	Vault    common.Address `json:"vault"`
	Holdings []Holding      `json:"holdings"`
	// NAV is the book's (idle plus the markets' values); Tolerance the
	// largest difference accepted, in the base asset (the configured
	// fraction of NAV, at least one millionth of a token).
	NAV       decimal.Decimal `json:"nav"`
	Tolerance decimal.Decimal `json:"tolerance"`
}

// Differences are the holdings whose book and chain differ by more than
// the tolerance.
func (r *Reconciliation) Differences() []Holding {
	var out []Holding
	for _, h := range r.Holdings {
		if h.Unread == "" && h.Diff().Abs().Cmp(r.Tolerance) > 0 {
			out = append(out, h)
		}
	}
	return out
}

// Unread lists the holdings the chain could not tell, for the journal.
func (r *Reconciliation) Unread() []Holding {
	var out []Holding
	for _, h := range r.Holdings {
		if h.Unread != "" {
			out = append(out, h)
		}
	}
	return out
}

// Describe is the differences in words: "idle: book 980, chain 930
// (-50); ...".
func Describe(hs []Holding) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s: book %s, chain %s (%s)", h.Market, h.Book.StringFixed(6), h.Chain.StringFixed(6), signed(h.Diff().StringFixed(6)))
	}
	return strings.Join(parts, "; ")
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return s
	}
	return "+" + s
}

// dust is the smallest tolerance: a millionth of a token.
var dust = decimal.New(1, -6)

// Reconcile reads what the vault's address holds on chain (the assets
// its markets spend, each market's position valued in the asset, any
// debt) and compares it with the book: idle and the value of each
// market (markets and values in the same order). tolerance is a
// fraction of NAV (zero: DefaultTolerance). A market whose position the
// executor cannot read back is listed with the reason, not compared.
func (c *Config) Reconcile(ctx context.Context, cl ethereum.ContractCaller, vaultID string, idle decimal.Decimal, markets []string, values []decimal.Decimal, tolerance decimal.Decimal) (*Reconciliation, error) {
	return c.ReconcileLoops(ctx, cl, vaultID, idle, markets, values, tolerance, nil)
}

// ReconcileLoops is Reconcile with the books of the vault's loop markets
// (by market ID): each such loop is compared twice more, its collateral
// ("<market> collateral", at the rate) and its debt ("<market> debt",
// negative) with the book's, so that a difference in one cannot hide
// behind an equal one in the other.
func (c *Config) ReconcileLoops(ctx context.Context, cl ethereum.ContractCaller, vaultID string, idle decimal.Decimal, markets []string, values []decimal.Decimal, tolerance decimal.Decimal, loops map[string]LoopBook) (*Reconciliation, error) {
	const op = "execution.Reconcile"
	addr, ok := c.Vaults[vaultID]
	if !ok {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %s has no on-chain address", vaultID)
	}
	if len(markets) != len(values) {
		return nil, adapters.E(op, adapters.KindInvalid, "%d markets and %d values", len(markets), len(values))
	}
	if tolerance.Sign() <= 0 {
		tolerance = DefaultTolerance
	}
	rd := reader{ctx: ctx, cl: cl, vault: addr}
	r := &Reconciliation{Vault: addr, NAV: idle}
	var deps []*Deployment
	for _, m := range markets {
		d, err := c.Book.Deployment(m)
		if err != nil {
			d = nil
		}
		deps = append(deps, d)
	}
	// Idle: the vault's idle tokens (IdleTokens), held at par.
	idleH := Holding{Market: "idle", Book: idle, Chain: decimal.Zero}
	var read []string
	for _, t := range c.IdleTokens(markets) {
		bal, err := rd.uint(erc20ABI, t.Address, "balanceOf", addr)
		if err != nil {
			return nil, err
		}
		idleH.Chain = idleH.Chain.Add(units(bal, t.Decimals))
		read = append(read, t.Symbol+".balanceOf")
	}
	idleH.Read = strings.Join(read, " + ")
	r.Holdings = append(r.Holdings, idleH)
	// queues are the withdrawal queues whose requests a market already
	// counted: the vault's requests are counted once, on the first market
	// (a Lido one, or a loop unwinding through it) that reads its queue.
	queues := map[common.Address]bool{}
	// held are the tokens another market of the vault holds as its
	// position (Lido's stETH and wstETH, ether.fi's weETH): a loop counts
	// the dust of its collateral and underlying at the vault's address
	// only where no such market reads it.
	held := map[common.Address]bool{}
	for _, d := range deps {
		if d != nil && !IsLoop(d.Protocol) && d.Position != nil {
			held[d.Position.Address] = true
		}
		if d != nil && d.Protocol == Lido {
			held[d.Contracts["lido"].Address] = true
		}
	}
	for i, m := range markets {
		r.NAV = r.NAV.Add(values[i])
		h := Holding{Market: m, Book: values[i], Chain: decimal.Zero}
		d := deps[i]
		if d == nil {
			h.Unread = "no on-chain deployment"
			r.Holdings = append(r.Holdings, h)
			continue
		}
		if IsLoop(d.Protocol) {
			lp, err := rd.loop(d, held, queues)
			if err != nil {
				return nil, err
			}
			h.Chain, h.Read = lp.coll.Sub(lp.debt).Add(lp.queued), lp.how
			r.Holdings = append(r.Holdings, h)
			if lb, ok := loops[m]; ok {
				r.Holdings = append(r.Holdings,
					Holding{Market: m + " collateral", Book: lb.Collateral, Chain: lp.coll, Read: lp.collHow},
					Holding{Market: m + " debt", Book: lb.Debt.Neg(), Chain: lp.debt.Neg(), Read: lp.debtHow})
			}
			continue
		}
		q := d.Contracts["queue"].Address
		v, debt, how, err := rd.position(d, !queues[q])
		if err != nil {
			return nil, err
		}
		if d.Protocol == Lido {
			queues[q] = true
		}
		if how == "" {
			h.Unread = v.why
		} else {
			h.Chain, h.Read = v.amount, how
		}
		r.Holdings = append(r.Holdings, h)
		if debt != nil && debt.amount.Sign() > 0 {
			r.Holdings = append(r.Holdings, Holding{Market: m + " debt", Book: decimal.Zero, Chain: debt.amount.Neg(), Read: debt.why})
		}
	}
	r.Tolerance = decimal.Max(r.NAV.Mul(tolerance), dust)
	return r, nil
}

// loopReading is a loop read back: collateral and debt in the base
// asset, and how each was read.
type loopReading struct {
	coll, debt            decimal.Decimal
	how, collHow, debtHow string
	// queued is the stETH of the vault's unclaimed withdrawal requests
	// in the loop's queue (a queued unwind's rounds), where no market
	// before counted them.
	queued decimal.Decimal
}

// loop reads a loop back: its collateral (the collateral token its
// venue holds for the vault, in the underlying by the collateral's rate,
// wstETH.getStETHByWstETH or weETH.getEETHByWeETH, the underlying at par
// as Aave's CAPO oracles and the Morpho market's price it) and its debt,
// as the venue's read says (Aave v3: the collateral reserve's aToken
// balance and the WETH reserve's variable debt token balance; Morpho
// Blue: the position's collateral and its borrow shares' assets); the
// equity, collateral less debt, is what the book values the loop at. The
// collateral and underlying tokens the vault's address holds (wstETH and
// stETH, weETH and eETH) are counted in the collateral, unless another
// market of the vault holds them (held): the dust the loop's wraps and
// unwraps leave there (the rate's slack).
func (rd reader) loop(d *Deployment, held, queues map[common.Address]bool) (loopReading, error) {
	var lr loopReading
	venue, err := venueOf(d, rd.vault)
	if err != nil {
		return lr, err
	}
	rt := loopRoutes[d.Protocol]
	wst, err := d.Contract(rt.collateral)
	if err != nil {
		return lr, err
	}
	under, err := d.Contract(rt.underlying)
	if err != nil {
		return lr, err
	}
	wallet := !held[wst.Address] && !held[under.Address]
	w, debt, collHow, debtHow, err := venue.read(rd, wst.Address)
	if err != nil {
		return lr, err
	}
	lr.collHow, lr.debtHow = collHow, debtHow
	var st *big.Int
	if wallet {
		ww, err := rd.uint(erc20ABI, wst.Address, "balanceOf", rd.vault)
		if err != nil {
			return lr, err
		}
		if st, err = rd.uint(erc20ABI, under.Address, "balanceOf", rd.vault); err != nil {
			return lr, err
		}
		w = new(big.Int).Add(w, ww)
		lr.collHow += fmt.Sprintf(" + %s balanceOf (%s) + %s balanceOf (%s)", rt.collateralSym, units(ww, 18), rt.underlyingSym, units(st, 18))
	}
	coll, err := rd.uint(lstValueABI, wst.Address, rt.rateMethod, w)
	if err != nil {
		return lr, err
	}
	if st != nil {
		coll = new(big.Int).Add(coll, st)
	}
	lr.collHow += fmt.Sprintf(", in %s by %s", rt.underlyingSym, rt.rateMethod)
	lr.coll, lr.debt = units(coll, 18), units(debt, d.Asset.Decimals)
	lr.how = fmt.Sprintf("collateral %s (%s) less debt %s (%s)", lr.coll, lr.collHow, lr.debt, lr.debtHow)
	if q, ok := d.Contracts[rt.queueRole]; ok && rt.queueRole != "" && !queues[q.Address] {
		queues[q.Address] = true
		pending, err := rd.lidoRequests(q.Address)
		if err != nil {
			return lr, err
		}
		lr.queued = units(pending, 18)
		lr.how += fmt.Sprintf(" + the stETH of its unclaimed WithdrawalQueue requests (%s)", lr.queued)
	}
	return lr, nil
}

// reading is an amount read from chain, or why it could not be.
type reading struct {
	amount decimal.Decimal
	why    string
}

type reader struct {
	ctx   context.Context
	cl    ethereum.ContractCaller
	vault common.Address
}

func (rd reader) call(a *abi.ABI, to common.Address, method string, args ...any) ([]any, error) {
	const op = "execution.Reconcile"
	data, err := a.Pack(method, args...)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	out, err := rd.cl.CallContract(rd.ctx, ethereum.CallMsg{To: &to, Data: data}, nil)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("%s at %s: %w", method, to.Hex(), err))
	}
	vals, err := a.Unpack(method, out)
	if err != nil || len(vals) == 0 {
		return nil, adapters.E(op, adapters.KindOther, "%s at %s: an answer that does not decode (%v): is it the contract the deployment names?", method, to.Hex(), err)
	}
	return vals, nil
}

func (rd reader) uint(a *abi.ABI, to common.Address, method string, args ...any) (*big.Int, error) {
	vals, err := rd.call(a, to, method, args...)
	if err != nil {
		return nil, err
	}
	n, ok := vals[0].(*big.Int)
	if !ok {
		return nil, adapters.E("execution.Reconcile", adapters.KindOther, "%s at %s: not a uint256", method, to.Hex())
	}
	return n, nil
}

func (rd reader) address(a *abi.ABI, to common.Address, method string, args ...any) (common.Address, error) {
	vals, err := rd.call(a, to, method, args...)
	if err != nil {
		return common.Address{}, err
	}
	x, ok := vals[0].(common.Address)
	if !ok {
		return common.Address{}, adapters.E("execution.Reconcile", adapters.KindOther, "%s at %s: not an address", method, to.Hex())
	}
	return x, nil
}

func units(n *big.Int, decimals int) decimal.Decimal {
	return decimal.NewFromBigInt(n, int32(-decimals))
}

// position reads a market's position at the vault's address, valued in
// the market's asset; how is empty when the protocol's position cannot
// be read back (the reading's why says why). debt is a lending market's
// debt, when it has one.
func (rd reader) position(d *Deployment, lidoQueue bool) (v reading, debt *reading, how string, err error) {
	dec := d.Asset.Decimals
	switch d.Protocol {
	case AaveV3:
		pool, err := d.Contract("pool")
		if err != nil {
			return v, nil, "", err
		}
		vals, err := rd.call(aaveReserveABI, pool.Address, "getReserveData", d.Asset.Address)
		if err != nil {
			return v, nil, "", err
		}
		rv := reflectFields(vals[0])
		aToken, _ := rv["ATokenAddress"].(common.Address)
		vdebt, _ := rv["VariableDebtTokenAddress"].(common.Address)
		if aToken == (common.Address{}) {
			return v, nil, "", adapters.E("execution.Reconcile", adapters.KindOther, "market %s: the pool %s lists no reserve for %s", d.Market, pool.Address.Hex(), d.Asset.Symbol)
		}
		bal, err := rd.uint(erc20ABI, aToken, "balanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		db, err := rd.uint(erc20ABI, vdebt, "balanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		return reading{amount: units(bal, dec)}, &reading{amount: units(db, dec), why: "variable debt token " + vdebt.Hex() + " balanceOf"}, "aToken " + aToken.Hex() + " balanceOf", nil
	case CompoundV3:
		comet, err := d.Contract("comet")
		if err != nil {
			return v, nil, "", err
		}
		bal, err := rd.uint(cometViewABI, comet.Address, "balanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		db, err := rd.uint(cometViewABI, comet.Address, "borrowBalanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		return reading{amount: units(bal, dec)}, &reading{amount: units(db, dec), why: "Comet borrowBalanceOf"}, "Comet " + comet.Address.Hex() + " balanceOf", nil
	case ERC4626, Puffer:
		vc, err := d.Contract("vault")
		if err != nil {
			return v, nil, "", err
		}
		sh, err := rd.uint(erc4626ViewABI, vc.Address, "balanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		as, err := rd.uint(erc4626ViewABI, vc.Address, "convertToAssets", sh)
		if err != nil {
			return v, nil, "", err
		}
		return reading{amount: units(as, dec)}, nil, fmt.Sprintf("%s convertToAssets(balanceOf = %s shares)", vc.Name, sh), nil
	case Lido:
		lido, err := d.Contract("lido")
		if err != nil {
			return v, nil, "", err
		}
		var amt *big.Int
		how := "stETH balanceOf"
		if d.Wrapped {
			wst, err := d.Contract("wsteth")
			if err != nil {
				return v, nil, "", err
			}
			w, err := rd.uint(erc20ABI, wst.Address, "balanceOf", rd.vault)
			if err != nil {
				return v, nil, "", err
			}
			if amt, err = rd.uint(lstValueABI, wst.Address, "getStETHByWstETH", w); err != nil {
				return v, nil, "", err
			}
			how = "wstETH getStETHByWstETH(balanceOf)"
		} else if amt, err = rd.uint(erc20ABI, lido.Address, "balanceOf", rd.vault); err != nil {
			return v, nil, "", err
		}
		if lidoQueue {
			q, err := d.Contract("queue")
			if err != nil {
				return v, nil, "", err
			}
			pending, err := rd.lidoRequests(q.Address)
			if err != nil {
				return v, nil, "", err
			}
			amt = new(big.Int).Add(amt, pending)
			how += " + the stETH of its unclaimed WithdrawalQueue requests"
		}
		return reading{amount: units(amt, 18)}, nil, how, nil
	case RocketPool, EtherFi:
		tok, method := d.Contracts["reth"], "getEthValue"
		if d.Protocol == EtherFi {
			tok, method = d.Contracts["weeth"], "getEETHByWeETH"
		}
		b, err := rd.uint(erc20ABI, tok.Address, "balanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		eth, err := rd.uint(lstValueABI, tok.Address, method, b)
		if err != nil {
			return v, nil, "", err
		}
		return reading{amount: units(eth, 18)}, nil, tok.Name + " " + method + "(balanceOf)", nil
	case Swell:
		tok := d.Contracts["rsweth"]
		b, err := rd.uint(erc20ABI, tok.Address, "balanceOf", rd.vault)
		if err != nil {
			return v, nil, "", err
		}
		rate, err := rd.uint(swellABI, tok.Address, "rswETHToETHRate")
		if err != nil {
			return v, nil, "", err
		}
		eth := new(big.Int).Div(new(big.Int).Mul(b, rate), big.NewInt(1e18))
		return reading{amount: units(eth, 18)}, nil, "rswETH balanceOf x rswETHToETHRate / 1e18", nil
	}
	return reading{why: unreadable(d)}, nil, "", nil
}

// unreadable says why a protocol's position is not read back.
func unreadable(d *Deployment) string {
	switch d.Protocol {
	case Renzo:
		return "ezETH's value needs Renzo's oracle (RestakeManager.calculateTVLs), which is not read yet"
	case Kelp:
		return "rsETH's value needs Kelp's LRTOracle, which is not read yet"
	case EigenLayer:
		return "EigenLayer strategy shares are not read back yet"
	case Curve, UniswapV3:
		return "an AMM position's value needs the pool's state, which is not read back yet"
	case MorphoBlue:
		return "a Morpho Blue position (supply shares) is not read back yet"
	}
	return "the protocol's position is not read back"
}

// lidoRequests sums the stETH of the vault's unclaimed withdrawal
// requests (finalized or not: the book holds them as claims until the
// claim).
func (rd reader) lidoRequests(queue common.Address) (*big.Int, error) {
	vals, err := rd.call(lidoQueueViewABI, queue, "getWithdrawalRequests", rd.vault)
	if err != nil {
		return nil, err
	}
	ids, _ := vals[0].([]*big.Int)
	sum := new(big.Int)
	if len(ids) == 0 {
		return sum, nil
	}
	vals, err = rd.call(lidoQueueViewABI, queue, "getWithdrawalStatus", ids)
	if err != nil {
		return nil, err
	}
	sts := reflectSlice(vals[0])
	for _, st := range sts {
		f := reflectFields(st)
		if claimed, _ := f["IsClaimed"].(bool); claimed {
			continue
		}
		if a, ok := f["AmountOfStETH"].(*big.Int); ok {
			sum.Add(sum, a)
		}
	}
	return sum, nil
}

// Fill is one order's fill as its transactions' receipts tell it: the
// asset the vault's address spent and received (ERC-20 Transfer events
// of the market's asset, WETH's Withdrawal and Deposit, a Curve
// TokenExchange's ether bought), the position token it sent to a queue,
// and the gas the transactions used and paid.
type Fill struct {
	Order    int
	Spent    *big.Int // asset units
	Received *big.Int // asset units
	Queued   *big.Int // position token units sent to a withdrawal queue
	// RequestIDs are the withdrawal requests the transactions created
	// for the vault (Lido's WithdrawalRequested, owner the vault), for
	// their claim (ReadLoopClaim); Claimed the ether its claims paid it
	// (WithdrawalClaimed).
	RequestIDs []*big.Int
	Claimed    *big.Int
	GasUsed    uint64
	GasPaid    *big.Int // wei
	Hashes     []common.Hash
}

// HashHex is the fill's transaction hashes as 0x-prefixed hex, in order.
func (f *Fill) HashHex() []string {
	out := make([]string, len(f.Hashes))
	for i, h := range f.Hashes {
		out[i] = h.Hex()
	}
	return out
}

var (
	topicRequested  = lidoQueueViewABI.Events["WithdrawalRequested"].ID
	topicClaimed    = lidoQueueViewABI.Events["WithdrawalClaimed"].ID
	topicTransfer   = transferEventABI.Events["Transfer"].ID
	topicDeposit    = transferEventABI.Events["Deposit"].ID
	topicWithdrawal = transferEventABI.Events["Withdrawal"].ID
	topicExchange   = curveEventABI.Events["TokenExchange"].ID
)

// curveEventABI: StableSwap's TokenExchange (curvefi/curve-contract
// contracts/pools/steth/StableSwapSTETH.vy).
var curveEventABI = mustABI("curve-events", `[
{"type":"event","name":"TokenExchange","anonymous":false,"inputs":[{"name":"buyer","type":"address","indexed":true},{"name":"sold_id","type":"int128","indexed":false},{"name":"tokens_sold","type":"uint256","indexed":false},{"name":"bought_id","type":"int128","indexed":false},{"name":"tokens_bought","type":"uint256","indexed":false}]}]`)

// Fills reads each order's fill from the receipts of its calls (sent's
// Call.Order), for the vault at addr.
func (c *Config) Fills(addr common.Address, d vault.Decision, sent []Sent) ([]Fill, error) {
	byOrder := map[int]*Fill{}
	var order []int
	for _, s := range sent {
		k := s.Call.Order
		if k < 0 || k >= len(d.Orders) {
			return nil, adapters.E("execution.Fills", adapters.KindOther, "call %s: order %d of %d", s.Call.Method.RawName, k, len(d.Orders))
		}
		f := byOrder[k]
		if f == nil {
			f = &Fill{Order: k, Spent: new(big.Int), Received: new(big.Int), Queued: new(big.Int), Claimed: new(big.Int), GasPaid: new(big.Int)}
			byOrder[k] = f
			order = append(order, k)
		}
		dep, err := c.Book.Deployment(d.Orders[k].Market)
		if err != nil {
			return nil, err
		}
		f.Hashes = append(f.Hashes, s.Tx.Hash())
		if s.Receipt == nil {
			continue
		}
		f.GasUsed += s.Receipt.GasUsed
		if s.Receipt.EffectiveGasPrice != nil {
			f.GasPaid.Add(f.GasPaid, new(big.Int).Mul(s.Receipt.EffectiveGasPrice, new(big.Int).SetUint64(s.Receipt.GasUsed)))
		}
		for _, l := range s.Receipt.Logs {
			readLog(f, l, dep, addr)
		}
	}
	out := make([]Fill, 0, len(order))
	for _, k := range order {
		out = append(out, *byOrder[k])
	}
	return out, nil
}

func readLog(f *Fill, l *types.Log, d *Deployment, addr common.Address) {
	if len(l.Topics) == 0 {
		return
	}
	word := func(i int) *big.Int {
		if len(l.Data) < 32*(i+1) {
			return new(big.Int)
		}
		return new(big.Int).SetBytes(l.Data[32*i : 32*(i+1)])
	}
	topicAddr := func(i int) common.Address {
		if len(l.Topics) <= i {
			return common.Address{}
		}
		return common.BytesToAddress(l.Topics[i].Bytes())
	}
	asset := d.Asset.Address
	switch {
	case l.Address == asset && l.Topics[0] == topicTransfer && len(l.Topics) == 3:
		if topicAddr(1) == addr {
			f.Spent.Add(f.Spent, word(0))
		}
		if topicAddr(2) == addr {
			f.Received.Add(f.Received, word(0))
		}
	case l.Address == asset && l.Topics[0] == topicWithdrawal && topicAddr(1) == addr:
		f.Spent.Add(f.Spent, word(0)) // WETH unwrapped to send ether
	case l.Address == asset && l.Topics[0] == topicDeposit && topicAddr(1) == addr && !IsLoop(d.Protocol):
		// Ether wrapped back. (A loop's wraps are not counted: they wrap
		// ether its Curve swap bought, counted at the swap, to repay.)
		f.Received.Add(f.Received, word(0))
	case l.Topics[0] == topicExchange && topicAddr(1) == addr && d.Contracts["curve"].Address == l.Address &&
		(loopRoutes[d.Protocol] == nil || loopRoutes[d.Protocol].paysEther):
		// The instant stETH exit: the ether bought (coin 0), at par
		// with the WETH the vault holds. (A venue that pays WETH, the
		// weETH loop's, is counted by WETH's Transfer to the vault.)
		f.Received.Add(f.Received, word(3))
	case d.Position != nil && l.Address == d.Position.Address && l.Topics[0] == topicTransfer && len(l.Topics) == 3 &&
		topicAddr(1) == addr && d.Contracts["queue"].Address == topicAddr(2) && d.Contracts["queue"].Address != (common.Address{}):
		f.Queued.Add(f.Queued, word(0))
	case l.Topics[0] == topicRequested && len(l.Topics) == 4 && topicAddr(3) == addr &&
		d.Contracts["queue"].Address == l.Address && l.Address != (common.Address{}):
		f.RequestIDs = append(f.RequestIDs, new(big.Int).SetBytes(l.Topics[1].Bytes()))
	case l.Topics[0] == topicClaimed && len(l.Topics) == 4 && topicAddr(3) == addr &&
		d.Contracts["queue"].Address == l.Address && l.Address != (common.Address{}):
		f.Claimed.Add(f.Claimed, word(0))
	}
}

// reflectFields maps a struct's field names to their values (go-ethereum's
// abi unpacks a tuple into an anonymous struct whose fields are the
// components' names in CamelCase).
func reflectFields(v any) map[string]any {
	out := map[string]any{}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < rv.NumField(); i++ {
		out[rv.Type().Field(i).Name] = rv.Field(i).Interface()
	}
	return out
}

// reflectSlice lists a slice's elements.
func reflectSlice(v any) []any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}
