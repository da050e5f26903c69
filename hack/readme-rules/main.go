// Command readme-rules rewrites the rule table of README.md from the catalogue.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/meshguard/meshguard/pkg/rules"
)

func main() {
	const file, begin, end = "README.md", "<!-- rules:begin -->\n", "<!-- rules:end -->"
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		fmt.Fprintf(os.Stderr, "%s lacks the rule table markers\n", file)
		os.Exit(1)
	}
	s = s[:i+len(begin)] + rules.MarkdownTable() + s[j:]
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
