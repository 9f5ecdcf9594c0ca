package adapters

import (
	"errors"
	"strings"
	"testing"
)

// TestCatalog_Load_RefusesAliases: a catalog file with anchors and
// aliases (the shape of an alias bomb) is refused at the anchor, and the
// catalog is unchanged.
func TestCatalog_Load_RefusesAliases(t *testing.T) {
	c := Builtin()
	before := len(c.Markets())
	in := "profiles: &p []\nmarkets: *p\n"
	err := c.Load("cat.yaml", []byte(in))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cat.yaml:1:11") || !strings.Contains(err.Error(), "anchors and aliases are not supported") {
		t.Fatalf("Load = %v, want the anchors error at cat.yaml:1:11", err)
	}
	if got := len(c.Markets()); got != before {
		t.Errorf("%d markets after a refused file, want %d", got, before)
	}
}
