package janus

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The chat-template subset of Jinja that tokenizer_config.json chat templates
// use: text, {{ expr }}, {% for x in xs %}…{% endfor %} (with loop.first,
// loop.last, loop.index, loop.index0), {% if %}/{% elif %}/{% else %}/{% endif %},
// {% set x = expr %}, {# comments #}, whitespace control with '-', and
// expressions over strings, numbers, booleans, none, lists and maps: literals,
// names, .attr and [index], + and ~ (concatenation), == != < > <= >= in, not in,
// and, or, not, is [not] defined / none / string, filters trim, length, upper,
// lower, and raise_exception(msg). Anything else is an error, never a panic.

type tmplNode interface{}

type textNode string
type outNode struct{ e expr }
type setNode struct {
	name string
	e    expr
}
type forNode struct {
	v    string
	list expr
	body []tmplNode
}
type ifNode struct {
	conds  []expr
	bodies [][]tmplNode // len(bodies) == len(conds) or len(conds)+1 (else)
}

type tmplToken struct {
	kind byte // 't' text, 'o' output, 's' statement
	s    string
}

func lexTemplate(src string) ([]tmplToken, error) {
	var toks []tmplToken
	trimNext := false
	for len(src) > 0 {
		i := strings.Index(src, "{")
		for i >= 0 && (i+1 >= len(src) || (src[i+1] != '{' && src[i+1] != '%' && src[i+1] != '#')) {
			j := strings.Index(src[i+1:], "{")
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		text := src
		if i >= 0 {
			text = src[:i]
		}
		if trimNext {
			text = strings.TrimLeftFunc(text, unicode.IsSpace)
			trimNext = false
		}
		if i < 0 {
			toks = append(toks, tmplToken{'t', text})
			break
		}
		open := src[i+1]
		close := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[open]
		body := src[i+2:]
		if strings.HasPrefix(body, "-") {
			text = strings.TrimRightFunc(text, unicode.IsSpace)
			body = body[1:]
		}
		toks = append(toks, tmplToken{'t', text})
		end := strings.Index(body, close)
		if end < 0 {
			return nil, fmt.Errorf("janus: chat template: unclosed %q", "{"+string(open))
		}
		inner := body[:end]
		if strings.HasSuffix(inner, "-") {
			inner = inner[:len(inner)-1]
			trimNext = true
		}
		src = body[end+2:]
		switch open {
		case '{':
			toks = append(toks, tmplToken{'o', strings.TrimSpace(inner)})
		case '%':
			toks = append(toks, tmplToken{'s', strings.TrimSpace(inner)})
		}
	}
	return toks, nil
}

type tmplParser struct {
	toks []tmplToken
	pos  int
}

// parseBody parses nodes until a statement whose first word is in stops.
func (p *tmplParser) parseBody(stops ...string) ([]tmplNode, string, error) {
	var out []tmplNode
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		p.pos++
		switch t.kind {
		case 't':
			if t.s != "" {
				out = append(out, textNode(t.s))
			}
		case 'o':
			e, err := parseExpr(t.s)
			if err != nil {
				return nil, "", err
			}
			out = append(out, outNode{e})
		case 's':
			word, rest, _ := strings.Cut(t.s, " ")
			rest = strings.TrimSpace(rest)
			for _, s := range stops {
				if word == s {
					return out, t.s, nil
				}
			}
			switch word {
			case "set":
				name, val, ok := strings.Cut(rest, "=")
				if !ok {
					return nil, "", fmt.Errorf("janus: chat template: bad set %q", t.s)
				}
				e, err := parseExpr(val)
				if err != nil {
					return nil, "", err
				}
				out = append(out, setNode{strings.TrimSpace(name), e})
			case "for":
				v, list, ok := strings.Cut(rest, " in ")
				if !ok {
					return nil, "", fmt.Errorf("janus: chat template: bad for %q", t.s)
				}
				e, err := parseExpr(list)
				if err != nil {
					return nil, "", err
				}
				body, _, err := p.parseBody("endfor")
				if err != nil {
					return nil, "", err
				}
				out = append(out, forNode{strings.TrimSpace(v), e, body})
			case "if":
				n := ifNode{}
				cond := rest
				for {
					e, err := parseExpr(cond)
					if err != nil {
						return nil, "", err
					}
					body, stop, err := p.parseBody("elif", "else", "endif")
					if err != nil {
						return nil, "", err
					}
					n.conds = append(n.conds, e)
					n.bodies = append(n.bodies, body)
					w, r, _ := strings.Cut(stop, " ")
					if w == "elif" {
						cond = r
						continue
					}
					if w == "else" {
						body, _, err := p.parseBody("endif")
						if err != nil {
							return nil, "", err
						}
						n.bodies = append(n.bodies, body)
					}
					break
				}
				out = append(out, n)
			default:
				return nil, "", fmt.Errorf("janus: chat template: unsupported statement %q", t.s)
			}
		}
	}
	if len(stops) > 0 {
		return nil, "", fmt.Errorf("janus: chat template: missing {%% %s %%}", stops[len(stops)-1])
	}
	return out, "", nil
}

