package history

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// recReader reads CSV records (RFC 4180: comma separated, fields may be
// quoted with "" for a quote and may then span lines; empty lines are
// skipped) faster than encoding/csv for the common unquoted line: one
// string per record, fields sliced from it.
type recReader struct {
	br      *bufio.Reader
	line    int // lines read so far
	fields  []string
	bfields [][]byte
	long    []byte // a line longer than the buffer
	size    int64  // input size when known (for preallocation), else 0
	read0   int    // bytes of the last record, for estimate
}

type recError struct {
	line int
	msg  string
}

func (e *recError) Error() string { return e.msg }

func newRecReader(r io.Reader) *recReader {
	rr := &recReader{br: bufio.NewReaderSize(r, 64<<10)}
	if l, ok := r.(interface{ Len() int }); ok {
		rr.size = int64(l.Len())
	}
	return rr
}

// estimate guesses the number of records from the input size and the
// last record's length (0 when the size is unknown), bounded. It allows a
// quarter more records than that: records vary in length, and growing a
// large slice of rows costs more than some spare capacity.
func (rr *recReader) estimate() int {
	if rr.size <= 0 || rr.read0 <= 0 {
		return 0
	}
	return int(min(rr.size*5/4/int64(rr.read0)+16, 1<<24))
}

// readLine returns the next line without its line ending, or io.EOF.
func (rr *recReader) readLine() ([]byte, error) {
	b, err := rr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		rr.long = append(rr.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = rr.br.ReadSlice('\n')
			rr.long = append(rr.long, b...)
		}
		b = rr.long
	}
	if len(b) == 0 && err != nil {
		return nil, err
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	rr.line++
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, nil
}

// next returns the next non-empty line and the line number it is on, or
// io.EOF. The bytes are valid until the next read.
func (rr *recReader) next() ([]byte, int, error) {
	for {
		b, err := rr.readLine()
		if err != nil {
			return nil, 0, err
		}
		if len(b) > 0 {
			rr.read0 = len(b) + 1
			return b, rr.line, nil
		}
	}
}

// read returns the next record's fields (valid until the next call) and
// the line it starts on, or io.EOF.
func (rr *recReader) read() ([]string, int, error) {
	b, start, err := rr.next()
	if err != nil {
		return nil, 0, err
	}
	if bytes.IndexByte(b, '"') >= 0 {
		return rr.quoted(string(b), start)
	}
	fields := rr.fields[:0]
	s := string(b)
	for {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			fields = append(fields, s)
			break
		}
		fields = append(fields, s[:i])
		s = s[i+1:]
	}
	rr.fields = fields
	return fields, start, nil
}

// readBytes is read without copying: the fields of a record without
// quotes are slices of the reader's buffer. They are valid until the next
// call.
func (rr *recReader) readBytes() ([][]byte, int, error) {
	b, start, err := rr.next()
	if err != nil {
		return nil, 0, err
	}
	fields := rr.bfields[:0]
	if bytes.IndexByte(b, '"') >= 0 {
		sf, start, err := rr.quoted(string(b), start)
		if err != nil {
			return nil, start, err
		}
		for _, f := range sf {
			fields = append(fields, []byte(f))
		}
		rr.bfields = fields
		return fields, start, nil
	}
	for {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			fields = append(fields, b)
			break
		}
		fields = append(fields, b[:i])
		b = b[i+1:]
	}
	rr.bfields = fields
	return fields, start, nil
}

// quoted splits the record that starts with line s (on line start), some
// of whose fields are quoted; a quoted field may continue on the next
// lines.
func (rr *recReader) quoted(s string, start int) ([]string, int, error) {
	fields := rr.fields[:0]
	i := 0
	for {
		if i < len(s) && s[i] == '"' {
			var sb strings.Builder
			i++
			for {
				j := strings.IndexByte(s[i:], '"')
				if j < 0 {
					more, err := rr.readLine()
					if err != nil {
						return nil, start, &recError{start, `extraneous or missing " in quoted-field`}
					}
					sb.WriteString(s[i:])
					sb.WriteByte('\n')
					s, i = string(more), 0
					continue
				}
				sb.WriteString(s[i : i+j])
				i += j + 1
				if i < len(s) && s[i] == '"' {
					sb.WriteByte('"')
					i++
					continue
				}
				break
			}
			fields = append(fields, sb.String())
			if i == len(s) {
				break
			}
			if s[i] != ',' {
				return nil, start, &recError{rr.line, `extraneous or missing " in quoted-field`}
			}
			i++
			continue
		}
		j := strings.IndexByte(s[i:], ',')
		f := s[i:]
		if j >= 0 {
			f = s[i : i+j]
		}
		if strings.IndexByte(f, '"') >= 0 {
			return nil, start, &recError{rr.line, `bare " in non-quoted-field`}
		}
		fields = append(fields, f)
		if j < 0 {
			break
		}
		i += j + 1
	}
	rr.fields = fields
	return fields, start, nil
}
