package pathview

import (
	"fmt"
	"slices"
	"strings"
)

// Colours of the diagrams.
const (
	colourBroken  = "#d62728" // red: broken
	colourFailing = "#ff7f0e" // orange: failing, not broken by the writes
)

// Mermaid renders the picture as a mermaid flowchart (GitHub and GitLab
// render it in Markdown): broken edges red and thick, edges failing
// without being broken orange and dashed.
func (p *Picture) Mermaid() string {
	g := p.graph()
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	b.WriteString("  classDef client fill:#e8f0fe,stroke:#4a6fa5\n")
	b.WriteString("  classDef host fill:#fff5d6,stroke:#a58a4a\n")
	b.WriteString("  classDef cluster fill:#eef7ee,stroke:#4a8a4a\n")
	b.WriteString("  classDef endpoints fill:#f4f4f4,stroke:#777\n")
	var styles []string
	n := 0
	for _, s := range g.sections {
		indent := "  "
		if s.name != "" {
			fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", s.name, s.name)
			indent = "    "
		}
		for _, nd := range s.nodes {
			fmt.Fprintf(&b, "%s%s[\"%s\"]:::%s\n", indent, nd.id, mermaidText(nd.label), nd.kind)
		}
		for _, e := range s.edges {
			arrow := "-->"
			if e.state == edgeFailing {
				arrow = "-.->"
			}
			fmt.Fprintf(&b, "%s%s %s|\"%s\"| %s\n", indent, e.from, arrow, mermaidText(e.label), e.to)
			switch e.state {
			case edgeBroken:
				styles = append(styles, fmt.Sprintf("  linkStyle %d stroke:%s,stroke-width:3px,color:%s", n, colourBroken, colourBroken))
			case edgeFailing:
				styles = append(styles, fmt.Sprintf("  linkStyle %d stroke:%s,stroke-width:2px,color:%s", n, colourFailing, colourFailing))
			}
			n++
		}
		if s.name != "" {
			b.WriteString("  end\n")
		}
	}
	for _, st := range styles {
		b.WriteString(st + "\n")
	}
	return b.String()
}

// mermaidText escapes a label for a quoted mermaid string: quotes and the
// characters mermaid reads as markup become entity codes.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;", "#", "#35;")
	return r.Replace(s)
}

// DOT renders the picture as a Graphviz digraph: broken edges red and
// bold, edges failing without being broken orange and dashed.
func (p *Picture) DOT() string {
	g := p.graph()
	var b strings.Builder
	b.WriteString("digraph paths {\n")
	b.WriteString("  rankdir=LR;\n")
	fmt.Fprintf(&b, "  label=%s;\n  labelloc=t;\n", dotQuote("paths to "+p.Host))
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9];\n")
	fill := map[string]string{"client": "#e8f0fe", "host": "#fff5d6", "cluster": "#eef7ee", "endpoints": "#f4f4f4"}
	// Left to right, dot stacks clusters bottom-up: after is written first
	// so that before is drawn above it.
	sections := slices.Clone(g.sections)
	slices.Reverse(sections)
	for _, s := range sections {
		indent := "  "
		if s.name != "" {
			fmt.Fprintf(&b, "  subgraph cluster_%s {\n    label=%s;\n", s.name, dotQuote(s.name))
			indent = "    "
		}
		for _, nd := range s.nodes {
			fmt.Fprintf(&b, "%s%s [label=%s, fillcolor=%s];\n", indent, nd.id, dotQuote(nd.label), dotQuote(fill[nd.kind]))
		}
		for _, e := range s.edges {
			attrs := "label=" + dotQuote(e.label)
			switch e.state {
			case edgeBroken:
				attrs += fmt.Sprintf(", color=%s, fontcolor=%s, penwidth=2.5", dotQuote(colourBroken), dotQuote(colourBroken))
			case edgeFailing:
				attrs += fmt.Sprintf(", color=%s, fontcolor=%s, style=dashed", dotQuote(colourFailing), dotQuote(colourFailing))
			}
			fmt.Fprintf(&b, "%s%s -> %s [%s];\n", indent, e.from, e.to, attrs)
		}
		if s.name != "" {
			b.WriteString("  }\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote quotes a DOT string: backslashes and quotes escaped, newlines
// as DOT's centred line breaks.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
