package report

import (
	"strings"
	"testing"
)

// A comment with more diagrams than GitHub takes keeps under its limit
// and says how many writes it did not draw; the findings table stays whole.
func TestMarkdownStaysUnderTheCommentLimit(t *testing.T) {
	r := Report{Denied: true}
	big := "flowchart LR\n" + strings.Repeat("  c1 -->|\"port 80\"| h1\n", 800)
	for i := 0; i < 10; i++ {
		r.Findings = append(r.Findings, Finding{Rule: "MG204", Action: "deny", Operation: "UPDATE", Kind: "DestinationRule",
			Namespace: "shop", Name: "reviews", Field: "spec.subsets", Message: "removes subset v2 | still routed", File: "dr.yaml", Line: 3})
		r.Diagrams = append(r.Diagrams, Diagram{Operation: "UPDATE", Kind: "DestinationRule", Namespace: "shop", Name: "reviews",
			Broken: 40, Drawn: 12, Mermaid: big})
	}
	var b strings.Builder
	if err := writeMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > 65536 {
		t.Errorf("comment of %d characters: GitHub refuses more than 65536", len(out))
	}
	if !strings.Contains(out, "more denied write(s) not drawn") {
		t.Error("the comment does not say which writes it left undrawn")
	}
	if strings.Count(out, "| deny | MG204 | `dr.yaml:3` |") != 10 || !strings.Contains(out, `removes subset v2 \| still routed`) {
		t.Errorf("the findings table is not whole, or a pipe is not escaped:\n%s", out[:2000])
	}
	if !strings.Contains(out, "Breaks 40 path(s), the first 12 drawn") {
		t.Error("a diagram drawing some of the broken paths does not say so")
	}
}
