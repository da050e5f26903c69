package admission

import (
	"slices"
	"strconv"
	"strings"

	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
)

// Audit annotation keys set on every reviewed write. The API server records
// each under "<webhook name>/<key>" — validate.meshguard.io/verdict with the
// chart's webhook name — and drops a key that does not make a qualified name
// that way, so a key holds no slash.
const (
	// AuditVerdict is what meshguard decided (Verdict* below).
	AuditVerdict = "verdict"
	// AuditRules lists the rule IDs of the findings, comma-separated.
	AuditRules = "rules"
	// AuditBrokenPaths is how many paths that worked the write breaks.
	AuditBrokenPaths = "broken-paths"
	// AuditException names the configured exceptions that let findings
	// through, comma-separated.
	AuditException = "exception"
	// AuditBreakGlass names the break-glass group a write was admitted for
	// without review.
	AuditBreakGlass = "break-glass-group"
)

// Verdicts recorded under AuditVerdict.
const (
	VerdictAllowed    = "allowed"     // no finding
	VerdictWarned     = "warned"      // admitted with warnings only
	VerdictDenied     = "denied"      // at least one deny finding
	VerdictWouldDeny  = "would-deny"  // admitted because enforcement is warn
	VerdictExcepted   = "excepted"    // admitted because an exception covers a finding
	VerdictBreakGlass = "break-glass" // admitted without review
)

// auditAnnotations are the annotations the API server writes into its
// audit log for a reviewed write: the decision, the rules behind it, the
// paths it breaks and the exceptions it used. The same in warn-only mode and
// under an exception, so the log tells what would have been denied.
func auditAnnotations(v engine.Verdict) map[string]string {
	verdict := VerdictAllowed
	var ids, exceptions []string
	denied, wouldDeny := false, false
	for _, r := range v.Results {
		if !slices.Contains(ids, r.Rule) {
			ids = append(ids, r.Rule)
		}
		if r.Exception != "" && !slices.Contains(exceptions, r.Exception) {
			exceptions = append(exceptions, r.Exception)
		}
		denied = denied || r.Action == rules.Deny
		wouldDeny = wouldDeny || r.WouldDeny
	}
	switch {
	case denied:
		verdict = VerdictDenied
	case wouldDeny:
		verdict = VerdictWouldDeny
	case len(exceptions) > 0:
		verdict = VerdictExcepted
	case len(v.Results) > 0:
		verdict = VerdictWarned
	}
	slices.Sort(ids)
	slices.Sort(exceptions)
	out := map[string]string{
		AuditVerdict:     verdict,
		AuditRules:       strings.Join(ids, ","),
		AuditBrokenPaths: strconv.Itoa(v.BrokenPaths()),
	}
	if len(exceptions) > 0 {
		out[AuditException] = strings.Join(exceptions, ",")
	}
	return out
}
