// Package admission is the webhook adapter: it decodes the reviewed object in
// any served version, runs the engine against the live state and renders the
// verdict as kubectl shows it. It holds no rule logic.
package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// Path is where the webhook is served.
const Path = "/validate"

// Log keys, defined once.
const (
	keyKind      = "kind"
	keyNamespace = "namespace"
	keyName      = "name"
	keyOperation = "operation"
	keyUser      = "user"
	keyDryRun    = "dryRun"
	keyDecision  = "decision"
	keyRule      = "rule"
	keyGroup     = "group"
)

// Handler reviews writes of the reviewed kinds.
type Handler struct {
	Engine *engine.Engine
	Store  *state.Store
	Config *config.Config
	Log    logr.Logger
	// Synced reports whether the store holds the whole cluster yet; until it
	// does, reviews fail as internal errors rather than judge a partial state.
	Synced func() bool
	// Now stamps objects the API server has not stamped yet; time.Now if nil.
	Now func() time.Time
	// Confirm reads objects straight from the API server. Before a denial
	// that rests on what the cache holds (a Service missing, a route still
	// present), the handler confirms it: the cache may lag a write made a
	// moment earlier (a Service applied just before the VirtualService that
	// routes to it; a route moved just before the subset is removed). It
	// returns the objects that exist and the refs that no longer do.
	Confirm func(ctx context.Context, refs []state.ObjectRef) (found []*state.Object, gone []state.ObjectRef, err error)
	// Trust reads the Secrets and mesh-root ConfigMaps a DestinationRule's
	// TLS settings reference into view (GETs, never cached).
	Trust engine.TrustFetcher
	// Authorize says whether the requester may get a Secret or ConfigMap a
	// finding would disclose. It is asked only in reviews whose caller
	// presented a verified client certificate (WithCaller): in others such
	// findings are withheld. nil discloses everything (tests).
	Authorize Authorizer

	access accessCache
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	start := time.Now()
	dryRun := req.DryRun != nil && *req.DryRun
	wouldDeny := false // enforcement: warn turned a deny into a warning
	// The request's key/values are attached only when something is logged:
	// WithValues on every review would cost an allocation-heavy logger clone.
	log := func() logr.Logger {
		return h.Log.WithValues(keyKind, req.Kind.Kind, keyNamespace, req.Namespace, keyName, req.Name,
			keyOperation, req.Operation, keyDryRun, dryRun)
	}
	defer func() {
		if p := recover(); p != nil {
			log().Error(fmt.Errorf("%v", p), "Panic while reviewing")
			resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("internal error: %v", p))
		}
		h.observe(req, dryRun, start, resp, wouldDeny, log)
	}()

	if resp, done := h.screen(req, log); done {
		return resp
	}
	change, err := h.change(req)
	if err != nil {
		return admission.Denied(fmt.Sprintf("meshguard cannot read %s %s/%s: %v", req.Kind.Kind, req.Namespace, req.Name, err))
	}
	if over := checkLimits(h.Config.Limits, change); over != "" {
		return admission.Denied(over)
	}
	if !h.Engine.Handles(change.Ref.ReviewKind()) {
		return admission.Allowed("no rule for this kind")
	}
	verdict, shown, failed := h.judge(ctx, req, change, log)
	if failed != nil {
		return *failed
	}
	wouldDeny = h.record(verdict, log)
	denial, warnings := Render(shown)
	if denial != "" {
		resp = admission.Denied(denial).WithWarnings(warnings...)
	} else {
		resp = admission.Allowed("").WithWarnings(warnings...)
	}
	// Rule IDs and counts only: nothing a withheld finding hides.
	resp.AuditAnnotations = auditAnnotations(verdict)
	return resp
}

// observe counts and times a review by its decision, and logs it at V(1).
func (h *Handler) observe(req admission.Request, dryRun bool, start time.Time, resp admission.Response, wouldDeny bool, log func() logr.Logger) {
	decision := "allowed"
	switch {
	case resp.Result != nil && resp.Result.Code >= http.StatusInternalServerError:
		decision = "error"
	case !resp.Allowed:
		decision = "denied"
	case wouldDeny:
		decision = "would_deny"
	}
	kind := kindLabel(req.Kind.Kind)
	reviews.WithLabelValues(kind, operationLabel(string(req.Operation)), decision, strconv.FormatBool(dryRun)).Inc()
	duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	if h.Log.V(1).Enabled() {
		log().V(1).Info("Reviewed", keyDecision, decision)
	}
}

