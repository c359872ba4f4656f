package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// apiProblem is the API's problem+json answer, as the console shows it.
type apiProblem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	// RequiredFeature and RequiredPlan come with code plan_required.
	RequiredFeature string `json:"required_feature"`
	RequiredPlan    string `json:"required_plan"`
}

func (p *apiProblem) Error() string {
	if p.Detail != "" {
		return p.Detail
	}
	return p.Title
}

// recorder collects the API's answer to an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// call sends one request to the management API as the session's user and
// decodes a 2xx JSON answer into out (when non-nil). A write's revision is
// kept in the session; every call carries the last one, so a read is
// never older than the session's own last write. A non-2xx answer comes
// back as *apiProblem.
func (c *Console) call(r *http.Request, s *session, method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := s.lastRevision(); tok != "" {
		req.Header.Set(gateway.HeaderConsistency, tok)
	}
	rec := &recorder{header: http.Header{}}
	c.opts.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 300 {
		p := &apiProblem{}
		if json.Unmarshal(rec.body.Bytes(), p) != nil || p.Status == 0 {
			p = &apiProblem{Status: rec.status, Title: http.StatusText(rec.status), Detail: fmt.Sprintf("the API answered %d", rec.status)}
		}
		return p
	}
	s.sawRevision(rec.header.Get(gateway.HeaderRevisionToken))
	if out != nil && rec.body.Len() > 0 {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}
