package importers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// Format names an importer. It is recorded as Batch.Format.
type Format string

// The formats ImportFile reads. FormatCSV needs a Mapping; FormatDefiLlama
// needs a market (Options.Market); the others are recognised from the file
// alone. See the package documentation for what each dataset becomes.
const (
	FormatCSV       Format = "csv"       // generic CSV with a column mapping
	FormatNative    Format = "native"    // the project's own CSV (history.WriteNativeCSV)
	FormatDefiLlama Format = "defillama" // DefiLlama yields pool chart or protocol TVL chart, JSON
	FormatExport    Format = "export"    // data export --format json (history.ExportSeries)

	FormatLidoDefiLlama    Format = "lido-defillama-csv"      // lido-steth-apy-defillama-daily/dataset_lido.csv
	FormatRethRate         Format = "reth-rate-csv"           // reth-exchange-rate/reth_exchange_rate.csv
	FormatRethBalances     Format = "reth-balances-jsonl"     // reth-exchange-rate/balances.jsonl
	FormatCompoundOracle   Format = "compound-oracle-csv"     // compound-v3-lst-lrt-oracle-hourly/*_compoundv3_price.csv
	FormatEtherfiAPY       Format = "etherfi-apy-csv"         // etherfi-eeth-apy-daily/bar-chart-supply-apy-*.csv
	FormatCoinGeckoUSD     Format = "coingecko-usd-csv"       // steth-usd-coingecko-hourly/{stETH,WETH}_usd.csv
	FormatStethEthDerived  Format = "steth-eth-derived-csv"   // steth-usd-coingecko-hourly/steth_eth_hourly_derived.csv
	FormatMarketVsOracle   Format = "market-vs-oracle-csv"    // lst-lrt-market-vs-aave-oracle-hourly/*_market_vs_oracle_hourly.csv
	FormatAaveScan         Format = "aavescan-csv"            // aave-v3-…-aavescan-daily/aave_v3_aave-v3-ethereum_*_rates_*.csv
	FormatAaveMessari      Format = "aave-messari-csv"        // aave-v3-usdc-messari-daily/aave_usdc_dados_completos.csv
	FormatAaveDefiLlamaCSV Format = "aave-usdc-defillama-csv" // aave-v3-usdc-messari-daily/dataset_aave_defillama.csv
	FormatCompoundMessari  Format = "compound-messari-csv"    // compound-v3-usdc-messari-daily/compound_v3_data.csv
	FormatCurve3Pool       Format = "curve-3pool-csv"         // curve-3pool-balances-messari-daily/curve_3pool_balances.csv
	FormatCurveStethPool   Format = "curve-steth-pool-csv"    // curve-steth-pool-snapshots-2022/curve_steth_pool_snapshots.csv
	FormatUniswapGecko     Format = "uniswap-geckoterminal-csv"
)

// Options controls an import.
type Options struct {
	// Catalog is where markets are looked up; nil means adapters.Builtin().
	Catalog *adapters.Catalog
	// Mapping, when set, reads CSV files with the generic importer (in
	// ImportDir: only files no dataset importer recognises).
	Mapping *Mapping
	// Market overrides the market of a single-market format (and of a
	// Mapping); DefiLlama JSON needs it. ImportDir refuses it.
	Market string
	// Format forces a format instead of detecting one.
	Format Format
	// Progress, when set, is called as the input is read with the bytes
	// read so far and the total (-1 when unknown). ImportDir reports
	// totals over the whole folder.
	Progress func(bytesRead, total int64)
	// OnSkip, when set, is called by ImportDir for every file it does not
	// import, with the reason.
	OnSkip func(path, reason string)
}

func (o *Options) catalog() *adapters.Catalog {
	if o.Catalog != nil {
		return o.Catalog
	}
	return adapters.Builtin()
}

// sniffSize is how much of a file Detect reads.
const sniffSize = 64 << 10

// Detect names the importer for the file at path from its name and its
// first bytes: the header line of a CSV file, the first record of a JSONL
// file, the shape of a JSON file. A CSV file no dataset importer knows is
// FormatCSV (it needs a Mapping). Files that hold no market data
// (PROVENANCE.md, README, licences, upstream reports) are KindInvalid
// errors that say so.
func Detect(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", adapters.Wrap("importers.Detect", adapters.KindNotFound, err)
	}
	defer f.Close()
	buf := make([]byte, sniffSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", adapters.Wrap("importers.Detect", adapters.KindOther, err)
	}
	return detect(path, buf[:n])
}