// screen answers the requests meshguard admits or refuses without judging
// them: no AdmissionReview, a kind it does not review, a request that does
// not describe its object, an excluded
// namespace, break-glass, a cache not synced yet.
func (h *Handler) screen(req admission.Request, log func() logr.Logger) (admission.Response, bool) {
	if req.UID == "" || req.Kind.Kind == "" {
		// An empty or truncated body (HTTP/2 carries no Content-Length to
		// refuse it by) is no AdmissionReview at all.
		return admission.Errored(http.StatusBadRequest, errors.New("not an AdmissionReview request: no uid or kind")), true
	}
	if k, ok := state.KindOf(req.Kind.Group, req.Kind.Kind); !ok || !k.Reviewed {
		return admission.Allowed("not a kind meshguard reviews"), true
	}
	if err := describe(req); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("the request does not describe its object: %w", err)), true
	}
	if h.Config.Excluded(req.Namespace) {
		return admission.Allowed("namespace excluded from review"), true
	}
	if g := h.breakGlass(req); g != "" {
		log().Info("Break-glass write admitted without review", keyUser, req.UserInfo.Username, keyGroup, g)
		resp := admission.Allowed("break-glass").WithWarnings(
			fmt.Sprintf("[meshguard] break-glass: admitted without review for group %s; run `meshguard check` on it", g))
		resp.AuditAnnotations = map[string]string{AuditVerdict: VerdictBreakGlass, AuditBreakGlass: g}
		return resp, true
	}
	if h.Synced != nil && !h.Synced() {
		return admission.Errored(http.StatusInternalServerError, errors.New("internal error: cluster state not synced yet")), true
	}
	return admission.Response{}, false
}

// judge evaluates a change with the TLS material it names; shown is the
// verdict as the requester may see it (see withhold). A fault of meshguard's
// own (the API server unreachable, the review abandoned) is returned as the
// response to send: an internal error, never a denial.
func (h *Handler) judge(ctx context.Context, req admission.Request, change *rules.Change, log func() logr.Logger) (verdict, shown engine.Verdict, failed *admission.Response) {
	fail := func(code int32, err error, msg string) (engine.Verdict, engine.Verdict, *admission.Response) {
		if msg != "" {
			log().Error(err, msg)
		}
		resp := admission.Errored(code, fmt.Errorf("internal error: %w", err))
		return engine.Verdict{}, engine.Verdict{}, &resp
	}
	if Cost(change) > h.Config.Limits.WithDefaults().Cost/CostlyShare {
		release, err := asCostly(ctx)
		if err != nil {
			return fail(http.StatusServiceUnavailable, fmt.Errorf("review abandoned: %w", err), "")
		}
		defer release()
	}
	if err := h.gatherTrust(ctx, change); err != nil {
		return fail(http.StatusInternalServerError, err, "Cannot read the TLS material the change references")
	}
	if err := ctx.Err(); err != nil {
		return fail(http.StatusServiceUnavailable, fmt.Errorf("review abandoned: %w", err), "")
	}
	verdict, err := h.evaluate(ctx, change)
	if err != nil {
		return fail(http.StatusInternalServerError, err, "Cannot confirm what the cache is missing")
	}
	shown, err = h.withhold(ctx, req.UserInfo, verdict)
	if err != nil {
		return fail(http.StatusInternalServerError, err, "Cannot check what the requester may read")
	}
	return verdict, shown, nil
}

