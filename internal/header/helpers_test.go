package header_test

import "strings"

func trim(s string) string { return strings.Trim(s, " \t\r\n") }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
