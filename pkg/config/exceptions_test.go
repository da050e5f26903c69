package config_test

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/config"
)

var today = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func parse(t *testing.T, body string) (*config.Config, error) {
	t.Helper()
	c := config.Default()
	if err := yaml.UnmarshalStrict([]byte(body), c); err != nil {
		t.Fatal(err)
	}
	return c, c.ValidateAt(today)
}

func TestExceptionsValidate(t *testing.T) {
	c, err := parse(t, `
enforcement: warn
exceptions:
- name: payments-retries
  rules: [MG306]
  namespaces: [payments, "team-*"]
  kinds: [VirtualService]
  names: ["checkout-*"]
  reason: "vendor SDK retries idempotent calls; INC-4411"
  expires: "2027-03-31"
- name: until-noon
  rules: [MG101]
  reason: migration window
  expires: "2026-12-04T12:00:00Z"
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Enforcement != config.ModeWarn {
		t.Errorf("enforcement = %q", c.Enforcement)
	}
	e := c.Exceptions[0]
	// A date holds through that day, UTC.
	if got, want := e.Until(), time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("until = %v, want %v", got, want)
	}
	if !e.Live(time.Date(2027, 3, 31, 23, 59, 0, 0, time.UTC)) || e.Live(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("a date-only expiry must hold through its last day and no longer")
	}
	for _, m := range []struct {
		rule, kind, ns, name string
		want                 bool
	}{
		{"MG306", "VirtualService", "payments", "checkout-eu", true},
		{"MG306", "VirtualService", "team-blue", "checkout-us", true},
		{"MG306", "VirtualService", "payments", "cart", false},         // name glob
		{"MG306", "DestinationRule", "payments", "checkout-eu", false}, // kind
		{"MG301", "VirtualService", "payments", "checkout-eu", false},  // rule
		{"MG306", "VirtualService", "teams", "checkout-eu", false},     // namespace glob
	} {
		if got := e.Matches(m.rule, m.kind, m.ns, m.name); got != m.want {
			t.Errorf("Matches(%s %s %s/%s) = %v, want %v", m.rule, m.kind, m.ns, m.name, got, m.want)
		}
	}
	if !c.Exceptions[1].Matches("MG101", "PeerAuthentication", "anything", "any") {
		t.Error("an exception without namespaces, kinds or names covers every object")
	}
}

func TestExceptionsRefused(t *testing.T) {
	valid := "  rules: [MG306]\n  reason: r\n  expires: \"2027-01-31\"\n"
	for body, want := range map[string]string{
		"exceptions:\n- rules: [MG306]\n  reason: r\n  expires: \"2027-01-31\"\n":                                  "exceptions[0]: name is required",
		"exceptions:\n- name: a\n" + valid + "- name: a\n" + valid:                                                 "exceptions[1] (a): another exception has the same name",
		"exceptions:\n- name: a\n  reason: r\n  expires: \"2027-01-31\"\n":                                         "exceptions[0] (a): rules is required",
		"exceptions:\n- name: a\n  rules: [MG306]\n  expires: \"2027-01-31\"\n":                                    "exceptions[0] (a): reason is required",
		"exceptions:\n- name: a\n  rules: [MG306]\n  reason: r\n":                                                  "exceptions[0] (a): expires is required",
		"exceptions:\n- name: a\n  rules: [MG306]\n  reason: r\n  expires: next week\n":                            `expires: "next week" is not an RFC 3339 date`,
		"exceptions:\n- name: a\n  rules: [MG306]\n  reason: r\n  expires: \"2027-12-31\"\n":                       "expires 2027-12-31 is more than 180 days ahead (maxExceptionDays)",
		"maxExceptionDays: 400\nexceptions:\n- name: a\n  rules: [XX1]\n  reason: r\n  expires: \"2027-12-31\"\n":  `rules: "XX1" is not a rule ID`,
		"exceptions:\n- name: a\n  rules: [MG306]\n  kinds: [Telemetry]\n  reason: r\n  expires: \"2027-01-31\"\n": `kinds: "Telemetry" is not one of`,
		"exceptions:\n- name: a\n  rules: [MG306]\n  names: [\"[\"]\n  reason: r\n  expires: \"2027-01-31\"\n":     `"[" is not a valid glob`,
		"exceptions:\n- name: a\n" + valid + "  serviceAccounts: [knative-serving]\n":                              `serviceAccounts: "knative-serving" is not namespace/name`,
		"exceptions:\n- name: a\n" + valid + "  serviceAccounts: [\"system:serviceaccount:flagger:flagger\"]\n":    `(put that in users, or write namespace/name here)`,
		"exceptions:\n- name: a\n" + valid + "  serviceAccounts: [a/b/c]\n":                                        `serviceAccounts: "a/b/c" is not namespace/name`,
		"exceptions:\n- name: a\n" + valid + "  users: [\"\"]\n":                                                   "users: an empty user name",
		"exceptions:\n- name: a\n" + valid + "  groups: [\" \"]\n":                                                 "groups: an empty group name",
		"enforcement: dryrun\n": `enforcement: "dryrun" is not deny or warn`,
	} {
		if _, err := parse(t, body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
	// An exception that has run out still loads: it is reported as expired.
	if _, err := parse(t, "exceptions:\n- name: old\n  rules: [MG306]\n  reason: r\n  expires: \"2026-01-31\"\n"); err != nil {
		t.Errorf("an expired exception must load: %v", err)
	}
	// A longer maximum admits a later expiry.
	if _, err := parse(t, "maxExceptionDays: 400\nexceptions:\n- name: a\n  rules: [MG306]\n  reason: r\n  expires: \"2027-12-31\"\n"); err != nil {
		t.Errorf("maxExceptionDays: %v", err)
	}
}

// An exception limited to subjects covers the writes of those users, groups
// and service accounts only, and none without a requester (check, audit).
func TestExceptionSubjects(t *testing.T) {
	c, err := parse(t, `
exceptions:
- name: knative-converges
  rules: [MG301]
  serviceAccounts: [knative-serving/controller]
  users: [flux]
  groups: ["system:serviceaccounts:argo-rollouts"]
  reason: the controller writes routes before rules
  expires: "2027-03-31"
- name: anyone
  rules: [MG301]
  reason: r
  expires: "2027-03-31"
`)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Exceptions[0]
	for _, m := range []struct {
		name string
		who  *config.Requester
		want bool
	}{
		{"the named service account", &config.Requester{Username: "system:serviceaccount:knative-serving:controller"}, true},
		{"another service account of that namespace", &config.Requester{Username: "system:serviceaccount:knative-serving:webhook"}, false},
		{"the same name in another namespace", &config.Requester{Username: "system:serviceaccount:default:controller"}, false},
		{"a named user", &config.Requester{Username: "flux"}, true},
		{"a member of a named group", &config.Requester{Username: "system:serviceaccount:argo-rollouts:argo-rollouts", Groups: []string{"system:authenticated", "system:serviceaccounts:argo-rollouts"}}, true},
		{"a person", &config.Requester{Username: "alice@example.com", Groups: []string{"system:authenticated"}}, false},
		{"a user named like the service account's namespace/name", &config.Requester{Username: "knative-serving/controller"}, false},
		{"no requester (check, audit)", nil, false},
	} {
		if got := e.Requested(m.who); got != m.want {
			t.Errorf("%s: Requested = %v, want %v", m.name, got, m.want)
		}
	}
	if !c.Exceptions[1].Requested(nil) || !c.Exceptions[1].Requested(&config.Requester{Username: "alice"}) {
		t.Error("an exception without subjects covers every requester, and writes without one")
	}
}
