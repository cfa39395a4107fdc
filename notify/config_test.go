package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/yamlconf"
)

const sampleReceivers = `# receivers of special reports
receivers:
  - name: ops-webhook
    type: webhook
    url: https://ops.example.gov.cn/hooks/yiping?token=HOOKTOKEN1
    headers:
      authorization: Bearer HEADERSECRET2
    timeout: 5s
  - name: city-dingtalk
    type: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=DINGTOKEN3
    secret: SECDINGSECRET4
    per_minute: 15
  - name: county-wecom
    type: wecom
    url_env: YIPING_TEST_WECOM_URL
    max_attempts: 5
    max_age: 30m
  - name: leaders-mail
    type: email
    url: smtp://127.0.0.1:2525
    username: yiping
    secret_env: YIPING_TEST_SMTP_PASSWORD
    insecure_auth: true
    from: 一屏统管 <yiping@example.gov.cn>
    to: [leader@example.gov.cn, "值班室 <duty@example.gov.cn>"]
`

// The credentials of the sample: none may be shown anywhere.
var sampleSecrets = []string{"HOOKTOKEN1", "HEADERSECRET2", "DINGTOKEN3", "SECDINGSECRET4", "WECOMKEY5", "MAILPASSWORD6"}

func setSampleEnv(t *testing.T) {
	t.Setenv("YIPING_TEST_WECOM_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY5")
	t.Setenv("YIPING_TEST_SMTP_PASSWORD", "MAILPASSWORD6")
}

// TestParseReceivers reads one receiver of each type and builds them.
func TestParseReceivers(t *testing.T) {
	setSampleEnv(t)
	cfgs, err := ParseReceivers("receivers.yaml", []byte(sampleReceivers))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 4 {
		t.Fatalf("%d receivers", len(cfgs))
	}
	if c := cfgs[0]; c.Headers["Authorization"] != "Bearer HEADERSECRET2" || c.Timeout.String() != "5s" {
		t.Errorf("webhook %#v", c)
	}
	if c := cfgs[2]; c.URL != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY5" || c.MaxAttempts != 5 {
		t.Errorf("wecom %#v", c)
	}
	if c := cfgs[3]; c.Secret != "MAILPASSWORD6" || len(c.To) != 2 || !c.InsecureAuth {
		t.Errorf("email %#v", c)
	}
	rs, err := BuildReceivers(cfgs, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ    string
		limits Limits
	}{
		{"*notify.Webhook", Limits{}},
		{"*notify.DingTalk", Limits{PerMinute: 15, MaxBytes: 20000}},
		{"*notify.WeCom", Limits{PerMinute: 20, MaxBytes: 4096}},
		{"*notify.Email", Limits{}},
	}
	for i, r := range rs {
		if got := fmt.Sprintf("%T", r.Notifier); got != want[i].typ || r.Notifier.(Limited).Limits() != want[i].limits || r.Name != cfgs[i].Name {
			t.Errorf("receiver %d: %s %+v", i, got, r.Notifier.(Limited).Limits())
		}
	}
	if rs[2].Retry.MaxAttempts != 5 || rs[2].Retry.MaxAge.String() != "30m0s" || rs[1].Retry != (RetryPolicy{}) {
		t.Errorf("retry overrides %+v %+v", rs[2].Retry, rs[1].Retry)
	}
	e := rs[3].Notifier.(*Email)
	if e.From.Name != "一屏统管" || e.To[1].Address != "duty@example.gov.cn" || e.Password != "MAILPASSWORD6" {
		t.Errorf("email %+v", e)
	}
	if _, err := New(Config{Receivers: rs}); err != nil {
		t.Error(err)
	}
}

