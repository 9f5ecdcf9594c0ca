package history

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// nativeParser parses the lines of a native CSV after its header into
// rows. Its caches (interned market IDs, the last time) belong to one
// goroutine: parallel parsing gives each worker a clone.
type nativeParser struct {
	op, name string
	fields   []adapters.Field // the fields of the header's columns from the third
	ncols    int              // the header's column count
	block    int              // the size of a block's buffer (nativeBlockSize but in tests)

	intern map[string]string
	lastID string
	lastS  []byte // the last time cell parsed, and its time
	lastT  time.Time
	cells  [][]byte // the cells of a record with quotes
}

func (p *nativeParser) clone() *nativeParser {
	return &nativeParser{op: p.op, name: p.name, fields: p.fields, ncols: p.ncols, block: p.block}
}

func (p *nativeParser) fail(line int, format string, args ...any) error {
	return &adapters.Error{Op: p.op, Kind: adapters.KindInvalid, Pos: pos(p.name, max(line, 1)), Err: fmt.Errorf(format, args...)}
}

// market returns the interned, validated market ID of cell mk.
func (p *nativeParser) market(mk []byte, line int) (string, error) {
	id := p.lastID
	if string(mk) == id && id != "" {
		return id, nil
	}
	if p.intern == nil {
		p.intern = map[string]string{}
	}
	id, ok := p.intern[string(mk)]
	if !ok {
		id = string(mk)
		if _, _, err := adapters.SplitID(id); err != nil {
			return "", p.fail(line, "market: %q is not of the form protocol/name", id)
		}
		p.intern[id] = id
	}
	p.lastID = id
	return id, nil
}

// time parses time cell tm (rows of one time in a row parse it once).
func (p *nativeParser) time(tm []byte, line int) (time.Time, error) {
	if bytes.Equal(tm, p.lastS) && p.lastS != nil {
		return p.lastT, nil
	}
	t, err := parseTime(tm)
	if err != nil {
		return time.Time{}, p.fail(line, "time: %q is not an RFC 3339 time (2024-01-02T15:04:05Z)", tm)
	}
	if t.IsZero() {
		// Rows without a time are refused by Write: say so here.
		return time.Time{}, p.fail(line, "time: %q is the zero time, which means no time", tm)
	}
	p.lastS, p.lastT = append(p.lastS[:0], tm...), t
	return t, nil
}

// cell stores the value of cell (of field f) in row, from a float
// already parsed (ok) or by parsing the cell.
func (p *nativeParser) cell(row *Row, line int, f adapters.Field, cell []byte, v float64, ok bool) error {
	if !ok {
		var err error
		if v, err = strconv.ParseFloat(string(cell), 64); err != nil {
			return p.fail(line, "%s: %q is not a number", f, cell)
		}
	}
	if msg := adapters.CheckValue(f, v); msg != "" {
		return p.fail(line, "%s %s (%s)", f, msg, cell)
	}
	row.Obs.Put(f, v)
	return nil
}

// line parses ln, a line without quotes (line number line), into row,
// which is zero on entry. The values are parsed where they stand: nothing
// is copied but a new market ID.
func (p *nativeParser) line(row *Row, ln []byte, line int) error {
	if n := bytes.Count(ln, comma) + 1; n != p.ncols {
		return p.fail(line, "wrong number of fields: %d, want %d as in the header", n, p.ncols)
	}
	var tm, rest []byte
	i := bytes.IndexByte(ln, ',')
	mk, rest := ln[:i], ln[i+1:]
	if i = bytes.IndexByte(rest, ','); i >= 0 {
		tm, rest = rest[:i], rest[i+1:]
	} else {
		tm, rest = rest, nil // a header of market,time alone
	}
	id, err := p.market(mk, line)
	if err != nil {
		return err
	}
	t, err := p.time(tm, line)
	if err != nil {
		return err
	}
	row.Market, row.Line, row.Obs.Time = id, line, t
	// The field count is right, so every cell but the last ends at a
	// comma.
	for _, f := range p.fields {
		if len(rest) == 0 {
			continue // an empty last cell
		}
		if rest[0] == ',' {
			rest = rest[1:]
			continue
		}
		v, k, ok := atofPrefix(rest)
		if !ok || k < len(rest) && rest[k] != ',' {
			// Not a plain number: the whole cell goes to strconv.
			if k = bytes.IndexByte(rest, ','); k < 0 {
				k = len(rest)
			}
			ok = false
		}
		if err := p.cell(row, line, f, rest[:k], v, ok); err != nil {
			return err
		}
		rest = rest[min(k+1, len(rest)):]
	}
	return nil
}

