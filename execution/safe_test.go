package execution

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSafeBatch_Checksum recomputes the checksum of a batch file the Safe
// Transaction Builder exported (the example in
// 5afe/safe-cli-nodejs TRANSACTION_BUILDER_FORMAT_ANALYSIS.md: one USDC
// approve, data null, Transaction Builder 1.18.2).
func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func TestSafeBatch_Checksum(t *testing.T) {
	const file = `{
  "version": "1.0",
  "chainId": "1",
  "createdAt": 1761326849944,
  "meta": {
    "name": "Transactions Batch",
    "description": "",
    "txBuilderVersion": "1.18.2",
    "createdFromSafeAddress": "0xA77DE01e157f9f57C7c4A326eeE9C4874D0598b6",
    "createdFromOwnerAddress": "",
    "checksum": "0x8b5032f716845c8b08bab3d63dbd9ba92e056f3557793cd041e59b84e16aa989"
  },
  "transactions": [
    {
      "to": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
      "value": "0",
      "data": null,
      "contractMethod": {
        "inputs": [
          {"internalType": "address", "name": "spender", "type": "address"},
          {"internalType": "uint256", "name": "value", "type": "uint256"}
        ],
        "name": "approve",
        "payable": false
      },
      "contractInputsValues": {
        "spender": "0x474e5Ded6b5D078163BFB8F6dBa355C3aA5478C8",
        "value": "100000000000"
      }
    }
  ]
}`
	var raw map[string]any
	if err := json.Unmarshal([]byte(file), &raw); err != nil {
		t.Fatal(err)
	}
	want := raw["meta"].(map[string]any)["checksum"].(string)
	// The file's data is null, which SafeTx (always the exact encoding)
	// does not produce: checksum the file's own values.
	dec := json.NewDecoder(stringsReader(file))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	meta := v["meta"].(map[string]any)
	delete(meta, "checksum")
	meta["name"] = nil
	got, err := checksumOf(v)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("checksum = %s, want %s", got, want)
	}
}
