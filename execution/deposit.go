package execution

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// DefaultDepositConfirmations is the confirmations (blocks, the
// transfer's own included) an API deposit's transfer needs by default:
// 64, two epochs of 32 slots, after which an Ethereum proof-of-stake
// block is finalized in the normal case ("a block is finalized after two
// epochs": https://ethereum.org/en/developers/docs/consensus-mechanisms/pos/#finality).
// About 13 minutes at 12-second slots.
const DefaultDepositConfirmations = 64

// DepositReader is what checking a deposit reads from the node: the
// transfer's receipt and the chain's head.
type DepositReader interface {
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// DepositProof is a checked deposit transfer.
type DepositProof struct {
	Tx            common.Hash
	Block         uint64
	Confirmations uint64
	Token         Token
	From          common.Address
	To            common.Address
	Amount        decimal.Decimal // token units
}

// IdleTokens are the tokens a vault with these markets holds idle, which
// reconciliation reads back and deposits bring: each distinct asset the
// markets spend (WETH for ether markets, USDC, USDT...), in market
// order, except a token that is a market's position (stETH, EigenLayer's
// asset, is Lido's). Markets without a deployment are skipped.
func (c *Config) IdleTokens(markets []string) []Token {
	positions := map[common.Address]bool{}
	var deps []*Deployment
	for _, m := range markets {
		d, err := c.Book.Deployment(m)
		if err != nil {
			continue
		}
		deps = append(deps, d)
		if d.Position != nil {
			positions[d.Position.Address] = true
		}
	}
	seen := map[common.Address]bool{}
	var out []Token
	for _, d := range deps {
		if seen[d.Asset.Address] || positions[d.Asset.Address] {
			continue
		}
		seen[d.Asset.Address] = true
		out = append(out, d.Asset)
	}
	return out
}

// TxHash is the hash of a transaction written as 0x and 64 hex digits,
// which the caller has checked (the service's API does).
func TxHash(s string) common.Hash { return common.HexToHash(s) }

// CheckDeposit checks that transaction tx brought amount of one of
// tokens (the vault's idle tokens, IdleTokens) to vault vaultID's
// address: its receipt exists and succeeded, its block has at least
// c.DepositConfirmations confirmations, and one ERC-20 Transfer event of
// such a token to the vault's address carries exactly amount (in the
// token's units, amount being in whole tokens). Ether sent as value is
// not a deposit: the vault holds ether as WETH (reconciliation reads
// WETH's balance), so an ether deposit is a WETH transfer. Each refusal
// is KindInvalid and says what did not check out.
func (c *Config) CheckDeposit(ctx context.Context, cl DepositReader, vaultID string, tokens []Token, tx common.Hash, amount decimal.Decimal) (*DepositProof, error) {
	return c.checkTransfer(ctx, "execution.CheckDeposit", cl, vaultID, tokens, tx, amount, false)
}

// CheckWithdrawal is CheckDeposit's mirror for a withdrawal the vault's
// owners paid themselves (propose and send modes): transaction tx
// succeeded with enough confirmations (execution.deposit_confirmations)
// and one ERC-20 Transfer event of one of tokens *from* the vault's
// address carries exactly amount. The proof's To is the recipient.
func (c *Config) CheckWithdrawal(ctx context.Context, cl DepositReader, vaultID string, tokens []Token, tx common.Hash, amount decimal.Decimal) (*DepositProof, error) {
	return c.checkTransfer(ctx, "execution.CheckWithdrawal", cl, vaultID, tokens, tx, amount, true)
}

// checkTransfer checks a transfer of amount to the vault's address, or
// from it when out.
func (c *Config) checkTransfer(ctx context.Context, op string, cl DepositReader, vaultID string, tokens []Token, tx common.Hash, amount decimal.Decimal, out bool) (*DepositProof, error) {
	what, verb, dir := "deposit", "deposit", "to"
	if out {
		what, verb, dir = "withdrawal", "withdraw", "from"
	}
	addr, ok := c.Vaults[vaultID]
	if !ok {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %s has no on-chain address (execution.vaults)", vaultID)
	}
	if len(tokens) == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "vault %s holds no token on chain to %s (its markets have no deployment)", vaultID, verb)
	}
	rc, err := cl.TransactionReceipt(ctx, tx)
	if errors.Is(err, ethereum.NotFound) {
		return nil, adapters.E(op, adapters.KindInvalid, "transaction %s is not mined on chain %d (no receipt): send the transfer first, or wait until it is mined", tx.Hex(), c.ChainID)
	}
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("reading the receipt of %s: %w", tx.Hex(), err))
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		return nil, adapters.E(op, adapters.KindInvalid, "transaction %s reverted on chain (block %s): it moved nothing", tx.Hex(), rc.BlockNumber)
	}
	head, err := cl.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("reading the chain's head: %w", err))
	}
	var conf uint64
	if rc.BlockNumber != nil && head.Number.Cmp(rc.BlockNumber) >= 0 {
		conf = new(big.Int).Sub(head.Number, rc.BlockNumber).Uint64() + 1
	}
	need := c.DepositConfirmations
	if need == 0 {
		need = DefaultDepositConfirmations
	}
	if conf < need {
		return nil, adapters.E(op, adapters.KindInvalid, "transaction %s has %d confirmations, %d are needed (execution.deposit_confirmations): ask again later with a new Idempotency-Key", tx.Hex(), conf, need)
	}
	byAddr := map[common.Address]Token{}
	syms := make([]string, 0, len(tokens))
	for _, t := range tokens {
		byAddr[t.Address] = t
		syms = append(syms, t.Symbol+" "+t.Address.Hex())
	}
	side := 2 // the Transfer's to
	if out {
		side = 1 // its from
	}
	var seen []string
	for _, l := range rc.Logs {
		t, ok := byAddr[l.Address]
		if !ok || len(l.Topics) != 3 || l.Topics[0] != topicTransfer || common.BytesToAddress(l.Topics[side].Bytes()) != addr {
			continue
		}
		v := decimal.NewFromBigInt(new(big.Int).SetBytes(l.Data), -int32(t.Decimals))
		if v.Equal(amount) {
			return &DepositProof{Tx: tx, Block: rc.BlockNumber.Uint64(), Confirmations: conf, Token: t,
				From: common.BytesToAddress(l.Topics[1].Bytes()), To: common.BytesToAddress(l.Topics[2].Bytes()), Amount: v}, nil
		}
		seen = append(seen, v.String()+" "+t.Symbol)
	}
	if len(seen) > 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "transaction %s transferred %s %s the vault's address %s, not the %s the %s names", tx.Hex(), strings.Join(seen, " and "), dir, addr.Hex(), amount, what)
	}
	return nil, adapters.E(op, adapters.KindInvalid, "transaction %s transferred none of the vault's tokens (%s) %s the vault's address %s", tx.Hex(), strings.Join(syms, ", "), dir, addr.Hex())
}
