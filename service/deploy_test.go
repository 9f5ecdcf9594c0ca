package service

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// scrapeLabels maps each metric name of a scrape to the label names its
// series carry.
func scrapeLabels(body string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	line := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? `)
	key := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	for _, l := range strings.Split(body, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		set := out[m[1]]
		if set == nil {
			set = map[string]bool{}
			out[m[1]] = set
		}
		for _, k := range key.FindAllStringSubmatch(m[3], -1) {
			set[k[1]] = true
		}
	}
	return out
}

// checkExpr checks that a PromQL expression's brackets balance and that
// every yieldvault metric it names exists in the scrape with every label
// its selector matches on.
func checkExpr(t *testing.T, where, expr string, have map[string]map[string]bool) int {
	t.Helper()
	depth := map[rune]int{}
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	for _, r := range expr {
		switch r {
		case '(', '[', '{':
			depth[r]++
		case ')', ']', '}':
			depth[pairs[r]]--
			if depth[pairs[r]] < 0 {
				t.Errorf("%s: unbalanced %q in %s", where, r, expr)
			}
		}
	}
	for r, d := range depth {
		if d != 0 {
			t.Errorf("%s: unbalanced %q in %s", where, r, expr)
		}
	}
	sel := regexp.MustCompile(`(yieldvault_[a-z_]+)(\{([^}]*)\})?`)
	key := regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"`)
	n := 0
	for _, m := range sel.FindAllStringSubmatch(expr, -1) {
		n++
		labels, ok := have[m[1]]
		if !ok {
			t.Errorf("%s: metric %s is not in the first scrape (%s)", where, m[1], expr)
			continue
		}
		for _, k := range key.FindAllStringSubmatch(m[3], -1) {
			if !labels[k[1]] {
				t.Errorf("%s: %s has no label %s (%s)", where, m[1], k[1], expr)
			}
		}
	}
	return n
}

// TestDeploy_AlertRules checks deploy/prometheus/alerts.yaml: it decodes
// strictly as a Prometheus rule file, each alert has a severity, a
// summary and a valid for:, and every metric and label it names exists
// in the service's first scrape.
func TestDeploy_AlertRules(t *testing.T) {
	data, err := os.ReadFile("../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.UnmarshalWithOptions(data, &f, yaml.Strict()); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	have := scrapeLabels(scrape(t, metricsService(t)))
	dur := regexp.MustCompile(`^[0-9]+(ms|s|m|h|d|w|y)$`)
	names := map[string]bool{}
	n := 0
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a name and rules are required", g.Name)
		}
		for _, r := range g.Rules {
			n++
			where := "alerts.yaml " + r.Alert
			if !regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`).MatchString(r.Alert) || names[r.Alert] {
				t.Errorf("%s: alert names must be unique identifiers", where)
			}
			names[r.Alert] = true
			if r.For != "" && !dur.MatchString(r.For) {
				t.Errorf("%s: for %q is not a Prometheus duration", where, r.For)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" && s != "{{ $labels.severity }}" {
				t.Errorf("%s: severity %q", where, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", where)
			}
			if checkExpr(t, where, r.Expr, have) == 0 {
				t.Errorf("%s: names no yieldvault metric", where)
			}
		}
	}
	if n < 10 {
		t.Errorf("%d alert rules, want the whole file", n)
	}
}

// TestDeploy_GrafanaDashboard checks deploy/grafana/yieldvault.json: it
// parses, every panel queries the Prometheus datasource variable, and
// every metric and label its queries name exists in the first scrape.
func TestDeploy_GrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana/yieldvault.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("yieldvault.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 8 {
		t.Fatalf("dashboard %q uid %q with %d panels: want a title, a uid and the panels", d.Title, d.UID, len(d.Panels))
	}
	have := scrapeLabels(scrape(t, metricsService(t)))
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok && strings.Contains(q, "yieldvault_") {
			checkExpr(t, "variable "+v.Name, q, have)
		}
	}
	for _, p := range d.Panels {
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d queries; want ${datasource} and a query", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			if checkExpr(t, "panel "+p.Title, q.Expr, have) == 0 {
				t.Errorf("panel %q: query %q names no yieldvault metric", p.Title, q.Expr)
			}
		}
	}
}

// TestDeploy_Dockerfile checks deploy/Dockerfile's promises: a build
// stage and a final stage, a static binary (CGO off) of ./cmd/yieldvault,
// and a final stage that runs as a non-root user.
func TestDeploy_Dockerfile(t *testing.T) {
	data, err := os.ReadFile("../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], l)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	build := strings.Join(stages[0], "\n")
	if !strings.Contains(build, "CGO_ENABLED=0 go build") || !strings.Contains(build, "./cmd/yieldvault") {
		t.Error("the build stage does not build ./cmd/yieldvault with CGO_ENABLED=0")
	}
	final := stages[len(stages)-1]
	user := ""
	for _, l := range final {
		if u, ok := strings.CutPrefix(l, "USER "); ok {
			user = u
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("final stage runs as %q, want a non-root user", user)
	}
}

// TestDeploy_SystemdUnit checks deploy/yieldvault.service: the hardening
// options it promises, and systemd-analyze verify where systemd is
// installed.
func TestDeploy_SystemdUnit(t *testing.T) {
	data, err := os.ReadFile("../deploy/yieldvault.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
		"DynamicUser=yes", "StateDirectory=yieldvault", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
		"MemoryDenyWriteExecute=yes", "Restart=on-failure", "ExecStart=/usr/local/bin/yieldvault serve -c "} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit's syntax is not verified")
		return
	}
	// verify checks that ExecStart exists: point it at a file that does.
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "yieldvault.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(data), "/usr/local/bin/yieldvault", bin)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
