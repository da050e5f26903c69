package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/pkg/rules"
)

type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string `json:"id"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Level     string `json:"level"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					FullyQualifiedName string `json:"fullyQualifiedName"`
				} `json:"logicalLocations"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

func TestCheckSARIFPointsAtTheLine(t *testing.T) {
	code, stdout, stderr := runCheckArgs(t, "-f", fixtures+"mesh-strict.yaml", "--state", clusterState, "-o", "sarif")
	var doc sarifDoc
	if code != 1 || json.Unmarshal([]byte(stdout), &doc) != nil {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 || len(doc.Runs[0].Tool.Driver.Rules) != len(rules.Catalogue) {
		t.Fatalf("want one run carrying the whole catalogue: %+v", doc)
	}
	if r := doc.Runs[0].Tool.Driver.Rules[0]; r.ID != "MG101" || r.DefaultConfiguration.Level != "error" {
		t.Errorf("first rule %+v", r)
	}
	var found bool
	for _, res := range doc.Runs[0].Results {
		if res.RuleID != "MG101" {
			continue
		}
		found = true
		loc := res.Locations[0].PhysicalLocation
		if res.Level != "error" || loc == nil || loc.ArtifactLocation.URI != "../../test/fixtures/check/mesh-strict.yaml" || loc.Region.StartLine != 3 {
			t.Errorf("MG101 result %+v", res)
		}
	}
	if !found {
		t.Error("no MG101 result")
	}
}

func TestAuditJudgesTheMeshAsItStands(t *testing.T) {
	dir := t.TempDir()
	// The canary was fine when admitted; v2's pods have since stopped being Ready.
	canary := filepath.Join(dir, "canary.yaml")
	_ = os.WriteFile(canary, []byte(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 90}, {destination: {host: reviews, subset: v2}, weight: 10}]}]}
`), 0o600)
	audit := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		return runAudit(args, &out, &errOut), out.String(), errOut.String()
	}
	code, out, errOut := audit("--state", routingState, "--state", canary, "-o", "json")
	var rep struct {
		Findings []map[string]any `json:"findings"`
		Denied   bool             `json:"denied"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Denied {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var mg302 map[string]any
	for _, f := range rep.Findings {
		if f["rule"] == "MG302" {
			mg302 = f
		}
		if f["rule"] == "MG106" || f["rule"] == "MG204" {
			t.Errorf("a transition rule judged an object as it stands: %v", f)
		}
	}
	if mg302 == nil || mg302["operation"] != "AUDIT" || mg302["name"] != "reviews" || mg302["action"] != "deny" {
		t.Errorf("want MG302 on shop/reviews as AUDIT: %v", rep.Findings)
	}
	if code, out, _ := audit("--state", routingState, "--state", canary, "-n", "legacy"); code != 0 || strings.Contains(out, "MG302") {
		t.Errorf("-n legacy must leave shop out: exit %d\n%s", code, out)
	}
	code, out, _ = audit("--state", routingState, "--state", canary, "-o", "sarif")
	var doc sarifDoc
	if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Runs[0].Results) == 0 {
		t.Fatalf("sarif: exit %d\n%s", code, out)
	}
	for _, res := range doc.Runs[0].Results {
		if res.Locations[0].PhysicalLocation != nil || len(res.Locations[0].LogicalLocations) != 1 ||
			len(strings.Split(res.Locations[0].LogicalLocations[0].FullyQualifiedName, "/")) != 3 {
			t.Errorf("audit results carry a logical location Kind/namespace/name: %+v", res.Locations)
		}
	}
	if code, _, errOut := audit("--state", routingState, "-o", "yaml"); code != 2 || !strings.Contains(errOut, "-o") {
		t.Errorf("bad -o: exit %d %s", code, errOut)
	}
}
