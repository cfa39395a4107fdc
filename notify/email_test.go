package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// smtpPython is a python3 that has aiosmtpd: YIPING_SMTP (set by
// scripts/test from scripts/install-smtp), else Debian's or the PATH's
// interpreter if it has the module. Without one the e-mail tests skip,
// unless YIPING_SMTP is set: then a broken one fails them.
func smtpPython(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("YIPING_SMTP"); p != "" {
		if err := exec.Command(p, "-c", "import aiosmtpd").Run(); err != nil {
			t.Fatalf("YIPING_SMTP=%s cannot import aiosmtpd (%v): set it to what scripts/install-smtp prints", p, err)
		}
		return p
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import aiosmtpd").Run() == nil {
			return p
		}
	}
	t.Skip("no SMTP server to test against: run scripts/install-smtp (Debian's python3-aiosmtpd) and set YIPING_SMTP to the python3 it prints")
	return ""
}

// lockedBuffer is a server's output, written by its process and read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSMTP runs aiosmtpd (python args after the interpreter, with PORT
// replaced by a free port) until the test ends and returns its address
// and output.
func startSMTP(t *testing.T, args ...string) (string, *lockedBuffer) {
	t.Helper()
	py := smtpPython(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "PORT", port)
	}
	out := &lockedBuffer{}
	cmd := exec.Command(py, append([]string{"-u"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("SMTP server output:\n%s", out)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr, out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SMTP server did not start on %s: %v\n%s", addr, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "yiping test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// tlsFiles writes a self-signed certificate and its key for the server
// and returns their paths and a pool that trusts it.
func tlsFiles(t *testing.T) (cert, key string, pool *x509.CertPool) {
	certPEM, keyPEM := selfSigned(t)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return cert, key, pool
}

// received reads the last message aiosmtpd printed.
func received(t *testing.T, out string) *mail.Message {
	t.Helper()
	const begin, end = "---------- MESSAGE FOLLOWS ----------\n", "------------ END MESSAGE ------------"
	i := strings.LastIndex(out, begin)
	j := strings.LastIndex(out, end)
	if i < 0 || j < i {
		t.Fatalf("no message in the server's output:\n%s", out)
	}
	text := out[i+len(begin) : j]
	// aiosmtpd prints the MAIL options and a blank line first, then the
	// message with an X-Peer header added.
	if _, msg, ok := strings.Cut(text, "\n\n"); ok && strings.HasPrefix(text, "mail options") {
		text = msg
	}
	m, err := mail.ReadMessage(strings.NewReader(text))
	if err != nil {
		t.Fatalf("reading the message: %v\n%s", err, text)
	}
	return m
}

func testEmail(server string) *Email {
	return &Email{
		Server: server,
		From:   &mail.Address{Name: "一屏统管", Address: "yiping@example.gov.cn"},
		To:     []*mail.Address{{Address: "leader@example.gov.cn"}, {Name: "值班室", Address: "duty@example.gov.cn"}},
		Now:    func() time.Time { return testStart },
	}
}

// TestEmailDelivery sends to a real SMTP server in clear text, with
// STARTTLS (the server requires it) and with TLS from the start, and
// reads the message as the server printed it.
func TestEmailDelivery(t *testing.T) {
	cert, key, pool := tlsFiles(t)
	tests := []struct {
		name   string
		scheme string
		args   []string
	}{
		{"plain", "smtp", nil},
		{"starttls", "smtp", []string{"--tlscert", cert, "--tlskey", key}},
		{"smtps", "smtps", []string{"--smtpscert", cert, "--smtpskey", key}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, out := startSMTP(t, append([]string{"-m", "aiosmtpd", "-n", "-l", "127.0.0.1:PORT"}, tc.args...)...)
			e := testEmail(tc.scheme + "://" + addr)
			e.RootCAs = pool
			m := testMessage(3, 100)
			if retry, err := e.Notify(testContext(t), m); err != nil {
				t.Fatalf("Notify: %v (retry %v)", err, retry)
			}
			got := received(t, out.String())
			var dec mime.WordDecoder
			subject, err := dec.DecodeHeader(got.Header.Get("Subject"))
			if err != nil || subject != "【紧急】"+m.Title {
				t.Errorf("subject %q (%v)", subject, err)
			}
			from, _ := dec.DecodeHeader(got.Header.Get("From"))
			if from != "一屏统管 <yiping@example.gov.cn>" || !strings.Contains(got.Header.Get("To"), "duty@example.gov.cn") {
				t.Errorf("from %q, to %q", from, got.Header.Get("To"))
			}
			body, err := io.ReadAll(got.Body)
			if err != nil {
				t.Fatal(err)
			}
			text, err := decodeBase64Lines(body)
			if err != nil {
				t.Fatalf("body: %v\n%s", err, body)
			}
			for _, want := range []string{"地区：崆峒区（620802）", "时间：2026-12-03 09:00", "查看详情：" + m.URL} {
				if !strings.Contains(text, want) {
					t.Errorf("body lacks %q:\n%s", want, text)
				}
			}
			if got.Header.Get("Message-ID") == "" || got.Header.Get("Date") != "Thu, 03 Dec 2026 09:00:00 +0800" {
				t.Errorf("headers %v", got.Header)
			}
		})
	}
}

func decodeBase64Lines(b []byte) (string, error) {
	var s strings.Builder
	for _, line := range strings.Fields(string(b)) {
		s.WriteString(line)
	}
	out, err := base64.StdEncoding.DecodeString(s.String())
	return string(out), err
}

// TestEmailAuth logs in over STARTTLS to a server that requires it, with
// the right password and a wrong one (535: not retried); refuses to send
// a password in the clear; and does not trust an unknown certificate.
func TestEmailAuth(t *testing.T) {
	cert, key, pool := tlsFiles(t)
	authAddr, out := startSMTP(t, "testdata/smtpd_auth.py", "PORT", cert, key, "yiping", "MAILPW-7")
	plainAddr, plainOut := startSMTP(t, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:PORT")
	tests := []struct {
		name    string
		addr    string
		pass    string
		pool    *x509.CertPool
		ok      bool
		retry   bool
		errText string
	}{
		{"right password over STARTTLS", authAddr, "MAILPW-7", pool, true, false, ""},
		{"wrong password", authAddr, "WRONG-8", pool, false, false, "535"},
		{"unknown certificate", authAddr, "MAILPW-7", nil, false, false, "certificate"},
		{"no TLS offered", plainAddr, "MAILPW-7", nil, false, false, "refusing to send the password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testEmail("smtp://" + tc.addr)
			e.Username, e.Password, e.RootCAs = "yiping", "MAILPW-7", tc.pool
			if tc.pass != "" {
				e.Password = collectors.Secret(tc.pass)
			}
			retry, err := e.Notify(testContext(t), testMessage(4, 10))
			if (err == nil) != tc.ok || retry != tc.retry {
				t.Fatalf("Notify = %v, %v", retry, err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("error %q lacks %q", err, tc.errText)
			}
			if err != nil && strings.Contains(err.Error(), tc.pass) {
				t.Errorf("the password shows: %v", err)
			}
		})
	}
	if strings.Count(out.String(), "MESSAGE FOLLOWS") != 1 {
		t.Errorf("want exactly one message through the authenticating server:\n%s", out)
	}
	if strings.Contains(plainOut.String(), "MESSAGE FOLLOWS") {
		t.Errorf("a message went through without TLS")
	}
	// InsecureAuth lets the password go in the clear to loopback; the
	// plain server offers no AUTH, which is the next thing checked.
	e := testEmail("smtp://" + plainAddr)
	e.Username, e.Password, e.InsecureAuth = "yiping", "MAILPW-7", true
	if _, err := e.Notify(testContext(t), testMessage(5, 10)); err == nil || errors.Is(err, errPlainAuth) || !strings.Contains(err.Error(), "offers no AUTH") {
		t.Errorf("insecure auth to loopback: %v", err)
	}
}

// TestEmailUnreachable: a refused connection can pass later.
func TestEmailUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	retry, err := testEmail("smtp://"+addr).Notify(context.Background(), testMessage(1, 10))
	if err == nil || !retry {
		t.Errorf("Notify = %v, %v", retry, err)
	}
	if _, err := testEmail("http://"+addr).Notify(context.Background(), testMessage(1, 10)); err == nil || !strings.Contains(err.Error(), "want smtp://") {
		t.Errorf("bad scheme: %v", err)
	}
}

// TestEmailCompose: a title cannot add a header, and the id gives a
// stable Message-ID.
func TestEmailCompose(t *testing.T) {
	m := testMessage(1, 10)
	m.Title = "plain title\r\nBcc: someone@example.com"
	raw := testEmail("smtp://h").compose(m)
	got, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(got.Header.Get("Subject"))
	if got.Header.Get("Bcc") != "" || subject != "【紧急】plain title Bcc: someone@example.com" {
		t.Errorf("headers %v", got.Header)
	}
	again, _ := mail.ReadMessage(bytes.NewReader(testEmail("smtp://h").compose(m)))
	if id := got.Header.Get("Message-ID"); id == "" || id != again.Header.Get("Message-ID") {
		t.Errorf("Message-ID %q, %q", id, again.Header.Get("Message-ID"))
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("a line of %d bytes", len(line))
		}
	}
}

// TestEmailAttachment sends a PDF with a Chinese file name through a real
// SMTP server and reads it back: multipart/mixed, the text first, the file
// in base64 with its name in RFC 2231 and RFC 2047; a file over the cap is
// left out and the body says so.
func TestEmailAttachment(t *testing.T) {
	addr, out := startSMTP(t, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:PORT")
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, '-', '\r', '\n'}, 3000)...)
	m := testMessage(6, 50)
	name := "甘肃省政务服务数据月报 2026年9月\".pdf"
	m.Attachments = []Attachment{
		{Name: name, ContentType: "application/pdf", Data: pdf},
		{Name: "big.bin", Data: make([]byte, 4096)},
	}
	e := testEmail("smtp://" + addr)
	e.MaxAttachments = int64(len(pdf)) + 100
	if retry, err := e.Notify(testContext(t), m); err != nil {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	got := received(t, out.String())
	mt, params, err := mime.ParseMediaType(got.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", got.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(got.Body, params["boundary"])
	var parts []*multipart.Part
	var bodies [][]byte
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(p)
		dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
		if err != nil {
			t.Fatalf("part %d: %v", len(parts), err)
		}
		parts, bodies = append(parts, p), append(bodies, dec)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want the text and one file", len(parts))
	}
	text := string(bodies[0])
	if !strings.Contains(text, "查看详情："+m.URL) || !strings.Contains(text, "附件过大") || !strings.Contains(text, "big.bin") {
		t.Errorf("text part:\n%s", text)
	}
	if !bytes.Equal(bodies[1], pdf) {
		t.Errorf("the attachment differs: %d bytes, want %d", len(bodies[1]), len(pdf))
	}
	wantName := "甘肃省政务服务数据月报 2026年9月_.pdf" // the quote is replaced
	if fn := parts[1].FileName(); fn != wantName {
		t.Errorf("file name %q, want %q (Content-Disposition %q)", fn, wantName, parts[1].Header.Get("Content-Disposition"))
	}
	if ct := parts[1].Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/pdf;") {
		t.Errorf("Content-Type %q", ct)
	}
	// The RFC 2047 form, for readers that do not know RFC 2231.
	_, cd, _ := mime.ParseMediaType(strings.Replace(parts[1].Header.Get("Content-Disposition"), "filename*", "x", 1))
	if w, err := new(mime.WordDecoder).DecodeHeader(cd["filename"]); err != nil || w != wantName {
		t.Errorf("RFC 2047 filename %q: %q, %v", cd["filename"], w, err)
	}
	for _, line := range strings.Split(string(e.compose(m)), "\r\n") {
		if len(line) > 998 {
			t.Errorf("a line of %d bytes", len(line))
		}
	}
}
