package virtualservice

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
)

// upperCaseHeader (MG310) warns about header matches written with upper-case
// names: HTTP/2 and Envoy carry header names in lower case, so they never match.
type upperCaseHeader struct{ vsRule }

func (upperCaseHeader) ID() string { return "MG310" }

func (r upperCaseHeader) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	var out []rules.Finding
	for i, route := range vs.HTTP {
		for j, m := range route.Matches {
			for _, h := range m.Headers {
				if h != strings.ToLower(h) {
					out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: fmt.Sprintf("spec.http[%d].match[%d].headers", i, j), Key: h,
						Message: fmt.Sprintf("header %s never matches: headers arrive lower-case; write %s", h, strings.ToLower(h))})
				}
			}
		}
	}
	return out
}
