package mapping

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/yamlconf"
)

// LoadFile reads and compiles a mapping file (see Parse).
func LoadFile(path string) (*Mapping, Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and compiles a mapping document: YAML (or JSON) whose
// top-level keys are record kinds, as in Config. It is strict: a key that
// is not part of the format is an error rather than silently ignored,
// since a misspelt key would otherwise leave a field unmapped. Every
// problem is a *yamlconf.Error "file:line: path: reason" naming name. An
// empty document is the identity mapping.
func Parse(name string, data []byte) (*Mapping, Config, error) {
	r := yamlconf.NewReader(name)
	m, cfg, _ := Read(r, r.Document(data), "")
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	return m, cfg, nil
}

// Read decodes and compiles the mapping at node n of a file r is reading
// (a mapping file's root, or the mapping block of a larger file), and
// records every problem on r with its line and its path under path. ok
// is false when there was a problem. A nil n is the identity mapping.
func Read(r *yamlconf.Reader, n *yaml.Node, path string) (m *Mapping, cfg Config, ok bool) {
	if !r.Decode(n, path, &cfg, nil) {
		return nil, nil, false
	}
	m, probs := compile(cfg)
	for _, p := range probs {
		// A problem is found in the decoded Config; its keys lead back to
		// the line (or, past a merge key, to the nearest one found).
		f, _ := yamlconf.Find(n, p.keys...)
		node := f.Key
		if node == nil {
			node = n
		}
		r.Errorf(node, yamlconf.JoinPath(path, p.path), "%s", p.msg)
	}
	return m, cfg, len(probs) == 0
}
