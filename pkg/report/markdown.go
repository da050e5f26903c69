package report

import (
	"fmt"
	"io"
	"strings"
)

// Markdown is the format of a pull-request comment (check -o markdown).
const Markdown = "markdown"

// Diagram is the picture of the paths one denied write breaks, for the
// Markdown report: a mermaid flowchart GitHub and GitLab render.
type Diagram struct {
	Operation, Kind, Namespace, Name string
	File                             string
	Line                             int
	// Broken counts the paths the write breaks; Mermaid draws Drawn of
	// them (empty when the write breaks none: a rule denied it on other
	// grounds).
	Broken, Drawn int
	Mermaid       string
}

// maxComment keeps a comment under GitHub's limit (65,536 characters):
// diagrams that would pass it are left out, and the comment says so.
const maxComment = 60000

// writeMarkdown renders a pull-request comment: a summary line, a table of
// the findings with file:line, and for each denied write the mermaid
// diagram of the paths it breaks.
func writeMarkdown(w io.Writer, r Report) error {
	var b strings.Builder
	denied, warned := 0, 0
	for _, f := range r.Findings {
		if f.Action == "deny" {
			denied++
		} else {
			warned++
		}
	}
	b.WriteString("### meshguard check\n\n")
	switch {
	case r.Denied:
		fmt.Fprintf(&b, "**Denied**: %d finding(s) would block these writes, %d warning(s).\n", denied, warned)
	case r.NothingToReview:
		b.WriteString("**Nothing to review**: no PeerAuthentication, DestinationRule or VirtualService.\n")
	case warned > 0:
		fmt.Fprintf(&b, "**Allowed**, with %d warning(s).\n", warned)
	default:
		b.WriteString("**Allowed**: no findings.\n")
	}
	if len(r.Findings) > 0 {
		b.WriteString("\n| | Rule | Where | Object | Field | Finding |\n|---|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			where := ""
			if f.File != "" {
				where = fmt.Sprintf("`%s:%d`", cell(f.File), f.Line)
			}
			msg := f.Message
			if f.Preexisting {
				msg = "pre-existing: " + msg
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s %s/%s (%s) | `%s` | %s |\n", f.Action, f.Rule, where,
				f.Kind, f.Namespace, f.Name, f.Operation, cell(f.Field), cell(msg))
		}
	}
	for i, d := range r.Diagrams {
		if b.Len()+len(d.Mermaid) > maxComment {
			fmt.Fprintf(&b, "\n%d more denied write(s) not drawn: the comment would pass GitHub's size limit. `meshguard paths -f` draws each.\n", len(r.Diagrams)-i)
			break
		}
		where := ""
		if d.File != "" {
			where = fmt.Sprintf(" at `%s:%d`", cell(d.File), d.Line)
		}
		fmt.Fprintf(&b, "\n#### %s %s/%s (%s)%s\n\n", d.Kind, d.Namespace, d.Name, d.Operation, where)
		if d.Mermaid == "" {
			b.WriteString("Denied for what it is, not for a path it breaks: see the findings above.\n")
			continue
		}
		drawn := ""
		if d.Drawn < d.Broken {
			drawn = fmt.Sprintf(", the first %d drawn", d.Drawn)
		}
		fmt.Fprintf(&b, "Breaks %d path(s)%s (red: broken by the write; orange, dashed: failing without it):\n\n", d.Broken, drawn)
		b.WriteString("```mermaid\n" + d.Mermaid + "```\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell makes text safe in a Markdown table cell: one line, pipes escaped.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
