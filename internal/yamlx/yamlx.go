// Package yamlx decodes YAML strictly and turns decoding errors into
// errors that name the file, line and column.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
)

// MaxBytes bounds the size of a YAML document the project will decode.
const MaxBytes = 4 << 20

// PosError is a decoding error at a place in a file.
type PosError struct {
	File      string
	Line, Col int // 1-based; 0 when unknown
	Msg       string
}

// Pos returns "file:line:col" (or "file" when the line is unknown).
func (e *PosError) Pos() string {
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
}

func (e *PosError) Error() string { return e.Pos() + ": " + e.Msg }

// Decode decodes data into v. Unknown keys and duplicate keys are errors.
// A returned error is a *PosError. The YAML library panics on some
// malformed inputs (a tag on an empty sequence value); Decode recovers and
// reports those as errors.
func Decode(file string, data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PosError{File: file, Msg: fmt.Sprintf("malformed YAML (%v)", r)}
		}
	}()
	if len(data) > MaxBytes {
		return &PosError{File: file, Msg: fmt.Sprintf("file is larger than %d bytes", MaxBytes)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &PosError{File: file, Line: 1, Col: 1, Msg: "empty document"}
	}
	if err = yaml.UnmarshalWithOptions(data, v, yaml.Strict()); err == nil {
		return nil
	}
	return FromError(file, err)
}

// FromError converts a go-yaml error into a *PosError with a line and
// column when the error carries them.
func FromError(file string, err error) *PosError {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return &PosError{File: file, Line: tk.Position.Line, Col: tk.Position.Column, Msg: ye.GetMessage()}
		}
		return &PosError{File: file, Msg: ye.GetMessage()}
	}
	return &PosError{File: file, Msg: err.Error()}
}
