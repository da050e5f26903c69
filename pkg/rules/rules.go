// Package rules defines what a rule is: a pure function of a change and a
// snapshot of cluster state, returning findings. Rules live in one file each
// under a package per Istio kind; the catalogue (catalogue.go) describes them
// as data.
package rules

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// Action is what a finding asks of the admission decision.
type Action string

// Actions.
const (
	Deny Action = "deny"
	Warn Action = "warn"
)

// Operation is the kind of write.
type Operation string

// Operations, spelled as admission.k8s.io spells them.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
	Delete Operation = "DELETE"
)

// Kinds meshguard reviews.
const (
	KindPeerAuthentication = "PeerAuthentication"
	KindDestinationRule    = "DestinationRule"
	KindVirtualService     = "VirtualService"
	KindServiceEntry       = "ServiceEntry"
	KindHTTPRoute          = state.KindHTTPRoute
	KindGRPCRoute          = state.KindGRPCRoute
	KindReferenceGrant     = "ReferenceGrant"
	// KindAuthorizationPolicy is security.istio.io AuthorizationPolicy.
	KindAuthorizationPolicy = "AuthorizationPolicy"
	// KindGateway is Istio's Gateway (networking.istio.io); KindKubeGateway
	// the Gateway API's (a Change's Ref.ReviewKind tells them apart).
	KindGateway     = "Gateway"
	KindKubeGateway = state.KindKubeGateway
	KindSidecar     = "Sidecar"
	// KindService and KindNamespace are the Kubernetes writes reviewed
	// (core/v1): their broken paths are explained by the rules whose cause
	// they bring (ServiceWrite), the rest by the MG8xx rules.
	KindService   = "Service"
	KindNamespace = "Namespace"
)

// Change is the write under review, with the object before and after it
// (Old is nil on CREATE, New is nil on DELETE).
type Change struct {
	Operation Operation
	Ref       state.ObjectRef
	// Old and New are the object before and after the write, whatever its
	// kind; the typed fields below are their reviewed forms.
	Old, New *state.Object
	OldPA    *state.PeerAuthentication
	NewPA    *state.PeerAuthentication
	OldDR    *state.DestinationRule
	NewDR    *state.DestinationRule
	OldVS    *state.VirtualService
	NewVS    *state.VirtualService
	// Trust is the TLS material the change's TLS settings reference (and the
	// mesh roots), gathered before evaluation because rules do no I/O. Nil
	// when none was gathered: trust rules then judge nothing.
	Trust *trust.View
	// Requester is who asked for the write, for the exceptions limited to
	// users, groups or service accounts; set by the webhook from the
	// admission request, nil in `check` and `audit`. Rules never read it.
	Requester *config.Requester
}

// NewChange builds the change from the decoded objects (old nil on CREATE,
// new nil on DELETE). Kinds meshguard does not review give a Change no rule reads.
func NewChange(op Operation, ref state.ObjectRef, old, new *state.Object) *Change {
	c := &Change{Operation: op, Ref: ref, Old: old, New: new}
	if old != nil {
		c.OldPA, c.OldDR, c.OldVS = old.PA, old.DR, old.VS
	}
	if new != nil {
		c.NewPA, c.NewDR, c.NewVS = new.PA, new.DR, new.VS
	}
	return c
}

// Phase says which side of the change a rule is looking at.
type Phase int

// Phases.
const (
	After Phase = iota
	Before
)

// Input is everything a rule may read. Rules must not keep it.
type Input struct {
	Change *Change
	Phase  Phase
	// State is the cluster on the side of the change named by Phase.
	State state.Snapshot
	// Prior is the cluster before the change (State itself in the Before
	// phase), for rules about what the change itself alters.
	Prior state.Snapshot
	// PA, DR and VS are the reviewed object as it stands in State (nil when
	// absent there: before a CREATE, after a DELETE); one of them is set.
	PA       *state.PeerAuthentication
	DR       *state.DestinationRule
	VS       *state.VirtualService
	Config   *config.Config
	Policies mesh.Policies
	Routing  mesh.Routing
	// Traffic is what the write does to the paths it touches (pkg/paths),
	// computed once for every rule; nil when no rule reads it.
	Traffic *paths.Verdict
}

// Finding is one problem a rule found.
type Finding struct {
	Rule   string
	Action Action
	// Field is the path in the reviewed object the finding concerns.
	Field string
	// Message says what breaks, how much, which ones and the fix.
	Message string
	// Key identifies the problem for comparing before and after the change;
	// together with Rule and Field it must be stable across both evaluations.
	Key string
	// Subjects are what the problem touches (namespaces, pods). A finding
	// whose subjects grow through the change counts as introduced.
	Subjects []string
	// Missing lists the objects the finding rests on: absent ones (a
	// Service, a Gateway; the DestinationRules of a namespace when Name is
	// empty) and present ones that may have changed (a VirtualService still
	// routing). The webhook re-reads them before denying, because the cache
	// can lag a write made a moment earlier.
	Missing []state.ObjectRef
	// Reveals lists the Secrets and ConfigMaps whose content or existence
	// the message discloses. The webhook withholds the details from a
	// requester who may not read one of them (no cross-namespace oracle).
	Reveals []state.ObjectRef
	// Preexisting marks a deny finding the rule itself found to hold before
	// the write (path rules compare paths, not findings): it is reported as
	// a pre-existing warning.
	Preexisting bool
}

// PathRule is a rule that explains broken traffic paths: the engine runs it
// for writes of each kind it names (the same breakage can come from a
// PeerAuthentication, a DestinationRule or a VirtualService, and from a
// DELETE as well as a CREATE), once, on Input.Traffic: it decides itself
// what the write broke and what failed before.
type PathRule interface {
	Rule
	// WriteKinds lists the kinds of writes whose broken paths it explains.
	WriteKinds() []string
}

// Rule is one check of the catalogue.
type Rule interface {
	// ID is the catalogue ID (MG101).
	ID() string
	// Kind is the reviewed kind the rule judges.
	Kind() string
	// Reads lists the kinds of cluster state the rule reads, through
	// Input.State and Input.Prior (as Istio's analyzers declare their
	// inputs); path rules list what they read beside Input.Traffic, whose
	// inputs are paths.Reads. The rule fixtures fail on a read not declared.
	Reads() []state.Kind
	// Check returns the findings for in. It must not block, log or do I/O.
	Check(in *Input) []Finding
}

// WithheldMessage replaces a finding's message for a reader who may not see
// ref (a Secret or ConfigMap of another namespace): the verdict stands, the
// details (existence, subjects, expiry, key match) are not given.
func WithheldMessage(ref state.ObjectRef) string {
	return withheld(ref, fmt.Sprintf("you may not see (no get on %ss there)", strings.ToLower(ref.Kind)))
}

// WithheldFromUnverifiedMessage replaces a finding's message in a review
// whose caller is not known to be the API server (no client certificate
// verified against serve --client-ca-file): its userInfo may be forged, so
// nobody's permission to read ref can be checked.
func WithheldFromUnverifiedMessage(ref state.ObjectRef) string {
	return withheld(ref, "meshguard gives only in reviews sent by the API server with its client certificate (serve --client-ca-file)")
}

func withheld(ref state.ObjectRef, whose string) string {
	return fmt.Sprintf("the TLS material this rule uses in namespace %s has a problem whose details %s — ask its owners to check it, or to run meshguard check",
		ref.Namespace, whose)
}
