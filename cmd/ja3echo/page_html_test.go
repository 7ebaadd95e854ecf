package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTMLBuilder checks what each method writes: text escaped (the
// expected string is written out here), numbers and hex as digits, after
// whatever the buffer already held.
func TestHTMLBuilder(t *testing.T) {
	buf := bytes.NewBufferString("<p>kept</p>")
	b := &htmlBuilder{buf: buf}
	b.tag(`<td class="x">`)
	b.text(`<script>"a" & 'b'</script>` + "\x00")
	b.tag("</td>")
	b.int(-42)
	b.tag(" ")
	b.hex(0x1a, 2)
	b.tag(" ")
	b.hex(0xfe0d, 4)
	want := `<p>kept</p><td class="x">&lt;script&gt;&#34;a&#34; &amp; &#39;b&#39;&lt;/script&gt;` + "\uFFFD</td>-42 0x1a 0xfe0d"
	if got := buf.String(); got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

// TestHTMLBuilderIsTheOnlyBoundary enforces page_html.go's invariant in
// the package's source: nothing converts anything to template.HTML (or
// another html/template type that skips escaping, but CSS and JS for the
// embedded files in page_view.go), and nothing converts to markup: only
// constants become markup, which needs no conversion.
func TestHTMLBuilderIsTheOnlyBoundary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch fun := call.Fun.(type) {
			case *ast.Ident:
				if fun.Name == "markup" {
					t.Errorf("%s: conversion to markup: markup must only be constants", fset.Position(call.Pos()))
				}
			case *ast.SelectorExpr:
				pkg, ok := fun.X.(*ast.Ident)
				if !ok || pkg.Name != "template" {
					return true
				}
				switch fun.Sel.Name {
				case "HTML", "HTMLAttr", "URL", "Srcset", "JSStr":
					t.Errorf("%s: template.%s conversion", fset.Position(call.Pos()), fun.Sel.Name)
				case "CSS", "JS":
					if name != "page_view.go" {
						t.Errorf("%s: template.%s made outside page_view.go", fset.Position(call.Pos()), fun.Sel.Name)
					}
				}
			}
			return true
		})
	}
}
