package execution

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/yieldvault/yieldvault/adapters"
)

// SafeBatch is a Safe Transaction Builder batch file: the JSON the Safe
// web app's Transaction Builder imports (safe-global/safe-react-apps
// apps/tx-builder src/typings/models.ts BatchFile), executed by the Safe
// as one MultiSend.
type SafeBatch struct {
	Version      string   `json:"version"`
	ChainID      string   `json:"chainId"`
	CreatedAt    int64    `json:"createdAt"` // unix milliseconds
	Meta         SafeMeta `json:"meta"`
	Transactions []SafeTx `json:"transactions"`
}

// SafeMeta is a batch file's meta block.
type SafeMeta struct {
	Name                    string `json:"name"`
	Description             string `json:"description"`
	TxBuilderVersion        string `json:"txBuilderVersion"`
	CreatedFromSafeAddress  string `json:"createdFromSafeAddress"`
	CreatedFromOwnerAddress string `json:"createdFromOwnerAddress"`
	Checksum                string `json:"checksum,omitempty"`
}

// SafeTx is one transaction of a batch. Data is always the exact
// encoding; ContractMethod and ContractInputsValues are given too (for
// the app to show the call decoded) when every input is a plain value
// (address, bool, integer).
type SafeTx struct {
	To                   string            `json:"to"`
	Value                string            `json:"value"`
	Data                 string            `json:"data"`
	ContractMethod       *SafeMethod       `json:"contractMethod"`
	ContractInputsValues map[string]string `json:"contractInputsValues"`
}

// SafeMethod is a transaction's method as the Transaction Builder shows it.
type SafeMethod struct {
	Inputs  []SafeInput `json:"inputs"`
	Name    string      `json:"name"`
	Payable bool        `json:"payable"`
}

// SafeInput is one input of a SafeMethod.
type SafeInput struct {
	InternalType string `json:"internalType"`
	Name         string `json:"name"`
	Type         string `json:"type"`
}

// txBuilderVersion is the Transaction Builder version whose format the
// files follow.
const txBuilderVersion = "1.18.2"

// NewSafeBatch builds the batch of calls for a Safe, with its checksum.
func NewSafeBatch(chainID uint64, safe common.Address, createdAtMillis int64, name, description string, calls []Call) (*SafeBatch, error) {
	b := &SafeBatch{
		Version: "1.0", ChainID: strconv.FormatUint(chainID, 10), CreatedAt: createdAtMillis,
		Meta: SafeMeta{Name: name, Description: description, TxBuilderVersion: txBuilderVersion, CreatedFromSafeAddress: safe.Hex()},
	}
	for _, c := range calls {
		tx := SafeTx{To: c.To.Hex(), Value: valueOf(c.Value).String(), Data: "0x" + common.Bytes2Hex(c.Data)}
		if plainInputs(c.Method) {
			m := &SafeMethod{Name: c.Method.RawName, Payable: c.Method.Payable || c.Method.StateMutability == "payable", Inputs: []SafeInput{}}
			tx.ContractInputsValues = map[string]string{}
			for i, in := range c.Method.Inputs {
				m.Inputs = append(m.Inputs, SafeInput{InternalType: in.Type.String(), Name: in.Name, Type: in.Type.String()})
				tx.ContractInputsValues[in.Name] = FormatArg(c.Args[i])
			}
			tx.ContractMethod = m
		}
		b.Transactions = append(b.Transactions, tx)
	}
	sum, err := b.ComputeChecksum()
	if err != nil {
		return nil, err
	}
	b.Meta.Checksum = sum
	return b, nil
}

func valueOf(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

func plainInputs(m abi.Method) bool {
	for _, in := range m.Inputs {
		switch in.Type.T {
		case abi.AddressTy, abi.BoolTy, abi.UintTy, abi.IntTy:
		default:
			return false
		}
	}
	return true
}

// ComputeChecksum is the Transaction Builder's checksum of the batch
// (apps/tx-builder src/lib/checksum.ts): Keccak-256 of a canonical
// serialisation of the batch without its checksum and with meta.name set
// to null. Objects serialise as '{' + the JSON array of their sorted keys
// followed by each value's serialisation and a comma + '}', arrays as
// '[' + the elements joined by commas + ']', other values as JSON.
func (b *SafeBatch) ComputeChecksum() (string, error) {
	cp := *b
	cp.Meta.Checksum = ""
	js, err := json.Marshal(cp)
	if err != nil {
		return "", adapters.Wrap("execution.SafeBatch", adapters.KindOther, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return "", adapters.Wrap("execution.SafeBatch", adapters.KindOther, err)
	}
	meta := v["meta"].(map[string]any)
	delete(meta, "checksum")
	meta["name"] = nil
	var sb strings.Builder
	if err := serializeChecksum(&sb, v); err != nil {
		return "", err
	}
	return "0x" + common.Bytes2Hex(crypto.Keccak256([]byte(sb.String()))), nil
}

func serializeChecksum(sb *strings.Builder, v any) error {
	switch x := v.(type) {
	case []any:
		sb.WriteByte('[')
		for i, el := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if err := serializeChecksum(sb, el); err != nil {
				return err
			}
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		if err := jsonString(sb, keys); err != nil {
			return err
		}
		for _, k := range keys {
			if err := serializeChecksum(sb, x[k]); err != nil {
				return err
			}
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
	default:
		return jsonString(sb, x)
	}
	return nil
}

// jsonString writes v as JavaScript's JSON.stringify does for the plain
// ASCII values of a batch (no HTML escaping).
func jsonString(sb *strings.Builder, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return adapters.Wrap("execution.SafeBatch", adapters.KindOther, err)
	}
	sb.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}

// checksumOf is ComputeChecksum's last step on a decoded batch.
func checksumOf(v map[string]any) (string, error) {
	var sb strings.Builder
	if err := serializeChecksum(&sb, v); err != nil {
		return "", err
	}
	return "0x" + common.Bytes2Hex(crypto.Keccak256([]byte(sb.String()))), nil
}
