package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// Email sends messages by SMTP (net/smtp: the protocol needs nothing
// more than it has). It takes STARTTLS whenever the server offers it,
// and sends a password only over TLS.
type Email struct {
	// Server is smtp://host[:port] (port 25 by default; STARTTLS when
	// offered) or smtps://host[:port] (TLS from the start; port 465).
	Server string
	// Username and Password log in (AUTH PLAIN) when Username is set.
	Username string
	Password collectors.Secret
	// InsecureAuth allows the password over a connection without TLS,
	// and only to a loopback address: a test server, never a real one.
	InsecureAuth bool
	// From is the sender (a display name may be Chinese); To the
	// recipients.
	From *mail.Address
	To   []*mail.Address
	// RootCAs verify the server's certificate; nil is the system's.
	RootCAs *x509.CertPool
	// PerMinute caps the messages in any minute; 0 is no cap.
	PerMinute int
	// Timeout bounds one delivery (connect to QUIT); 0 is DefaultTimeout.
	Timeout time.Duration
	// Location is the zone of the times shown; nil is Asia/Shanghai.
	Location *time.Location
	// Now dates the messages; nil is time.Now.
	Now func() time.Time
	// MaxAttachments caps the bytes of the files one message carries
	// (before base64); 0 is DefaultMaxAttachments. A file that would pass
	// the cap is left out and the body says so, with its link.
	MaxAttachments int64
}

// DefaultMaxAttachments is the attachments' cap of a message: mail
// servers commonly refuse messages over 10–25 MiB, and base64 adds a third.
const DefaultMaxAttachments = 10 << 20

var _ Limited = (*Email)(nil)

// Limits: the configured rate, no size limit.
func (e *Email) Limits() Limits { return Limits{PerMinute: e.PerMinute} }

// Size is the length of the text body.
func (e *Email) Size(m Message) int { return len(renderText(m, zone(e.Location))) }

// errPlainAuth refuses to send a password in the clear.
var errPlainAuth = errors.New("the server offers no TLS: refusing to send the password over an unencrypted connection (insecure_auth is for a loopback test server only)")

// Notify delivers m to every recipient in one SMTP transaction.
func (e *Email) Notify(ctx context.Context, m Message) (bool, error) {
	retry, err := e.send(ctx, m)
	if err != nil {
		return retry, collectors.RedactError(fmt.Errorf("email: %w", err))
	}
	return false, nil
}