// SkipReason says why ImportDir leaves a file out, or "" for a file it
// imports.
func SkipReason(path string) string {
	base := filepath.Base(path)
	lower := strings.ToLower(base)
	switch {
	case strings.HasPrefix(base, "."):
		return "hidden file"
	case lower == "provenance.md":
		return "provenance notes, not data"
	case strings.HasPrefix(lower, "readme"):
		return "readme, not data"
	case strings.HasPrefix(lower, "license") || strings.HasPrefix(lower, "licence") || strings.HasPrefix(lower, "copying"):
		return "licence text, not data"
	case strings.HasSuffix(lower, ".md"):
		return "text document, not data"
	case strings.HasSuffix(lower, ".json") && strings.Contains(lower, "upstream"):
		return "upstream processing report (download or peg-analysis summary statistics), no time series"
	}
	return ""
}

// DetectBytes is Detect for an input already read (standard input):
// name stands for the file's name (its extension counts) and head is its
// first bytes.
func DetectBytes(name string, head []byte) (Format, error) {
	if len(head) > sniffSize {
		head = head[:sniffSize]
	}
	return detect(name, head)
}

func detect(path string, head []byte) (Format, error) {
	const op = "importers.Detect"
	if r := SkipReason(path); r != "" {
		return "", adapters.E(op, adapters.KindInvalid, "%s: %s", path, r)
	}
	lower := strings.ToLower(filepath.Base(path))
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case strings.HasSuffix(lower, ".jsonl") || strings.HasSuffix(lower, ".ndjson"):
		if bytes.HasPrefix(trimmed, []byte(`["0x`)) {
			return FormatRethBalances, nil
		}
		return "", adapters.E(op, adapters.KindInvalid, "%s: no importer for this JSON-lines file (only Rocket Pool balances.jsonl)", path)
	case strings.HasSuffix(lower, ".json"):
		if bytes.HasPrefix(trimmed, []byte(`{"market":`)) {
			return FormatExport, nil
		}
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			return FormatDefiLlama, nil
		}
		return "", adapters.E(op, adapters.KindInvalid, "%s: not a JSON object or array", path)
	}
	if len(trimmed) == 0 {
		return "", adapters.E(op, adapters.KindInvalid, "empty file").At(path + ":1")
	}
	header, rest, _ := bytes.Cut(bytes.TrimPrefix(head, []byte("\ufeff")), []byte("\n"))
	h := normHeader(string(header))
	if strings.HasPrefix(h, "market,time,") {
		return FormatNative, nil
	}
	for _, d := range datasets {
		if d.header == h {
			if d.format == FormatCoinGeckoUSD || d.format == FormatCompoundOracle {
				return symbolPriceFormat(rest), nil
			}
			return d.format, nil
		}
	}
	return FormatCSV, nil
}

// symbolPriceFormat tells the two "symbol,timestamp,USD_price" files apart:
// CoinGecko times are unix milliseconds, Compound oracle reads are seconds.
func symbolPriceFormat(rest []byte) Format {
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	parts := strings.Split(strings.TrimSpace(string(line)), ",")
	if len(parts) >= 2 && len(strings.TrimSpace(parts[1])) >= 12 {
		return FormatCoinGeckoUSD
	}
	return FormatCompoundOracle
}

func normHeader(s string) string {
	parts := strings.Split(strings.TrimRight(s, "\r"), ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, ",")
}

// ImportFile reads one file into a batch, detecting its format (see
// Detect) unless opts.Format or opts.Mapping says which. Dataset
// importers that join a sibling file (AaveScan wstETH/weETH with the WETH
// file, CoinGecko stETH with WETH) look for it in the same folder.
func ImportFile(ctx context.Context, path string, opts Options) (*history.Batch, error) {
	const op = "importers.ImportFile"
	f, err := os.Open(path)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindNotFound, err)
	}
	defer f.Close()
	var total int64 = -1
	if st, err := f.Stat(); err == nil {
		total = st.Size()
	}
	var r io.Reader = f
	if opts.Progress != nil {
		r = &progressReader{r: f, total: total, fn: opts.Progress}
	}
	br := bufio.NewReaderSize(r, sniffSize)
	format := opts.Format
	if format == "" && opts.Mapping != nil {
		format = FormatCSV
	}
	if format == "" {
		head, _ := br.Peek(sniffSize)
		if format, err = detect(path, head); err != nil {
			return nil, err
		}
	}
	b, err := importReader(ctx, path, filepath.Dir(path), &sizedReader{br, total}, format, opts)
	if err != nil {
		return nil, err
	}
	if pr, ok := r.(*progressReader); ok {
		pr.finish()
	}
	return b, nil
}

// ImportReader reads one input of a known format; name is used in errors
// and as Batch.Source. Importers that join a sibling file cannot find it
// from a reader and import what the input alone carries (see Batch.Notes).
func ImportReader(ctx context.Context, name string, r io.Reader, format Format, opts Options) (*history.Batch, error) {
	return importReader(ctx, name, "", r, format, opts)
}