// TestReceiverErrors: every problem on its line, with its path, the
// did-you-mean, and no secret in the message.
func TestReceiverErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"misspelt key", `
receivers:
  - name: a
    type: dingtalk
    url: https://h/robot/send?access_token=T
    secert: S`, []string{"r.yaml:6: receivers[0].secert: unknown key (did you mean secret?)"}},
		{"key of another type", `
receivers:
  - name: a
    type: dingtalk
    url: https://h/x
    headers: {A: b}`, []string{"r.yaml:6: receivers[0].headers: a dingtalk receiver has no headers (only webhook)"}},
		{"unknown type", `
receivers:
  - name: a
    type: dingtalks
    url: https://h/x`, []string{`r.yaml:4: receivers[0].type: "dingtalks" (did you mean dingtalk?)`}},
		{"missing type and url", `
receivers:
  - name: a`, []string{"r.yaml:3: receivers[0].type: required"}},
		{"missing url", `
receivers:
  - {name: a, type: wecom}`, []string{"r.yaml:3: receivers[0].url: required (or url_env)"}},
		{"both url and url_env", `
receivers:
  - {name: a, type: wecom, url: "https://h/x", url_env: X}`, []string{"receivers[0].url_env: give url or url_env, not both"}},
		{"empty url_env", `
receivers:
  - {name: a, type: wecom, url_env: YIPING_TEST_UNSET_VARIABLE}`, []string{"r.yaml:3: receivers[0].url_env: the environment variable YIPING_TEST_UNSET_VARIABLE is empty"}},
		{"bad scheme, secret hidden", `
receivers:
  - name: a
    type: dingtalk
    url: ftp://h/robot/send?access_token=SECRETTOKEN`, []string{`r.yaml:5: receivers[0].url: "ftp://h/robot/send?access_token=<redacted>": want an http(s) URL`}},
		{"robot rate over its limit", `
receivers:
  - {name: a, type: dingtalk, url: "https://h/x", per_minute: 30}`, []string{"receivers[0].per_minute: 30 is out of range; want 1 to 20"}},
		{"duplicate and bad names", `
receivers:
  - {name: a, type: wecom, url: "https://h/x"}
  - {name: a, type: wecom, url: "https://h/y"}
  - {name: "a b", type: wecom, url: "https://h/z"}`, []string{
			`r.yaml:4: receivers[1].name: "a" is used twice (first on line 3)`,
			`r.yaml:5: receivers[2].name: "a b": want letters`}},
		{"email", `
receivers:
  - name: m
    type: email
    url: smtp://mail.example.gov.cn:587
    username: u
    insecure_auth: true
    to: [not an address]
    ca_file: missing.pem`, []string{
			"r.yaml:3: receivers[0].from: required",
			"r.yaml:6: receivers[0].secret: a username needs its password",
			"r.yaml:7: receivers[0].insecure_auth: only for a loopback test server; mail.example.gov.cn is not one",
			`r.yaml:8: receivers[0].to[0]: "not an address" is not an e-mail address`,
			"r.yaml:9: receivers[0].ca_file: open ",
		}},
		{"smtp url with a login", `
receivers:
  - {name: m, type: email, url: "smtp://u:PW@h:25", from: a@b.c, to: [d@e.f]}`, []string{`"smtp://u:<redacted>@h:25": want smtp://host[:port] alone`}},
		{"top level", `
receiver: []`, []string{"r.yaml:2: receiver: unknown key (did you mean receivers?)"}},
		{"not a list", `
receivers: {name: a}`, []string{"r.yaml:2: receivers: want a list of receivers"}},
		{"empty", ``, []string{"r.yaml: empty file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseReceivers("r.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRETTOKEN") || strings.Contains(err.Error(), "PW@") {
				t.Errorf("a secret in %v", err)
			}
		})
	}
}

// TestReceiversInAnotherFile reads a receivers: section of a file that
// holds more (the special report rules), through the caller's Reader.
func TestReceiversInAnotherFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rules.yaml")
	data := []byte(`rules:
  - id: overdue
receivers:
  - name: ops
    type: webhook
    url: https://h/x
  - name: bad
    type: webhook
    url: https://h/y
    per_minute: many
`)
	r := yamlconf.NewReader(file)
	root := r.Document(data)
	f := r.Fields(root, "", []string{"rules", "receivers"}, nil)
	got := ReadReceivers(r, f["receivers"].Val, "receivers")
	if len(got) != 1 || got[0].Name != "ops" {
		t.Errorf("read %v", got)
	}
	want := file + ":10: receivers[1].per_minute: want an integer from 1 to 10000"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// TestCAFile reads a CA file relative to the configuration file.
func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	certPEM, _ := selfSigned(t)
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not pem"), 0o600)
	conf := func(ca string) []byte {
		return []byte("receivers:\n  - {name: m, type: email, url: \"smtps://127.0.0.1:465\", from: a@b.cn, to: [c@d.cn], ca_file: " + ca + "}\n")
	}
	cfgs, err := ParseReceivers(filepath.Join(dir, "r.yaml"), conf("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := cfgs[0].Build(BuildOptions{})
	if r.Notifier.(*Email).RootCAs == nil {
		t.Error("no CA pool")
	}
	if _, err := ParseReceivers(filepath.Join(dir, "r.yaml"), conf("junk.pem")); err == nil || !strings.Contains(err.Error(), "junk.pem holds no PEM certificate") {
		t.Errorf("junk: %v", err)
	}
}

// TestHideConfigSecrets shows the receivers every way a person could see
// them (fmt, String, YAML, JSON, slog) and finds none of their secrets;
// URLs keep their host and parameter names.
func TestHideConfigSecrets(t *testing.T) {
	setSampleEnv(t)
	cfgs, err := ParseReceivers("receivers.yaml", []byte(sampleReceivers))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("receivers", "cfgs", cfgs, "first", cfgs[1])
	y, _ := yaml.Marshal(cfgs)
	j, _ := json.Marshal(cfgs)
	shown := map[string]string{
		"%v": fmt.Sprintf("%v", cfgs), "%+v": fmt.Sprintf("%+v", cfgs), "%#v": fmt.Sprintf("%#v", cfgs),
		"String": cfgs[1].String() + cfgs[2].String(), "yaml": string(y), "json": string(j), "slog": logs.String(),
	}
	for how, s := range shown {
		for _, secret := range sampleSecrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %s:\n%s", how, secret, s)
			}
		}
	}
	for _, want := range []string{"access_token=<redacted>", "<secret>", "oapi.dingtalk.com"} {
		if !strings.Contains(shown["yaml"], want) || !strings.Contains(shown["%v"], want) {
			t.Errorf("yaml or %%v lacks %q:\n%s\n%s", want, shown["yaml"], shown["%v"])
		}
	}
}