// RenderTemplate renders a chat template with the given variables.
func RenderTemplate(src string, vars map[string]any) (string, error) {
	toks, err := lexTemplate(src)
	if err != nil {
		return "", err
	}
	p := &tmplParser{toks: toks}
	nodes, _, err := p.parseBody()
	if err != nil {
		return "", err
	}
	scope := map[string]any{}
	for k, v := range vars {
		scope[k] = v
	}
	var b strings.Builder
	if err := execNodes(nodes, scope, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

func execNodes(nodes []tmplNode, scope map[string]any, b *strings.Builder) error {
	for _, n := range nodes {
		switch n := n.(type) {
		case textNode:
			b.WriteString(string(n))
		case outNode:
			v, err := n.e.eval(scope)
			if err != nil {
				return err
			}
			b.WriteString(toString(v))
		case setNode:
			v, err := n.e.eval(scope)
			if err != nil {
				return err
			}
			scope[n.name] = v
		case forNode:
			lv, err := n.list.eval(scope)
			if err != nil {
				return err
			}
			list, ok := lv.([]any)
			if !ok && lv != nil {
				return fmt.Errorf("janus: chat template: cannot loop over %T", lv)
			}
			saved, had := scope[n.v]
			savedLoop, hadLoop := scope["loop"]
			for i, item := range list {
				scope[n.v] = item
				scope["loop"] = map[string]any{"index0": float64(i), "index": float64(i + 1), "first": i == 0, "last": i == len(list)-1, "length": float64(len(list))}
				if err := execNodes(n.body, scope, b); err != nil {
					return err
				}
			}
			restore(scope, n.v, saved, had)
			restore(scope, "loop", savedLoop, hadLoop)
		case ifNode:
			for i, c := range n.conds {
				v, err := c.eval(scope)
				if err != nil {
					return err
				}
				if truthy(v) {
					if err := execNodes(n.bodies[i], scope, b); err != nil {
						return err
					}
					goto next
				}
			}
			if len(n.bodies) > len(n.conds) {
				if err := execNodes(n.bodies[len(n.conds)], scope, b); err != nil {
					return err
				}
			}
		next:
		}
	}
	return nil
}

func restore(scope map[string]any, k string, v any, had bool) {
	if had {
		scope[k] = v
	} else {
		delete(scope, k)
	}
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// undefined marks a missing name or key (falsy, renders as "").
type undefined struct{}

// Expressions.

type expr interface {
	eval(scope map[string]any) (any, error)
}

type litExpr struct{ v any }
type nameExpr string
type binExpr struct {
	op   string
	a, b expr
}
type notExpr struct{ a expr }
type indexExpr struct{ a, i expr }
type filterExpr struct {
	a    expr
	name string
}
type testExpr struct {
	a    expr
	name string
	neg  bool
}
type callExpr struct {
	name string
	args []expr
}
type listExpr []expr

func (e litExpr) eval(map[string]any) (any, error) { return e.v, nil }
func (e nameExpr) eval(s map[string]any) (any, error) {
	if v, ok := s[string(e)]; ok {
		return v, nil
	}
	return undefined{}, nil
}
func (e listExpr) eval(s map[string]any) (any, error) {
	out := make([]any, len(e))
	for i, x := range e {
		v, err := x.eval(s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
func (e notExpr) eval(s map[string]any) (any, error) {
	v, err := e.a.eval(s)
	return !truthy(v), err
}
func (e indexExpr) eval(s map[string]any) (any, error) {
	a, err := e.a.eval(s)
	if err != nil {
		return nil, err
	}
	i, err := e.i.eval(s)
	if err != nil {
		return nil, err
	}
	switch a := a.(type) {
	case map[string]any:
		if k, ok := i.(string); ok {
			if v, ok := a[k]; ok {
				return v, nil
			}
		}
		return undefined{}, nil
	case []any:
		if f, ok := i.(float64); ok {
			n := int(f)
			if n < 0 {
				n += len(a)
			}
			if n >= 0 && n < len(a) {
				return a[n], nil
			}
		}
		return undefined{}, nil
	}
	return undefined{}, nil
}
func (e filterExpr) eval(s map[string]any) (any, error) {
	v, err := e.a.eval(s)
	if err != nil {
		return nil, err
	}
	switch e.name {
	case "trim":
		return strings.TrimSpace(toString(v)), nil
	case "upper":
		return strings.ToUpper(toString(v)), nil
	case "lower":
		return strings.ToLower(toString(v)), nil
	case "length":
		switch v := v.(type) {
		case string:
			return float64(len([]rune(v))), nil
		case []any:
			return float64(len(v)), nil
		case map[string]any:
			return float64(len(v)), nil
		}
		return float64(0), nil
	}
	return nil, fmt.Errorf("janus: chat template: unsupported filter %q", e.name)
}
func (e testExpr) eval(s map[string]any) (any, error) {
	v, err := e.a.eval(s)
	if err != nil {
		return nil, err
	}
	var r bool
	switch e.name {
	case "defined":
		_, u := v.(undefined)
		r = !u
	case "none":
		r = v == nil
	case "string":
		_, r = v.(string)
	default:
		return nil, fmt.Errorf("janus: chat template: unsupported test %q", e.name)
	}
	return r != e.neg, nil
}
func (e callExpr) eval(s map[string]any) (any, error) {
	if e.name == "raise_exception" {
		msg := ""
		if len(e.args) > 0 {
			v, err := e.args[0].eval(s)
			if err != nil {
				return nil, err
			}
			msg = toString(v)
		}
		return nil, errors.New("janus: chat template: " + msg)
	}
	return nil, fmt.Errorf("janus: chat template: unsupported function %q", e.name)
}
func (e binExpr) eval(s map[string]any) (any, error) {
	a, err := e.a.eval(s)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "and":
		if !truthy(a) {
			return a, nil
		}
		return e.b.eval(s)
	case "or":
		if truthy(a) {
			return a, nil
		}
		return e.b.eval(s)
	}
	b, err := e.b.eval(s)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "~":
		return toString(a) + toString(b), nil
	case "+":
		if x, ok := a.(float64); ok {
			if y, ok := b.(float64); ok {
				return x + y, nil
			}
		}
		if x, ok := a.([]any); ok {
			if y, ok := b.([]any); ok {
				return append(append([]any(nil), x...), y...), nil
			}
		}
		xs, ok1 := a.(string)
		ys, ok2 := b.(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("janus: chat template: cannot add %T and %T", a, b)
		}
		return xs + ys, nil
	case "==":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case "in", "not in":
		var r bool
		switch b := b.(type) {
		case string:
			r = strings.Contains(b, toString(a))
		case []any:
			for _, x := range b {
				r = r || equal(a, x)
			}
		case map[string]any:
			_, r = b[toString(a)]
		}
		return r == (e.op == "in"), nil
	case "<", ">", "<=", ">=":
		x, ok1 := a.(float64)
		y, ok2 := b.(float64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("janus: chat template: cannot compare %T and %T", a, b)
		}
		return map[string]bool{"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[e.op], nil
	}
	return nil, fmt.Errorf("janus: chat template: operator %q", e.op)
}

func equal(a, b any) bool {
	if _, u := a.(undefined); u {
		a = nil
	}
	if _, u := b.(undefined); u {
		b = nil
	}
	switch x := a.(type) {
	case string, float64, bool, nil:
		return a == b || (x == nil && b == nil)
	}
	return false
}

// Expression parser: a small recursive descent over lexed tokens.

type exprParser struct {
	toks []string
	pos  int
}

func lexExpr(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(s[j])
					}
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("janus: chat template: unterminated string in %q", s)
			}
			toks = append(toks, "\x00"+b.String())
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			if i+1 < len(s) && strings.Contains("== != <= >=", s[i:i+2]) {
				toks = append(toks, s[i:i+2])
				i += 2
			} else if strings.IndexByte("+~<>()[].|,", c) >= 0 {
				toks = append(toks, string(c))
				i++
			} else {
				return nil, fmt.Errorf("janus: chat template: unexpected %q in %q", c, s)
			}
		}
	}
	return toks, nil
}

func parseExpr(s string) (expr, error) {
	toks, err := lexExpr(s)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("janus: chat template: unexpected %q in %q", p.toks[p.pos], s)
	}
	return e, nil
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) next() string { t := p.peek(); p.pos++; return t }

