package admin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// call is one API request on its way through a handler.
type call struct {
	api       *API
	w         http.ResponseWriter
	r         *http.Request
	params    route.Params
	principal authn.Principal
	// events are the audit events the request's committed transaction
	// appended: each is logged once the change is durable.
	events []store.AuditEvent
}

// authenticate requires a valid bearer token.
func (c *call) authenticate() error {
	p, present, denial, err := c.api.engine.Authenticate(c.r.Context(), c.r.Header)
	switch {
	case denial != nil:
		if err != nil {
			c.api.logger.Error("verifying an API token", zap.Error(err))
		}
		return denial
	case !present:
		return gateway.Unauthenticated()
	}
	if c.api.onAuth != nil {
		c.api.onAuth(c.r, p)
	}
	if p.KeyID != "" {
		// The API's invariants are about members (who outranks whom, the
		// last admin); a key is not one. Keys are for the gateway.
		return forbidden(codeAPIKeyNotAllowed, "API keys cannot call the management API: use a user's token")
	}
	c.principal = p
	if !p.Cached {
		return c.recordUser()
	}
	return nil
}

// recordUser makes sure the caller is a known user before the handler
// runs, so that a user who has just called the API can be added to a
// workspace at once. (The gateway records users in the background; the
// API, which changes memberships, cannot wait for that.) It writes only
// when the user is new or their email changed, once per verified token.
func (c *call) recordUser() error {
	p := c.principal
	var known bool
	err := c.view(func(tx store.Tx) error {
		u, err := tx.User(p.Subject)
		known = err == nil && (p.Email == "" || u.Email == p.Email)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil || known {
		return err
	}
	return c.update(func(tx store.Tx) error { return model.EnsureUser(tx, p.Subject, p.Email, c.api.now().UTC()) })
}

// user is the caller's id.
func (c *call) user() string { return c.principal.Subject }

// isGlobalAdmin reports whether the caller is listed in global_admins.
func (c *call) isGlobalAdmin() bool { return c.api.engine.IsGlobalAdmin(c.user()) }

// param returns a path parameter of the endpoint.
func (c *call) param(name string) string {
	v, _ := c.params.Get(name)
	return v
}

// created answers 201 with v and a Location naming the new resource's
// GET URL. path is relative to the mount ("/v1/..."); the mount prefix the
// front-end stripped (Options.MountPrefix) is put back, so the Location is
// an absolute path a client can follow as it is.
func (c *call) created(path string, v any) error {
	c.w.Header().Set("Location", c.api.mountPrefix(c.r)+path)
	return c.respond(http.StatusCreated, v)
}

// respond writes v as JSON with status.
func (c *call) respond(status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(append(body, '\n'))
	return nil
}

// noContent answers 204.
func (c *call) noContent() error {
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// fail answers an error: a problem as itself, anything else as a logged 500.
func (c *call) fail(err error) {
	var p *problem.Problem
	if !errors.As(err, &p) {
		p = c.api.internalError(c, err)
	}
	// Only a 2xx carries a revision token: a failed request changed
	// nothing the caller may wait for.
	c.w.Header().Del(gateway.HeaderRevisionToken)
	gateway.WriteDenial(c.w, p)
}

// checkQuery refuses a query string that names a parameter the endpoint
// does not read, names one twice, or is malformed: a misspelt ?limt= or
// ?emial= must not be silently ignored (the caller would get another
// answer than they asked for). Each is a 400 naming the parameter.
func (c *call) checkQuery(allowed []string) error {
	if c.r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return invalid("", "the query string is malformed: "+err.Error())
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return invalid(name, "unknown query parameter "+quote(name)+": this endpoint takes none")
			}
			return invalid(name, "unknown query parameter "+quote(name)+": this endpoint takes "+strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return invalid(name, "query parameter "+quote(name)+" is given more than once")
		}
	}
	return nil
}

// maxBody caps request bodies (README "Management API": a larger body is a 400).
const maxBody = 1 << 20

// decode reads the JSON body into dst, rejecting unknown fields, wrong
// types, trailing data and bodies over 1 MiB, each as a 400 naming the
// field where there is one.
func (c *call) decode(dst any) error {
	if ct := c.r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return invalid("", "the body must be JSON: send Content-Type: application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// dec.More would miss a stray ']' or '}': only the end of the body may
	// follow the value.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("", "the body must hold exactly one JSON object")
	}
	return nil
}

func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// decodeError turns a json decoding error into a 400 naming the field.
func decodeError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &tooLarge):
		return invalid("", "the body is larger than 1 MiB")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return invalid("", "the body must be a JSON object")
		}
		return invalid(field, "field "+field+" must be "+jsonType(typeErr.Type.Kind()))
	case errors.As(err, &syntaxErr):
		return invalid("", "the body is not valid JSON (at byte "+strconv.FormatInt(syntaxErr.Offset, 10)+")")
	case errors.Is(err, io.EOF):
		return invalid("", "a JSON body is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "the body is truncated JSON")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ := strconv.Unquote(name)
		return invalid(field, "unknown field "+name)
	}
	return invalid("", "the body is not valid JSON: "+err.Error())
}

// jsonType names the JSON type a Go kind decodes from.
func jsonType(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	default:
		return "a number"
	}
}
