package service

import (
	"io"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestOpenAPI_MatchesRoutes checks openapi.yaml against the handlers:
// every route the service registers is described with exactly the
// status codes it can answer (the label sets of http_requests_total), and
// nothing else is; /openapi.yaml serves the file.
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]any
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
	described := map[string][]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			var codes []string
			o, _ := op.(map[string]any)
			rs, _ := o["responses"].(map[string]any)
			for c := range rs {
				codes = append(codes, c)
			}
			sort.Strings(codes)
			if path == "/" {
				path = "/{$}" // the mux's pattern for exactly /
			}
			described[strings.ToUpper(method)+" "+path] = codes
		}
	}
	s := metricsService(t)
	var registered []string
	for _, p := range s.routes().patterns {
		if p == "/" {
			continue // the catch-all 404
		}
		registered = append(registered, p)
		codes, ok := described[p]
		if !ok {
			t.Errorf("route %s is not in openapi.yaml", p)
			continue
		}
		var want []string
		for _, c := range httpRoutes[p] {
			want = append(want, strconv.Itoa(c))
		}
		sort.Strings(want)
		if !slices.Equal(codes, want) {
			t.Errorf("%s: openapi.yaml lists codes %v, the service answers %v", p, codes, want)
		}
	}
	for p := range described {
		if !slices.Contains(registered, p) {
			t.Errorf("openapi.yaml describes %s, which the service does not serve", p)
		}
	}
	for p := range httpRoutes {
		if p != "other" && !slices.Contains(registered, p) {
			t.Errorf("the metrics initialise route %s, which the service does not serve", p)
		}
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.yaml", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || string(b) != string(openAPI) {
		t.Errorf("GET /openapi.yaml: %d, %d bytes; want 200 and the file", rec.Code, len(b))
	}
}
