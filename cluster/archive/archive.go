// Package archive shares the bulletin archive between the nodes of a
// cluster (issue 13): every PDF the leader archives is copied, with its
// sidecar, to a NATS JetStream object store, and a node that becomes the
// leader brings its own archive up to date from it before it schedules
// anything. Without it a new leader would not know what the previous one
// issued, issue those periods again and send them to the receivers twice.
//
// The node's directory archive (bulletin.Archive) stays what pages,
// downloads and deliveries read; the object store is the shared copy.
package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yiping-ioc/yiping/bulletin"
)

// DefaultBucket is the object store's name.
const DefaultBucket = "yiping-bulletins"

// Local is what sharing needs of a node's archive (*bulletin.Archive).
type Local interface {
	All() []bulletin.Entry
	Open(id string) (*os.File, bulletin.Entry, error)
	Put(e bulletin.Entry, pdf []byte) (bulletin.Entry, error)
}

// Ensure creates or updates the object store (file storage).
func Ensure(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (jetstream.ObjectStore, error) {
	if bucket == "" {
		bucket = DefaultBucket
	}
	if replicas <= 0 {
		replicas = 1
	}
	st, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: bucket, Description: "Yiping: the bulletins' PDFs and their sidecars, shared by the nodes",
		Storage: jetstream.FileStorage, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("archive: object store %s: %w", bucket, err)
	}
	return st, nil
}

// Share copies one archived entry to the store: the PDF first, then its
// sidecar, so a sidecar in the store always has its PDF.
func Share(ctx context.Context, st jetstream.ObjectStore, local Local, e bulletin.Entry) error {
	f, e, err := local.Open(e.ID)
	if err != nil {
		return fmt.Errorf("archive: share %s: %w", e.ID, err)
	}
	defer f.Close()
	if _, err := st.Put(ctx, jetstream.ObjectMeta{Name: e.ID + ".pdf"}, f); err != nil {
		return fmt.Errorf("archive: share %s: %w", e.ID, err)
	}
	meta, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := st.PutBytes(ctx, e.ID+".json", meta); err != nil {
		return fmt.Errorf("archive: share %s: %w", e.ID, err)
	}
	return nil
}

// Synced says what Sync moved.
type Synced struct{ Up, Down int }

// Sync brings the local archive and the store to the same entries, the
// later-generated version of an id winning either way: entries only the
// store has (or has newer) are written to the local archive, checked
// against their SHA-256; entries only the local archive has (a share that
// failed, or an archive from before the cluster) are shared.
func Sync(ctx context.Context, st jetstream.ObjectStore, local Local) (Synced, error) {
	var out Synced
	remote := map[string]bulletin.Entry{}
	infos, err := st.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return out, fmt.Errorf("archive: list: %w", err)
	}
	for _, in := range infos {
		if !strings.HasSuffix(in.Name, ".json") {
			continue
		}
		b, err := st.GetBytes(ctx, in.Name)
		if err != nil {
			return out, fmt.Errorf("archive: read %s: %w", in.Name, err)
		}
		var e bulletin.Entry
		if err := json.Unmarshal(b, &e); err != nil || e.ID+".json" != in.Name {
			return out, fmt.Errorf("archive: %s is not a sidecar of its name", in.Name)
		}
		remote[e.ID] = e
	}
	mine := map[string]bulletin.Entry{}
	for _, e := range local.All() {
		mine[e.ID] = e
	}
	for id, r := range remote {
		if l, ok := mine[id]; ok && (l.SHA256 == r.SHA256 || !r.GeneratedAt.After(l.GeneratedAt)) {
			continue
		}
		pdf, err := st.GetBytes(ctx, id+".pdf")
		if err != nil {
			return out, fmt.Errorf("archive: read %s.pdf: %w", id, err)
		}
		if sum := sha256.Sum256(pdf); hex.EncodeToString(sum[:]) != r.SHA256 {
			return out, fmt.Errorf("archive: %s.pdf does not match its sidecar's SHA-256", id)
		}
		if _, err := local.Put(r, pdf); err != nil {
			return out, err
		}
		out.Down++
	}
	for id, l := range mine {
		if r, ok := remote[id]; ok && (r.SHA256 == l.SHA256 || !l.GeneratedAt.After(r.GeneratedAt)) {
			continue
		}
		if err := Share(ctx, st, local, l); err != nil {
			return out, err
		}
		out.Up++
	}
	return out, nil
}
