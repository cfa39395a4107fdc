package collectors

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/mapping"
	"github.com/yiping-ioc/yiping/yamlconf"
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
// unknown keys are errors. Every error reads "file:line: path: reason"
// (sources[1].httppull.page_size), with a did-you-mean for a misspelt key.
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
	c := &configReader{Reader: yamlconf.NewReader(name), types: types}
	root := c.Document(data)
	if root == nil {
		if c.Len() == 0 {
			c.Errorf(nil, "", "empty configuration")
		}
		return cfg, c.Err()
	}
	if !c.Decode(root, "", &cfg, c.checkSource) {
		return cfg, c.Err()
	}
	list, _ := yamlconf.Find(root, "sources")
	seen := map[string]int{} // name -> line of its first use
	for i := range cfg.Sources {
		var n *yaml.Node
		if list.Val != nil && i < len(list.Val.Content) {
			n = yamlconf.Deref(list.Val.Content[i])
		}
		c.source(&cfg.Sources[i], n, yamlconf.Index("sources", i), filepath.Dir(name), seen)
	}
	return cfg, c.Err()
}

// configReader reads one collectors configuration file.
type configReader struct {
	*yamlconf.Reader
	types Types
}

var sourceType = reflect.TypeFor[Source]()

// checkSource checks a source's keys (a yamlconf.Special): its own fields,
// and the options block named after its type, against that connector's
// options type.
func (c *configReader) checkSource(t reflect.Type, n *yaml.Node, path string) bool {
	if t != sourceType || n.Kind != yaml.MappingNode {
		return false
	}
	typ := ""
	if f, ok := yamlconf.Find(n, "type"); ok && f.Val != nil && f.Val.Kind == yaml.ScalarNode {
		typ = f.Val.Value
	}
	known := yamlconf.StructKeys(sourceType)
	_, typeKnown := c.types[typ]
	if typeKnown {
		known = append(known, typ) // for a did-you-mean on its block
	}
	own := &yaml.Node{Kind: yaml.MappingNode} // the keys of Source itself
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		_, isType := c.types[k.Value]
		switch {
		case k.Value == typ && typeKnown:
			opts := c.types[typ].newOptions()
			c.CheckKeys(v, reflect.TypeOf(opts), yamlconf.JoinPath(path, k.Value), nil)
		case k.Value == "<<" || slices.Contains(known, k.Value):
			own.Content = append(own.Content, k, v)
		case k.Value == typ:
			// An unknown type: the type itself is the error (see source).
		case isType:
			c.Errorf(k, yamlconf.JoinPath(path, k.Value), "block %q does not match the source's type %q", k.Value, typ)
		default:
			c.Errorf(k, yamlconf.JoinPath(path, k.Value), "%s", yamlconf.UnknownKey(k.Value, known))
		}
	}
	c.CheckKeys(own, sourceType, path, nil)
	return true
}

// source checks the decoded source s at node n (nil when built in code)
// and path, and builds its options, mapping and connector.
func (c *configReader) source(s *Source, n *yaml.Node, path, dir string, seen map[string]int) {
	// at is the node of one of the source's keys, or the source itself.
	at := func(key string) *yaml.Node {
		if f, ok := yamlconf.Find(n, key); ok {
			return f.Key
		}
		return n
	}
	switch first, dup := seen[s.Name]; {
	case !journal.ValidName(s.Name):
		c.Errorf(at("name"), yamlconf.JoinPath(path, "name"), "%q: want letters, digits, '.', '_' or '-', not starting with '.'", s.Name)
	case dup:
		c.Errorf(at("name"), yamlconf.JoinPath(path, "name"), "%q is used twice (first on line %d)", s.Name, first)
	default:
		if nn := at("name"); nn != nil {
			seen[s.Name] = nn.Line
		}
	}
	typ, ok := c.types[s.Type]
	if !ok {
		c.Errorf(at("type"), yamlconf.JoinPath(path, "type"), "unknown type %q%s", s.Type, yamlconf.Hint(s.Type, slices.Sorted(maps.Keys(c.types))))
		return
	}
	opts := typ.newOptions()
	optsPath := yamlconf.JoinPath(path, s.Type)
	block, _ := yamlconf.Find(n, s.Type)
	if !c.Decode(block.Val, optsPath, opts, nil) {
		return
	}
	s.Options = opts
	if !c.mapping(s, n, path, dir, at) {
		return
	}
	env := Env{Name: s.Name, Dir: dir, Logger: slog.Default().With("source", s.Name), Getenv: os.Getenv}
	conn, err := typ.build(opts, env)
	if err != nil {
		where := block.Key
		if where == nil {
			where = at("type")
		}
		c.AddError(where, optsPath, err)
		return
	}
	s.Connector = conn
	if err := checkSchedule(s); err != nil {
		c.Errorf(at("schedule"), yamlconf.JoinPath(path, "schedule"), "%v", err)
	}
}

// mapping compiles the source's mapping, given inline or in a file
// (relative to dir); it reports whether it did.
func (c *configReader) mapping(s *Source, n *yaml.Node, path, dir string, at func(string) *yaml.Node) bool {
	if s.MappingFile == "" {
		f, _ := yamlconf.Find(n, "mapping")
		m, mc, ok := mapping.Read(c.Reader, f.Val, yamlconf.JoinPath(path, "mapping"))
		if ok {
			s.Mapping, s.compiled = mc, m
		}
		return ok
	}
	filePath := yamlconf.JoinPath(path, "mapping_file")
	if len(s.Mapping) > 0 {
		c.Errorf(at("mapping_file"), filePath, "give mapping or mapping_file, not both")
		return false
	}
	file := s.MappingFile
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	m, mc, err := mapping.LoadFile(file)
	if err != nil {
		// The mapping file's own problems name that file and its lines.
		c.AddError(at("mapping_file"), filePath, err)
		return false
	}
	s.Mapping, s.compiled = mc, m
	return true
}

// checkSchedule says what is wrong with the source's schedule (the
// message names no key: the caller says where the schedule is).
func checkSchedule(s *Source) error {
	if _, passive := s.Connector.(Receiver); passive {
		if s.Schedule != "" {
			return fmt.Errorf("a %s source receives records and is not polled; remove the schedule", s.Type)
		}
		return nil
	}
	if s.Schedule == "" {
		return errors.New(`required (cron with seconds, e.g. "*/30 * * * * *", or "@every 30s")`)
	}
	if _, err := scheduleParser.Parse(s.Schedule); err != nil {
		return fmt.Errorf("%q: %w", s.Schedule, err)
	}
	return nil
}
