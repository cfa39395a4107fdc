package collectors_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// fuzzOptions is the options block of the fuzz connector type: a few
// kinds of value, nested.
type fuzzOptions struct {
	URL     string            `yaml:"url"`
	Size    int               `yaml:"size"`
	Every   time.Duration     `yaml:"every"`
	Headers map[string]string `yaml:"headers"`
	Tables  []struct {
		Name string `yaml:"name"`
	} `yaml:"tables"`
}

type fuzzConn struct{}

func (fuzzConn) Collect(context.Context, string, collectors.Accumulator) (string, error) {
	return "", nil
}

// FuzzParseConfig: no document makes ParseConfig panic, and every line of
// an error names the file. The connector type is a stand-in, so that
// fuzzing creates no directories and opens no ports.
func FuzzParseConfig(f *testing.F) {
	f.Add("sources:\n  - {name: a, type: t, schedule: '@every 1s', t: {url: x, size: 2, tables: [{name: n}]}}\n")
	f.Add("timeout: 2m\nsources:\n  - &s {name: a, type: t, schedule: '@every 1s'}\n  - *s\n")
	f.Add("sources:\n  - name: a\n    type: t\n    schedule: '* * * * * *'\n    mapping: {cases: {columns: {x: case_id}, values: {channel: {网办: online}}}}\n")
	f.Add("sources:\n  - <<: {name: a, type: t}\n    t: {size: many}\n    u: {}\n")
	f.Add("sources: [{name: a, type: t, mapping_file: m.yaml, mapping: {calls: {}}}]\n")
	f.Add("{\"sources\": [{\"name\": \"j\", \"type\": \"t\", \"schedule\": \"@every 5s\"}]}")
	types := collectors.Types{
		"t": collectors.NewType(func() *fuzzOptions { return &fuzzOptions{Size: 1} }, func(o *fuzzOptions, _ collectors.Env) (collectors.Connector, error) {
			if o.Size < 0 {
				return nil, errors.New("size: negative")
			}
			return fuzzConn{}, nil
		}),
		"u": collectors.NewType(func() *struct{} { return &struct{}{} }, func(*struct{}, collectors.Env) (collectors.Connector, error) {
			return fuzzConn{}, nil
		}),
	}
	name := filepath.Join(f.TempDir(), "c.yaml")
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := collectors.ParseConfig([]byte(doc), name, types)
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			// A mapping file names itself; every file here is an absolute path.
			if !strings.HasPrefix(line, name) && !strings.HasPrefix(line, "/") {
				t.Fatalf("error line %q does not name the file", line)
			}
		}
	})
}
