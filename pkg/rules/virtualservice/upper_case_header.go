package virtualservice

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// upperCaseHeader (MG310) warns about header matches written with upper-case
// names. Istio copies the name into Envoy's HeaderMatcher unchanged
// (pilot/pkg/networking/core/route: translateHeaderMatch) and Envoy keeps it
// as a lower-cased name (HeaderUtility::HeaderData), so the match does work:
// the warning is about the API, whose header keys must be lower case, and
// about the readers and tools that take X-User and x-user for different
// headers. It never claims the route is dead.
type upperCaseHeader struct{ vsRule }

func (upperCaseHeader) ID() string { return "MG310" }

func (upperCaseHeader) Reads() []state.Kind { return nil }

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
						Message: fmt.Sprintf("header %s is written in upper case: Envoy lower-cases header names, so it matches %s, but Istio's API wants lower-case keys; write %s", h, strings.ToLower(h), strings.ToLower(h))})
				}
			}
		}
	}
	return out
}
