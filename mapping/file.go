package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// LoadFile reads and compiles a mapping file: a YAML (or JSON) document
// whose top-level keys are record kinds, as in Config. Unknown keys are
// errors, and every error names the file.
func LoadFile(path string) (*Mapping, Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping: %w", err)
	}
	cfg, err := Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := Compile(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, cfg, nil
}

// Decode reads a mapping document strictly: a key that is not part of the
// format is an error rather than silently ignored, since a misspelt key
// would otherwise leave a field unmapped.
func Decode(b []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return cfg, nil
}