func (e *Email) send(ctx context.Context, m Message) (bool, error) {
	if e.From == nil || len(e.To) == 0 {
		return false, errors.New("no sender or no recipients")
	}
	u, err := url.Parse(e.Server)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return false, fmt.Errorf("server %q: want smtp://host[:port] or smtps://host[:port]", collectors.RedactURL(e.Server))
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"smtp": "25", "smtps": "465"}[u.Scheme]
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return true, err
	}
	// net/smtp knows no context: the deadline bounds every read and
	// write, and a cancel closes the connection under it.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	tlsConfig := &tls.Config{ServerName: host, RootCAs: e.RootCAs, MinVersion: tls.VersionTLS12}
	if u.Scheme == "smtps" {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return retryTLS(err), fmt.Errorf("TLS: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return retrySMTP(err), err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return retrySMTP(err), err
	}
	_, secure := c.TLSConnectionState()
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return retryTLS(err), fmt.Errorf("STARTTLS: %w", err)
			}
			secure = true
		}
	}
	if e.Username != "" {
		if !secure && !(e.InsecureAuth && loopback(host)) {
			return false, errPlainAuth
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return false, errors.New("the server offers no AUTH, but a username is configured")
		}
		// smtp.PlainAuth itself allows no TLS only to localhost, which
		// InsecureAuth has checked above.
		if err := c.Auth(smtp.PlainAuth("", e.Username, string(e.Password), host)); err != nil {
			return retrySMTP(err), fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(e.From.Address); err != nil {
		return retrySMTP(err), fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to.Address); err != nil {
			return retrySMTP(err), fmt.Errorf("RCPT TO %s: %w", to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return retrySMTP(err), fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(e.compose(m)); err != nil {
		return true, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return retrySMTP(err), fmt.Errorf("DATA: %w", err)
	}
	// The message is accepted once DATA is; a failed QUIT changes nothing.
	_ = c.Quit()
	return false, nil
}

// compose writes m as an RFC 5322 message: UTF-8 text in base64, the
// subject and display names in RFC 2047 encoded words. With attachments
// (m's and, in a digest, its parts') it is multipart/mixed: the text,
// then each file in base64 with its name in RFC 2231 (filename*) and RFC
// 2047 (filename, for older readers).
func (e *Email) compose(m Message) []byte {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	loc := zone(e.Location)
	to := make([]string, len(e.To))
	for i, a := range e.To {
		to[i] = a.String()
	}
	subject := fmt.Sprintf("【%s】%s", m.Severity.Label(), shortTitle(m.Title))
	// A title is data: a line break in it must not start a header.
	subject = strings.Join(strings.Fields(subject), " ")
	sum := sha256.Sum256([]byte(m.ID))
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", e.From.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.BEncoding.Encode("UTF-8", subject))
	header("Date", now().In(loc).Format(time.RFC1123Z))
	// The id is the idempotency key: a retried delivery has the same
	// Message-ID, so a mail client shows it once.
	header("Message-ID", "<"+hex.EncodeToString(sum[:16])+"@yiping.notify>")
	header("X-Yiping-Message-Ids", mime.QEncoding.Encode("UTF-8", strings.Join(m.IDs(), " ")))
	header("MIME-Version", "1.0")
	files, left := e.attachments(m)
	text := renderText(m, loc)
	if len(left) > 0 {
		text += "\n附件过大，未随邮件发送（attachments too large, not attached）：" + strings.Join(left, "、") + "\n"
	}
	if len(files) == 0 {
		header("Content-Type", `text/plain; charset="UTF-8"`)
		header("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		writeBase64(&b, []byte(text))
		return b.Bytes()
	}
	// base64 and the headers below never hold "-": the boundary cannot
	// occur in a part.
	boundary := "yiping-" + hex.EncodeToString(sum[16:28])
	header("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("--" + boundary + "\r\n")
	header("Content-Type", `text/plain; charset="UTF-8"`)
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	writeBase64(&b, []byte(text))
	for _, f := range files {
		name := attachmentName(f.Name)
		ct := f.ContentType
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" || strings.ContainsAny(ct, "\r\n") {
			ct = "application/octet-stream"
		}
		b.WriteString("--" + boundary + "\r\n")
		// Folded between parameters: a long name stays under 998 bytes a
		// line.
		header("Content-Type", ct+";\r\n name="+quotedName(name))
		header("Content-Disposition", "attachment;\r\n filename="+quotedName(name)+";\r\n filename*=UTF-8''"+rfc2231(name))
		header("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		writeBase64(&b, f.Data)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// attachments are the files m carries within the cap, in order, and the
// names of those left out.
func (e *Email) attachments(m Message) (files []Attachment, left []string) {
	limit := e.MaxAttachments
	if limit <= 0 {
		limit = DefaultMaxAttachments
	}
	all := slices.Clone(m.Attachments)
	for _, p := range m.Parts {
		all = append(all, p.Attachments...)
	}
	var total int64
	for _, f := range all {
		if total+int64(len(f.Data)) > limit {
			left = append(left, fmt.Sprintf("%s（%d KiB）", attachmentName(f.Name), (len(f.Data)+1023)/1024))
			continue
		}
		total += int64(len(f.Data))
		files = append(files, f)
	}
	return files, left
}

// writeBase64 writes data in base64, 76 characters a line.
func writeBase64(b *bytes.Buffer, data []byte) {
	body := base64.StdEncoding.EncodeToString(data)
	for len(body) > 76 {
		b.WriteString(body[:76] + "\r\n")
		body = body[76:]
	}
	b.WriteString(body + "\r\n")
}

// attachmentName is a file name safe in a header and on a disk: no
// control characters, quotes, backslashes or path, at most 100 runes.
func attachmentName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '/':
			return '_'
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	if s == "" {
		s = "attachment"
	}
	return s
}

// quotedName is name as a quoted header parameter: as it is when it is
// printable ASCII, else an RFC 2047 encoded word (what older mail
// clients read).
func quotedName(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return `"` + mime.BEncoding.Encode("UTF-8", name) + `"`
		}
	}
	return `"` + name + `"`
}

// rfc2231 percent-encodes name for filename*=UTF-8”… (RFC 2231, RFC
// 5987): every byte but the unreserved ASCII ones.
func rfc2231(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// retrySMTP: a 4xx reply is temporary by definition, a 5xx permanent; a
// broken connection may pass.
func retrySMTP(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code < 500
	}
	return true
}

// retryTLS: a certificate that does not verify will not verify later; a
// broken handshake may pass.
func retryTLS(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	return !errors.As(err, &unknown) && !errors.As(err, &hostname) && !errors.As(err, &invalid) && !errors.As(err, &verify)
}

// loopback reports whether host is a loopback name or address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
