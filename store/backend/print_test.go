package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSettingsShowNoToken: however the store's configuration is printed,
// formatted, logged or marshalled, the InfluxDB token and the URL's
// password do not show; the server's address does.
func TestSettingsShowNoToken(t *testing.T) {
	c := Config{Kind: KindInfluxDB, DataDir: "data", Influx: InfluxSettings{
		URL: "http://yiping:URLPASS77@influx.example:8086/?u=yiping&p=QUERYPASS66", Token: "TOKEN-0123456789abcdef", Org: "gansu", Bucket: "yiping"}}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("store", "config", c, "influx", c.Influx)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("store", "config", c, "influx", c.Influx)
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", c),
		"%+v":       fmt.Sprintf("%+v", c),
		"%#v":       fmt.Sprintf("%#v", c),
		"%s":        fmt.Sprint(c.Influx),
		"&%+v":      fmt.Sprintf("%+v", &c),
		"slog text": text.String(),
		"slog json": js.String(),
		"yaml":      string(y),
		"json":      string(j),
	}
	for name, out := range outputs {
		for _, secret := range []string{"TOKEN-0123456789abcdef", "URLPASS77", "QUERYPASS66"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %s:\n%s", name, secret, out)
			}
		}
		if !strings.Contains(out, "influx.example:8086") {
			t.Errorf("%s lost the server's address:\n%s", name, out)
		}
	}
	// The values themselves are untouched: only their printing hides.
	if c.Influx.Token != "TOKEN-0123456789abcdef" {
		t.Error("the token was changed")
	}
}
