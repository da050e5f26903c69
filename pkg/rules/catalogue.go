package rules

// Entry describes one rule of the catalogue.
type Entry struct {
	ID          string
	Kind        string
	Title       string
	Default     Action
	Description string
	Fix         string
	// Retired rules keep their row so that IDs are never reused.
	Retired bool
}

// Catalogue lists every rule ID ever assigned. It backs `meshguard rules`,
// the README table and the meta-tests that keep rules and docs in step.
var Catalogue = []Entry{
	{
		ID: "MG101", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "STRICT without sidecar coverage",
		Description: "Mesh-wide STRICT while a governed namespace has server pods outside the mesh, or namespace-wide STRICT over a namespace whose meshed servers sit beside unmeshed ones: plaintext callers lose access.",
		Fix:         "Keep PERMISSIVE until the listed pods are injected or enrolled in ambient, or give their namespaces a PERMISSIVE policy.",
	},
	{
		ID: "MG102", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "STRICT newly enforced beside plaintext callers",
		Description: "STRICT starts to be enforced while pods outside the mesh elsewhere (other namespaces, a workload policy's neighbours) may call the workloads in plaintext.",
		Fix:         "Inject or enroll the calling pods, or confirm they never call the STRICT workloads.",
	},
	{
		ID: "MG103", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "portLevelMtls key is not a workload port",
		Description: "A portLevelMtls key is no container (target) port of the selected pods; Service ports do not count.",
		Fix:         "Key portLevelMtls by the container port the Service targets.",
	},
	{
		ID: "MG104", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "Workload selector matches no pod",
		Description: "The policy's selector selects no pod in its namespace, so it applies to nothing.",
		Fix:         "Check the selector labels against the pods' labels.",
	},
	{
		ID: "MG105", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "Conflicting policies at one level",
		Description: "A second namespace-wide (or mesh-wide) policy in one namespace, or a second policy selecting the same workloads: Istio silently keeps only the oldest.",
		Fix:         "Edit the existing policy instead of adding another.",
	},
	{
		ID: "MG106", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "mTLS weakened",
		Description: "Mesh- or namespace-wide DISABLE, STRICT lowered to PERMISSIVE or DISABLE (including deleting a STRICT policy), or DISABLE on ambient workloads.",
		Fix:         "Prefer PERMISSIVE during migrations and scope any exception to the workloads that need it.",
	},
	{
		ID: "MG107", Kind: KindPeerAuthentication, Default: Deny,
		Title:       "Workload selector in the root namespace",
		Description: "Istio ignores PeerAuthentications with a selector in the root namespace.",
		Fix:         "Move the policy to the workloads' namespace, or drop the selector to make it mesh-wide.",
	},
	{
		ID: "MG108", Kind: KindPeerAuthentication, Default: Warn,
		Title:       "STRICT over a namespace not labelled for injection",
		Description: "STRICT applies to a namespace without istio-injection, istio.io/rev or ambient labels: pods created later get no proxy.",
		Fix:         "Label the namespace for injection (istio-injection=enabled) or ambient.",
	},
}

// Lookup returns the catalogue entry for id.
func Lookup(id string) (Entry, bool) {
	for _, e := range Catalogue {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}
