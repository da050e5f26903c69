package virtualservice

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// unreachableRoute (MG308) warns about an HTTP route that can never match
// because an earlier route without conditions takes all traffic.
type unreachableRoute struct{ vsRule }

func (unreachableRoute) ID() string { return "MG308" }

func (unreachableRoute) Reads() []state.Kind { return nil }

func (r unreachableRoute) Check(in *rules.Input) []rules.Finding {
	vs := in.VS
	if vs == nil {
		return nil
	}
	for i := range vs.HTTP {
		if !vs.HTTP[i].CatchAll() || i == len(vs.HTTP)-1 {
			continue
		}
		var out []rules.Finding
		for j := i + 1; j < len(vs.HTTP); j++ {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: fmt.Sprintf("spec.http[%d]", j), Key: fmt.Sprint(j),
				Message: fmt.Sprintf("http[%d] can never match: http[%d] above it matches every request; move the catch-all last", j, i)})
		}
		return out
	}
	return nil
}
