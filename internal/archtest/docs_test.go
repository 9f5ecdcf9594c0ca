package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestDocsMatchFolders keeps the layers table of docs/ARCHITECTURE.md true
// to the folders: every package of the module (examples aside) is named in
// the table, and every package the table names exists.
func TestDocsMatchFolders(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	inTable := false
	pkgRe := regexp.MustCompile("`([a-z0-9/_-]+)`")
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| layer | package |") {
			inTable = true
			continue
		}
		if inTable && !strings.HasPrefix(line, "|") {
			break
		}
		if !inTable || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range pkgRe.FindAllStringSubmatch(cells[2], -1) {
			documented[m[1]] = true
		}
	}
	if len(documented) == 0 {
		t.Fatal("docs/ARCHITECTURE.md: no layers table (a line starting '| layer | package |')")
	}
	found := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if name == "testdata" || strings.HasPrefix(name, ".") || path == filepath.Join(root, "examples") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			found[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, stale []string
	for p := range found {
		if !documented[p] {
			missing = append(missing, p)
		}
	}
	for p := range documented {
		if !found[p] {
			stale = append(stale, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, p := range missing {
		t.Errorf("package %s is not in the layers table of docs/ARCHITECTURE.md", p)
	}
	for _, p := range stale {
		t.Errorf("docs/ARCHITECTURE.md names package %s, which does not exist", p)
	}
}
