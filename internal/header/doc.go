// Package header parses the request headers that WebDAV adds to HTTP
// (RFC 4918 §10) and evaluates the If header.
//
//   - Depth (§10.2), with the Windows "1,noroot" and "infinity,noroot" forms: [ParseDepth].
//   - Destination (§10.3) and the Request-URI itself, confined to a mount
//     prefix: [ParseDestination], [CleanPath].
//   - If (§10.4): [ParseIf] builds an [If]; [If.Eval] decides whether it holds
//     (§10.4.3, §10.4.4) and [If.SubmittedTokens] lists the lock tokens the
//     client submitted (§10.4.1, §7.2, §7.5).
//   - Lock-Token (§10.5): [ParseLockToken].
//   - Overwrite (§10.6): [ParseOverwrite].
//   - Timeout (§10.7): [ParseTimeout].
//   - X-OC-Mtime (ownCloud/Nextcloud, sent by rclone): [ParseXOCMtime].
//
// Every parser returns an error that matches one of the package's sentinel
// errors with [errors.Is]; all of them mean 400 Bad Request, except
// [ErrOutsidePrefix], which the server maps to 502 Bad Gateway for a
// Destination (RFC 4918 §9.8.5, §9.9.4) and to 404 for a Request-URI.
//
// The parsers are strict where a wrong guess could touch the wrong resource
// (encoded slashes, NUL, dot-segments that climb out, malformed If lists) and
// lenient where real clients deviate harmlessly (case of keywords, white
// space, unquoted entity tags echoed back from servers that sent them).
// The package has no state and is safe for concurrent use.
package header
