package pathview_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/report"
)

// TestCheckMarkdown compares `check -o markdown` (the pull-request comment)
// with its golden files, and checks each mermaid block in it as
// TestMermaid does.
func TestCheckMarkdown(t *testing.T) {
	for _, c := range []struct {
		name   string
		files  []string
		denied bool
	}{
		{name: "check-subset-removed", files: []string{fixtures + "drop-v2.yaml"}, denied: true},
		{name: "check-plaintext-into-strict", files: []string{fixtures + "plaintext-into-strict.yaml"}, denied: true},
		{name: "check-canary-50", files: []string{fixtures + "canary-50.yaml"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := check.Run(context.Background(), check.Options{
				Files: c.files, State: []string{fixtures + "state.yaml"}, Output: report.Markdown, Config: config.Default(),
				Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
			}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if (code == check.ExitDenied) != c.denied {
				t.Errorf("exit code %d, denied: %v", code, c.denied)
			}
			got := out.String()
			blocks := strings.Split(got, "```mermaid\n")
			if c.denied != (len(blocks) > 1) {
				t.Errorf("%d mermaid blocks, denied: %v", len(blocks)-1, c.denied)
			}
			for _, b := range blocks[1:] {
				checkMermaid(t, b[:strings.Index(b, "```")], true)
			}
			compareGolden(t, c.name+".md", got)
		})
	}
}
