package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/pathview"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// PathsOptions are the flags of `meshguard paths`.
type PathsOptions struct {
	// Host is the host asked about: an FQDN, name.namespace or
	// namespace/name of a Service, or a ServiceEntry host.
	Host string
	// Files are writes to apply (as `check -f` reads them); none: the state
	// as it stands.
	Files  []string
	State  []string
	Delete bool
	Output string // text, json, mermaid or dot
	Config *config.Config
	// LoadCluster fills the store from the live cluster when State is empty.
	LoadCluster func(ctx context.Context, store *state.Store) error
	Now         func() time.Time
}

// RunPaths prints every path to the host, before and after the -f writes
// when there are any. Exit codes as check: 0, or 1 when the writes break a
// path; 2 on bad usage or input.
func RunPaths(ctx context.Context, o PathsOptions, stdout io.Writer) (int, error) {
	switch o.Output {
	case pathview.Text, pathview.JSON, pathview.Mermaid, pathview.DOT:
	default:
		return ExitBadInput, BadInput{fmt.Errorf("-o: %q is not text, json, mermaid or dot", o.Output)}
	}
	if o.Host == "" {
		return ExitBadInput, BadInput{errors.New("--host: the host to draw is required")}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	sess, err := LoadState(ctx, o.Config, o.State, o.LoadCluster, now)
	if err != nil {
		return ExitBadInput, err
	}
	var reviewed []manifest.Document
	if len(o.Files) > 0 {
		if reviewed, err = readWrites(ctx, sess, o.Config, o.Files, o.Delete); err != nil {
			return ExitBadInput, err
		}
	}
	var pic *pathview.Picture
	var bad error
	_ = sess.Store().View(func(before state.Snapshot) error {
		hosts := engine.RoutingFor(o.Config).Hosts
		fqdn, err := hostOf(o.Host, before, hosts)
		if err != nil {
			bad = err
			return nil
		}
		after := before
		for _, d := range reviewed {
			change := sess.Change(d.Object, o.Delete)
			if change == nil {
				bad = fmt.Errorf("%s: --delete of %s %s/%s, which the state does not hold", d.Source, d.Object.Ref.Kind, d.Object.Ref.Namespace, d.Object.Ref.Name)
				return nil
			}
			after = engine.After(after, change)
		}
		if !hosts.Resolve(before, fqdn, o.Config.RootNamespace).Found() && !hosts.Resolve(after, fqdn, o.Config.RootNamespace).Found() {
			bad = fmt.Errorf("--host %s: no Service or ServiceEntry in the state has this host", o.Host)
			return nil
		}
		t := sess.Engine().Paths(before, after, fqdn)
		pic = pathview.New(fqdn, len(reviewed) > 0, t.Before, t.After, t.Verdict)
		return nil
	})
	if bad != nil {
		return ExitBadInput, BadInput{bad}
	}
	if err := pathview.Write(stdout, o.Output, pic); err != nil {
		return ExitBadInput, err
	}
	if pic.BrokenCount() > 0 {
		return ExitDenied, nil
	}
	return ExitOK, nil
}

// hostOf reads --host: an FQDN or ServiceEntry host as written; a
// Service as name.namespace or namespace/name. A short name is ambiguous.
func hostOf(host string, s state.Snapshot, h mesh.Hosts) (string, error) {
	if ns, name, ok := strings.Cut(host, "/"); ok {
		if ns == "" || name == "" || strings.Contains(name, "/") {
			return "", fmt.Errorf("--host %q: want namespace/name", host)
		}
		return h.FQDN(name, ns), nil
	}
	if !strings.Contains(host, ".") {
		return "", fmt.Errorf("--host %q: say which namespace (name.namespace, namespace/name or the FQDN)", host)
	}
	if name, ns, ok := strings.Cut(host, "."); ok && !strings.Contains(ns, ".") && s.Service(ns, name) != nil {
		return h.FQDN(name, ns), nil
	}
	return host, nil
}
