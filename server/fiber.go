package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// contextKey is the fasthttp user value under which Fiber hands the
// net/http request's context to fiber.
const contextKey = "yiping.request-context"

// Fiber returns a net/http handler that serves app, reading at most
// maxBody bytes of a request body (a body announced or found larger is
// answered 413 without being kept). It replaces fiber's adaptor, which
// copies any body whole before a handler can refuse it: a 200 MB POST
// without a token was read for seconds and grew the process by gigabytes.
//
// The request's context (its cancellation, and what middleware in front
// put in it, such as the caller's identity) reaches fiber handlers as
// c.UserContext() once UseRequestContext is installed on app.
func Fiber(app *fiber.App, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			TooLarge(w, maxBody)
			return
		}
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		if r.Body != nil && r.Body != http.NoBody {
			n, err := io.Copy(req.BodyWriter(), io.LimitReader(r.Body, maxBody+1))
			switch {
			case n > maxBody:
				TooLarge(w, maxBody)
				return
			case err != nil:
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					TooLarge(w, tooBig.Limit)
					return
				}
				http.Error(w, "reading the request body failed", http.StatusBadRequest)
				return
			}
			req.Header.SetContentLength(int(n))
		}
		req.Header.SetMethod(r.Method)
		req.SetRequestURI(r.RequestURI)
		req.SetHost(r.Host)
		for key, vals := range r.Header {
			for _, v := range vals {
				req.Header.Add(key, v)
			}
		}
		remote, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
		if err != nil {
			remote = &net.TCPAddr{IP: net.IPv4zero}
		}
		var fctx fasthttp.RequestCtx
		fctx.Init(req, remote, nil)
		fctx.SetUserValue(contextKey, r.Context())
		app.Handler()(&fctx)
		fctx.Response.Header.VisitAll(func(k, v []byte) {
			w.Header().Add(string(k), string(v))
		})
		w.WriteHeader(fctx.Response.StatusCode())
		w.Write(fctx.Response.Body())
	})
}

// UseRequestContext installs the middleware that makes the net/http
// request's context the fiber handlers' c.UserContext(). Install it first.
func UseRequestContext(app *fiber.App) {
	app.Use(func(c *fiber.Ctx) error {
		if ctx, ok := c.Context().UserValue(contextKey).(context.Context); ok {
			c.SetUserContext(ctx)
		}
		return c.Next()
	})
}

// TooLarge answers 413 with the limit, in Chinese and English, as the
// JSON error body every API answer has.
func TooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close") // the rest of the body is not read
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	json.NewEncoder(w).Encode(map[string]any{
		"error": fmt.Sprintf("请求体超过 %d 字节上限 / request body exceeds the limit of %d bytes", limit, limit),
		"limit": limit,
	})
}
