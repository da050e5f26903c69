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
	pre := ""
	if r.Preexisting {
		pre = "pre-existing: "
	}
	msg := r.Message
	if strings.ContainsAny(msg, "\n\r\t") {
		msg = strings.Join(strings.Fields(msg), " ") // warnings are one line
	}
	// Cut the message at the rune that would pass the limit, without
	// converting it to runes: one allocation for the line (the namespace
	// ALLOW review renders ten of these; see README, Performance).
	room := maxWarningLen - 1 - utf8.RuneCountInString(r.Rule) - 3 - utf8.RuneCountInString(pre)
	n := 0
	for i := range msg {
		if n == room {
			if utf8.RuneCountInString(msg[i:]) > 1 {
				return "[" + r.Rule + "] " + pre + msg[:i] + "…"
			}
			break
		}
		n++
	}
	return "[" + r.Rule + "] " + pre + msg
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
