// Package config is meshguard's configuration file, shared by `serve` and
// `check` so that CI and the webhook judge alike.
package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/trust"
)

// Enforcement overrides a rule's default action.
type Enforcement string

// Enforcement values accepted in the configuration file.
const (
	EnforceDeny Enforcement = "deny"
	EnforceWarn Enforcement = "warn"
	EnforceOff  Enforcement = "off"
)

// DefaultExcludedNamespaces hold cluster infrastructure that never joins the mesh.
var DefaultExcludedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Config is the configuration file's content.
type Config struct {
	// RootNamespace is Istio's root namespace (mesh-wide policy lives there).
	RootNamespace string `json:"rootNamespace,omitempty"`
	// ExcludedNamespaces are never counted as uncovered or reviewed.
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// ClusterDomain is the Kubernetes cluster domain used to expand hosts.
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// Rules overrides the action of individual rules: deny, warn or off.
	Rules map[string]Enforcement `json:"rules,omitempty"`
	// Enforcement is deny (the default) or warn: every deny becomes a
	// warning saying the write would have been denied.
	Enforcement Mode `json:"enforcement,omitempty"`
	// Exceptions let named findings through for a while.
	Exceptions []Exception `json:"exceptions,omitempty"`
	// MaxExceptionDays caps how far ahead an exception may expire (0: 180).
	MaxExceptionDays int `json:"maxExceptionDays,omitempty"`
	// BreakGlassGroups are user groups whose writes are admitted with a warning.
	BreakGlassGroups []string `json:"breakGlassGroups,omitempty"`
	// RetryLimit is the most retry attempts a route may configure (MG306).
	RetryLimit int32 `json:"retryLimit,omitempty"`
	// FleetTrustAnchors is a PEM file of roots that other clusters of the
	// fleet trust; a CA bundle holding one of them passes MG402.
	FleetTrustAnchors string `json:"fleetTrustAnchors,omitempty"`
	// FleetHosts are host patterns served by other clusters of the fleet
	// ("*.global"); they count as in-mesh for MG402.
	FleetHosts []string `json:"fleetHosts,omitempty"`
	// MultiCluster declares that the mesh spans other clusters, which hold
	// endpoints meshguard cannot see: "no Ready endpoint" then warns instead
	// of denying. Multi-network marks say so without it (mesh.OtherClusters);
	// a multi-primary mesh on one network needs it.
	MultiCluster bool `json:"multiCluster,omitempty"`
	// OutboundTrafficPolicy is the mesh config's outboundTrafficPolicy.mode
	// (ALLOW_ANY or REGISTRY_ONLY), which Sidecars without a mode of their
	// own inherit; empty: not told, and calls such a Sidecar does not
	// import are not judged (MG603).
	OutboundTrafficPolicy string `json:"outboundTrafficPolicy,omitempty"`
	// TrustDomain is the mesh config's trustDomain, the first part of every
	// workload's principal (<trust domain>/ns/<ns>/sa/<sa>), and
	// TrustDomainAliases its trustDomainAliases: AuthorizationPolicy
	// principals in another trust domain match no caller of this mesh.
	TrustDomain        string   `json:"trustDomain,omitempty"`
	TrustDomainAliases []string `json:"trustDomainAliases,omitempty"`

	// Limits bound what one review may cost.
	Limits Limits `json:"limits,omitempty"`

	// MaxFileBytes caps each file `check`, `audit` and `plan` read (0: the
	// default, 1 GiB).
	MaxFileBytes int64 `json:"maxFileBytes,omitempty"`

	// Anchors are the parsed FleetTrustAnchors.
	Anchors []trust.Cert `json:"-"`
}

// Limits bound the work of one review, so that hostile or accidental giants
// cannot exhaust the webhook (which, under failurePolicy Fail, would stop
// every Istio write in the cluster).
type Limits struct {
	// RequestBytes caps an AdmissionReview body (the API server's own object
	// limit is 3 MiB).
	RequestBytes int64 `json:"requestBytes,omitempty"`
	// MemoryBytes budgets the memory reviews hold at once, in bytes: each
	// review once read holds its body plus an estimate of its decoded form
	// until it is answered, queued or judged. A review that would go over it
	// is refused at once (HTTP 429 with Retry-After); one alone may take the
	// whole budget, so every body within RequestBytes can be judged. Bodies
	// still arriving hold what they have sent from a quarter as much again.
	// At least RequestBytes.
	MemoryBytes int64 `json:"memoryBytes,omitempty"`
	// InFlight reviews run at once; Queue more may wait briefly. Beyond
	// that a review fails fast (HTTP 429) instead of holding memory.
	InFlight int `json:"inFlight,omitempty"`
	Queue    int `json:"queue,omitempty"`
	// Routes (http, tcp and tls routes of a VirtualService, with their
	// destinations and mirrors), Hosts and Subsets cap the lists rules walk.
	Routes  int `json:"routes,omitempty"`
	Hosts   int `json:"hosts,omitempty"`
	Subsets int `json:"subsets,omitempty"`
	// Cost caps the work one object asks of a review, counted before any
	// rule runs as the pairs rules judge: a VirtualService's hosts × (its
	// routes, matches, destinations and mirrors + its gateways), a
	// DestinationRule's (1 + subsets) × (1 + port-level settings, its own
	// and its subsets'), a PeerAuthentication's 1 + portLevelMtls ports.
	// Lists within their caps can still multiply into seconds of CPU.
	// Objects costing over a tenth of it hold at most half the InFlight
	// slots, so small writes are judged while costly ones wait.
	Cost int `json:"cost,omitempty"`
}

