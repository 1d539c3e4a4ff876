package storage

import (
	"context"
	"fmt"
	"io"
)

// copyBody copies a Put body from r to w, stopping as soon as ctx is done,
// and, when want >= 0, fails with ErrSizeMismatch unless exactly want bytes
// arrive (reading at most one byte more than that).
func copyBody(ctx context.Context, w io.Writer, r io.Reader, want int64) error {
	src := io.Reader(ctxReader{ctx, r})
	if want >= 0 {
		src = io.LimitReader(src, want+1)
	}
	n, err := io.Copy(w, src)
	switch {
	case err != nil:
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case want >= 0 && n > want:
		return fmt.Errorf("%w: body longer than the %d bytes announced", ErrSizeMismatch, want)
	case want >= 0 && n < want:
		return fmt.Errorf("%w: body has %d of the %d bytes announced", ErrSizeMismatch, n, want)
	}
	return nil
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// commit runs publish, through opt.Commit when one is set.
func commit(opt PutOptions, publish func() error) error {
	if opt.Commit != nil {
		return opt.Commit(publish)
	}
	return publish()
}
