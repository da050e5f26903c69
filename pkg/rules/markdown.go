package rules

import (
	"fmt"
	"strings"
)

// MarkdownTable renders the catalogue as the Markdown table the README shows
// between its rule-table markers.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| ID | Kind | Default | Detects | Fix |\n|---|---|---|---|---|\n")
	for _, e := range Catalogue {
		action := string(e.Default)
		if e.Retired {
			action = "retired"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", e.ID, e.Kind, action, e.Description, e.Fix)
	}
	return b.String()
}
