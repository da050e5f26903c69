package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchema compiles the OASIS SARIF 2.1.0 schema vendored under testdata
// (errata 01, the version GitHub code scanning validates uploads against).
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	schema := sarifSchema(t)
	cwd, _ := os.Getwd()
	cases := map[string]Report{
		"no findings": {Findings: []Finding{}},
		"check findings with files": {Denied: true, Findings: []Finding{
			{Rule: "MG201", Action: "deny", Operation: "CREATE", Kind: "VirtualService", Namespace: "shop", Name: "reviews",
				Field: "spec.http[0].route[1].destination.subset", Message: `subset "v3" is not defined`,
				File: filepath.Join(cwd, "manifests", "reviews.yaml"), Line: 14},
			{Rule: "MG102", Action: "warn", Operation: "CREATE", Kind: "PeerAuthentication", Namespace: "istio-system", Name: "default",
				Field: "spec.mtls.mode", Message: "pre-existing callers", Preexisting: true, File: "relative/pa.yaml"},
		}},
		"audit findings without files": {Denied: true, Findings: []Finding{
			{Rule: "MG302", Action: "deny", Operation: "AUDIT", Kind: "VirtualService", Namespace: "shop", Name: "reviews",
				Field: "spec.http[0].route[1]", Message: "subset v2 has no ready pod"},
		}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Write(&out, SARIF, r); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Fatalf("SARIF output does not validate:\n%v\n%s", err, out.String())
			}
		})
	}
}

// Code scanning places a result by its artifact URI, relative to the
// repository checkout, and its start line.
func TestSARIFLocations(t *testing.T) {
	cwd, _ := os.Getwd()
	r := Report{Findings: []Finding{
		{Rule: "MG201", Action: "deny", Kind: "VirtualService", Namespace: "shop", Name: "reviews", Field: "f", Message: "m",
			File: filepath.Join(cwd, "manifests", "reviews.yaml"), Line: 14},
		{Rule: "MG302", Action: "warn", Kind: "VirtualService", Namespace: "shop", Name: "ratings", Field: "f", Message: "m"},
	}}
	var out bytes.Buffer
	if err := Write(&out, SARIF, r); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					Physical *struct {
						Artifact struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					Logical []struct {
						Name string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != 2 {
		t.Fatalf("want 2 results, got %d", len(res))
	}
	if p := res[0].Locations[0].Physical; p == nil || p.Artifact.URI != "manifests/reviews.yaml" || p.Region.StartLine != 14 || res[0].Level != "error" {
		t.Errorf("file finding: want manifests/reviews.yaml:14 at level error, got %+v (%s)", p, res[0].Level)
	}
	if l := res[1].Locations[0].Logical; len(l) != 1 || l[0].Name != "VirtualService/shop/ratings" || res[1].Level != "warning" {
		t.Errorf("audit finding: want logical location VirtualService/shop/ratings at level warning, got %+v (%s)", l, res[1].Level)
	}
}
