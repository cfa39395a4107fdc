// Package collectors keeps Yiping's indicators current from the platform's
// systems: every configured source has a connector, a schedule (cron with
// seconds), a field mapping and a persisted cursor, and a Runner runs them.
//
// The design follows telegraf's inputs. A connector knows only its remote
// system: it reads rows and hands them to an Accumulator, reports a partial
// failure with AddError and goes on, and tells where to resume with
// Checkpoint. Everything else belongs to the runner: field mapping and
// validation (record.Parser has the last word on every value), the durable
// journal, filing records into the engine, cursors, panics, overlapping
// runs, backoff after failures, timing, health and metrics.
//
// The order of a commit is what makes intake lossless and exact:
//
//	rows → mapping → record.Parser → journal append + fsync → engine upsert → cursor persisted
//
// A cursor is stored only after the records before it are in the journal,
// and the engine upserts by id, so a crash at any point loses nothing and a
// record delivered twice is counted once.
//
// The built-in connectors live one per folder (httppull, push, filedrop,
// sqlsource) and are listed in collectors/all.
package collectors

import (
	"context"
	"log/slog"

	"github.com/yiping-ioc/yiping/record"
)

// Connector collects records from one source system.
type Connector interface {
	// Collect delivers into acc the records that changed since cursor (""
	// on the first run) and returns the cursor to resume from next time.
	// It should call acc.Checkpoint after each page or file, so that a
	// long catch-up that fails half-way resumes from its last checkpoint.
	// Rows added after the last checkpoint of a failed run are dropped:
	// the source delivers them again from the unchanged cursor.
	Collect(ctx context.Context, cursor string, acc Accumulator) (string, error)
}

// Receiver is implemented by connectors that are not polled: their records
// arrive on their own (the push intake) and are handed to Runner.Ingest.
// Their sources have no schedule, and the runner never calls Collect.
type Receiver interface {
	Connector
	// Receives is a marker; it does nothing.
	Receives()
}

// Accumulator receives the rows of one run (or one pushed request). It is
// not safe for concurrent use: one goroutine feeds it.
type Accumulator interface {
	// Fields returns the source names to read for kind k, after the
	// source's field mapping, in the order AddRow takes values.
	Fields(k record.Kind) []string
	// AddRow maps and checks one row of kind k, its values aligned to
	// Fields(k); it does not keep the slice. A row that cannot be read is
	// counted as a reject and returned as a *record.FieldError naming the
	// canonical field; the connector reports it if it can and goes on.
	AddRow(k record.Kind, values []string) error
	// Reject counts a row the connector could not even split into values
	// (bad quoting, invalid JSON), with the field concerned if any.
	Reject(k record.Kind, field, reason string)
	// AddError reports a partial failure (one file unreadable, one page
	// skipped); the run goes on and is marked partial.
	AddError(err error)
	// BeginCatalog says that the item rows added from now until the next
	// Flush or Checkpoint are a whole catalog: committed together, they
	// replace the catalog instead of being upserted into it.
	BeginCatalog()
	// Flush commits the rows added so far: journal, then engine.
	Flush(ctx context.Context) error
	// Checkpoint flushes, then persists cursor as the source's resume
	// point. After it returns nil, a restart resumes from cursor.
	Checkpoint(ctx context.Context, cursor string) error
}

// Env is what a connector is built with besides its own options.
type Env struct {
	// Name is the source's name.
	Name string
	// Dir is the directory of the configuration file; relative paths in
	// options are relative to it.
	Dir string
	// Logger is the source's logger.
	Logger *slog.Logger
	// Getenv reads environment variables, for options that name one
	// (token_env). It is os.Getenv unless a test replaces it.
	Getenv func(string) string
}

// Type is a kind of connector that configuration can name ("httppull"):
// how to make its options with defaults, and how to build it from them.
type Type struct {
	newOptions func() any
	build      func(opts any, env Env) (Connector, error)
}

// NewType describes a connector type. defaults returns a fresh options
// struct with its default values; the source's options block is decoded
// into it (strictly: unknown keys are errors), then build makes the
// connector and checks the options.
func NewType[O any](defaults func() *O, build func(opts *O, env Env) (Connector, error)) Type {
	return Type{
		newOptions: func() any { return defaults() },
		build:      func(opts any, env Env) (Connector, error) { return build(opts.(*O), env) },
	}
}

// Types maps a type name, as written in a source's "type" key, to its Type.
type Types map[string]Type
