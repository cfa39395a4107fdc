package sqlsource

import (
	"context"
	_ "embed"

	"github.com/yiping-ioc/yiping/collectors"
)

// This file is the only one that knows the collectors framework: the
// connector itself works against the small Accumulator interface above.

// Sample is a documented example configuration of an SQL source.
//
//go:embed sample.yaml
var Sample string

// TypeName is the connector type's name in configuration ("type: sql").
const TypeName = "sql"

// Type is the "sql" connector type, for collectors.Types.
func Type() collectors.Type {
	return collectors.NewType(func() *Options { return &Options{} }, func(o *Options, env collectors.Env) (collectors.Connector, error) {
		s, err := New(*o, env.Getenv, env.Logger)
		if err != nil {
			return nil, err
		}
		return connector{s}, nil
	})
}

// connector adapts Source to collectors.Connector.
type connector struct{ *Source }

var _ collectors.Connector = connector{}

// Collect implements collectors.Connector.
func (c connector) Collect(ctx context.Context, cursor string, acc collectors.Accumulator) (string, error) {
	return c.Source.Collect(ctx, cursor, acc)
}
