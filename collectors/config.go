package collectors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/mapping"
)

// Config is the collectors' configuration: defaults and sources. It is
// read from a YAML file (JSON is accepted too, being YAML) by LoadConfig,
// or built in code.
type Config struct {
	// Timeout bounds one run of a source; default 5m.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// RetryBackoff is how long a source rests after a failed run before
	// it is polled again; the pause doubles with every further failure,
	// up to MaxBackoff. Defaults 5s and 5m.
	RetryBackoff time.Duration `yaml:"retry_backoff,omitempty"`
	MaxBackoff   time.Duration `yaml:"max_backoff,omitempty"`
	// Sources are the configured sources.
	Sources []Source `yaml:"sources"`

	// Location is the business time zone, in which zone-less times are
	// read; default Asia/Shanghai.
	Location *time.Location `yaml:"-"`
	// Now is the clock; default time.Now.
	Now func() time.Time `yaml:"-"`
}

// Source is one configured source.
type Source struct {
	// Name identifies the source in health, metrics, logs and the journal
	// (letters, digits, '.', '_', '-').
	Name string `yaml:"name"`
	// Type names the connector type ("httppull", "filedrop", "push").
	Type string `yaml:"type"`
	// Schedule is a cron expression with seconds ("*/30 * * * * *") or a
	// descriptor ("@every 1m"). Push sources have none.
	Schedule string `yaml:"schedule,omitempty"`
	// Timeout, RetryBackoff and MaxBackoff override Config's.
	Timeout      time.Duration `yaml:"timeout,omitempty"`
	RetryBackoff time.Duration `yaml:"retry_backoff,omitempty"`
	MaxBackoff   time.Duration `yaml:"max_backoff,omitempty"`
	// Mapping maps the source's fields to the canonical records; or
	// MappingFile names a mapping file (relative to the config file).
	Mapping     mapping.Config `yaml:"mapping,omitempty"`
	MappingFile string         `yaml:"mapping_file,omitempty"`
	// Options are the connector's own options, written in the config file
	// as a block named after the type (httppull: {...}).
	Options any `yaml:"-"`
	// Connector is built from Options by LoadConfig, or set in code.
	Connector Connector `yaml:"-"`

	compiled *mapping.Mapping
}

// MarshalYAML writes the source as it is configured, with its options
// block under the type's name. Secrets print as <secret>.
func (s Source) MarshalYAML() (any, error) {
	type plain Source // without this method
	var n yaml.Node
	if err := n.Encode(plain(s)); err != nil {
		return nil, err
	}
	if s.Options != nil && s.Type != "" {
		var o yaml.Node
		if err := o.Encode(s.Options); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.Type}, &o)
	}
	return &n, nil
}

// String renders the configuration as YAML with secrets hidden, for logs
// and the admin API.
func (c Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("<config: %v>", err)
	}
	return string(b)
}

// Secret is a configuration string that must not be shown: it prints,
// logs and marshals as <secret>. Convert it with string(s) where the value
// is needed.
type Secret string

const hidden = "<secret>"

// String hides the secret.
func (s Secret) String() string { return hidden }

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return hidden }

// LogValue hides the secret from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(hidden) }

// MarshalYAML hides the secret; an empty secret stays empty.
func (s Secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return hidden, nil
}

// MarshalJSON hides the secret; an empty secret stays empty.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte(`""`), nil
	}
	return []byte(`"` + hidden + `"`), nil
}

// scheduleParser reads cron expressions with a leading seconds field, as
// cron.WithSeconds does, and descriptors such as @every 30s.
var scheduleParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// LoadConfig reads a collectors configuration file, builds every source's
// connector with types, and compiles its mapping. Decoding is strict:
// unknown keys are errors. Every error names the file, and the source and
// key concerned.
func LoadConfig(path string, types Types) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("collectors config: %w", err)
	}
	return ParseConfig(b, path, types)
}

