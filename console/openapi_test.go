package console

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes walks every route the console exports (Routes:
// the API, the pages and their files) and fails for any the OpenAPI
// document lacks (and for documented paths that no route serves), then
// checks the document's structure: every operation has responses
// including 200, every path parameter is declared, every parameter of a
// route that names a region is documented, and every $ref resolves.
func TestOpenAPICoversRoutes(t *testing.T) {
	s := loadSample(t)
	c, app := s.console(t)
	code, b, _ := get(t, app, "/api/openapi.json")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Info       struct{ Title, Version string }       `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	served := map[string]bool{}
	regionParams := map[string][]RegionParam{}
	for _, r := range c.Routes() {
		p := param.ReplaceAllString(r.Path, "{$1}")
		served[p+" "+strings.ToLower(r.Method)] = true
		regionParams[p+" "+strings.ToLower(r.Method)] = r.Regions
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, p)
		}
	}
	if len(served) < 16 {
		t.Errorf("only %d routes exported", len(served))
	}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if !served[path+" "+method] {
				t.Errorf("openapi.json documents %s %s, which no route serves", method, path)
			}
			var op struct {
				OperationID string                      `json:"operationId"`
				Summary     string                      `json:"summary"`
				Parameters  []struct{ Name, In string } `json:"parameters"`
				Responses   map[string]json.RawMessage  `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			if op.OperationID == "" || op.Summary == "" || op.Responses["200"] == nil {
				t.Errorf("%s %s: needs operationId, summary and a 200 response", method, path)
			}
			for _, rp := range regionParams[path+" "+method] {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.Name == rp.Name && p.In == rp.In)
				}
				if !found {
					t.Errorf("%s %s: region parameter %s (in %s) not documented", method, path, rp.Name, rp.In)
				}
			}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.Name == m[1] && p.In == "path")
				}
				if !found {
					t.Errorf("%s %s: path parameter %s not declared", method, path, m[1])
				}
			}
		}
	}
	for _, m := range regexp.MustCompile(`"\$ref":\s*"#/components/schemas/(\w+)"`).FindAllStringSubmatch(string(b), -1) {
		if doc.Components.Schemas[m[1]] == nil {
			t.Errorf("$ref to missing schema %s", m[1])
		}
	}
}
