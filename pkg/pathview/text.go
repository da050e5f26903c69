package pathview

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write renders the picture in format (text, json, mermaid or dot).
func Write(w io.Writer, format string, p *Picture) error {
	switch format {
	case JSON:
		return writeJSON(w, p)
	case Mermaid:
		_, err := io.WriteString(w, p.Mermaid())
		return err
	case DOT:
		_, err := io.WriteString(w, p.DOT())
		return err
	case Text:
		return writeText(w, p)
	}
	return fmt.Errorf("-o: %q is not text, json, mermaid or dot", format)
}

// Document is the JSON form of a picture.
type Document struct {
	Host    string `json:"host"`
	Changed bool   `json:"changed"`
	// Before is set only when writes were given.
	Before []Row `json:"before,omitempty"`
	After  []Row `json:"paths"`
	// Broken counts the paths the writes break.
	Broken int `json:"broken"`
}

// Document returns the picture's JSON form.
func (p *Picture) Document() Document {
	d := Document{Host: p.Host, Changed: p.Changed, After: p.rows(p.After, true), Broken: p.BrokenCount()}
	if p.Changed {
		d.Before = p.rows(p.Before, false)
	}
	if d.After == nil {
		d.After = []Row{}
	}
	return d
}

func writeJSON(w io.Writer, p *Picture) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p.Document())
}

func writeText(w io.Writer, p *Picture) error {
	var b strings.Builder
	fmt.Fprintf(&b, "paths to %s\n", p.Host)
	if p.Changed {
		b.WriteString("\nbefore:\n")
		table(&b, p.rows(p.Before, false))
		fmt.Fprintf(&b, "\nafter:\n")
	}
	rows := p.rows(p.After, true)
	table(&b, rows)
	b.WriteString("\n" + summary(p, rows) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// table prints rows, one per destination; a path's client, host and
// verdict are printed on its first row only.
func table(b *strings.Builder, rows []Row) {
	if len(rows) == 0 {
		b.WriteString("  no client reaches the host\n")
		return
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CLIENT\tREQUEST\tROUTE\tCLUSTER\tWEIGHT\tREADY\tTLS SENT\tACCEPTED\tOUTCOME\tPATH")
	prev := ""
	for _, r := range rows {
		client, request, verdict := r.Client, fmt.Sprintf("%s:%d", r.Host, r.Port), r.Verdict
		key := client + "|" + request
		if key == prev {
			client, request, verdict = "", "", ""
		}
		prev = key
		outcome := "ok"
		if r.Cause != "" {
			outcome = fmt.Sprintf("%d%% %s", r.Fails, r.Cause)
			if r.NewlyBroken {
				outcome = "BROKEN " + outcome
			}
		}
		ready := "-"
		if r.counted {
			ready = fmt.Sprintf("%d/%d", r.Ready, r.Live)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d%%\t%s\t%s\t%s\t%s\t%s\n", client, request, r.Route, r.Cluster, r.Weight,
			ready, r.TLSSent, accepted(r.TLSAccepted), outcome, verdict)
	}
	_ = tw.Flush()
}

func summary(p *Picture, rows []Row) string {
	n, failing := 0, 0
	seen := map[string]bool{}
	for _, r := range rows {
		k := r.Client + "|" + r.Host + "|" + fmt.Sprint(r.Port)
		if seen[k] {
			continue
		}
		seen[k] = true
		n++
		if r.Verdict != Works {
			failing++
		}
	}
	switch {
	case p.Changed && p.BrokenCount() > 0:
		return fmt.Sprintf("%d path(s); the writes break %d", n, p.BrokenCount())
	case p.Changed:
		return fmt.Sprintf("%d path(s); the writes break none (%d fail without being broken by them)", n, failing)
	}
	return fmt.Sprintf("%d path(s); %d fail", n, failing)
}
