package ingest

import "github.com/yiping-ioc/yiping/record"

// Deprecated aliases while callers move to package record, the home of the
// record contract.
type (
	// Deprecated: use record.Batch.
	Batch = record.Batch
	// Deprecated: use record.CatalogReplacer.
	CatalogReplacer = record.CatalogReplacer
)
