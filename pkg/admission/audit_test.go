package admission_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/meshguard/meshguard/pkg/config"
)

func TestAuditAnnotations(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	expires := time.Now().AddDate(0, 0, 30).UTC().Format("2006-01-02")
	exception := "exceptions:\n- {name: legacy-migration, rules: [MG101], namespaces: [legacy], reason: reporting moves in Q3, expires: \"" + expires + "\"}\n"
	if err := os.WriteFile(file, []byte(exception), 0o600); err != nil {
		t.Fatal(err)
	}
	excepted, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	warnOnly := config.Default()
	warnOnly.Enforcement = config.ModeWarn
	glass := config.Default()
	glass.BreakGlassGroups = []string{"sre-oncall"}
	cases := []struct {
		name    string
		cfg     *config.Config
		groups  []string
		allowed bool
		want    map[string]string
	}{
		{name: "a denied write records its verdict, rules and broken paths", cfg: config.Default(),
			want: map[string]string{"verdict": "denied", "rules": "MG101,MG108", "broken-paths": "0"}},
		{name: "warn-only mode records what would have been denied", cfg: warnOnly, allowed: true,
			want: map[string]string{"verdict": "would-deny", "rules": "MG101,MG108", "broken-paths": "0"}},
		{name: "an exception records its name", cfg: excepted, allowed: true,
			want: map[string]string{"verdict": "excepted", "rules": "MG101,MG108", "broken-paths": "0", "exception": "legacy-migration"}},
		{name: "break-glass records the group", cfg: glass, groups: []string{"sre-oncall"}, allowed: true,
			want: map[string]string{"verdict": "break-glass", "break-glass-group": "sre-oncall"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := request(admissionv1.Create, "PeerAuthentication", "security.istio.io", "legacy", strictLegacy)
			req.UserInfo.Groups = c.groups
			resp := newHandler(c.cfg).Handle(context.Background(), req)
			if resp.Allowed != c.allowed {
				t.Fatalf("allowed %v, want %v: %v", resp.Allowed, c.allowed, resp.Result)
			}
			if !reflect.DeepEqual(resp.AuditAnnotations, c.want) {
				t.Errorf("audit annotations %v, want %v", resp.AuditAnnotations, c.want)
			}
		})
	}
}
