package monitor

import (
	"errors"
	"fmt"
	"os"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/yamlx"
)

// LoadFile reads a monitors file (the keys of a service vault's monitors
// section: builtin and rules) and compiles it over the universe. Errors
// name the file, line and column (KindInvalid; KindNotFound for a missing
// file).
func LoadFile(path string, c *Compiler, universe []string, base adapters.Asset) ([]Monitor, error) {
	const op = "monitors"
	data, err := os.ReadFile(path)
	if err != nil {
		kind := adapters.KindInvalid
		if os.IsNotExist(err) {
			kind = adapters.KindNotFound
		}
		return nil, &adapters.Error{Op: op, Kind: kind, Pos: path, Err: err}
	}
	return Parse(path, data, c, universe, base)
}

// Parse is LoadFile on data read from path.
func Parse(path string, data []byte, c *Compiler, universe []string, base adapters.Asset) ([]Monitor, error) {
	const op = "monitors"
	var f File
	if err := yamlx.Decode(path, data, &f); err != nil {
		e := &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: path, Err: err}
		var pe *yamlx.PosError
		if errors.As(err, &pe) {
			e.Pos, e.Err = pe.Pos(), fmt.Errorf("%s", pe.Msg)
		}
		return nil, e
	}
	ms, err := c.Compile(f, universe, base)
	if err != nil {
		e := &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: path, Err: err}
		var fe *Error
		if errors.As(err, &fe) {
			astFile, _ := yamlx.Parse(data)
			p := "$"
			if fe.Field != "" {
				p += "." + fe.Field
			}
			if pos := yamlx.Pos(path, astFile, p); pos != "" {
				e.Pos = pos
			}
		}
		return nil, e
	}
	return ms, nil
}
