package backend

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// hidden stands for the token wherever settings are shown.
const hidden = "<secret>"

// shownInflux is InfluxSettings fit to show, without its methods.
type shownInflux InfluxSettings

// shown returns the settings with the token hidden and the URL's password
// and query values redacted (an InfluxDB 1.8 URL may carry u= and p=).
func (s InfluxSettings) shown() shownInflux {
	c := shownInflux(s)
	if c.Token != "" {
		c.Token = hidden
	}
	c.URL = redactURL(s.URL)
	return c
}

// String formats the settings as %+v would, the token hidden: printing a
// Config with %v or %+v goes through it.
func (s InfluxSettings) String() string { return fmt.Sprintf("%+v", s.shown()) }

// GoString formats the settings as %#v would, the token hidden.
func (s InfluxSettings) GoString() string { return fmt.Sprintf("%#v", s.shown()) }

// LogValue logs the settings with the token hidden.
func (s InfluxSettings) LogValue() slog.Value {
	c := s.shown()
	return slog.GroupValue(slog.String("url", c.URL), slog.String("token", c.Token),
		slog.String("org", c.Org), slog.String("bucket", c.Bucket))
}

// MarshalJSON writes the settings with the token hidden, so that a Config
// logged by a JSON handler or served by an admin API shows no secret.
func (s InfluxSettings) MarshalJSON() ([]byte, error) { return json.Marshal(s.shown()) }

// MarshalYAML writes the settings with the token hidden.
func (s InfluxSettings) MarshalYAML() (any, error) { return s.shown(), nil }

// redactURL replaces the password and the query values of a URL, keeping
// the scheme, user, host and path that say where the server is.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.IndexAny(s, "@?"); i >= 0 {
			return "<unparsable URL>"
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"redacted"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
