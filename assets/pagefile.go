package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
)

// PageFile is a page's own script or style (the wall's, the sign-in
// page's, the phone page's), served at a path that names a hash of its
// content, so browsers may keep it for ever and a new build is fetched at
// once. It is an http.Handler serving the file at Path.
type PageFile struct {
	// Path is where the file is served: dir/name.<12 hex digits>.ext.
	Path        string
	body        []byte
	contentType string
}

// NewPageFile returns body as the page file name ("wall.js", "login.css")
// under dir ("/wall"). The content type follows the extension: .js or
// .css.
func NewPageFile(dir, name string, body []byte) PageFile {
	ext := path.Ext(name)
	sum := sha256.Sum256(body)
	ct := "text/css; charset=utf-8"
	if ext == ".js" {
		ct = "text/javascript; charset=utf-8"
	}
	return PageFile{
		Path:        strings.TrimSuffix(dir, "/") + "/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext,
		body:        body,
		contentType: ct,
	}
}

// ServeHTTP answers the file with an immutable cache lifetime.
func (f PageFile) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", immutableCC)
	w.Write(f.body)
}
