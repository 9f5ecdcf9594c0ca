package chaintest

import (
	"context"
	"math/big"
	"reflect"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// transact sends an administrator's call and fails the test if it
// reverts (with the reason eth_call gives).
func (c *chain) transact(t *testing.T, a artifact, to common.Address, method string, args ...any) *types.Receipt {
	t.Helper()
	ctx := context.Background()
	data, err := a.ABI.Pack(method, args...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if _, err := c.client.CallContract(ctx, ethereum.CallMsg{From: c.signer.Address(), To: &to, Data: data}, nil); err != nil {
		t.Fatalf("%s reverts: %v", method, err)
	}
	rc := c.send(t, c.signer.Address(), types.DynamicFeeTx{Gas: 15_000_000, To: &to, Data: data}, c.signer.SignTx)
	if rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("%s reverted on chain", method)
	}
	return rc
}

// address reads a view function's single address result.
func (c *chain) address(t *testing.T, a artifact, at common.Address, method string, args ...any) common.Address {
	t.Helper()
	data, err := a.ABI.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.client.CallContract(context.Background(), ethereum.CallMsg{To: &at, Data: data}, nil)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	vals, err := a.ABI.Unpack(method, out)
	if err != nil {
		t.Fatal(err)
	}
	return vals[0].(common.Address)
}

// aaveMarket deploys Aave v3 with one reserve of asset (aaveDeploy and
// addReserve). It returns the Pool (the proxy) and the reserve's aToken.
func aaveMarket(t *testing.T, c *chain, asset common.Address) (pool, aToken common.Address) {
	t.Helper()
	a := aaveDeploy(t, c)
	return a.pool, a.addReserve(t, c, asset, "tUSD")
}

// aaveV3 is an Aave v3 deployment on the simulated chain.
type aaveV3 struct {
	prov, pool, conf, strategy common.Address
	aImpl, sImpl, vImpl        common.Address
}

// aaveDeploy deploys Aave v3 from its published artifacts (@aave/core-v3
// 1.19.3) the way its deployment scripts do (aave/aave-v3-deploy): the
// addresses provider and ACL manager, the Pool and PoolConfigurator
// implementations linked to their logic libraries and set behind the
// provider's proxies, the published AToken, StableDebtToken and
// VariableDebtToken implementations and an interest rate strategy for the
// reserves addReserve initialises.
func aaveDeploy(t *testing.T, c *chain) *aaveV3 {
	t.Helper()
	me := c.signer.Address()
	art := func(n string) artifact { return loadArtifact(t, "Aave"+n) }
	provider := art("PoolAddressesProvider")
	acl := art("ACLManager")
	prov := c.deploy(t, provider, "yieldvault test market", me)
	c.transact(t, provider, prov, "setACLAdmin", me)
	aclAddr := c.deploy(t, acl, prov)
	c.transact(t, provider, prov, "setACLManager", aclAddr)
	c.transact(t, acl, aclAddr, "addPoolAdmin", me)

	libs := map[string]common.Address{}
	for _, l := range []string{"SupplyLogic", "BorrowLogic", "LiquidationLogic", "EModeLogic", "BridgeLogic", "PoolLogic", "ConfiguratorLogic"} {
		libs[l] = c.deploy(t, art(l))
	}
	libs["FlashLoanLogic"] = c.deployLinked(t, art("FlashLoanLogic"), libs)

	a := &aaveV3{prov: prov}
	poolArt := art("Pool")
	impl := c.deployLinked(t, poolArt, libs, prov)
	c.transact(t, provider, prov, "setPoolImpl", impl)
	a.pool = c.address(t, provider, prov, "getPool")

	confArt := art("PoolConfigurator")
	confImpl := c.deployLinked(t, confArt, libs)
	c.transact(t, provider, prov, "setPoolConfiguratorImpl", confImpl)
	a.conf = c.address(t, provider, prov, "getPoolConfigurator")

	a.aImpl = c.deploy(t, art("AToken"), a.pool)
	a.sImpl = c.deploy(t, art("StableDebtToken"), a.pool)
	a.vImpl = c.deploy(t, art("VariableDebtToken"), a.pool)
	// The Aave v3 Ethereum USDC strategy's shape (optimal usage 90%,
	// slope 1 4%, slope 2 60%, in rays).
	ray := func(s string) *big.Int { return decimal.RequireFromString(s).Shift(27).BigInt() }
	a.strategy = c.deploy(t, art("DefaultReserveInterestRateStrategy"), prov,
		ray("0.9"), ray("0"), ray("0.04"), ray("0.6"), ray("0.005"), ray("0.6"), ray("0.01"), ray("0.08"), ray("0.2"))
	return a
}

// addReserve initialises a reserve of asset (18 decimals) through the
// configurator and returns its aToken.
func (a *aaveV3) addReserve(t *testing.T, c *chain, asset common.Address, sym string) common.Address {
	t.Helper()
	type initReserve struct {
		ATokenImpl                  common.Address
		StableDebtTokenImpl         common.Address
		VariableDebtTokenImpl       common.Address
		UnderlyingAssetDecimals     uint8
		InterestRateStrategyAddress common.Address
		UnderlyingAsset             common.Address
		Treasury                    common.Address
		IncentivesController        common.Address
		ATokenName                  string
		ATokenSymbol                string
		VariableDebtTokenName       string
		VariableDebtTokenSymbol     string
		StableDebtTokenName         string
		StableDebtTokenSymbol       string
		Params                      []byte
	}
	treasury := common.HexToAddress("0x00000000000000000000000000000000000000fe")
	c.transact(t, loadArtifact(t, "AavePoolConfigurator"), a.conf, "initReserves", []initReserve{{
		ATokenImpl: a.aImpl, StableDebtTokenImpl: a.sImpl, VariableDebtTokenImpl: a.vImpl, UnderlyingAssetDecimals: 18,
		InterestRateStrategyAddress: a.strategy, UnderlyingAsset: asset, Treasury: treasury,
		ATokenName: "Aave test " + sym, ATokenSymbol: "aTest" + sym, VariableDebtTokenName: "Aave variable debt " + sym, VariableDebtTokenSymbol: "vdTest" + sym,
		StableDebtTokenName: "Aave stable debt " + sym, StableDebtTokenSymbol: "sdTest" + sym, Params: []byte{},
	}})
	aToken, _ := a.reserve(t, c, asset)
	return aToken
}

// reserve reads a reserve's aToken and variable debt token from the Pool.
func (a *aaveV3) reserve(t *testing.T, c *chain, asset common.Address) (aToken, vdebt common.Address) {
	t.Helper()
	poolArt := loadArtifact(t, "AavePool")
	data, _ := poolArt.ABI.Pack("getReserveData", asset)
	out, err := c.client.CallContract(context.Background(), ethereum.CallMsg{To: &a.pool, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := poolArt.ABI.Unpack("getReserveData", out)
	if err != nil {
		t.Fatal(err)
	}
	rv := reflect.ValueOf(vals[0])
	aToken = rv.FieldByName("ATokenAddress").Interface().(common.Address)
	vdebt = rv.FieldByName("VariableDebtTokenAddress").Interface().(common.Address)
	if aToken == (common.Address{}) {
		t.Fatal("the reserve has no aToken")
	}
	return aToken, vdebt
}

// TestSend_AaveV3 supplies to and withdraws from Aave v3's own Pool,
// deployed from its published artifacts, through the vault's calls, and
// reads the aToken and asset balances back from the contracts.
func TestSend_AaveV3(t *testing.T) {
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	aTokenArt := loadArtifact(t, "AaveAToken")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()
	asset := c.deploy(t, token, "Test USD", "tUSD")
	c.transact(t, token, asset, "mint", me, e18("1000"))
	pool, aToken := aaveMarket(t, c, asset)

	book := execution.NewBook()
	if err := book.Add(execution.Deployment{Market: "aave-test/tusd", Protocol: execution.AaveV3,
		Asset:     execution.Token{Contract: execution.Contract{Name: "tUSD", Address: asset, Source: "deployed by the test"}, Symbol: "tUSD", Decimals: 18},
		Contracts: map[string]execution.Contract{"pool": {Name: "Aave v3 Pool", Address: pool, Source: "deployed by the test from @aave/core-v3"}}}); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	allow.Allow(asset, "approve")
	allow.Allow(pool, "supply", "withdraw")
	cfg := &execution.Config{Mode: execution.ModePropose, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book}
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

	check := func(step, assetWant, aWant string) {
		t.Helper()
		if got := c.uint(t, token, asset, "balanceOf", me); got.Cmp(e18(assetWant)) != 0 {
			t.Errorf("%s: tUSD balance %s, want %s", step, got, e18(assetWant))
		}
		if got := c.uint(t, aTokenArt, aToken, "balanceOf", me); got.Cmp(e18(aWant)) != 0 {
			t.Errorf("%s: aToken balance %s, want %s", step, got, e18(aWant))
		}
	}
	buy := vault.Decision{Time: at, Orders: []vault.Order{{Market: "aave-test/tusd", Side: vault.Buy, Amount: fixed.RequireFromString("250")}}}
	calls, err := cfg.Plan("v", buy, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, "v/rebalance/1", calls); err != nil {
		t.Fatal(err)
	}
	// Nothing borrows: the liquidity index stays one ray, and the aToken
	// balance is the amount supplied.
	check("after the supply", "750", "250")

	sellAll := vault.Decision{Time: at, Orders: []vault.Order{{Market: "aave-test/tusd", Side: vault.Sell, All: true, Amount: fixed.RequireFromString("250"), Mode: adapters.ExitInstant}}}
	calls, err = cfg.Plan("v", sellAll, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, "v/rebalance/2", calls); err != nil {
		t.Fatal(err)
	}
	check("after withdrawing everything", "1000", "0")

	// Withdrawing from an empty position reverts in simulation with
	// Aave's error code (@aave/core-v3 contracts/protocol/libraries/helpers/
	// Errors.sol: '32' = NOT_ENOUGH_AVAILABLE_USER_BALANCE).
	calls, err = cfg.Plan("v", vault.Decision{Time: at, Orders: []vault.Order{{Market: "aave-test/tusd", Side: vault.Sell, Amount: fixed.RequireFromString("1"), Mode: adapters.ExitInstant}}}, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(ctx, "v/rebalance/3", calls)
	var re *execution.RevertError
	if !asRevert(err, &re) || re.Mined || re.Reason != "32" {
		t.Errorf("err = %v, want a simulated revert with Aave's reason 32 (NOT_ENOUGH_AVAILABLE_USER_BALANCE)", err)
	}
}