// ParseConfig is LoadConfig for a document already read; name is the file
// name used in errors, and relative paths are resolved against its
// directory.
func ParseConfig(data []byte, name string, types Types) (Config, error) {
	var cfg Config
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("%s: empty configuration", name)
		}
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	var errs []string
	blocks := map[*yaml.Node]*yaml.Node{} // source node -> its options block
	sourceType := reflect.TypeFor[Source]()
	checkKeys(&doc, reflect.TypeFor[Config](), "", &errs, func(t reflect.Type, n *yaml.Node, path string) bool {
		if t != sourceType || n.Kind != yaml.MappingNode {
			return false
		}
		typ := scalarValue(n, "type")
		allowed := yamlKeys(sourceType)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case k.Value == typ && typ != "":
				blocks[n] = v
			case !allowed[k.Value] && k.Value != "<<":
				if _, isType := types[k.Value]; isType {
					errs = append(errs, fmt.Sprintf("line %d: %s: block %q does not match the source's type %q", k.Line, path, k.Value, typ))
				} else {
					errs = append(errs, fmt.Sprintf("line %d: %s: unknown key %q (known: %s, and a block named after the type)", k.Line, path, k.Value, keyList(allowed)))
				}
			default:
				if f, ok := fieldByKey(sourceType, k.Value); ok {
					checkKeys(v, f.Type, path+"."+k.Value, &errs, nil)
				}
			}
		}
		return true
	})
	if len(errs) > 0 {
		return cfg, configErr(name, errs)
	}
	if err := doc.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	var srcNodes []*yaml.Node
	if root := docRoot(&doc); root != nil {
		if s := mapValue(root, "sources"); s != nil && s.Kind == yaml.SequenceNode {
			srcNodes = s.Content
		}
	}
	dir := filepath.Dir(name)
	seen := map[string]bool{}
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		where := fmt.Sprintf("sources[%d]", i)
		line := 0
		if i < len(srcNodes) {
			line = srcNodes[i].Line
		}
		if s.Name != "" {
			where += fmt.Sprintf(" (%s)", s.Name)
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Sprintf("line %d: %s: %s", line, where, fmt.Sprintf(format, args...)))
		}
		if !journal.ValidName(s.Name) {
			fail("name %q: want letters, digits, '.', '_' or '-'", s.Name)
		} else if seen[s.Name] {
			fail("name %q is used twice", s.Name)
		}
		seen[s.Name] = true
		typ, ok := types[s.Type]
		if !ok {
			fail("unknown type %q (known: %s)", s.Type, typeList(types))
			continue
		}
		opts := typ.newOptions()
		if i < len(srcNodes) {
			if block := blocks[srcNodes[i]]; block != nil {
				var kerrs []string
				checkKeys(block, reflect.TypeOf(opts), where+"."+s.Type, &kerrs, nil)
				errs = append(errs, kerrs...)
				if len(kerrs) > 0 {
					continue
				}
				if err := block.Decode(opts); err != nil {
					fail("%s: %v", s.Type, err)
					continue
				}
			}
		}
		s.Options = opts
		if s.MappingFile != "" {
			if len(s.Mapping) > 0 {
				fail("give mapping or mapping_file, not both")
				continue
			}
			path := s.MappingFile
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			m, mc, err := mapping.LoadFile(path)
			if err != nil {
				fail("mapping_file: %v", err)
				continue
			}
			s.Mapping, s.compiled = mc, m
		} else {
			m, err := mapping.Compile(s.Mapping)
			if err != nil {
				fail("mapping: %s", indent(err))
				continue
			}
			s.compiled = m
		}
		env := Env{Name: s.Name, Dir: dir, Logger: slog.Default().With("source", s.Name), Getenv: os.Getenv}
		conn, err := typ.build(opts, env)
		if err != nil {
			fail("%s: %v", s.Type, err)
			continue
		}
		s.Connector = conn
		if err := checkSchedule(s); err != nil {
			fail("%v", err)
		}
	}
	if len(errs) > 0 {
		return cfg, configErr(name, errs)
	}
	return cfg, nil
}

func checkSchedule(s *Source) error {
	if _, passive := s.Connector.(Receiver); passive {
		if s.Schedule != "" {
			return fmt.Errorf("schedule: a %s source receives records and is not polled; remove the schedule", s.Type)
		}
		return nil
	}
	if s.Schedule == "" {
		return errors.New("schedule: required (cron with seconds, e.g. \"*/30 * * * * *\", or \"@every 30s\")")
	}
	if _, err := scheduleParser.Parse(s.Schedule); err != nil {
		return fmt.Errorf("schedule %q: %v", s.Schedule, err)
	}
	return nil
}

func configErr(name string, errs []string) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s: %s", name, e)
	}
	return errors.Join(out...)
}

func indent(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// checkKeys reports every mapping key in n that the Go type t does not
// decode: yaml.v3's strict mode covers only a whole document, and a
// source's options block is decoded separately into a type chosen by the
// source's "type". special may take over a node (returning true).
func checkKeys(n *yaml.Node, t reflect.Type, path string, errs *[]string, special func(reflect.Type, *yaml.Node, string) bool) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			checkKeys(c, t, path, errs, special)
		}
		return
	case yaml.AliasNode:
		checkKeys(n.Alias, t, path, errs, special)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if special != nil && special(t, n, path) {
		return
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || t == reflect.TypeFor[time.Time]() {
			return
		}
		known := yamlKeys(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				checkKeys(v, t, path, errs, special)
				continue
			}
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				where := path
				if where == "" {
					where = "top level"
				}
				*errs = append(*errs, fmt.Sprintf("line %d: %s: unknown key %q (known: %s)", k.Line, where, k.Value, keyList(known)))
				continue
			}
			checkKeys(v, f.Type, join(k.Value), errs, special)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkKeys(n.Content[i+1], t.Elem(), join(n.Content[i].Value), errs, special)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs, special)
		}
	}
}

// yamlKeys returns the keys a struct type decodes.
func yamlKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline, skip := yamlName(f)
		if skip {
			continue
		}
		if inline && f.Type.Kind() == reflect.Struct {
			for k := range yamlKeys(f.Type) {
				keys[k] = true
			}
			continue
		}
		keys[name] = true
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline, skip := yamlName(f)
		if skip {
			continue
		}
		if inline && f.Type.Kind() == reflect.Struct {
			if g, ok := fieldByKey(f.Type, key); ok {
				return g, true
			}
			continue
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) (name string, inline, skip bool) {
	if !f.IsExported() {
		return "", false, true
	}
	tag := f.Tag.Get("yaml")
	if tag == "-" {
		return "", false, true
	}
	parts := strings.Split(tag, ",")
	name = parts[0]
	for _, p := range parts[1:] {
		if p == "inline" {
			inline = true
		}
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline, false
}

func keyList(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func typeList(types Types) string {
	m := map[string]bool{}
	for k := range types {
		m[k] = true
	}
	return keyList(m)
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarValue(n *yaml.Node, key string) string {
	if v := mapValue(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