func importReader(ctx context.Context, name, dir string, r io.Reader, format Format, opts Options) (*history.Batch, error) {
	const op = "importers.Import"
	c := &readCtx{ctx: ctx, name: name, dir: dir, opts: opts, format: format}
	switch format {
	case FormatCSV:
		if opts.Mapping == nil {
			return nil, adapters.E(op, adapters.KindInvalid, "%s: no importer recognises this CSV header; pass a column mapping", name)
		}
		return importCSV(c, r, opts.Mapping)
	case FormatNative:
		b, err := history.ReadNativeCSV(name, r)
		if err != nil {
			return nil, err
		}
		return nativeBatch(c, b)
	case FormatDefiLlama:
		return importDefiLlama(c, r)
	case FormatExport:
		return importExport(c, r)
	case FormatRethBalances:
		return importRethBalances(c, r)
	}
	for i := range datasets {
		if datasets[i].format == format {
			return importDataset(c, &datasets[i], r)
		}
	}
	return nil, adapters.E(op, adapters.KindInvalid, "%s: unknown format %q", name, format)
}

// readCtx carries one import's context through the format readers.
type readCtx struct {
	ctx    context.Context
	name   string // source name for errors and Batch.Source
	dir    string // folder of the file, for sibling files; "" for readers
	opts   Options
	format Format
}

func (c *readCtx) builder(op string) *builder {
	return newBuilder(op, c.name, c.format, c.opts.catalog())
}

// market applies the market override to a single-market format.
func (c *readCtx) market(def string) string {
	if c.opts.Market != "" {
		return c.opts.Market
	}
	return def
}

// checkCtx is polled every ctxEvery rows.
const ctxEvery = 4096

// nativeBatch fills the markets of a native CSV batch from the catalog.
func nativeBatch(c *readCtx, b *history.Batch) (*history.Batch, error) {
	bl := c.builder("importers.Native")
	for _, r := range b.Rows {
		m := r.Market
		if c.opts.Market != "" {
			m = c.opts.Market
		}
		bl.add(m, r.Obs, r.Line, "no values")
	}
	out, err := bl.finish()
	if err != nil {
		return nil, err
	}
	out.Events = b.Events
	return out, nil
}

// ImportDir imports every data file under dir (recursively, in name
// order) and returns one batch per file. It skips what SkipReason names
// (PROVENANCE.md, README, licence files, upstream *.json reports), calling
// opts.OnSkip for each. Where several files give the same field of the
// same market over overlapping time (rETH's rate from the Rocket Pool file
// and the Compound oracle, for example), the file of higher precedence
// keeps the field over its time span and the others drop it there; each
// affected batch says so in its Notes. A file no importer recognises is
// an error unless opts.Mapping is set.
func ImportDir(ctx context.Context, dir string, opts Options) ([]*history.Batch, error) {
	const op = "importers.ImportDir"
	if opts.Market != "" {
		return nil, adapters.E(op, adapters.KindInvalid, "a market override applies to single files, not to a folder")
	}
	var paths []string
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if reason := SkipReason(path); reason != "" {
			if opts.OnSkip != nil {
				opts.OnSkip(path, reason)
			}
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, adapters.Wrap(op, adapters.KindNotFound, err)
		}
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	sort.Strings(paths)
	cat := opts.catalog()
	var done int64
	var batches []*history.Batch
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fo := opts
		fo.Catalog = cat
		fo.Mapping = nil
		fo.Format = ""
		format, err := Detect(path)
		if err != nil {
			return nil, err
		}
		if format == FormatCSV {
			if opts.Mapping == nil {
				return nil, adapters.E(op, adapters.KindInvalid, "%s: no importer recognises this CSV header; pass a column mapping", path)
			}
			fo.Mapping = opts.Mapping
		}
		if opts.Progress != nil {
			base := done
			fo.Progress = func(n, _ int64) { opts.Progress(base+n, total) }
		}
		b, err := ImportFile(ctx, path, fo)
		if err != nil {
			return nil, err
		}
		if info, err := os.Stat(path); err == nil {
			done += info.Size()
		}
		batches = append(batches, b)
	}
	resolveOverlaps(batches)
	return batches, nil
}

// progressReader reports bytes read, at most every progressStep bytes.
type progressReader struct {
	r        io.Reader
	n, total int64
	last     int64
	fn       func(int64, int64)
}

const progressStep = 256 << 10

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= progressStep || (err == io.EOF && p.n != p.last) {
		p.last = p.n
		p.fn(p.n, p.total)
	}
	return n, err
}

func (p *progressReader) finish() {
	if p.n != p.last {
		p.last = p.n
		p.fn(p.n, p.total)
	}
}

// String returns the format name.
func (f Format) String() string { return string(f) }

// errorf is a positioned invalid-input error.
func errorf(op, pos, format string, args ...any) error {
	return adapters.E(op, adapters.KindInvalid, format, args...).At(pos)
}
