package admission

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
)

// A warning is one line of at most maxWarningLen runes, cut with "…" only
// when longer, whatever bytes its runes take.
func TestWarningLineCutsAtTheLimitInRunes(t *testing.T) {
	for _, c := range []struct {
		name, msg   string
		preexisting bool
		cut         bool
	}{
		{"a short message is kept", "fine", false, false},
		{"a message of exactly the limit is kept", strings.Repeat("é", maxWarningLen-len("[MG701] ")), false, false},
		{"one rune more is cut", strings.Repeat("é", maxWarningLen-len("[MG701] ")+1), false, true},
		{"a pre-existing one counts its prefix", strings.Repeat("a", maxWarningLen-len("[MG701] pre-existing: ")+1), true, true},
		{"newlines become spaces", "two\nlines", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := WarningLine(engine.Result{Finding: rules.Finding{Rule: "MG701", Message: c.msg}, Preexisting: c.preexisting})
			if n := utf8.RuneCountInString(got); n > maxWarningLen || strings.ContainsAny(got, "\n\r\t") || !strings.HasPrefix(got, "[MG701] ") {
				t.Fatalf("WarningLine = %q (%d runes)", got, n)
			}
			if strings.HasSuffix(got, "…") != c.cut {
				t.Errorf("WarningLine = %q, cut %v, want %v", got, !c.cut, c.cut)
			}
			if c.cut && utf8.RuneCountInString(got) != maxWarningLen {
				t.Errorf("a cut line has %d runes, want %d", utf8.RuneCountInString(got), maxWarningLen)
			}
		})
	}
}
