package importers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

func importString(t *testing.T, f Format, src string) (*history.Batch, error) {
	t.Helper()
	return ImportReader(context.Background(), "in", strings.NewReader(src), f, Options{})
}

func TestImportReader_Datasets(t *testing.T) {
	const aaveHeader = "targetDate,timestamp,blockNumber,reserve,symbol,liquidityIndex,currentLiquidityRate,variableBorrowIndex,currentVariableBorrowRate,currentStableBorrowRate,totalAToken,totalStableDebt,totalVariableDebt,price,date\n"
	tests := []struct {
		name   string
		format Format
		src    string
		want   []history.Row
		skip   int
		note   string
	}{
		{
			name: "lido", format: FormatLidoDefiLlama,
			src:  "date,Lido_APY,Lido_TVL\n2022-05-03,3.6,11074372760.0\n",
			want: []history.Row{{Market: "lido/steth", Line: 2, Obs: obs(1651536000, F{adapters.FieldAPY: 0.036, adapters.FieldTVL: 11074372760})}},
		},
		{
			name: "aavescan WETH", format: FormatAaveScan,
			src: aaveHeader + "2024-01-01T00:00:00Z,1704067200,18908894,0xC02a,WETH,1.0180859234631308,0.0175708783840463,1.03,0.0268980809164918,0.09,500000,0.0,400000,2280.05656,2024-01-01\n",
			want: []history.Row{{Market: "aave-v3/weth", Line: 2, Obs: obs(1704067200, F{
				adapters.FieldIndex: 1.0180859234631308, adapters.FieldBorrowIndex: 1.03, adapters.FieldAPY: aprToAPY(0.0175708783840463),
				adapters.FieldBorrowAPY: aprToAPY(0.0268980809164918), adapters.FieldUtilization: 0.8,
				adapters.FieldSupply: 500000, adapters.FieldBorrows: 400000, adapters.FieldBaseUSD: 2280.05656})}},
		},
		{
			name: "aavescan wstETH without its WETH sibling", format: FormatAaveScan,
			src: aaveHeader + "2024-05-12T00:00:00Z,1715472000,1,0x7f,wstETH,1.0005,0.0000140369,1.0049,0.0030427,0.075,1000,0.0,50,3393.15,2024-05-12\n",
			want: []history.Row{{Market: "aave-v3/wsteth", Line: 2, Obs: obs(1715472000, F{
				adapters.FieldIndex: 1.0005, adapters.FieldBorrowIndex: 1.0049, adapters.FieldAPY: aprToAPY(0.0000140369),
				adapters.FieldBorrowAPY: aprToAPY(0.0030427), adapters.FieldUtilization: 0.05})}},
			note: "supply, borrows and base_usd not stored",
		},
		{
			name: "aave messari", format: FormatAaveMessari,
			src: "date,timestamp,token_symbol,Y_Aave_APY,X_Variable_Borrow_APY,X_Stable_Borrow_APY,X_Aave_Utilization,totalBorrowBalanceUSD,totalDepositBalanceUSD,totalValueLockedUSD,cumulativeSupplySideRevenueUSD,blockNumber\n" +
				"2023-01-27 23:14:47,1674861287,USDC,3.0,3.5,5.4,0.86,693408.5,798408.6,798408.6,23.1,16501363\n",
			want: []history.Row{{Market: "aave-v3/usdc", Line: 2, Obs: obs(1674861287, F{adapters.FieldAPY: 0.03, adapters.FieldBorrowAPY: 0.035,
				adapters.FieldUtilization: 0.86, adapters.FieldBorrows: 693408.5, adapters.FieldSupply: 798408.6, adapters.FieldTVL: 798408.6})}},
		},
		{
			name: "aave defillama csv", format: FormatAaveDefiLlamaCSV,
			src:  "date,Aave_USDC_APY,Aave_USDC_TVL\n2023-02-06,1.80182,6884855.0\n",
			want: []history.Row{{Market: "aave-v3/usdc", Line: 2, Obs: obs(1675641600, F{adapters.FieldAPY: 0.0180182, adapters.FieldExitLiquidity: 6884855})}},
		},
		{
			name: "compound messari", format: FormatCompoundMessari,
			src: "timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,total_deposit_usd,total_borrow_usd,input_token_price_usd\n" +
				"1660369110,2022-08-13 05:38:30,,,0.0,0.0,0.0,0.0\n" +
				"1661554465,2022-08-26 22:54:25,2.5,4.0,72.5,2000.0,1450.0,0.99995875\n" +
				"1661640865,2022-08-27 22:54:25,2.5,4.0,101.2,2000.0,2024.0,1.0\n",
			want: []history.Row{
				{Market: "compound-v3/usdc", Line: 3, Obs: obs(1661554465, F{adapters.FieldAPY: 0.025, adapters.FieldBorrowAPY: 0.04,
					adapters.FieldUtilization: 0.725, adapters.FieldSupply: 2000, adapters.FieldBorrows: 1450, adapters.FieldBaseUSD: 0.99995875})},
				{Market: "compound-v3/usdc", Line: 4, Obs: obs(1661640865, F{adapters.FieldAPY: 0.025, adapters.FieldBorrowAPY: 0.04,
					adapters.FieldUtilization: 1, adapters.FieldSupply: 2000, adapters.FieldBorrows: 2024, adapters.FieldBaseUSD: 1})},
				// USDC's price is also the 3pool's coin 1 price.
				{Market: "curve/3pool", Line: 3, Obs: obs(1661554465, F{adapters.FieldCoin1Price: 0.99995875})},
				{Market: "curve/3pool", Line: 4, Obs: obs(1661640865, F{adapters.FieldCoin1Price: 1})},
			},
			skip: 1, note: "1 utilization values above 100% clamped",
		},
		{
			name: "compound oracle", format: FormatCompoundOracle,
			src:  "symbol,timestamp,USD_price\nrsETH,1673647103,\nrsETH,1673650619,1.0055\n",
			want: []history.Row{{Market: "kelp/rseth", Line: 3, Obs: obs(1673650619, F{adapters.FieldExchangeRate: 1.0055})}},
			skip: 1, note: "not yet listed",
		},
		{
			name: "compound oracle WETH", format: FormatCompoundOracle,
			src:  "symbol,timestamp,USD_price\nWETH,1660372939,2015.2666\n",
			want: []history.Row{{Market: "compound-v3/weth", Line: 2, Obs: obs(1660372939, F{adapters.FieldBaseUSD: 2015.2666})}},
		},
		{
			name: "etherfi", format: FormatEtherfiAPY,
			src: "Timestamp,Date,Base,Reward\n1717545600,2024-06-05,3.49,\n1717632000,2024-06-06,0.00,0.41\n1717718400,2024-06-07,0.00,\n",
			want: []history.Row{
				{Market: "etherfi/weeth", Line: 2, Obs: obs(1717545600, F{adapters.FieldAPY: 0.0349})},
				{Market: "etherfi/weeth", Line: 3, Obs: obs(1717632000, F{adapters.FieldRewardAPY: 0.0041})},
			},
			skip: 1, note: "2 days with Base APY 0.00",
		},
		{
			name: "market vs oracle", format: FormatMarketVsOracle,
			src:  "timestamp_utc,asset,protocol_rate_eth,market_rate_eth_24h_median,dex,peg_premium_percent\n2024-05-13 04:00:00+00:00,weETH,1.0381946977473997,1.03754788941237,curve,-0.06\n",
			want: []history.Row{{Market: "etherfi/weeth", Line: 2, Obs: obs(1715572800, F{adapters.FieldExchangeRate: 1.0381946977473997, adapters.FieldPrice: 1.03754788941237})}},
		},
		{
			name: "steth derived", format: FormatStethEthDerived,
			src: "steth_ts_ms,weth_ts_ms,time_utc,steth_usd,weth_usd,steth_per_eth\n" +
				"1655582401000,1655582000000,2022-06-18T20:00:01Z,1000.0,1074.5,0.930665\n" +
				"1619145256435,1619144256354,2021-04-23T02:34:16Z,2155.2137434864294,2480.5676088212763,0.868839\n",
			want: []history.Row{
				{Market: "lido/steth", Line: 3, Obs: obs(1619145256, F{adapters.FieldBaseUSD: 2480.5676088212763})},
				{Market: "lido/steth", Line: 2, Obs: obs(1655582401, F{adapters.FieldPrice: 1000 / 1074.5, adapters.FieldBaseUSD: 1074.5})},
			},
			note: "1 stETH/ETH prices outside [0.9, 1.005] not stored",
		},
		{
			name: "reth rate", format: FormatRethRate,
			src: "balances_block,event_time_unix,event_time_utc,slot_timestamp_unix,total_eth_wei,staking_eth_wei,reth_supply_wei,eth_per_reth\n" +
				"13337280,1633143234,2021-10-02T02:53:54Z,0,0,0,0,\n" +
				"20682453,1725516767,2024-09-05T06:12:47Z,1725516000,548931903633032450548968,503464014106087834375430,492190776028154186561409,1.115282793519138504\n",
			want: []history.Row{{Market: "rocketpool/reth", Line: 3, Obs: obs(1725516767, F{adapters.FieldExchangeRate: 1.115282793519138504})}},
			skip: 1,
		},
		{
			name: "reth balances", format: FormatRethBalances,
			src:  "[\"0xcb82c0\",\"0x0\",\"0x00\",\"0x00\",\"0x00\",\"0x6157c9c2\"]\n[\"0x13b96d5\",\"0x66d948e0\",\"0x743da87ac45ee1b224e8\",\"0x6a9cd6c1b2d15429d506\",\"0x6839b726931cb9b5f781\",\"0x66d94bdf\"]\n",
			want: []history.Row{{Market: "rocketpool/reth", Line: 2, Obs: obs(0x66d94bdf, F{adapters.FieldExchangeRate: 1.115282793519138504})}},
			skip: 1,
		},
		{
			name: "curve 3pool", format: FormatCurve3Pool,
			src: "date,timestamp,X_USDC_Depeg_Risk,balance_usdc_normalized,balance_dai_normalized,balance_usdt_normalized,balance_total_normalized,raw_balance_usdc,raw_balance_dai,raw_balance_usdt\n" +
				"2020-09-06 20:40:04,1599424804,0.33,0.979010,0.996003517560266008,0.979015,2.954028517560266008,979010,996003517560266008,979015\n",
			want: []history.Row{{Market: "curve/3pool", Line: 2, Obs: obs(1599424804, F{adapters.FieldBalance0: 0.996003517560266008,
				adapters.FieldBalance1: 0.979010, adapters.FieldBalance2: 0.979015, adapters.FieldTVL: 2.954028517560266008})}},
		},
		{
			name: "curve steth", format: FormatCurveStethPool,
			src: "commit,commit_time_unix,commit_time_utc,eth_balance,steth_balance,eth_usd_price,steth_usd_price,pool_usd_total\n" +
				"80cc05,1659133633,2022-07-29T22:27:13Z,225886.985932,591886.730514,1679.19,1635.56,1347373428.8664956\n",
			want: []history.Row{{Market: "curve/steth-eth", Line: 2, Obs: obs(1659133633, F{adapters.FieldBalance0: 225886.985932,
				adapters.FieldBalance1: 591886.730514, adapters.FieldPrice: 1635.56 / 1679.19, adapters.FieldBaseUSD: 1679.19, adapters.FieldTVL: 1347373428.8664956})},
				// The pool is stETH's venue: its balances go to lido/steth
				// too, and its ETH side is stETH's exit liquidity.
				{Market: "lido/steth", Line: 2, Obs: obs(1659133633, F{adapters.FieldBalance0: 225886.985932, adapters.FieldBalance1: 591886.730514, adapters.FieldExitLiquidity: 225886.985932})}},
		},
		{
			name: "uniswap", format: FormatUniswapGecko,
			src: "timestamp,date_utc,open,high,low,close,volume,pool_address,dex,fee_tier,base_token,quote_token,source\n" +
				"1704067200,2024-01-01T00:00:00+00:00Z,2277.2,2289.3,2277.2,2000,1000000,0x4e68,Uniswap v3,0.3%,WETH,USDT,geckoterminal_pro\n",
			want: []history.Row{{Market: "uniswap-v3/weth-usdt", Line: 2, Obs: obs(1704067200, F{adapters.FieldPrice: 2000, adapters.FieldBaseUSD: 2000,
				adapters.FieldVolume: 12000, adapters.FieldFeeTier: 0.003})}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := importString(t, tc.format, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.Rows, cmpFloat); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if b.Skipped != tc.skip {
				t.Errorf("Skipped = %d, want %d (notes %q)", b.Skipped, tc.skip, b.Notes)
			}
			if notes := strings.Join(b.Notes, "\n"); !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q do not mention %q", notes, tc.note)
			}
			markets := map[string]bool{}
			for _, r := range tc.want {
				markets[r.Market] = true
			}
			if b.Format != string(tc.format) || len(b.Markets) != len(markets) || b.Markets[0].ID != tc.want[0].Market {
				t.Errorf("Format %q, Markets %+v", b.Format, b.Markets)
			}
		})
	}
}

