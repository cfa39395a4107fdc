package push

import "github.com/yiping-ioc/yiping/collectors"

// Authorizer returns a check of an Authorization header against the tokens
// of every push source of in, for a server that must refuse an unknown
// caller before reading its body (the handler checks again). It is false
// for every header when no push source is configured.
func Authorizer(in Intake) func(authorization string) bool {
	var clients []client
	for _, s := range in.Sources() {
		if p, ok := s.Connector.(*Source); ok {
			clients = append(clients, client{name: s.Name, src: p})
		}
	}
	return func(h string) bool {
		_, ok := authenticate(h, clients)
		return ok
	}
}

// MaxBody is the largest body any push source of in accepts, for the
// router's limit in front of the intake (at least DefaultMaxBodyBytes).
func MaxBody(in Intake) int64 {
	n := int64(DefaultMaxBodyBytes)
	for _, s := range in.Sources() {
		if p, ok := s.Connector.(*Source); ok && int64(p.opts.MaxBodyBytes) > n {
			n = int64(p.opts.MaxBodyBytes)
		}
	}
	return n
}

var _ Intake = (*collectors.Runner)(nil)
