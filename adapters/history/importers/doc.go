// Package importers reads market history files into history.Batch values
// that history.DB.Write stores. It never writes to a database itself.
//
// # Entry points
//
//   - ImportFile(ctx, path, opts) reads one file. The format is detected
//     (Detect) from the file name and its first bytes: the exact header line
//     of a CSV file, the first record of a JSONL file, the shape of a JSON
//     file. opts.Mapping forces the generic CSV importer, opts.Format any
//     format, opts.Market overrides the market of a single-market format.
//   - ImportDir(ctx, dir, opts) imports every data file under a folder such
//     as shared/data, one batch per file, and settles overlaps (below).
//   - ImportCSV, ImportDefiLlama and ImportReader read from an io.Reader.
//
// Every batch lists its markets from the catalog (opts.Catalog, default
// adapters.Builtin()); an unknown market is a KindNotFound error. Rows come
// out sorted by market and time, whole UTC seconds, each validated with
// adapters.CheckValue. Rows of one file with the same market and time are
// merged when their fields agree and are an error naming both lines when
// they do not. Rows that are legitimately empty in the source are skipped
// and counted in Batch.Skipped; Batch.Notes says why, and records values
// clamped or dropped. Every error is an *adapters.Error of KindInvalid
// whose Pos names file:line:column (file:line for JSON records) and whose
// message names the column and the field.
//
// # Generic CSV
//
// A Mapping names the market (or a market column), the time column and its
// unit, and for each value column its field (by canonical name, see
// adapters.Field) and its unit. Value units: number (as is), fraction (as
// is), percent (÷100), bps (÷10,000), gwei (÷1e9), wei (÷1e18); the decimal
// shift is applied to the text, so "4.29" percent is exactly 0.0429. Time
// units: rfc3339, date (2006-01-02), datetime ("2006-01-02 15:04:05", with
// an optional offset), unix_s, unix_ms, and auto (recognised per cell).
// An empty cell means "not observed". A mapping comes from command-line
// specs (MappingFromSpecs: "time=timestamp:unix_s", "apy=Y_Aave_APY:percent")
// or from a YAML file decoded strictly (LoadMapping):
//
//	market: aave-v3/usdc
//	time: {column: timestamp, unit: unix_s}
//	columns:
//	  - {column: Y_Aave_APY, field: apy, unit: percent}
//	  - {column: X_Aave_Utilization, field: utilization}
//	delimiter: ","   # optional; "tab" for TSV
//	skip_rows: 0     # optional lines before the header
//	comment: "#"     # optional
//
// # DefiLlama JSON (format "defillama")
//
// The yields pool chart (yields.llama.fi/chart/<pool>: {"status":"success",
// "data":[{"timestamp","tvlUsd","apy","apyBase","apyReward",...}]}) and the
// protocol TVL chart ([{"date","totalLiquidityUSD"}], bare or under "tvl").
// Percent APYs become fractions: apy = apyBase (else apy − apyReward, else
// apy), reward_apy = apyReward, tvl = tvlUsd or totalLiquidityUSD. The
// stream is decoded record by record. A chart names no market: pass one.
//
// # The project's own CSV (format "native")
//
// Files written by history.WriteNativeCSV (header market,time,<fields>)
// are read with history.ReadNativeCSV and their markets filled in.
//
// # The shared/data datasets
//
// Each file is recognised by its header. Units follow each PROVENANCE.md.
//
//	lido-steth-apy-defillama-daily/dataset_lido.csv (lido-defillama-csv)
//	    lido/steth: apy = Lido_APY %, tvl = Lido_TVL USD; daily at 00:00.
//	reth-exchange-rate/reth_exchange_rate.csv (reth-rate-csv, primary)
//	    rocketpool/reth: exchange_rate = eth_per_reth at event_time_unix.
//	    The launch row (empty rate) is skipped; the file repeats 4 events
//	    out of order, which are sorted and dropped as exact duplicates.
//	reth-exchange-rate/balances.jsonl (reth-balances-jsonl, secondary)
//	    The same events, raw: rate = total ETH wei / rETH supply wei, exact.
//	compound-v3-lst-lrt-oracle-hourly/*_compoundv3_price.csv (compound-oracle-csv)
//	    Despite the USD_price header the LST/LRT values are ETH per token.
//	    weETH etherfi/weeth, rsETH kelp/rseth, ezETH renzo/ezeth,
//	    osETH stakewise/oseth, rswETH swell/rsweth: exchange_rate (smooth,
//	    rate-like feeds; rsETH and weETH changed feed at block 20346821,
//	    2024-07-19, and may be market feeds before it). rETH
//	    rocketpool/reth and cbETH coinbase/cbeth: price, because those feeds
//	    behave as market prices (hourly jumps of 0.2-1%; rETH up to 104 bps
//	    above Rocket Pool's rate in Nov 2023 - Jan 2024, when rETH traded at
//	    a premium); rETH's peg is then price / the Rocket Pool rate. WETH
//	    (USD) gives base_usd of compound-v3/weth. Empty cells (before an
//	    asset was listed) are skipped.
//	etherfi-eeth-apy-daily/bar-chart-supply-apy-*.csv (etherfi-apy-csv)
//	    etherfi/weeth: apy = Base %, reward_apy = Reward %. Base 0.00 days
//	    are chart artefacts (PROVENANCE.md): apy is left unobserved there so
//	    that the store's forward fill carries the previous value.
//	steth-usd-coingecko-hourly/steth_eth_hourly_derived.csv (steth-eth-derived-csv, primary)
//	    lido/steth: price = steth_usd / weth_usd (checked against the rounded
//	    steth_per_eth), base_usd = weth_usd, at the stETH time. Points
//	    outside [0.9, 1.005] keep base_usd only: stETH is minted 1:1, so
//	    premiums above 1.005 are the two feeds' timing noise, and the thin
//	    early-2021 feed dips below 0.9.
//	steth-usd-coingecko-hourly/{stETH,WETH}_usd.csv (coingecko-usd-csv, secondary)
//	    WETH: lido/steth base_usd. stETH: joined with the nearest WETH point
//	    within 30 minutes of WETH_usd.csv beside it, giving exactly the
//	    derived file's price and base_usd.
//	lst-lrt-market-vs-aave-oracle-hourly/*_market_vs_oracle_hourly.csv (market-vs-oracle-csv, primary)
//	    wstETH lido/wsteth, weETH etherfi/weeth: exchange_rate =
//	    protocol_rate_eth (Aave oracle), price = market_rate_eth_24h_median.
//	aave-v3-…-aavescan-daily/aave_v3_aave-v3-ethereum_*_rates_*.csv (aavescan-csv)
//	    WETH aave-v3/weth, USDT aave-v3/usdt, wstETH aave-v3/wsteth, weETH
//	    aave-v3/weeth: liquidity_index = liquidityIndex exactly; apy and
//	    borrow_apy from currentLiquidityRate and currentVariableBorrowRate,
//	    APRs compounded per second: APY = (1+apr/31536000)^31536000 − 1;
//	    utilization = (stable + variable debt) / totalAToken; supply and
//	    borrows in base units (token units; for wstETH and weETH times the
//	    token's USD price / the WETH file's USD price on the same day);
//	    base_usd = the reserve's USD price (WETH's for wstETH and weETH).
//	aave-v3-usdc-messari-daily/aave_usdc_dados_completos.csv (aave-messari-csv, primary)
//	    aave-v3/usdc: apy, borrow_apy (%), utilization (fraction), borrows,
//	    supply, tvl (USD).
//	aave-v3-usdc-messari-daily/dataset_aave_defillama.csv (aave-usdc-defillama-csv, secondary)
//	    aave-v3/usdc: apy %, exit_liquidity = DefiLlama tvlUsd, which for a
//	    lending pool is supplied minus borrowed (what suppliers can withdraw).
//	compound-v3-usdc-messari-daily/compound_v3_data.csv (compound-messari-csv)
//	    compound-v3/usdc: apy, borrow_apy, utilization (all %), supply,
//	    borrows (USD), base_usd = USDC price. Utilization above 100% (up to
//	    101%: USD aggregates exclude reserves) is clamped to 1 and counted;
//	    the launch row without APYs is skipped.
//	curve-3pool-balances-messari-daily/curve_3pool_balances.csv (curve-3pool-csv)
//	    curve/3pool: balance0 DAI, balance1 USDC, balance2 USDT (the pool's
//	    coin order; token units, USD at peg), tvl = their total.
//	curve-steth-pool-snapshots-2022/curve_steth_pool_snapshots.csv (curve-steth-pool-csv)
//	    curve/steth-eth: balance0 = ETH, balance1 = stETH in token units
//	    (stETH redeems 1:1 through Lido, so token units are base units at the
//	    protocol rate; the discount is in price), price = stETH USD / ETH USD,
//	    tvl = pool USD total, base_usd = ETH USD. The balances also go to
//	    lido/steth's rows (the pool is stETH's venue; its swaps are priced
//	    on them), and the ETH side as lido/steth's exit_liquidity (the lido
//	    profile's exit_liquidity is this pool's ETH side); lido/steth's
//	    price stays CoinGecko's.
//	uniswap-v3-weth-usdt-hourly-geckoterminal/*.csv (uniswap-geckoterminal-csv)
//	    uniswap-v3/weth-usdt: price = base_usd = close (USDT per WETH),
//	    volume = hourly USD volume × 24 / close (ETH per day), fee_tier from
//	    the "0.3%" column.
//
// ImportDir skips files that hold no time series, reporting each through
// Options.OnSkip: PROVENANCE.md, README and other .md files, LICENSE* and
// licence copies (LICENSE.upstream), and the upstream JSON reports
// (aavescan_report_upstream.json, *_peg_analysis_summary.upstream.json:
// download logs and summary statistics).
//
// # Overlapping sources
//
// The store merges fields of the same (market, time), so different fields
// from different files combine (Lido's APY and CoinGecko's price both land
// on lido/steth). The same field from two files at interleaved times would
// make a series jump between sources, so ImportDir settles each (market,
// field): the file of higher precedence (primary > secondary > default,
// marked above) keeps the field from its first to its last time, and lower
// ones drop it inside that span, each saying so in its Notes. In shared/data
// this drops the Compound weETH rate (the market-vs-oracle file covers it),
// the DefiLlama Aave USDC APY (Messari's covers it), the JSONL rETH rates
// (the CSV has them) and the raw CoinGecko points inside the derived file's
// range. ImportFile alone never drops anything.
package importers
