package config

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/meshguard/meshguard/pkg/state"
)

// Mode is how a configuration enforces the findings that deny.
type Mode string

// Modes accepted as `enforcement`.
const (
	// ModeDeny denies a write with a denying finding (the default).
	ModeDeny Mode = "deny"
	// ModeWarn admits it with a warning that says it would have been
	// denied: for installing meshguard on a live cluster first.
	ModeWarn Mode = "warn"
)

// DefaultMaxExceptionDays is how far ahead an exception may expire unless
// the configuration says otherwise.
const DefaultMaxExceptionDays = 180

// reviewedKinds are the kinds an exception may name.
var reviewedKinds = state.ReviewedKinds()

// Exception lets the findings of some rules through, for some objects, until
// a date. Exceptions live in the configuration the platform team owns, not in
// annotations: whoever may write an object may not thereby excuse it.
type Exception struct {
	// Name identifies the exception in warnings, reports and metrics.
	Name string `json:"name"`
	// Rules are the rule IDs it excepts.
	Rules []string `json:"rules"`
	// Namespaces are globs (path.Match) of the namespaces it covers; empty:
	// every namespace.
	Namespaces []string `json:"namespaces,omitempty"`
	// Kinds narrow it to these kinds; empty: every reviewed kind.
	Kinds []string `json:"kinds,omitempty"`
	// Names are globs of the object names it covers; empty: every name.
	Names []string `json:"names,omitempty"`
	// Users, Groups and ServiceAccounts narrow it to writes requested by one
	// of these subjects, as Kyverno's PolicyException and Gatekeeper's match
	// subjects do: a controller's identity, so that its writes converge
	// while a person's identical write is still judged. ServiceAccounts are
	// "namespace/name" (the user system:serviceaccount:namespace:name). All
	// empty: any requester. Only the webhook knows the requester: `check`
	// and `audit` have none, so an exception limited to subjects never
	// applies there.
	Users           []string `json:"users,omitempty"`
	Groups          []string `json:"groups,omitempty"`
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
	// Reason says why (a ticket, an incident): it is shown with every
	// finding the exception lets through.
	Reason string `json:"reason"`
	// Expires is an RFC 3339 date (the exception holds through that day,
	// UTC) or date and time.
	Expires string `json:"expires"`

	until time.Time
}

// Until is the instant the exception stops applying.
func (e *Exception) Until() time.Time { return e.until }

// Live reports whether the exception applies at now.
func (e *Exception) Live(now time.Time) bool { return now.Before(e.until) }

// Matches reports whether the exception covers a finding of rule on the
// object kind namespace/name (whether or not it is still live), whoever
// requested it; see also Requested.
func (e *Exception) Matches(rule, kind, namespace, name string) bool {
	return slices.Contains(e.Rules, rule) &&
		(len(e.Kinds) == 0 || slices.Contains(e.Kinds, kind)) &&
		globs(e.Namespaces, namespace) && globs(e.Names, name)
}

// Requester is who asked for a write: the admission request's user name and
// groups.
type Requester struct {
	Username string
	Groups   []string
}

// serviceAccountPrefix is how Kubernetes names a service account as a user.
const serviceAccountPrefix = "system:serviceaccount:"

// Limited reports whether the exception covers only some requesters.
func (e *Exception) Limited() bool {
	return len(e.Users) > 0 || len(e.Groups) > 0 || len(e.ServiceAccounts) > 0
}

// Requested reports whether the exception covers writes by r: any requester
// when it names no subject; otherwise r must be one of its users or service
// accounts or belong to one of its groups. With no requester (nil: `check`,
// `audit`), an exception limited to subjects covers nothing.
func (e *Exception) Requested(r *Requester) bool {
	if !e.Limited() {
		return true
	}
	if r == nil {
		return false
	}
	if slices.Contains(e.Users, r.Username) {
		return true
	}
	if sa, ok := strings.CutPrefix(r.Username, serviceAccountPrefix); ok && slices.Contains(e.ServiceAccounts, strings.Replace(sa, ":", "/", 1)) {
		return true
	}
	return slices.ContainsFunc(r.Groups, func(g string) bool { return slices.Contains(e.Groups, g) })
}