// DefaultLimits are generous for real configuration: Istio's own samples use
// a handful of routes, hosts and subsets, and cost 15 at most. An object at
// the default cost takes tens of milliseconds to review (BenchmarkReviewAtCostCap).
var DefaultLimits = Limits{RequestBytes: 3 << 20, MemoryBytes: 64 << 20, InFlight: 4, Queue: 32, Routes: 2000, Hosts: 500, Subsets: 500, Cost: 100_000}

// WithDefaults fills the limits left unset (a Config not made by Default or Load).
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.RequestBytes > 0 {
		d.RequestBytes = l.RequestBytes
	}
	if l.MemoryBytes > 0 {
		d.MemoryBytes = l.MemoryBytes
	}
	if l.InFlight > 0 {
		d.InFlight = l.InFlight
	}
	if l.Queue > 0 {
		d.Queue = l.Queue
	}
	if l.Routes > 0 {
		d.Routes = l.Routes
	}
	if l.Hosts > 0 {
		d.Hosts = l.Hosts
	}
	if l.Subsets > 0 {
		d.Subsets = l.Subsets
	}
	if l.Cost > 0 {
		d.Cost = l.Cost
	}
	return d
}

// DefaultRetryLimit keeps worst-case load at 4x per hop (1 try + 3 retries).
const DefaultRetryLimit = 3

// Default returns the configuration used when no file is given.
func Default() *Config {
	return &Config{
		RootNamespace:      "istio-system",
		ExcludedNamespaces: slices.Clone(DefaultExcludedNamespaces),
		ClusterDomain:      "cluster.local",
		TrustDomain:        "cluster.local",
		RetryLimit:         DefaultRetryLimit,
		Limits:             DefaultLimits,
	}
}

var ruleID = regexp.MustCompile(`^MG[0-9]{3}$`)

// Load reads a configuration file over the defaults. Unknown keys are errors,
// so a typo never silently disables a setting.
func Load(path string) (*Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.LoadAnchors(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// LoadAnchors parses the FleetTrustAnchors file into Anchors.
func (c *Config) LoadAnchors() error {
	if c.FleetTrustAnchors == "" {
		c.Anchors = nil
		return nil
	}
	pemData, err := os.ReadFile(c.FleetTrustAnchors)
	if err != nil {
		return fmt.Errorf("fleetTrustAnchors: %w", err)
	}
	if c.Anchors, err = trust.ParseBundle(pemData); err != nil {
		return fmt.Errorf("fleetTrustAnchors %s: %w", c.FleetTrustAnchors, err)
	}
	return nil
}

// Validate checks values that the schema alone cannot, as of now.
func (c *Config) Validate() error { return c.ValidateAt(time.Now()) }

// ValidateAt checks values that the schema alone cannot, as of now (the
// expiry of exceptions is bounded from it).
func (c *Config) ValidateAt(now time.Time) error {
	if c.RootNamespace == "" {
		return fmt.Errorf("rootNamespace: must not be empty")
	}
	switch c.OutboundTrafficPolicy {
	case "", "ALLOW_ANY", "REGISTRY_ONLY":
	default:
		return fmt.Errorf("outboundTrafficPolicy: %q is neither ALLOW_ANY nor REGISTRY_ONLY (the mesh config's outboundTrafficPolicy.mode), nor empty", c.OutboundTrafficPolicy)
	}
	if c.RetryLimit < 0 {
		return fmt.Errorf("retryLimit: %d is negative", c.RetryLimit)
	}
	l := c.Limits
	for name, v := range map[string]int64{"requestBytes": l.RequestBytes, "memoryBytes": l.MemoryBytes, "inFlight": int64(l.InFlight), "queue": int64(l.Queue),
		"routes": int64(l.Routes), "hosts": int64(l.Hosts), "subsets": int64(l.Subsets), "cost": int64(l.Cost)} {
		if v < 0 {
			return fmt.Errorf("limits.%s: %d is negative", name, v)
		}
	}
	c.Limits = l.WithDefaults()
	if c.Limits.MemoryBytes < c.Limits.RequestBytes {
		return fmt.Errorf("limits.memoryBytes: %d is below limits.requestBytes (%d): a body that size could never be judged",
			c.Limits.MemoryBytes, c.Limits.RequestBytes)
	}
	for id, e := range c.Rules {
		if !ruleID.MatchString(id) {
			return fmt.Errorf("rules.%s: not a rule ID (want MG and three digits)", id)
		}
		switch e {
		case EnforceDeny, EnforceWarn, EnforceOff:
		default:
			return fmt.Errorf("rules.%s: %q is not deny, warn or off", id, e)
		}
	}
	return c.validateExceptions(now)
}

// Excluded reports whether ns is outside meshguard's view.
func (c *Config) Excluded(ns string) bool {
	return slices.Contains(c.ExcludedNamespaces, ns)
}
