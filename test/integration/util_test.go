package integration

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// envInt reads a count a person measuring by hand may change.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
