// Package client is a WebDAV (RFC 4918) client built on the multistatus
// package.
//
// A Client works below one base URL. Every call takes a context and a path
// relative to the base URL, a plain unescaped path that the client
// percent-encodes itself ("reports/2024 #1.txt" is sent as
// "reports/2024%20%231.txt"); the hrefs of answers are resolved back to
// absolute URLs and to paths of the same kind (Resource.Path).
//
// PropFind streams its answer: it returns an iterator that yields one
// Resource at a time as the Multi-Status body is read, so listings of any
// size take constant memory:
//
//	c, err := client.New("https://dav.example.com/files/", client.WithBasicAuth("ann", "secret"))
//	...
//	for res, err := range c.PropFind(ctx, "photos/", client.Depth1, client.StandardProps()) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(res.Path, res.Size, res.ModTime)
//	}
//
// Errors follow the answer's shape. An answer outside 2xx is a
// *StatusError with the status and the DAV:error conditions of its body; a
// Multi-Status answer reporting failed resources (a Delete of a collection
// with a locked member, a PropPatch of a protected property) is a
// *MultiError listing each failed href with its status and condition. Both
// match sentinel errors such as ErrNotFound and ErrLocked with errors.Is.
//
// Writes to locked resources carry the lock token with the WithLockToken
// request option, which sends it in an If header.
package client
