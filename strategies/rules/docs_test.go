package rules

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/strategies"
)

const docPath = "../../docs/strategy-language.md"

// docHead completes fragments of the reference: each of its top-level
// keys is added when the fragment does not set it.
var docHead = []struct{ key, text string }{
	{"base", "base: ETH\n"},
	{"universe", "universe: [lido/steth, rocketpool/reth, etherfi/weeth, aave-v3/weth, curve/steth-eth]\n"},
	{"params", "params: { min_peg: 0.99, max_lrt: 0.4 }\n"},
	{"rules", "rules: { score: net_apy }\n"},
}

// yamlBlocks returns the ```yaml blocks of a Markdown file with the line
// each starts on.
func yamlBlocks(t *testing.T, path string) ([]string, []int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var lines []int
	var cur *strings.Builder
	start := 0
	for i, l := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```yaml":
			cur, start = &strings.Builder{}, i+2
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, cur.String())
			lines = append(lines, start)
			cur = nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: unterminated ```yaml block at line %d", path, start-1)
	}
	return blocks, lines
}

func TestDocs_Examples(t *testing.T) {
	blocks, lines := yamlBlocks(t, docPath)
	if len(blocks) < 15 {
		t.Fatalf("found %d yaml blocks in %s, want at least 15", len(blocks), docPath)
	}
	for i, b := range blocks {
		t.Run(fmt.Sprintf("line%d", lines[i]), func(t *testing.T) {
			src := b
			if !regexp.MustCompile(`(?m)^base:`).MatchString(b) {
				var head strings.Builder
				for _, h := range docHead {
					if !regexp.MustCompile(`(?m)^` + h.key + `:`).MatchString(b) {
						head.WriteString(h.text)
					}
				}
				src = head.String() + b
			}
			if _, err := Load(fmt.Sprintf("%s:block@%d", docPath, lines[i]), []byte(src), nil); err != nil {
				t.Errorf("example at %s:%d does not load:\n%v\n--- source ---\n%s", docPath, lines[i], err, src)
			}
		})
	}
}

// TestDocs_Complete checks that the reference names every key, name,
// function, allocation method and constraint field.
func TestDocs_Complete(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var want []string
	for _, n := range Names {
		want = append(want, n.Name)
	}
	want = append(want, Functions...)
	want = append(want, WindowFuncs...)
	want = append(want, GroupFuncs...)
	for _, m := range strategies.Methods {
		want = append(want, string(m))
	}
	for _, keys := range []map[string]bool{
		keysOf(fileSpec{}), keysOf(rulesSpec{}), keysOf(allocSpec{}), keysOf(rebalanceSpec{}),
		keysOf(harvestSpec{}), keysOf(exitSpec{}), keysOf(strategies.Constraints{}),
	} {
		for k := range keys {
			want = append(want, k)
		}
	}
	for _, w := range want {
		if !strings.Contains(doc, "`"+w+"`") && !strings.Contains(doc, "`"+w+"(") {
			t.Errorf("%s does not document `%s`", docPath, w)
		}
	}
}

func keysOf(v any) map[string]bool {
	out := map[string]bool{}
	for k := range yamlFields(reflectType(v)) {
		out[k] = true
	}
	return out
}

func reflectType(v any) reflect.Type { return reflect.TypeOf(v) }
