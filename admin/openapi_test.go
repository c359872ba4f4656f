package admin

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                              `json:"openapi"`
	Paths      map[string]map[string]openAPIOp     `json:"paths"`
	Components struct{ Schemas map[string]schema } `json:"components"`
}

type openAPIOp struct {
	OperationID string `json:"operationId"`
	RequestBody *struct {
		Content map[string]struct{ Schema schema } `json:"content"`
	} `json:"requestBody"`
	Responses map[string]json.RawMessage `json:"responses"`
}

type schema struct {
	Ref                  string            `json:"$ref"`
	Type                 any               `json:"type"`
	Properties           map[string]schema `json:"properties"`
	Required             []string          `json:"required"`
	AdditionalProperties any               `json:"additionalProperties"`
	Items                *schema           `json:"items"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	return doc
}

// The document lists exactly the endpoints the API serves.
func TestOpenAPIListsExactlyTheServedRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var served []string
	for _, ep := range (&API{}).endpointList() {
		served = append(served, ep.method+" "+ep.path)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented routes differ from served ones\ndocumented: %v\nserved:     %v", documented, served)
	}
}

// requestTypes maps each operation that takes a body to the Go type its
// handler decodes.
var requestTypes = map[string]any{
	"createOrg":    createOrgRequest{},
	"updateOrg":    updateOrgRequest{},
	"putOrgPlan":   putPlanRequest{},
	"putOrgMember": putOrgMemberRequest{},

	"createWorkspace": createWorkspaceRequest{},
	"updateWorkspace": updateWorkspaceRequest{},
	"check":           checkRequest{},
	"putMember":       putMemberRequest{},
	"createRole":      createRoleRequest{},
	"updateRole":      updateRoleRequest{},
	"createInvite":    createInviteRequest{},
	"createAPIKey":    createAPIKeyRequest{},
	"acceptInvite":    acceptInviteRequest{},
	"purgeWorkspace":  purgeRequest{},
	"explain":         explainRequest{},

	"createProject":    createProjectRequest{},
	"updateProject":    updateProjectRequest{},
	"putProjectMember": putProjectMemberRequest{},
}

// Each documented request body has the fields the handler accepts, no
// more, and refuses unknown ones like the handler does.
func TestOpenAPIRequestBodiesMatchTheHandlers(t *testing.T) {
	doc := loadOpenAPI(t)
	withBody := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.RequestBody == nil {
				continue
			}
			withBody[op.OperationID] = true
			goType, ok := requestTypes[op.OperationID]
			if !ok {
				t.Errorf("%s %s documents a body, but its handler decodes none", method, path)
				continue
			}
			s := resolve(t, doc, op.RequestBody.Content["application/json"].Schema)
			compareSchema(t, doc, op.OperationID, s, reflect.TypeOf(goType))
		}
	}
	for id := range requestTypes {
		if !withBody[id] {
			t.Errorf("operation %s decodes a body that the document does not describe", id)
		}
	}
}

// compareSchema checks an object schema against a struct's JSON fields.
func compareSchema(t *testing.T, doc openAPIDoc, where string, s schema, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if s.AdditionalProperties != false {
		t.Errorf("%s: additionalProperties must be false (the handler rejects unknown fields)", where)
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	for name := range fields {
		if _, ok := s.Properties[name]; !ok {
			t.Errorf("%s: field %q is accepted but not documented", where, name)
		}
	}
	for name, prop := range s.Properties {
		ft, ok := fields[name]
		if !ok {
			t.Errorf("%s: property %q is documented but the handler rejects it", where, name)
			continue
		}
		prop = resolve(t, doc, prop)
		if prop.Properties != nil {
			compareSchema(t, doc, where+"."+name, prop, ft)
		}
	}
	for _, name := range s.Required {
		if _, ok := s.Properties[name]; !ok {
			t.Errorf("%s: required %q is not a property", where, name)
		}
	}
}

// Every $ref in the document resolves.
func TestOpenAPIReferencesResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				name, found := strings.CutPrefix(ref, "#/components/schemas/")
				if _, exists := doc.Components.Schemas[name]; !found || !exists {
					t.Errorf("unresolved $ref %q", ref)
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	var raw any
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	walk(raw)
}

func resolve(t *testing.T, doc openAPIDoc, s schema) schema {
	t.Helper()
	if s.Ref == "" {
		return s
	}
	name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
	target, ok := doc.Components.Schemas[name]
	if !ok {
		t.Fatalf("unresolved $ref %q", s.Ref)
	}
	return target
}

// The document lists exactly the query parameters each endpoint reads
// (any other is refused with a 400).
func TestOpenAPIQueryParametersMatchTheHandlers(t *testing.T) {
	var raw struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	for _, ep := range (&API{}).endpointList() {
		var documented []string
		for _, p := range raw.Paths[ep.path][strings.ToLower(ep.method)].Parameters {
			if p.In == "query" {
				documented = append(documented, p.Name)
			}
		}
		served := slices.Clone(ep.query)
		sort.Strings(documented)
		sort.Strings(served)
		if !slices.Equal(documented, served) {
			t.Errorf("%s %s: documented query parameters %q, served %q", ep.method, ep.path, documented, served)
		}
	}
}

// Every 201 answer documents its Location header.
func TestOpenAPICreatedResponsesHaveLocation(t *testing.T) {
	var raw struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range raw.Paths {
		for method, op := range ops {
			if r, ok := op.Responses["201"]; ok {
				n++
				if r.Headers["Location"] == nil {
					t.Errorf("%s %s: 201 without a Location header", method, path)
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d operations answer 201", n)
	}
}

// codesInCode returns every problem code the code defines: the string
// constants named code* or Code* of the packages whose answers reach a
// client (the gateway's and the API's), read from their source so that a
// new code cannot be forgotten in the document.
func codesInCode(t *testing.T) []string {
	t.Helper()
	var codes []string
	for _, dir := range []string{".", "../internal/problem", "../internal/gateway", "../caddymodule"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, id := range vs.Names {
						rest, ok := strings.CutPrefix(strings.ToLower(id.Name[:1])+id.Name[1:], "code")
						if !ok || rest == "" || rest[0] < 'A' || rest[0] > 'Z' || i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						s, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						codes = append(codes, s)
					}
				}
			}
		}
	}
	sort.Strings(codes)
	return slices.Compact(codes)
}

// The Problem schema's code enum is exactly the set of codes defined in
// the code.
func TestOpenAPIProblemCodeEnumIsEveryCode(t *testing.T) {
	var raw struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct {
							Enum []string `json:"enum"`
						} `json:"code"`
					} `json:"properties"`
				} `json:"Problem"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	documented := slices.Clone(raw.Components.Schemas.Problem.Properties.Code.Enum)
	sort.Strings(documented)
	inCode := codesInCode(t)
	if len(inCode) < 20 {
		t.Fatalf("found only %d codes in the code: %q", len(inCode), inCode)
	}
	if !slices.Equal(documented, inCode) {
		t.Errorf("Problem.code enum differs from the codes in the code\ndocumented: %q\nin code:    %q", documented, inCode)
	}
}

