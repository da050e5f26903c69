// Package report renders findings for every face of meshguard that prints
// them (check, audit): text with file:line, JSON, and SARIF 2.1.0 for code
// scanning. One renderer, so that all faces say the same thing the same way.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/meshguard/meshguard/pkg/state"
)

// Finding is one finding as the faces report it. Its JSON form is a contract
// (README, "meshguard check", -o json): file and line are additive and omitted when
// the object came from no file (audit, live state).
type Finding struct {
	Rule        string `json:"rule"`
	Action      string `json:"action"`
	Operation   string `json:"operation"`
	Kind        string `json:"kind"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Field       string `json:"field"`
	Message     string `json:"message"`
	Preexisting bool   `json:"preexisting"`
	// Exception names the configured exception that let the finding through.
	Exception string `json:"exception,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
}

// Report is the JSON document `-o json` prints.
type Report struct {
	Findings []Finding `json:"findings"`
	Denied   bool      `json:"denied"`
	// NothingToReview: the input held no reviewed kind (text only).
	NothingToReview bool `json:"-"`
	// Audit: the findings judge objects as they stand, not writes (text only).
	Audit bool `json:"-"`
	// Diagrams draw what each denied write breaks (markdown only).
	Diagrams []Diagram `json:"-"`
}

// Formats every face accepts.
const (
	Text  = "text"
	JSON  = "json"
	SARIF = "sarif"
)

// Write renders r in format.
func Write(w io.Writer, format string, r Report) error {
	switch format {
	case JSON:
		return json.NewEncoder(w).Encode(r)
	case SARIF:
		return writeSARIF(w, r)
	case Markdown:
		return writeMarkdown(w, r)
	}
	var b strings.Builder
	denied := 0
	for _, f := range r.Findings {
		line := "[" + f.Rule + "] " + f.Field + ": " + f.Message
		if f.Preexisting {
			line = "[" + f.Rule + "] " + f.Field + ": pre-existing: " + f.Message
		}
		if f.Action == "deny" {
			denied++
		}
		if f.File != "" {
			fmt.Fprintf(&b, "%s:%d: ", f.File, f.Line)
		}
		fmt.Fprintf(&b, "%-4s %s %s/%s (%s): %s\n", f.Action, f.Kind, f.Namespace, f.Name, f.Operation, line)
	}
	switch {
	case r.Denied && r.Audit:
		fmt.Fprintf(&b, "in violation: %d finding(s) of deny rules, as the mesh stands\n", denied)
	case r.Denied:
		fmt.Fprintf(&b, "denied: %d finding(s) would block these writes\n", denied)
	case r.NothingToReview:
		b.WriteString("nothing to review: no " + reviewedKinds + "\n")
	case r.Audit && len(r.Findings) > 0:
		fmt.Fprintf(&b, "no violations, %d warning(s)\n", len(r.Findings))
	case r.Audit:
		b.WriteString("no violations: no findings\n")
	case len(r.Findings) > 0:
		fmt.Fprintf(&b, "allowed, with %d warning(s)\n", len(r.Findings))
	default:
		b.WriteString("allowed: no findings\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// reviewedKinds lists the kinds meshguard reviews, for messages:
// "PeerAuthentication, DestinationRule, VirtualService or ServiceEntry".
var reviewedKinds = func() string {
	ks := state.ReviewedKinds()
	if len(ks) < 2 {
		return strings.Join(ks, "")
	}
	return strings.Join(ks[:len(ks)-1], ", ") + " or " + ks[len(ks)-1]
}()