func (p *exprParser) expect(t string) error {
	if p.peek() != t {
		return fmt.Errorf("janus: chat template: expected %q, got %q", t, p.peek())
	}
	p.pos++
	return nil
}

func (p *exprParser) or() (expr, error) {
	a, err := p.and()
	for err == nil && p.peek() == "or" {
		p.pos++
		var b expr
		b, err = p.and()
		a = binExpr{"or", a, b}
	}
	return a, err
}

func (p *exprParser) and() (expr, error) {
	a, err := p.not()
	for err == nil && p.peek() == "and" {
		p.pos++
		var b expr
		b, err = p.not()
		a = binExpr{"and", a, b}
	}
	return a, err
}

func (p *exprParser) not() (expr, error) {
	if p.peek() == "not" {
		p.pos++
		a, err := p.not()
		return notExpr{a}, err
	}
	return p.cmp()
}

func (p *exprParser) cmp() (expr, error) {
	a, err := p.add()
	if err != nil {
		return nil, err
	}
	for {
		switch op := p.peek(); op {
		case "==", "!=", "<", ">", "<=", ">=", "in":
			p.pos++
			b, err := p.add()
			if err != nil {
				return nil, err
			}
			a = binExpr{op, a, b}
		case "not":
			if p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "in" {
				p.pos += 2
				b, err := p.add()
				if err != nil {
					return nil, err
				}
				a = binExpr{"not in", a, b}
				continue
			}
			return a, nil
		case "is":
			p.pos++
			neg := p.peek() == "not"
			if neg {
				p.pos++
			}
			a = testExpr{a, p.next(), neg}
		default:
			return a, nil
		}
	}
}

