package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/meshguard/meshguard/pkg/rules"
)

func printRules(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tDEFAULT\tTITLE")
	for _, e := range rules.Catalogue {
		action := string(e.Default)
		if e.Retired {
			action = "retired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, e.Kind, action, e.Title)
	}
	tw.Flush()
}
