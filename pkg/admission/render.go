package admission

import (
	"strings"
	"unicode/utf8"

	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
)

const (
	// maxWarnings keeps within the API server's warning budget (4096 bytes).
	maxWarnings = 10
	// maxWarningLen keeps each warning on one terminal line.
	maxWarningLen = 120
)

// DenyLine renders a finding as a line of a denial message:
// "[MG101] spec.mtls.mode: <what breaks> — <fix>".
func DenyLine(f rules.Finding) string {
	return "[" + f.Rule + "] " + f.Field + ": " + f.Message
}

// WarningLine renders a finding as a one-line warning of at most 120
// characters, "[MGxxx]" first.
func WarningLine(r engine.Result) string {
	s := "[" + r.Rule + "] "
	if r.Preexisting {
		s += "pre-existing: "
	}
	msg := r.Message
	if strings.ContainsAny(msg, "\n\r\t") {
		msg = strings.Join(strings.Fields(msg), " ") // warnings are one line
	}
	s += msg
	if utf8.RuneCountInString(s) > maxWarningLen {
		runes := []rune(s)
		s = string(runes[:maxWarningLen-1]) + "…"
	}
	return s
}

// Render turns a verdict into the denial message (empty when allowed) and warnings.
func Render(v engine.Verdict) (denial string, warnings []string) {
	var lines []string
	for _, r := range v.Results {
		if r.Action == rules.Deny {
			lines = append(lines, DenyLine(r.Finding))
			continue
		}
		if len(warnings) < maxWarnings {
			warnings = append(warnings, WarningLine(r))
		}
	}
	return strings.Join(lines, "\n"), warnings
}