func (p *exprParser) add() (expr, error) {
	a, err := p.postfix()
	for err == nil && (p.peek() == "+" || p.peek() == "~") {
		op := p.next()
		var b expr
		b, err = p.postfix()
		a = binExpr{op, a, b}
	}
	return a, err
}

func (p *exprParser) postfix() (expr, error) {
	a, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch p.peek() {
		case ".":
			p.pos++
			a = indexExpr{a, litExpr{p.next()}}
		case "[":
			p.pos++
			i, err := p.or()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			a = indexExpr{a, i}
		case "|":
			p.pos++
			a = filterExpr{a, p.next()}
		default:
			return a, nil
		}
	}
}

func (p *exprParser) primary() (expr, error) {
	t := p.next()
	switch {
	case t == "":
		return nil, errors.New("janus: chat template: expression ends early")
	case t[0] == 0:
		return litExpr{t[1:]}, nil
	case t[0] >= '0' && t[0] <= '9':
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("janus: chat template: bad number %q", t)
		}
		return litExpr{f}, nil
	case t == "(":
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	case t == "[":
		var l listExpr
		for p.peek() != "]" {
			e, err := p.or()
			if err != nil {
				return nil, err
			}
			l = append(l, e)
			if p.peek() == "," {
				p.pos++
			}
		}
		p.pos++
		return l, nil
	case t == "true" || t == "True":
		return litExpr{true}, nil
	case t == "false" || t == "False":
		return litExpr{false}, nil
	case t == "none" || t == "None":
		return litExpr{nil}, nil
	case t == "_" || unicode.IsLetter(rune(t[0])):
		if p.peek() == "(" {
			p.pos++
			var args []expr
			for p.peek() != ")" {
				if p.peek() == "" {
					return nil, errors.New("janus: chat template: unclosed call")
				}
				e, err := p.or()
				if err != nil {
					return nil, err
				}
				args = append(args, e)
				if p.peek() == "," {
					p.pos++
				}
			}
			p.pos++
			return callExpr{t, args}, nil
		}
		return nameExpr(t), nil
	}
	return nil, fmt.Errorf("janus: chat template: unexpected %q", t)
}
