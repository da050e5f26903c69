package engine

import (
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// settle applies the configuration's exceptions and enforcement mode to the
// findings of a write, in that order: a finding a live exception
// covers warns with the exception's name; one an expired exception would
// have covered is judged as usual, and a warning names the lapsed
// exception; under `enforcement: warn` what still denies warns that it
// would have denied. An exception limited to subjects applies only when the
// change carries a requester among them (the webhook's; `check` and `audit`
// carry none).
func (e *Engine) settle(change *rules.Change, v *Verdict) {
	if len(v.Results) == 0 || (len(e.config.Exceptions) == 0 && e.config.Enforcement != config.ModeWarn) {
		return
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	var lapsed []Result
	for i := range v.Results {
		r := &v.Results[i]
		if ex := e.exceptionFor(r.Rule, change.Ref, change.Requester, now()); ex != nil {
			if ex.Live(now()) {
				r.Exception = ex.Name
				r.Message = "excepted by " + ex.Name + " until " + ex.Expires + ": " + r.Message
				if r.Action == rules.Deny {
					r.Action = rules.Warn
				}
			} else if r.Action == rules.Deny {
				lapsed = append(lapsed, Result{Finding: rules.Finding{Rule: r.Rule, Action: rules.Warn, Field: r.Field,
					Message: "exception " + ex.Name + " expired " + ex.Expires + " and no longer applies: the write is judged as usual"}})
			}
		}
		if r.Action == rules.Deny && e.config.Enforcement == config.ModeWarn {
			r.Action, r.WouldDeny = rules.Warn, true
			r.Message = "would deny (enforcement: warn): " + r.Message
		}
	}
	v.Results = append(v.Results, lapsed...)
}

// exceptionFor returns the configured exception covering a finding of rule
// on ref written by who: the first live one, else the first that has expired.
func (e *Engine) exceptionFor(rule string, ref state.ObjectRef, who *config.Requester, now time.Time) *config.Exception {
	var expired *config.Exception
	for i := range e.config.Exceptions {
		ex := &e.config.Exceptions[i]
		if !ex.Matches(rule, ref.ReviewKind(), ref.Namespace, ref.Name) || !ex.Requested(who) {
			continue
		}
		if ex.Live(now) {
			return ex
		}
		if expired == nil {
			expired = ex
		}
	}
	return expired
}
