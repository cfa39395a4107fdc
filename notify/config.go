package notify

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// The receiver types.
const (
	TypeWebhook  = "webhook"
	TypeDingTalk = "dingtalk"
	TypeWeCom    = "wecom"
	TypeEmail    = "email"
)

// ReceiverConfig is one entry of a receivers: list, as configured.
type ReceiverConfig struct {
	// Name identifies the receiver in rules and in the delivery log.
	Name string `yaml:"name"`
	// Type is webhook, dingtalk, wecom or email.
	Type string `yaml:"type"`
	// URL is where to deliver (a robot's webhook with its token, or
	// smtp[s]://host:port); or URLEnv names the environment variable that
	// holds it.
	URL    SecretURL `yaml:"url,omitempty"`
	URLEnv string    `yaml:"url_env,omitempty"`
	// Secret signs DingTalk requests, or is the SMTP password; or
	// SecretEnv names the environment variable that holds it.
	Secret    collectors.Secret `yaml:"secret,omitempty"`
	SecretEnv string            `yaml:"secret_env,omitempty"`
	// Headers are sent with every webhook request; they are secrets.
	Headers map[string]collectors.Secret `yaml:"headers,omitempty"`
	// PerMinute caps the messages a minute (the robots: at most 20, the
	// default; the others: no cap by default).
	PerMinute int `yaml:"per_minute,omitempty"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// MaxAttempts and MaxAge override the retry policy's.
	MaxAttempts int           `yaml:"max_attempts,omitempty"`
	MaxAge      time.Duration `yaml:"max_age,omitempty"`
	// E-mail: the login, the sender, the recipients, a CA file (PEM,
	// relative to the configuration file) for a private CA, and whether
	// the password may go without TLS to a loopback test server.
	Username     string   `yaml:"username,omitempty"`
	From         string   `yaml:"from,omitempty"`
	To           []string `yaml:"to,omitempty"`
	CAFile       string   `yaml:"ca_file,omitempty"`
	InsecureAuth bool     `yaml:"insecure_auth,omitempty"`

	rootCAs  *x509.CertPool
	from     *mail.Address
	to       []*mail.Address
	hasRetry bool
}

// SecretURL is a URL that may carry a credential (a robot's
// access_token or key): it prints, logs and marshals with its password
// and every query value redacted (collectors.RedactURL).
type SecretURL string

// String is the URL redacted.
func (u SecretURL) String() string { return collectors.RedactURL(string(u)) }

// GoString is the URL redacted, for %#v.
func (u SecretURL) GoString() string { return u.String() }

// LogValue is the URL redacted, for log/slog.
func (u SecretURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalYAML writes the URL redacted.
func (u SecretURL) MarshalYAML() (any, error) { return u.String(), nil }

// MarshalJSON writes the URL redacted.
func (u SecretURL) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }

// String renders the receiver as YAML with its secrets hidden.
func (c ReceiverConfig) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("<receiver %s: %v>", c.Name, err)
	}
	return string(b)
}

var (
	common  = []string{"name", "type", "url", "url_env", "per_minute", "timeout", "max_attempts", "max_age"}
	ownKeys = map[string][]string{
		TypeWebhook:  {"headers"},
		TypeDingTalk: {"secret", "secret_env"},
		TypeWeCom:    nil,
		TypeEmail:    {"secret", "secret_env", "username", "from", "to", "ca_file", "insecure_auth"},
	}
	types     = []string{TypeDingTalk, TypeEmail, TypeWeCom, TypeWebhook}
	validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// ReadReceivers reads a receivers: list at node n (path is its field
// path, "receivers" at a file's top level), records every problem on r
// ("file:line: receivers[1].secret: …", unknown keys with a did-you-mean)
// and returns the receivers that read well. A file that holds more (the
// special report rules) calls it for its receivers: section. A ca_file is
// read relative to r.File; url_env and secret_env are read from the
// environment now, so that an empty one is reported on its line.
func ReadReceivers(r *yamlconf.Reader, n *yaml.Node, path string) []ReceiverConfig {
	list, ok := r.Seq(n, path, "receivers", 0, 1000)
	if !ok {
		return nil
	}
	var out []ReceiverConfig
	first := map[string]int{} // name -> line
	for i, e := range list {
		p := yamlconf.Index(path, i)
		before := r.Len()
		c := readReceiver(r, e, p, filepath.Dir(r.File))
		if f, ok := yamlconf.Find(e, "name"); ok && c.Name != "" {
			if line, dup := first[c.Name]; dup {
				r.Errorf(f.Val, yamlconf.JoinPath(p, "name"), "%q is used twice (first on line %d)", c.Name, line)
			} else {
				first[c.Name] = f.Val.Line
			}
		}
		if r.Len() == before {
			out = append(out, c)
		}
	}
	return out
}

// readReceiver reads one entry.
func readReceiver(r *yamlconf.Reader, n *yaml.Node, path, dir string) ReceiverConfig {
	var c ReceiverConfig
	if !r.Mapping(n, path, "a receiver: a mapping with name, type and url") {
		return c
	}
	typ := ""
	if f, ok := yamlconf.Find(n, "type"); ok {
		typ, _ = r.OneOf(f.Val, yamlconf.JoinPath(path, "type"), types)
	} else {
		r.Errorf(n, yamlconf.JoinPath(path, "type"), "required: one of %s", strings.Join(types, ", "))
	}
	allowed := slices.Concat(common, ownKeys[typ])
	if typ == "" {
		// Unknown type: judge only the keys no type has.
		for _, k := range ownKeys {
			allowed = append(allowed, k...)
		}
	}
	notFor := func(key string) string {
		var owners []string
		for _, t := range types {
			if slices.Contains(ownKeys[t], key) {
				owners = append(owners, t)
			}
		}
		if len(owners) == 0 {
			return ""
		}
		return fmt.Sprintf("a %s receiver has no %s (only %s)", typ, key, strings.Join(owners, ", "))
	}
	f := r.Fields(n, path, allowed, notFor)
	at := func(key string) string { return yamlconf.JoinPath(path, key) }
	str := func(key string) string {
		if v, ok := f[key]; ok {
			s, _ := r.Str(v.Val, at(key))
			return s
		}
		return ""
	}
	c.Type = typ
	c.Name = str("name")
	switch {
	case f["name"].Key == nil:
		r.Errorf(n, at("name"), "required")
	case c.Name != "" && !validName.MatchString(c.Name):
		r.Errorf(f["name"].Val, at("name"), "%q: want letters, digits, '.', '_' or '-' (at most 64)", c.Name)
	}
	c.URL, c.URLEnv = SecretURL(str("url")), str("url_env")
	c.Secret, c.SecretEnv = collectors.Secret(str("secret")), str("secret_env")
	c.Username, c.From, c.CAFile = str("username"), str("from"), str("ca_file")
	if v, ok := f["per_minute"]; ok {
		hi := 10000
		if typ == TypeDingTalk || typ == TypeWeCom {
			hi = 20 // the robot's own limit: past it the robot throttles
		}
		c.PerMinute, _ = r.Int(v.Val, at("per_minute"), 1, hi)
	}
	if v, ok := f["timeout"]; ok {
		c.Timeout, _ = r.Duration(v.Val, at("timeout"), time.Second, 5*time.Minute)
	}
	if v, ok := f["max_attempts"]; ok {
		c.MaxAttempts, _ = r.Int(v.Val, at("max_attempts"), 1, 100)
	}
	if v, ok := f["max_age"]; ok {
		c.MaxAge, _ = r.Duration(v.Val, at("max_age"), time.Minute, 7*24*time.Hour)
	}
	if v, ok := f["insecure_auth"]; ok {
		c.InsecureAuth, _ = r.Bool(v.Val, at("insecure_auth"))
	}
	if v, ok := f["headers"]; ok && r.Mapping(v.Val, at("headers"), "a mapping of header names to values") {
		c.Headers = map[string]collectors.Secret{}
		r.Pairs(v.Val, at("headers"), func(key string, k, val *yaml.Node) {
			s, ok := r.Str(val, yamlconf.JoinPath(at("headers"), key))
			if ok && !validHeader(key, s) {
				r.Errorf(k, yamlconf.JoinPath(at("headers"), key), "not a valid HTTP header (name or value)")
				return
			}
			c.Headers[http.CanonicalHeaderKey(key)] = collectors.Secret(s)
		})
	}
	if v, ok := f["to"]; ok {
		if list, ok := r.Seq(v.Val, at("to"), "e-mail addresses", 1, 100); ok {
			for i, e := range list {
				s, ok := r.Str(e, yamlconf.Index(at("to"), i))
				if !ok {
					continue
				}
				a, err := mail.ParseAddress(s)
				if err != nil {
					r.Errorf(e, yamlconf.Index(at("to"), i), "%q is not an e-mail address: %v", s, err)
					continue
				}
				c.To, c.to = append(c.To, s), append(c.to, a)
			}
		}
	}
	c.hasRetry = c.MaxAttempts > 0 || c.MaxAge > 0
	if typ != "" {
		checkReceiver(r, &c, n, f, path, dir)
	}
	return c
}

// checkReceiver checks what depends on the type and on other keys: the
// URL (or its variable), the secret's variable, the e-mail addresses,
// the CA file.
func checkReceiver(r *yamlconf.Reader, c *ReceiverConfig, n *yaml.Node, f map[string]yamlconf.Field, path, dir string) {
	at := func(key string) string { return yamlconf.JoinPath(path, key) }
	node := func(key string) *yaml.Node {
		if v, ok := f[key]; ok {
			return v.Val
		}
		return n
	}
	switch _, hasURL := f["url"]; {
	case hasURL && c.URLEnv != "":
		r.Errorf(node("url_env"), at("url_env"), "give url or url_env, not both")
	case !hasURL && c.URLEnv == "":
		r.Errorf(n, at("url"), "required (or url_env)")
	case c.URLEnv != "":
		if c.URL = SecretURL(os.Getenv(c.URLEnv)); c.URL == "" {
			r.Errorf(node("url_env"), at("url_env"), "the environment variable %s is empty", c.URLEnv)
		}
	}
	if c.URL != "" {
		if err := checkURL(c.Type, string(c.URL)); err != nil {
			key := "url"
			if c.URLEnv != "" {
				key = "url_env"
			}
			r.Errorf(node(key), at(key), "%v", err)
		}
	}
	switch {
	case c.Secret != "" && c.SecretEnv != "":
		r.Errorf(node("secret_env"), at("secret_env"), "give secret or secret_env, not both")
	case c.SecretEnv != "":
		if c.Secret = collectors.Secret(os.Getenv(c.SecretEnv)); c.Secret == "" {
			r.Errorf(node("secret_env"), at("secret_env"), "the environment variable %s is empty", c.SecretEnv)
		}
	}
	if c.Type != TypeEmail {
		return
	}
	if c.From == "" {
		r.Errorf(n, at("from"), "required: the sender's address")
	} else if a, err := mail.ParseAddress(c.From); err != nil {
		r.Errorf(node("from"), at("from"), "%q is not an e-mail address: %v", c.From, err)
	} else {
		c.from = a
	}
	if _, ok := f["to"]; !ok {
		r.Errorf(n, at("to"), "required: a list of recipients")
	}
	if c.Username != "" && c.Secret == "" {
		r.Errorf(node("username"), at("secret"), "a username needs its password (secret or secret_env)")
	}
	if c.InsecureAuth {
		if u, err := url.Parse(string(c.URL)); err == nil && !loopback(u.Hostname()) {
			r.Errorf(node("insecure_auth"), at("insecure_auth"), "only for a loopback test server; %s is not one", u.Hostname())
		}
	}
	if c.CAFile != "" {
		file := c.CAFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		pem, err := os.ReadFile(file)
		switch {
		case err != nil:
			r.Errorf(node("ca_file"), at("ca_file"), "%v", err)
		default:
			c.rootCAs = x509.NewCertPool()
			if !c.rootCAs.AppendCertsFromPEM(pem) {
				r.Errorf(node("ca_file"), at("ca_file"), "%s holds no PEM certificate", c.CAFile)
			}
		}
	}
}

// checkURL says what is wrong with a receiver's URL, showing it redacted.
func checkURL(typ, s string) error {
	u, err := url.Parse(s)
	want := "an http(s) URL"
	schemes := []string{"http", "https"}
	if typ == TypeEmail {
		want, schemes = "smtp://host[:port] or smtps://host[:port]", []string{"smtp", "smtps"}
	}
	if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		return fmt.Errorf("%q: want %s", collectors.RedactURL(s), want)
	}
	if typ == TypeEmail && (u.Path != "" && u.Path != "/" || u.User != nil) {
		return fmt.Errorf("%q: want smtp://host[:port] alone (the login goes in username and secret)", collectors.RedactURL(s))
	}
	return nil
}

// validHeader: a token name and a value without line breaks, as
// net/http would send them.
func validHeader(name, value string) bool {
	if name == "" || strings.ContainsAny(value, "\r\n\x00") {
		return false
	}
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// ParseReceivers reads a file whose top level is a receivers: list (the
// only key). file names it in errors.
func ParseReceivers(file string, data []byte) ([]ReceiverConfig, error) {
	r := yamlconf.NewReader(file)
	root := r.Document(data)
	if root == nil {
		if r.Len() == 0 {
			r.Errorf(nil, "", "empty file; want a receivers: list")
		}
		return nil, r.Err()
	}
	var out []ReceiverConfig
	if r.Mapping(root, "", "a mapping with receivers:") {
		f := r.Fields(root, "", []string{"receivers"}, nil)
		if v, ok := f["receivers"]; ok {
			out = ReadReceivers(r, v.Val, "receivers")
		} else if r.Len() == 0 {
			r.Errorf(root, "receivers", "required")
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadReceivers reads the receivers file at path.
func LoadReceivers(path string) ([]ReceiverConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("receivers: %w", err)
	}
	return ParseReceivers(path, data)
}

// BuildOptions are what building a receiver takes from the process.
type BuildOptions struct {
	// Client is the HTTP client of the web receivers; nil is a client
	// per receiver with its timeout.
	Client *http.Client
	// Now is the clock of DingTalk's signatures and e-mail dates; nil is
	// time.Now.
	Now func() time.Time
	// Location is the business time zone; nil is Asia/Shanghai.
	Location *time.Location
}

// Build makes the receiver c configures. c must come from ReadReceivers
// (or ParseReceivers), which checked it.
func (c ReceiverConfig) Build(o BuildOptions) (Receiver, error) {
	client := o.Client
	if c.Timeout > 0 || client == nil {
		cl := http.Client{}
		if client != nil {
			cl = *client
		}
		cl.Timeout = c.Timeout
		if cl.Timeout == 0 {
			cl.Timeout = DefaultTimeout
		}
		client = &cl
	}
	r := Receiver{Name: c.Name}
	if c.hasRetry {
		r.Retry = RetryPolicy{MaxAttempts: c.MaxAttempts, MaxAge: c.MaxAge}
	}
	switch c.Type {
	case TypeWebhook:
		r.Notifier = &Webhook{Name: c.Name, URL: string(c.URL), Headers: c.Headers, PerMinute: c.PerMinute, Client: client, Location: o.Location}
	case TypeDingTalk:
		r.Notifier = &DingTalk{URL: string(c.URL), Secret: c.Secret, PerMinute: c.PerMinute, Client: client, Location: o.Location, Now: o.Now}
	case TypeWeCom:
		r.Notifier = &WeCom{URL: string(c.URL), PerMinute: c.PerMinute, Client: client, Location: o.Location}
	case TypeEmail:
		if c.from == nil || len(c.to) == 0 {
			return Receiver{}, fmt.Errorf("receiver %q: no sender or recipients (read it with ReadReceivers)", c.Name)
		}
		r.Notifier = &Email{
			Server: string(c.URL), Username: c.Username, Password: c.Secret, InsecureAuth: c.InsecureAuth,
			From: c.from, To: c.to, RootCAs: c.rootCAs, PerMinute: c.PerMinute, Timeout: c.Timeout, Location: o.Location, Now: o.Now,
		}
	default:
		return Receiver{}, fmt.Errorf("receiver %q: unknown type %q", c.Name, c.Type)
	}
	return r, nil
}

// BuildReceivers builds every receiver of cfgs.
func BuildReceivers(cfgs []ReceiverConfig, o BuildOptions) ([]Receiver, error) {
	out := make([]Receiver, 0, len(cfgs))
	for _, c := range cfgs {
		r, err := c.Build(o)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
