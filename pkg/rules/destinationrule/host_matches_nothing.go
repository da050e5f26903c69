package destinationrule

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
)

// hostMatchesNothing (MG205) warns about a rule whose host matches no Service
// and no ServiceEntry: it configures nothing.
type hostMatchesNothing struct{ drRule }

func (hostMatchesNothing) ID() string { return "MG205" }

func (r hostMatchesNothing) Check(in *rules.Input) []rules.Finding {
	dr := in.DR
	if dr == nil || dr.Host == "" || strings.Contains(dr.Host, "*") {
		return nil
	}
	res := target(in, dr)
	if res.Found() {
		return nil
	}
	msg := fmt.Sprintf("host %s matches no Service and no ServiceEntry, so this rule applies to nothing", dr.Host)
	if res.Unexpanded {
		msg = fmt.Sprintf("host %s is not expanded by Istio and matches no Service; write %s", dr.Host, res.Suggest)
	}
	return []rules.Finding{{Rule: r.ID(), Action: rules.Warn, Field: "spec.host", Key: res.FQDN, Message: msg}}
}
