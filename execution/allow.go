package execution

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/yieldvault/yieldvault/adapters"
)

// Allowlist is the only (contract, function) pairs the executor may call.
type Allowlist struct {
	fns map[common.Address]map[string]bool
}

// NewAllowlist returns an empty allowlist.
func NewAllowlist() *Allowlist { return &Allowlist{fns: map[common.Address]map[string]bool{}} }

// Allow adds functions of a contract.
func (a *Allowlist) Allow(contract common.Address, functions ...string) {
	m := a.fns[contract]
	if m == nil {
		m = map[string]bool{}
		a.fns[contract] = m
	}
	for _, f := range functions {
		m[f] = true
	}
}

// Allowed reports whether function of contract is allowed.
func (a *Allowlist) Allowed(contract common.Address, function string) bool {
	return a != nil && a.fns[contract][function]
}

// Contracts lists the allowed contracts, sorted by address.
func (a *Allowlist) Contracts() []common.Address {
	out := make([]common.Address, 0, len(a.fns))
	for c := range a.fns {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hex() < out[j].Hex() })
	return out
}

// recipientInputs are the inputs, in the protocols' ABIs, that name who
// receives tokens, shares, a position or a withdrawal request, or on
// whose behalf a position is held.
var recipientInputs = map[string]bool{
	"onBehalfOf": true, "onBehalf": true, "to": true, "dst": true, "receiver": true,
	"owner": true, "_owner": true, "recipient": true, "withdrawer": true, "_recipient": true,
}

// Check refuses a batch with a call outside the allowlist, a token
// recipient (or owner, or onBehalfOf) other than vault, or an approval
// to a spender that is not an allowed contract. The error (KindInvalid)
// names the call and why.
func (a *Allowlist) Check(vault common.Address, calls []Call) error {
	const op = "execution.Allowlist.Check"
	for i, c := range calls {
		name := c.Method.RawName
		if !a.Allowed(c.To, name) {
			return adapters.E(op, adapters.KindInvalid, "refused: call %d, %s.%s at %s, is not in the allowlist (execution.allow)", i+1, c.Contract, name, c.To.Hex())
		}
		if name == "approve" {
			spender, _ := c.Args[0].(common.Address)
			if _, ok := a.fns[spender]; !ok {
				return adapters.E(op, adapters.KindInvalid, "refused: call %d approves %s to spend %s, which is not an allowed contract", i+1, spender.Hex(), c.Contract)
			}
		}
		for j, in := range c.Method.Inputs {
			if err := checkRecipients(in.Name, reflect.ValueOf(c.Args[j]), vault); err != nil {
				return adapters.E(op, adapters.KindInvalid, "refused: call %d, %s.%s: %v", i+1, c.Contract, name, err)
			}
		}
	}
	return nil
}

var addressType = reflect.TypeOf(common.Address{})

// checkRecipients walks an argument (a value, a struct's fields, a
// slice's elements) and checks every recipient input is vault.
func checkRecipients(name string, v reflect.Value, vault common.Address) error {
	if v.Type() == addressType {
		if a := v.Interface().(common.Address); recipientInputs[name] && a != vault {
			return fmt.Errorf("%s is %s, not the vault's own address %s", name, a.Hex(), vault.Hex())
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			// The ABI component names are the fields' names with a lower
			// first letter (abi.ToCamelCase's inverse for these structs).
			if err := checkRecipients(strings.ToLower(f.Name[:1])+f.Name[1:], v.Field(i), vault); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkRecipients(name, v.Index(i), vault); err != nil {
				return err
			}
		}
	}
	return nil
}
