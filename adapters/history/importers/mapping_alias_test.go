package importers

import (
	"errors"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestParseMapping_RefusesAliases: a column mapping with an anchor and an
// alias is refused at the anchor, naming the file.
func TestParseMapping_RefusesAliases(t *testing.T) {
	in := "market: aave-v3/weth\ntime: &t { column: date }\ncolumns: [ *t ]\n"
	_, err := ParseMapping("map.yaml", []byte(in))
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "map.yaml:2:7") || !strings.Contains(err.Error(), "anchors and aliases are not supported") {
		t.Fatalf("ParseMapping = %v, want the anchors error at map.yaml:2:7", err)
	}
}
