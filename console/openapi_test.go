package console

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes walks every route the console exports (Routes:
// the API, the pages and their files) and fails for any the OpenAPI
// document lacks or does not tag "console" (and for documented "console"
// operations that no route serves), then checks the document's structure:
// every operation has an operationId (unique), a summary and a success
// response (200 for the console's), no parameter is listed twice, every
// path parameter is declared, every parameter of a route that names a
// region is documented, every $ref resolves and every security
// requirement names a declared scheme.
//
// The document also describes the rest of the server (the wall, signing
// in, the push intake, operations): those operations are not tagged
// "console", and package app's TestOpenAPIMatchesRouteTable checks them,
// and the security of every operation, against the route table.
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
		Components map[string]map[string]json.RawMessage `json:"components"`
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
		raw, ok := doc.Paths[p][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, p)
			continue
		}
		var op struct{ Tags []string }
		if err := json.Unmarshal(raw, &op); err != nil || !slices.Contains(op.Tags, "console") {
			t.Errorf("route %s %s: the operation is not tagged console (tags %v)", r.Method, p, op.Tags)
		}
	}
	if len(served) < 16 {
		t.Errorf("only %d routes exported", len(served))
	}
	opIDs := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string                       `json:"operationId"`
				Summary     string                       `json:"summary"`
				Tags        []string                     `json:"tags"`
				Parameters  []struct{ Name, In string }  `json:"parameters"`
				Responses   map[string]json.RawMessage   `json:"responses"`
				Security    []map[string]json.RawMessage `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			console := slices.Contains(op.Tags, "console")
			if console && !served[path+" "+method] {
				t.Errorf("openapi.json documents %s %s, which no route serves", method, path)
			}
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: needs operationId and summary", method, path)
			}
			if other, dup := opIDs[op.OperationID]; dup {
				t.Errorf("%s %s: operationId %q is also %s's", method, path, op.OperationID, other)
			}
			opIDs[op.OperationID] = method + " " + path
			success := false
			for code := range op.Responses {
				success = success || (code >= "100" && code < "400")
			}
			if (console && op.Responses["200"] == nil) || !success {
				t.Errorf("%s %s: needs a 200 (console) or another success response", method, path)
			}
			params := map[[2]string]bool{}
			for _, p := range op.Parameters {
				if params[[2]string{p.Name, p.In}] {
					t.Errorf("%s %s: parameter %s (in %s) listed twice", method, path, p.Name, p.In)
				}
				params[[2]string{p.Name, p.In}] = true
			}
			for _, req := range op.Security {
				for scheme := range req {
					if doc.Components["securitySchemes"][scheme] == nil {
						t.Errorf("%s %s: security scheme %s is not declared", method, path, scheme)
					}
				}
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
	refs := regexp.MustCompile(`"\$ref":\s*"([^"]*)"`).FindAllStringSubmatch(string(b), -1)
	if len(refs) == 0 {
		t.Error("no $ref found")
	}
	for _, m := range refs {
		kind, name, ok := strings.Cut(strings.TrimPrefix(m[1], "#/components/"), "/")
		if !ok || !strings.HasPrefix(m[1], "#/components/") || doc.Components[kind][name] == nil {
			t.Errorf("$ref to missing %s", m[1])
		}
	}
}