// record parses the fields of a record with quotes, starting on line
// line, into row, which is zero on entry.
func (p *nativeParser) record(row *Row, rec []string, line int) error {
	if len(rec) != p.ncols {
		return p.fail(line, "wrong number of fields: %d, want %d as in the header", len(rec), p.ncols)
	}
	p.cells = p.cells[:0]
	for _, f := range rec {
		p.cells = append(p.cells, []byte(f))
	}
	id, err := p.market(p.cells[0], line)
	if err != nil {
		return err
	}
	t, err := p.time(p.cells[1], line)
	if err != nil {
		return err
	}
	row.Market, row.Line, row.Obs.Time = id, line, t
	for i, f := range p.fields {
		if c := p.cells[i+2]; len(c) > 0 {
			if err := p.cell(row, line, f, c, 0, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// readSeq parses the rest of rr line by line, appending to rows. It
// handles quoted fields, which may span lines.
func (p *nativeParser) readSeq(rr *recReader, rows []Row) ([]Row, error) {
	for {
		// The line is a slice of the reader's buffer.
		ln, line, err := rr.next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(p.op, p.name, err)
		}
		if rows == nil {
			rows = make([]Row, 0, rr.estimate())
		}
		rows = append(rows, Row{})
		row := &rows[len(rows)-1]
		if bytes.IndexByte(ln, '"') < 0 {
			err = p.line(row, ln, line)
		} else {
			var rec []string
			if rec, _, err = rr.quoted(string(ln), line); err != nil {
				return nil, csvError(p.op, p.name, err)
			}
			err = p.record(row, rec, line)
		}
		if err != nil {
			return nil, err
		}
	}
}

// parseBlock parses data, whole lines without quotes of which the first is
// line number line, into rows, one zero Row per line, and returns how
// many rows it filled: empty lines are skipped (as recReader skips them).
func (p *nativeParser) parseBlock(rows []Row, data []byte, line int) (int, error) {
	n := 0
	for ; len(data) > 0; line++ {
		ln := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			ln, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if k := len(ln); k > 0 && ln[k-1] == '\r' {
			ln = ln[:k-1]
		}
		if len(ln) == 0 {
			continue
		}
		if err := p.line(&rows[n], ln, line); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Parallel parsing of the lines after the header: each worker in turn
// reads the next block of whole lines from the input (under a lock: the
// reading is a copy, next to the parsing), then parses it into its own
// range of rows. The rows are joined in order at the end.
const (
	// nativeBlockSize is the size of a block's buffer: large enough that
	// taking a block costs nothing next to parsing it, small enough that
	// two workers share a file of a few megabytes evenly.
	nativeBlockSize = 256 << 10
	// maxNativeRows bounds the rows allocated from an estimate.
	maxNativeRows = 1 << 24
)

// nativeBlock is one block of lines and what parsing it gave.
type nativeBlock struct {
	idx  int
	data []byte // whole lines, without quotes
	line int    // the line number of data's first line
	rows []Row  // a zero row per line of data: a range of the shared rows, or its own
	own  bool   // rows is not a range of the shared rows
	n    int    // rows filled
	err  error
}

// lines is the number of lines in data (the last may lack its newline).
func lines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// nativeInput is the input after the header, read block by block by the
// workers, and the blocks read so far.
type nativeInput struct {
	mu     sync.Mutex
	src    io.Reader
	size   int64  // the input's size when known (for the estimate), else 0
	line   int    // lines read so far
	tail   []byte // a partial line read after the last block
	done   bool   // no more blocks: the input ended or failed, a block failed, or a quote was met
	err    error  // the reader's error
	rest   io.Reader
	blocks []*nativeBlock
	shared []Row // rows for the blocks, sized from an estimate when the size is known
	used   int   // rows of shared given to blocks
	failed atomic.Int64
}

// next reads the next block into buf (or a larger buffer when a line does
// not fit), and returns it with the buffer, or nil at the end. When the
// block has a quote, the input from the block on is left in in.rest, to
// be read line by line, and next returns nil. in.mu is held.
func (in *nativeInput) next(buf []byte) (*nativeBlock, []byte) {
	if in.done || in.failed.Load() != math.MaxInt64 {
		in.done = true
		return nil, buf
	}
	if len(buf) < 2*len(in.tail) {
		buf = make([]byte, 2*len(in.tail)) // after a long line
	}
	carry := copy(buf, in.tail)
	for {
		n, err := io.ReadFull(in.src, buf[carry:])
		data := buf[:carry+n]
		eof := false
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			eof = true
		default:
			in.err = err
		}
		cut := len(data)
		if !eof {
			cut = bytes.LastIndexByte(data, '\n') + 1
			if cut == 0 && in.err == nil {
				// A line longer than the buffer.
				nb := make([]byte, 2*len(buf))
				carry = copy(nb, data)
				buf = nb
				continue
			}
		}
		in.done = eof || in.err != nil
		if bytes.IndexByte(data[:cut], '"') >= 0 {
			// The rest of the input, from this block on, is read line by line.
			in.rest = bytes.NewReader(data) // buf is the worker's, which stops here
			switch {
			case in.err != nil:
				in.rest = io.MultiReader(in.rest, errReader{in.err})
				in.err = nil
			case !eof:
				in.rest = io.MultiReader(in.rest, in.src)
			}
			in.done = true
			return nil, buf
		}
		in.tail = append(in.tail[:0], data[cut:]...)
		if cut == 0 {
			return nil, buf
		}
		b := &nativeBlock{idx: len(in.blocks), data: data[:cut], line: in.line + 1}
		k := lines(b.data)
		in.line += k
		if len(in.blocks) == 0 && in.size > 0 {
			est := int64(k)
			if !eof {
				est = min(int64(k)*in.size/int64(cut)*17/16+16, maxNativeRows)
			}
			in.shared = make([]Row, max(est, int64(k)))
		}
		if in.used+k <= len(in.shared) {
			b.rows = in.shared[in.used : in.used+k : in.used+k]
			in.used += k
		} else {
			b.rows, b.own = make([]Row, k), true
		}
		in.blocks = append(in.blocks, b)
		return b, buf
	}
}

// parse parses b with q; after a failure, blocks after it are not parsed
// (nor read).
func (in *nativeInput) parse(q *nativeParser, b *nativeBlock) {
	if int64(b.idx) > in.failed.Load() {
		return // an earlier block failed: its error is the one returned
	}
	b.n, b.err = q.parseBlock(b.rows, b.data, b.line)
	if b.err != nil {
		for {
			f := in.failed.Load()
			if int64(b.idx) >= f || in.failed.CompareAndSwap(f, int64(b.idx)) {
				break
			}
		}
	}
}

// readRows parses the lines after the header (read by rr) into rows, on
// up to GOMAXPROCS goroutines while no line has a quote; from the first
// block with a quote on, the rest is read line by line (readSeq), since a
// quoted field may span lines. The result is that of parsing every line
// in order, errors included: a block's error is that of its first bad
// line, and the error returned is that of the first block that has one.
func (p *nativeParser) readRows(rr *recReader) ([]Row, error) {
	in := &nativeInput{src: rr.br, size: rr.size, line: rr.line}
	in.failed.Store(math.MaxInt64)
	buf := make([]byte, p.block)
	b, buf := in.next(buf)
	if b != nil && !in.done {
		// work parses blocks until there are no more, starting with b
		// when it is not nil.
		work := func(q *nativeParser, b *nativeBlock, buf []byte) {
			for {
				if b == nil {
					in.mu.Lock()
					b, buf = in.next(buf)
					in.mu.Unlock()
					if b == nil {
						return
					}
				}
				in.parse(q, b)
				b = nil
			}
		}
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) - 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work(p.clone(), nil, make([]byte, p.block))
			}()
		}
		work(p, b, buf)
		wg.Wait()
	} else if b != nil {
		in.parse(p, b) // the whole input in one block
	}
	if err := firstError(in.blocks); err != nil {
		return nil, err
	}
	var more []Row
	if in.rest != nil {
		sr := newRecReader(in.rest)
		sr.line, sr.size = in.line, in.size
		var err error
		if more, err = p.readSeq(sr, nil); err != nil {
			return nil, err
		}
	}
	if in.err != nil {
		return nil, csvError(p.op, p.name, in.err)
	}
	return joinBlocks(in.blocks, in.shared, more), nil
}

// firstError is the error of the first block that failed.
func firstError(blocks []*nativeBlock) error {
	for _, b := range blocks {
		if b.err != nil {
			return b.err
		}
	}
	return nil
}

// joinBlocks returns the rows of blocks in order followed by more. When
// every block's rows are ranges of shared, they are moved together in
// place (only blocks after an empty line move); otherwise they are copied
// into a new slice of the exact size.
func joinBlocks(blocks []*nativeBlock, shared, more []Row) []Row {
	total, own := len(more), false
	for _, b := range blocks {
		total += b.n
		own = own || b.own
	}
	if total == 0 {
		return nil
	}
	if own {
		out := make([]Row, 0, total)
		for _, b := range blocks {
			out = append(out, b.rows[:b.n]...)
		}
		return append(out, more...)
	}
	n, used := 0, 0
	for _, b := range blocks {
		if n < used {
			copy(shared[n:], b.rows[:b.n])
		}
		n += b.n
		used += len(b.rows)
	}
	clear(shared[n:used]) // the slots of empty lines, and of rows moved down
	return append(shared[:n], more...)
}

// errReader returns its error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
