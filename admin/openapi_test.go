package admin

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
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
	"createWorkspace": createWorkspaceRequest{},
	"updateWorkspace": updateWorkspaceRequest{},
	"check":           checkRequest{},
	"putMember":       putMemberRequest{},
	"createRole":      createRoleRequest{},
	"updateRole":      updateRoleRequest{},
	"createInvite":    createInviteRequest{},
	"createAPIKey":    createAPIKeyRequest{},
	"acceptInvite":    acceptInviteRequest{},
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
