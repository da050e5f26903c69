package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteCoverage renders the coverage report as text (a table sorted by what
// blocks STRICT most, then the mesh line) or JSON.
func WriteCoverage(w io.Writer, format string, c Coverage) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(c)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tENROLMENT\tMODE\tSOURCE\tMESHED\tOUTSIDE (ACCIDENTAL/DELIBERATE)\tAMBIENT\tSTRICT SAFE\tTO INJECT")
	for _, n := range c.ByBlocking() {
		var owners []string
		for _, o := range n.UnmeshedOwners {
			owners = append(owners, fmt.Sprintf("%s/%s: %d", o.Kind, o.Name, o.Pods))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d/%d\t%d\t%s\t%s\n", n.Name, n.Enrolment, n.Mode, n.ModeSource, n.MeshedServers,
			n.Accidental, n.Deliberate, n.AmbientPods, yesNo(n.StrictSafe), strings.Join(owners, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	line := fmt.Sprintf("mesh: %s; mesh-wide STRICT safe now: %s", c.Mesh.Mode, yesNo(c.Mesh.StrictSafe))
	if len(c.Mesh.BlockingNamespaces) > 0 {
		line += " (blocked by " + strings.Join(c.Mesh.BlockingNamespaces, ", ") + ")"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// WritePlan renders the plan as text (the stages with their commands), JSON,
// or YAML: only the PeerAuthentications safe on the given state, in order,
// as one multi-document stream for `kubectl apply -f -`.
func WritePlan(w io.Writer, format string, p Plan) error {
	switch format {
	case "json":
		return json.NewEncoder(w).Encode(p)
	case "yaml":
		var docs []string
		for _, pol := range p.Policies() {
			docs = append(docs, pol.YAML())
		}
		_, err := io.WriteString(w, strings.Join(docs, "---\n"))
		return err
	}
	var b strings.Builder
	if p.Baseline != nil {
		fmt.Fprintf(&b, "Stage 0: keep the mesh PERMISSIVE while migrating\n  PeerAuthentication %s/%s PERMISSIVE\n\n", p.Baseline.Namespace, p.Baseline.Name)
	}
	fmt.Fprintf(&b, "Stage 1: STRICT for namespaces whose workloads are all in the mesh (%d)\n", len(p.NamespaceStrict))
	for _, n := range p.NamespaceStrict {
		fmt.Fprintf(&b, "  %s: %s -> PeerAuthentication %s/%s STRICT\n", n.Namespace, count(n.MeshedServers, "meshed server"), n.Policy.Namespace, n.Policy.Name)
	}
	fmt.Fprintf(&b, "\nStage 2: inject or enroll the workloads outside the mesh (%s)\n", count(len(p.Inject), "namespace"))
	for _, in := range p.Inject {
		fmt.Fprintf(&b, "  %s: %s\n", in.Namespace, count(in.Pods, "pod"))
		for _, c := range in.Commands {
			fmt.Fprintf(&b, "    %s\n", c)
		}
	}
	fmt.Fprintf(&b, "\nStage 3: holdouts, kept PERMISSIVE by a policy of their own (%d)\n", len(p.Holdouts))
	for _, h := range p.Holdouts {
		fmt.Fprintf(&b, "  %s: %s\n", h.Namespace, h.Reason)
		for _, c := range h.Commands {
			fmt.Fprintf(&b, "    %s   # records that its pods stay out of the mesh on purpose: they lose plaintext access to STRICT workloads\n", c)
		}
		if h.Policy != nil {
			fmt.Fprintf(&b, "    PeerAuthentication %s/%s PERMISSIVE (keeps its own meshed servers reachable in plaintext)\n", h.Policy.Namespace, h.Policy.Name)
		}
	}
	b.WriteString("\nStage 4: mesh-wide STRICT\n")
	switch {
	case p.Mesh.Already:
		fmt.Fprintf(&b, "  already STRICT (PeerAuthentication %s/%s)\n", p.Mesh.Policy.Namespace, p.Mesh.Policy.Name)
	case p.Mesh.Ready:
		fmt.Fprintf(&b, "  ready -> PeerAuthentication %s/%s STRICT\n", p.Mesh.Policy.Namespace, p.Mesh.Policy.Name)
	default:
		fmt.Fprintf(&b, "  not yet: pods outside the mesh in %s; run stages 2 and 3, then plan again\n", strings.Join(p.Mesh.Blocking, ", "))
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(&b, "\nleft out, the webhook would deny it: %s\n", s)
	}
	b.WriteString("\nApply what is safe now: meshguard plan strict ... -o yaml | kubectl apply -f -\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// YAML renders the policy as a PeerAuthentication manifest.
func (pol *Policy) YAML() string {
	return fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  mtls:\n    mode: %s\n",
		pol.Name, pol.Namespace, pol.Mode)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