func TestImportReader_DatasetErrors(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		src    string
		pos    string
		msg    string
	}{
		{"wrong header", FormatLidoDefiLlama, "date,APY,TVL\n2022-05-03,3.6,1\n", "in:1", "not the lido-defillama-csv header"},
		{"empty", FormatLidoDefiLlama, "", "in:1", "empty file"},
		{"bad number", FormatLidoDefiLlama, "date,Lido_APY,Lido_TVL\n2022-05-03,3.6,1\n2022-05-04,three,1\n", "in:3:12", `column "Lido_APY": bad number "three"`},
		{"NaN", FormatLidoDefiLlama, "date,Lido_APY,Lido_TVL\n2022-05-03,NaN,1\n", "in:2:12", "apy is NaN"},
		{"unknown symbol", FormatCompoundOracle, "symbol,timestamp,USD_price\nfooETH,1673650619,1.0\n", "in:2:1", "unknown symbol"},
		{"utilization way off", FormatCompoundMessari, "timestamp,date_time,deposit_apy,borrow_apy,utilization_rate,total_deposit_usd,total_borrow_usd,input_token_price_usd\n1661554465,x,2,4,150,1,1,1\n", "in:2:", "utilization must be within"},
		{"ratio mismatch", FormatStethEthDerived, "steth_ts_ms,weth_ts_ms,time_utc,steth_usd,weth_usd,steth_per_eth\n1655582401000,1655582000000,x,1000.0,1074.5,0.95\n", "in:2:", "disagrees"},
		{"bad hex", FormatRethBalances, "[\"0xcb82c0\",\"0x0\",\"0xzz\",\"0x00\",\"0x00\",\"0x6157c9c2\"]\n", "in:1", "not a 0x hex number"},
		{"short jsonl", FormatRethBalances, "[\"0xcb82c0\"]\n", "in:1", "want 6 hex values"},
		{"not WETH", FormatUniswapGecko, "timestamp,date_utc,open,high,low,close,volume,pool_address,dex,fee_tier,base_token,quote_token,source\n1704067200,x,1,1,1,1,1,p,d,0.3%,WBTC,USDT,s\n", "in:2:", "not WETH"},
		{"reth conflict", FormatRethRate, "balances_block,event_time_unix,event_time_utc,slot_timestamp_unix,total_eth_wei,staking_eth_wei,reth_supply_wei,eth_per_reth\n1,1633162653,x,0,1,0,1,1.0\n2,1633162653,x,0,1,0,1,1.1\n", "in:3", "exchange_rate is 1 on line 2 and 1.1 on line 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importString(t, tc.format, tc.src)
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("error = %v, want KindInvalid", err)
			}
			var e *adapters.Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Pos, tc.pos) {
				t.Errorf("position %q, want prefix %q (error %v)", e.Pos, tc.pos, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
	if _, err := importString(t, "nonsense", "a\n"); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := importString(t, FormatCSV, "a\n"); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("generic CSV with no mapping: %v", err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportFile_Siblings(t *testing.T) {
	dir := t.TempDir()
	const h = "targetDate,timestamp,blockNumber,reserve,symbol,liquidityIndex,currentLiquidityRate,variableBorrowIndex,currentVariableBorrowRate,currentStableBorrowRate,totalAToken,totalStableDebt,totalVariableDebt,price,date\n"
	writeFile(t, dir, "aave_v3_aave-v3-ethereum_WETH_rates_2024-01-01_2025-09-18.csv",
		h+"x,1715472000,1,0x,WETH,1.01,0.02,1.03,0.03,0,500,0,400,3000,x\n")
	p := writeFile(t, dir, "aave_v3_aave-v3-ethereum_wstETH_rates_2024-05-12_2025-09-18.csv",
		h+"x,1715472000,1,0x,wstETH,1.0005,0.0001,1.0049,0.003,0,1000,0,50,3600,x\n"+
			"x,1715558400,1,0x,wstETH,1.0006,0.0001,1.0049,0.003,0,1000,0,50,3600,x\n")
	b, err := ImportFile(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := b.Rows[0].Obs
	day1 := F{adapters.FieldSupply: 1200, adapters.FieldBorrows: 60, adapters.FieldBaseUSD: 3000}
	for f, want := range day1 {
		if got, ok := o.Get(f); !ok || got != want {
			t.Errorf("day 1 %s = %v (observed %v), want %v", f, got, ok, want)
		}
	}
	// Day 2 has no WETH row: token amounts cannot become ETH.
	if o2 := b.Rows[1].Obs; o2.Set.Has(adapters.FieldSupply) || o2.Set.Has(adapters.FieldBaseUSD) || !o2.Set.Has(adapters.FieldIndex) {
		t.Errorf("day 2 fields %b: want index but no supply or base_usd", o2.Set)
	}
	if notes := strings.Join(b.Notes, "\n"); !strings.Contains(notes, "1 rows without a WETH price") {
		t.Errorf("notes %q", notes)
	}

	// CoinGecko stETH prices need WETH_usd.csv beside them.
	cg := t.TempDir()
	sp := writeFile(t, cg, "stETH_usd.csv", "symbol,timestamp,USD_price\nstETH,1655582401000,1000\nstETH,1655590000000,1001\n")
	if _, err := ImportFile(context.Background(), sp, Options{}); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("stETH without WETH: error = %v, want KindNotFound", err)
	}
	writeFile(t, cg, "WETH_usd.csv", "symbol,timestamp,USD_price\nWETH,1655582000000,1074.5\n")
	b, err = ImportFile(context.Background(), sp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []history.Row{{Market: "lido/steth", Line: 2, Obs: obs(1655582401, F{adapters.FieldPrice: 1000 / 1074.5, adapters.FieldBaseUSD: 1074.5})}}
	if diff := cmp.Diff(want, b.Rows); diff != "" || b.Skipped != 1 {
		t.Errorf("joined rows (-want +got):\n%s\nskipped %d, want 1 (no WETH within 30 minutes)", diff, b.Skipped)
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          Format
	}{
		{"dataset_lido.csv", "date,Lido_APY,Lido_TVL\n", FormatLidoDefiLlama},
		{"x.csv", "\ufeffdate, Lido_APY ,Lido_TVL\r\n", FormatLidoDefiLlama},
		{"cg.csv", "symbol,timestamp,USD_price\nstETH,1609471801103,738.2\n", FormatCoinGeckoUSD},
		{"oracle.csv", "symbol,timestamp,USD_price\ncbETH,1673647103,0.98\n", FormatCompoundOracle},
		{"native.csv", "market,time,apy,reward_apy\n", FormatNative},
		{"mine.csv", "when,rate\n", FormatCSV},
		{"chart.json", " \n{\"status\":\"success\",\"data\":[]}", FormatDefiLlama},
		{"tvl.json", "[]", FormatDefiLlama},
		{"balances.jsonl", "[\"0xcb82c0\",\"0x0\"]\n", FormatRethBalances},
		{"u.csv", "timestamp,date_utc,open,high,low,close,volume,pool_address,dex,fee_tier,base_token,quote_token,source\n", FormatUniswapGecko},
	}
	for _, tc := range tests {
		p := writeFile(t, dir, tc.name, tc.content)
		got, err := Detect(p)
		if err != nil || got != tc.want {
			t.Errorf("Detect(%s) = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	for _, name := range []string{"PROVENANCE.md", "README.md", "LICENSE.upstream", "summary.upstream.json", "empty.csv", "notes.jsonl", "odd.json"} {
		content := "x"
		if name == "empty.csv" {
			content = ""
		}
		p := writeFile(t, dir, name, content)
		if got, err := Detect(p); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("Detect(%s) = %q, %v; want KindInvalid", name, got, err)
		}
	}
	if _, err := Detect(filepath.Join(dir, "missing.csv")); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("Detect(missing) error = %v, want KindNotFound", err)
	}
}

func TestImportFile_ProgressAndOverride(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("date,Lido_APY,Lido_TVL\n")
	day := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20000; i++ {
		sb.WriteString(day.AddDate(0, 0, i).Format("2006-01-02") + ",3.5,1000000\n")
	}
	p := writeFile(t, dir, "dataset_lido.csv", sb.String())
	var calls int
	var last, total int64
	b, err := ImportFile(context.Background(), p, Options{Market: "eigenlayer/steth", Progress: func(n, tot int64) {
		if n < last {
			t.Errorf("progress went back: %d after %d", n, last)
		}
		calls, last, total = calls+1, n, tot
	}})
	if err != nil {
		t.Fatal(err)
	}
	if size := int64(sb.Len()); last != size || total != size || calls < 2 {
		t.Errorf("progress: %d calls, last %d of %d; want several calls ending at %d", calls, last, total, size)
	}
	if b.Markets[0].ID != "eigenlayer/steth" || b.Rows[0].Market != "eigenlayer/steth" {
		t.Errorf("override: markets %v, first row %q", b.Markets, b.Rows[0].Market)
	}
}
