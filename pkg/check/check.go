// Package check runs the rule engine offline over manifests and a snapshot of
// cluster state: `meshguard check`. Its flags, exit codes and JSON shape are a
// contract relied on by CI pipelines.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/pathview"
	"github.com/meshguard/meshguard/pkg/report"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitDenied   = 1
	ExitBadInput = 2
)

// Options are the flags of `meshguard check`.
type Options struct {
	Files  []string
	State  []string
	Delete bool
	Output string // text, json, sarif or markdown
	Config *config.Config
	// LoadCluster fills the store from the live cluster when State is empty.
	LoadCluster func(ctx context.Context, store *state.Store) error
	// FetchTrust reads, from the live cluster, the Secrets and mesh roots a
	// DestinationRule references (used with LoadCluster).
	FetchTrust engine.TrustFetcher
	// Now stamps -f objects without a creationTimestamp: they are newer than
	// anything in the state.
	Now func() time.Time
}

// Finding and Report are the shapes `check` prints (see pkg/report).
type (
	Finding = report.Finding
	Report  = report.Report
)

// BadInput is an error that makes check exit 2.
type BadInput struct{ Err error }

func (e BadInput) Error() string { return e.Err.Error() }
func (e BadInput) Unwrap() error { return e.Err }

// Run evaluates the -f objects in order and writes the report to stdout.
// Errors are bad input (exit 2) unless the cluster could not be read.
func Run(ctx context.Context, o Options, stdout io.Writer) (int, error) {
	if len(o.Files) == 0 {
		return ExitBadInput, BadInput{errors.New("-f: at least one file or directory is required")}
	}
	if o.Output != report.Text && o.Output != report.JSON && o.Output != report.SARIF && o.Output != report.Markdown {
		return ExitBadInput, BadInput{fmt.Errorf("-o: %q is not text, json, sarif or markdown", o.Output)}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	live := len(o.State) == 0 && o.LoadCluster != nil
	sess, err := LoadState(ctx, o.Config, o.State, o.LoadCluster, now)
	if err != nil {
		return ExitBadInput, err
	}
	if o.Output == report.Markdown {
		sess.Engine().Explain = true // the comment draws the paths a denied write breaks
	}

	reviewed, err := readWrites(ctx, sess, o.Config, o.Files, o.Delete)
	if err != nil {
		return ExitBadInput, err
	}
	rep := Report{Findings: []Finding{}}
	if len(reviewed) == 0 {
		rep.NothingToReview = true
	}
	for _, d := range reviewed {
		if err := ctx.Err(); err != nil {
			return ExitBadInput, fmt.Errorf("interrupted: %w", err)
		}
		obj := d.Object
		change := sess.Change(obj, o.Delete)
		if change == nil {
			return ExitBadInput, BadInput{fmt.Errorf("%s: --delete of %s %s/%s, which the state does not hold", d.Source, obj.Ref.Kind, obj.Ref.Namespace, obj.Ref.Name)}
		}
		if live && o.FetchTrust != nil && (change.NewDR != nil || change.OldDR != nil) {
			if err := engine.GatherTrust(ctx, o.Config, sess.Store(), sess.View, o.FetchTrust, engine.ChangedRules(change.OldDR, change.NewDR)); err != nil {
				return ExitBadInput, fmt.Errorf("reading TLS material from the cluster: %w", err)
			}
		}
		if o.Config.Excluded(obj.Ref.Namespace) {
			continue // the webhook does not review excluded namespaces either
		}
		verdict := sess.Judge(change)
		for _, r := range verdict.Results {
			rep.Findings = append(rep.Findings, Finding{
				Rule: r.Rule, Action: string(r.Action), Operation: string(change.Operation), Kind: obj.Ref.Kind,
				Namespace: obj.Ref.Namespace, Name: obj.Ref.Name, Field: r.Field, Message: r.Message, Preexisting: r.Preexisting, Exception: r.Exception,
				File: d.File, Line: d.Line,
			})
		}
		rep.Denied = rep.Denied || verdict.Denied()
		if o.Output == report.Markdown && verdict.Denied() {
			rep.Diagrams = append(rep.Diagrams, diagram(d, change, verdict))
		}
		// The next object is judged against the state this one leaves.
		sess.Commit(change)
	}
	if err := report.Write(stdout, o.Output, rep); err != nil {
		return ExitBadInput, err
	}
	if rep.Denied {
		return ExitDenied, nil
	}
	return ExitOK, nil
}

// readWrites reads the -f files: the reviewed objects, in order, are
// returned to be judged; other kinds that arrive in the same commit (a
// Service, a Namespace) are applied to the state at once, so they count as
// present before any reviewed object is judged (unless del).
func readWrites(ctx context.Context, sess *Session, cfg *config.Config, files []string, del bool) ([]manifest.Document, error) {
	docs, err := manifest.ReadFilesContext(ctx, files, manifest.ReadOptions{MaxFileBytes: cfg.MaxFileBytes})
	if err != nil {
		return nil, badOrInterrupted(ctx, err)
	}
	if len(docs) == 0 {
		return nil, BadInput{fmt.Errorf("-f %s: no document to review", strings.Join(files, ", "))}
	}
	var reviewed []manifest.Document
	for _, d := range docs {
		if d.Object.Reviewed() {
			reviewed = append(reviewed, d)
		} else if !del {
			sess.Apply(d.Object)
		}
	}
	// A ServiceEntry or a Gateway gives the routes beside it hosts and
	// servers, as the other kinds that arrive in the same commit do: their
	// creates and updates are judged before the commit's routes and
	// policies, their deletes after them (routes leave a host before the
	// host goes: make-before-break).
	sort.SliceStable(reviewed, func(i, j int) bool { return commitStage(reviewed[i], del) < commitStage(reviewed[j], del) })
	return reviewed, nil
}

// mostDrawn is how many broken paths a denied write's diagram draws: a
// mesh-wide change can break hundreds, and a comment has a size limit.
const mostDrawn = 12

// diagram draws the paths a denied write breaks.
func diagram(d manifest.Document, change *rules.Change, v engine.Verdict) report.Diagram {
	ref := d.Object.Ref
	dg := report.Diagram{Operation: string(change.Operation), Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name,
		File: d.File, Line: d.Line, Broken: v.BrokenPaths()}
	if dg.Broken > 0 {
		pic := pathview.OfBroken(ref.Kind+" "+ref.Namespace+"/"+ref.Name, *v.Traffic, mostDrawn)
		dg.Mermaid, dg.Drawn = pic.Mermaid(), pic.Drawn()
	}
	return dg
}

// commitStage orders a reviewed document within one commit: 0 first. A
// ReferenceGrant is created before the routes that need it and deleted
// after them, as a ServiceEntry, a Gateway (Istio's or the Gateway API's),
// a Service or a Namespace is.
func commitStage(d manifest.Document, del bool) int {
	registers := d.Object.Ref.Group == state.GroupNetworking && (d.Object.Ref.Kind == rules.KindServiceEntry || d.Object.Ref.Kind == rules.KindGateway) ||
		d.Object.Ref.Group == state.GroupGatewayAPI && (d.Object.Ref.Kind == rules.KindReferenceGrant || d.Object.Ref.Kind == rules.KindGateway) ||
		d.Object.Ref.Group == "" && (d.Object.Ref.Kind == rules.KindService || d.Object.Ref.Kind == rules.KindNamespace)
	if registers != del {
		return 0
	}
	return 1
}

type refKey struct{ group, kind, namespace, name string }

func keyOf(r state.ObjectRef) refKey { return refKey{r.Group, r.Kind, r.Namespace, r.Name} }

// setOrder dates an object without a creationTimestamp and gives it its
// place in file order; both decide which of conflicting objects wins.
func setOrder(o *state.Object, created time.Time, seq int64) {
	switch {
	case o.PA != nil:
		if o.PA.Created.IsZero() {
			o.PA.Created = created
		}
		o.PA.Seq = seq
	case o.DR != nil:
		if o.DR.Created.IsZero() {
			o.DR.Created = created
		}
		o.DR.Seq = seq
	case o.VS != nil && o.VS.Created.IsZero():
		o.VS.Created = created
	case o.Route != nil && o.Route.Created.IsZero():
		// Routes conflict by age too (the oldest takes equal matches);
		// the oracle's judge found a new HTTPRoute in -f taken as oldest.
		o.Route.Created = created
	}
}

func createdOf(o *state.Object) time.Time {
	switch {
	case o.PA != nil:
		return o.PA.Created
	case o.DR != nil:
		return o.DR.Created
	case o.VS != nil:
		return o.VS.Created
	case o.Route != nil:
		return o.Route.Created
	}
	return time.Time{}
}

func orderOf(o *state.Object) int64 {
	switch {
	case o.PA != nil:
		return o.PA.Seq
	case o.DR != nil:
		return o.DR.Seq
	}
	return 0
}
