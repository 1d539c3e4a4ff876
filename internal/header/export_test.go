package header

// CleanSlow exposes the general path of CleanPath to the tests, which
// check the fast path against it.
var CleanSlow = cleanSlow