// record counts and logs a verdict's findings; it reports whether
// enforcement: warn turned a denial into a warning.
func (h *Handler) record(verdict engine.Verdict, log func() logr.Logger) (wouldDeny bool) {
	for _, r := range verdict.Results {
		findings.WithLabelValues(r.Rule, string(r.Action)).Inc()
		switch {
		case r.Action == rules.Deny:
			log().Info("Denying", keyRule, r.Rule)
		case r.WouldDeny:
			wouldDeny = true
			log().Info("Would deny (enforcement: warn)", keyRule, r.Rule)
		}
		if r.Exception != "" {
			excepted.WithLabelValues(r.Exception).Inc()
			log().Info("Excepted", keyRule, r.Rule, "exception", r.Exception)
		}
	}
	return wouldDeny
}

// evaluate runs the engine; when a denial rests on objects missing from the
// cache and a direct read finds them, they go into the store and the change
// is judged again.
func (h *Handler) evaluate(ctx context.Context, change *rules.Change) (engine.Verdict, error) {
	var verdict engine.Verdict
	judge := func() {
		_ = h.Store.View(func(s state.Snapshot) error {
			verdict = h.Engine.Evaluate(s, change)
			return nil
		})
	}
	judge()
	if h.Confirm == nil || !verdict.Denied() {
		return verdict, nil
	}
	var missing []state.ObjectRef
	for _, r := range verdict.Results {
		if r.Action == rules.Deny {
			missing = append(missing, r.Missing...)
		}
	}
	if len(missing) == 0 {
		return verdict, nil
	}
	var found []*state.Object
	var gone []state.ObjectRef
	err := whileWaiting(ctx, func() (err error) {
		found, gone, err = h.Confirm(ctx, missing)
		return err
	})
	if err != nil {
		return engine.Verdict{}, err
	}
	if len(found) > 0 || len(gone) > 0 {
		// The informer delivers the same changes shortly; applying them now
		// only brings the cache forward.
		for _, o := range found {
			h.Store.Apply(o)
		}
		for _, r := range gone {
			h.Store.Remove(r)
		}
		judge()
	}
	return verdict, nil
}

// gatherTrust reads what the trust rules need for a DestinationRule write:
// the credential Secrets its TLS settings name and the mesh roots.
func (h *Handler) gatherTrust(ctx context.Context, change *rules.Change) error {
	if h.Trust == nil || (change.NewDR == nil && change.OldDR == nil) {
		return nil
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	view := engine.NewTrustView(h.Config, now())
	if err := whileWaiting(ctx, func() error {
		return engine.GatherTrust(ctx, h.Config, h.Store, view, h.Trust, engine.ChangedRules(change.OldDR, change.NewDR))
	}); err != nil {
		return err
	}
	change.Trust = view
	return nil
}

func (h *Handler) breakGlass(req admission.Request) string {
	for _, g := range req.UserInfo.Groups {
		if slices.Contains(h.Config.BreakGlassGroups, g) {
			return g
		}
	}
	return ""
}

// change decodes the old and new object of the request.
func (h *Handler) change(req admission.Request) (*rules.Change, error) {
	ref := state.ObjectRef{Group: req.Kind.Group, Kind: req.Kind.Kind, Namespace: req.Namespace, Name: req.Name}
	var old, cur *state.Object
	if req.Operation != admissionv1.Delete {
		o, err := manifest.Decode(req.Object.Raw)
		if err != nil {
			return nil, err
		}
		cur = o
		if ref.Name == "" {
			ref.Name = o.Ref.Name // generateName: the API server named it already
		}
		h.stamp(o)
	}
	if req.Operation != admissionv1.Create && len(req.OldObject.Raw) > 0 {
		o, err := manifest.Decode(req.OldObject.Raw)
		if err != nil {
			return nil, fmt.Errorf("stored object: %w", err)
		}
		old = o
	}
	change := rules.NewChange(rules.Operation(req.Operation), ref, old, cur)
	change.Requester = &config.Requester{Username: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	return change, nil
}

// stamp dates an object the API server has not dated yet (it orders
// conflicting policies and merged DestinationRules).
func (h *Handler) stamp(o *state.Object) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	switch {
	case o.PA != nil && o.PA.Created.IsZero():
		o.PA.Created = now()
	case o.DR != nil && o.DR.Created.IsZero():
		o.DR.Created = now()
	case o.VS != nil && o.VS.Created.IsZero():
		o.VS.Created = now()
	}
}
