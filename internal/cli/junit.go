package cli

import (
	"encoding/xml"
	"os"
)

// suiteReport is one test file's results, for the JUnit report.
type suiteReport struct {
	file    string
	results []caseResult
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes the report in the JUnit XML format CI systems read:
// one testsuite per file, one testcase per request.
func writeJUnit(path string, reports []suiteReport) error {
	var doc junitSuites
	for _, r := range reports {
		s := junitSuite{Name: r.file, Tests: len(r.results)}
		for _, c := range r.results {
			tc := junitCase{Name: c.name, Classname: r.file}
			if c.failure != "" {
				s.Failures++
				tc.Failure = &junitFailure{Message: "unexpected decision", Text: c.failure}
			}
			s.Cases = append(s.Cases, tc)
		}
		doc.Suites = append(doc.Suites, s)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(out, '\n')...), 0o644)
}
