package storage

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// bodyBuf is the size of the buffer copyBody fills before each write: a
// 1 MiB body takes four writes instead of the 32 of io.Copy's 32 KiB.
const bodyBuf = 256 << 10

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, bodyBuf); return &b }}

// copyBody copies a Put body from r to w, stopping as soon as ctx is done,
// and, when want >= 0, fails with ErrSizeMismatch unless exactly want bytes
// arrive (reading at most one byte more than that). It fills a pooled
// buffer before each write, so w sees few, large writes whatever sizes r
// returns; it never hands w the reader (no ReadFrom), which for an
// *os.File would copy through a 32 KiB buffer again.
func copyBody(ctx context.Context, w io.Writer, r io.Reader, want int64) error {
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	buf := *bp
	var n int64 // bytes written
	for {
		limit := len(buf)
		if want >= 0 && want+1-n < int64(limit) {
			limit = int(want + 1 - n) // at least 1: n never passes want
		}
		k := 0
		var rerr error
		for k < limit && rerr == nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			var m int
			m, rerr = r.Read(buf[k:limit])
			k += m
		}
		if want >= 0 && n+int64(k) > want {
			return fmt.Errorf("%w: body longer than the %d bytes announced", ErrSizeMismatch, want)
		}
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case want >= 0 && n < want:
		return fmt.Errorf("%w: body has %d of the %d bytes announced", ErrSizeMismatch, n, want)
	}
	return nil
}

// commit runs publish, through opt.Commit when one is set.
func commit(opt PutOptions, publish func() error) error {
	if opt.Commit != nil {
		return opt.Commit(publish)
	}
	return publish()
}
