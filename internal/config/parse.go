package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one configuration problem: the key it concerns (such as
// "locations[1].path"), the file and line when known, and what is wrong.
type Error struct {
	File string // config file, "" when the key did not come from one
	Line int    // 1-based line, 0 when unknown
	Key  string // dotted key path; for overrides, the variable or flag
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of problems, reported together.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// ReadFile parses the config file at name (see Parse).
func ReadFile(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &Error{File: name, Msg: fmt.Sprintf("cannot read: %v", errors.Unwrap(err))}
	}
	return Parse(data, name)
}

// Parse decodes a YAML config. Unknown keys, wrong types, bad sizes and
// durations are errors naming the key and line. It neither applies
// defaults nor validates: see SetDefaults and Validate.
func Parse(data []byte, file string) (*Config, error) {
	c := &Config{file: file, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(err, file)
	}
	byLine := map[int]string{}
	if len(root.Content) > 0 {
		doc := root.Content[0]
		if doc.Kind != yaml.MappingNode && !(doc.Kind == yaml.ScalarNode && doc.Tag == "!!null") {
			return nil, Errors{{File: file, Line: doc.Line, Msg: "the config must be a mapping of keys to values"}}
		}
		index(doc, "", c.lines, byLine)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, syntaxError(err, file)
		}
		var es Errors
		for _, m := range te.Errors {
			es = append(es, typeProblem(m, file, byLine))
		}
		return nil, es
	}
	return c, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 syntax error into an Error with its line.
func syntaxError(err error, file string) error {
	msg := err.Error()
	e := &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	return Errors{e}
}

var (
	unknownRE = regexp.MustCompile(`^field (\S+) not found in type`)
	cannotRE  = regexp.MustCompile("^cannot unmarshal (!!\\w+) `(.*)` into (\\S+)$")
)

// typeProblem turns one yaml.v3 type error ("line 3: cannot unmarshal
// ...") into an Error naming the key found on that line.
func typeProblem(m, file string, byLine map[int]string) *Error {
	e := &Error{File: file, Msg: m}
	sm := lineRE.FindStringSubmatch(m)
	if sm == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(sm[1])
	e.Key, e.Msg = byLine[e.Line], sm[2]
	if u := unknownRE.FindStringSubmatch(e.Msg); u != nil {
		e.Msg = "unknown key"
	} else if u := cannotRE.FindStringSubmatch(e.Msg); u != nil {
		e.Msg = fmt.Sprintf("want %s, got %s %q", kindName(u[3]), yamlKind(u[1]), u[2])
	}
	return e
}

func kindName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "config."):
		return "a mapping"
	case strings.Contains(goType, "int"):
		return "an integer"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case goType == "string":
		return "a string"
	}
	return goType
}

func yamlKind(tag string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!str":
		return "the string"
	case "!!int":
		return "the number"
	case "!!bool":
		return "the boolean"
	}
	return strings.TrimPrefix(tag, "!!")
}

// index records the line of every key path (the line of its key) in lines,
// and for each line the deepest key path found on it in byLine.
func index(n *yaml.Node, path string, lines map[string]int, byLine map[int]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			lines[p] = k.Line
			byLine[k.Line] = p
			if v.Line != k.Line || v.Kind == yaml.ScalarNode {
				byLine[v.Line] = p
			}
			index(v, p, lines, byLine)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			lines[p] = v.Line
			if _, ok := byLine[v.Line]; !ok {
				byLine[v.Line] = p
			}
			index(v, p, lines, byLine)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			index(n.Alias, path, lines, byLine)
		}
	}
}

// errAt builds an Error for key, with its line when the file had it (or
// the line of the nearest enclosing key), or the variable or flag that set
// it.
func (c *Config) errAt(key, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if src, ok := c.sources[key]; ok {
		return &Error{Key: key + " (from " + src + ")", Msg: msg}
	}
	e := &Error{File: c.file, Key: key, Msg: msg}
	for k := key; k != ""; {
		if l, ok := c.lines[k]; ok {
			e.Line = l
			break
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return e
}

// ErrorAt returns an Error about key, located like Validate's errors, for
// checks made outside this package (the users file, certificates).
func (c *Config) ErrorAt(key, msg string) *Error { return c.errAt(key, "%s", msg) }