// The server URL, resolved against the document's own URL as OpenAPI
// says, is the mount point: appending a documented path gives the URL
// that serves it.
func TestOpenAPIServerIsTheMount(t *testing.T) {
	var raw struct {
		Servers []struct{ URL string } `json:"servers"`
	}
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Servers) != 1 {
		t.Fatalf("servers %+v", raw.Servers)
	}
	for _, mount := range []string{"https://api.example.com/gatehouse", "https://api.example.com"} {
		doc, _ := url.Parse(mount + "/v1/openapi.json")
		ref, err := url.Parse(raw.Servers[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		// A trailing slash of the server URL is dropped before appending,
		// as for the default server "/".
		base := strings.TrimSuffix(doc.ResolveReference(ref).String(), "/")
		if got := base + "/v1/workspaces"; got != mount+"/v1/workspaces" {
			t.Errorf("mount %s: server %q + /v1/workspaces = %s", mount, raw.Servers[0].URL, got)
		}
	}
}

// The Problem schema's reason enum is exactly problem.Reasons.
func TestOpenAPIProblemReasonEnumIsEveryReason(t *testing.T) {
	var raw struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Reason struct {
							Enum []string `json:"enum"`
						} `json:"reason"`
					} `json:"properties"`
				} `json:"Problem"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatal(err)
	}
	documented := slices.Clone(raw.Components.Schemas.Problem.Properties.Reason.Enum)
	sort.Strings(documented)
	inCode := slices.Clone(problem.Reasons)
	sort.Strings(inCode)
	if len(inCode) == 0 || !slices.Equal(documented, inCode) {
		t.Errorf("Problem.reason enum differs from problem.Reasons\ndocumented: %q\nin code:    %q", documented, inCode)
	}
}