func globs(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// parseExpiry reads a date (through the end of that day, UTC) or an RFC 3339
// date and time.
func parseExpiry(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	return time.Parse(time.RFC3339, s)
}

// validateExceptions checks every exception at now and fills in its expiry.
// An exception that has already expired is valid: it is reported as expired
// rather than refused, so that a configuration does not stop loading on the
// day an exception runs out.
func (c *Config) validateExceptions(now time.Time) error {
	switch c.Enforcement {
	case "", ModeDeny, ModeWarn:
	default:
		return fmt.Errorf("enforcement: %q is not deny or warn", c.Enforcement)
	}
	if c.MaxExceptionDays < 0 {
		return fmt.Errorf("maxExceptionDays: %d is negative", c.MaxExceptionDays)
	}
	maxDays := c.MaxExceptionDays
	if maxDays == 0 {
		maxDays = DefaultMaxExceptionDays
	}
	seen := map[string]bool{}
	for i := range c.Exceptions {
		e := &c.Exceptions[i]
		at := fmt.Sprintf("exceptions[%d]", i)
		if e.Name != "" {
			at += " (" + e.Name + ")"
		}
		switch {
		case e.Name == "":
			return fmt.Errorf("%s: name is required", at)
		case seen[e.Name]:
			return fmt.Errorf("%s: another exception has the same name", at)
		case len(e.Rules) == 0:
			return fmt.Errorf("%s: rules is required (the rule IDs it excepts)", at)
		case strings.TrimSpace(e.Reason) == "":
			return fmt.Errorf("%s: reason is required", at)
		case e.Expires == "":
			return fmt.Errorf("%s: expires is required (an RFC 3339 date, at most %d days ahead)", at, maxDays)
		}
		seen[e.Name] = true
		for _, id := range e.Rules {
			if !ruleID.MatchString(id) {
				return fmt.Errorf("%s: rules: %q is not a rule ID (want MG and three digits)", at, id)
			}
		}
		for _, k := range e.Kinds {
			if !slices.Contains(reviewedKinds, k) {
				return fmt.Errorf("%s: kinds: %q is not one of %s", at, k, strings.Join(reviewedKinds, ", "))
			}
		}
		for _, p := range slices.Concat(e.Namespaces, e.Names) {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("%s: %q is not a valid glob", at, p)
			}
		}
		if err := e.validateSubjects(); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		until, err := parseExpiry(e.Expires)
		if err != nil {
			return fmt.Errorf("%s: expires: %q is not an RFC 3339 date or date and time", at, e.Expires)
		}
		if limit := now.AddDate(0, 0, maxDays); until.After(limit) {
			return fmt.Errorf("%s: expires %s is more than %d days ahead (maxExceptionDays)", at, e.Expires, maxDays)
		}
		e.until = until
	}
	return nil
}

// RuleIDs lists every rule ID the configuration names (overrides and
// exceptions), with where it is named, for checking against the catalogue.
func (c *Config) RuleIDs() map[string]string {
	ids := map[string]string{}
	for id := range c.Rules {
		ids[id] = "rules." + id
	}
	for i, e := range c.Exceptions {
		for _, id := range e.Rules {
			if _, ok := ids[id]; !ok {
				ids[id] = fmt.Sprintf("exceptions[%d] (%s): rules", i, e.Name)
			}
		}
	}
	return ids
}

// validateSubjects checks the users, groups and service accounts an
// exception is limited to.
func (e *Exception) validateSubjects() error {
	for _, u := range e.Users {
		if strings.TrimSpace(u) == "" {
			return fmt.Errorf("users: an empty user name")
		}
	}
	for _, g := range e.Groups {
		if strings.TrimSpace(g) == "" {
			return fmt.Errorf("groups: an empty group name")
		}
	}
	for _, sa := range e.ServiceAccounts {
		ns, name, ok := strings.Cut(sa, "/")
		if !ok || ns == "" || name == "" || strings.ContainsAny(name, "/:") || strings.Contains(ns, ":") {
			hint := ""
			if strings.HasPrefix(sa, serviceAccountPrefix) {
				hint = " (put that in users, or write namespace/name here)"
			}
			return fmt.Errorf("serviceAccounts: %q is not namespace/name%s", sa, hint)
		}
	}
	return nil
}
