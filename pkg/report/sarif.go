package report

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/meshguard/meshguard/pkg/rules"
)

// SARIF 2.1.0, the subset code scanning reads: one run, the catalogue as the
// driver's rules, one result per finding with a physical location (file
// relative to the working directory, start line) or, for objects that came
// from no file, a logical location Kind/namespace/name.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string      `json:"id"`
	Name                 string      `json:"name"`
	ShortDescription     sarifText   `json:"shortDescription"`
	FullDescription      sarifText   `json:"fullDescription"`
	Help                 sarifText   `json:"help"`
	DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	// Suppressions record a configured exception (SARIF's "external"
	// suppression: decided outside the scanned files).
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func level(action string) string {
	if action == string(rules.Deny) {
		return "error"
	}
	return "warning"
}

func writeSARIF(w io.Writer, r Report) error {
	driver := sarifDriver{Name: "meshguard", InformationURI: "https://github.com/meshguard/meshguard"}
	for _, e := range rules.Catalogue {
		name := e.Title
		if e.Retired {
			name += " (retired)"
		}
		driver.Rules = append(driver.Rules, sarifRule{ID: e.ID, Name: name, ShortDescription: sarifText{e.Title},
			FullDescription: sarifText{e.Description}, Help: sarifText{e.Fix}, DefaultConfiguration: sarifConfig{level(string(e.Default))}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	cwd, _ := os.Getwd()
	for _, f := range r.Findings {
		msg := f.Field + ": " + f.Message
		if f.Preexisting {
			msg = f.Field + ": pre-existing: " + f.Message
		}
		res := sarifResult{RuleID: f.Rule, Level: level(f.Action), Message: sarifText{msg}}
		if f.Exception != "" {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: "meshguard exception " + f.Exception}}
		}
		if f.File != "" {
			uri := f.File
			if rel, err := filepath.Rel(cwd, f.File); err == nil && filepath.IsAbs(f.File) {
				uri = rel
			}
			res.Locations = []sarifLocation{{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(uri)},
				Region: sarifRegion{StartLine: max(f.Line, 1)}}}}
		} else {
			res.Locations = []sarifLocation{{LogicalLocations: []sarifLogical{{FullyQualifiedName: f.Kind + "/" + f.Namespace + "/" + f.Name, Kind: "resource"}}}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
