package synth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// synthTestKind stands for a market kind another package registered.
const synthTestKind adapters.Kind = "synth-test-kind"

func init() {
	adapters.Register(synthTestKind, func(m adapters.Market, _ *adapters.Profile) (adapters.Driver, error) {
		return nil, adapters.E("synth test", adapters.KindInvalid, "%s: not opened by the generator", m.ID)
	})
}

// TestGenerate_RegisteredKind: a catalog holding a market of a registered
// kind the generator has no model of generates every other market and
// says why that one is missing; asked for by name, it is an error.
func TestGenerate_RegisteredKind(t *testing.T) {
	cat := adapters.Builtin()
	if err := cat.Load("cat.yaml", []byte("profiles:\n  - { name: acme, kind: synth-test-kind, base: ETH }\nmarkets:\n  - { id: acme/note, kind: synth-test-kind, base: ETH }\n")); err != nil {
		t.Fatal(err)
	}
	from, to := date("2024-01-01T00:00:00Z"), date("2024-01-03T00:00:00Z")
	b, err := Generate(Config{From: from, To: to, Step: 24 * time.Hour, Seed: 1, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(b.Markets), len(storedMarkets()); got != want {
		t.Errorf("%d markets generated, want the %d built-in ones", got, want)
	}
	if len(b.Notes) != 1 || !strings.Contains(b.Notes[0], "market acme/note not generated: the generator has no model of kind synth-test-kind") {
		t.Errorf("notes %q: want one saying acme/note is not generated", b.Notes)
	}
	note, _ := cat.Market("acme/note")
	_, err = Generate(Config{From: from, To: to, Step: 24 * time.Hour, Seed: 1, Catalog: cat, Markets: []adapters.Market{note}})
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "no model of kind synth-test-kind") {
		t.Errorf("Generate(acme/note) = %v, want an invalid error naming the kind", err)
	}
}
