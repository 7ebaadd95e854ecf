package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTMLBuilder checks what each method writes: text escaped (the
// expected strings are written out here), numbers and hex as digits, and
// fragments cut at their boundaries.
func TestHTMLBuilder(t *testing.T) {
	b := &htmlBuilder{}
	var one, two template.HTML
	b.fragment(&one, func() {
		b.tag(`<td class="x">`)
		b.text(`<script>"a" & 'b'</script>` + "\x00")
		b.tag("</td>")
	})
	b.tag("between")
	b.fragment(&two, func() {
		b.int(-42)
		b.tag(" ")
		b.hex(0x1a, 2)
		b.tag(" ")
		b.hex(0xfe0d, 4)
	})
	n := b.fragments()
	if want := template.HTML(`<td class="x">&lt;script&gt;&#34;a&#34; &amp; &#39;b&#39;&lt;/script&gt;` + "\uFFFD</td>"); one != want {
		t.Errorf("first fragment = %q, want %q", one, want)
	}
	if want := template.HTML("-42 0x1a 0xfe0d"); two != want {
		t.Errorf("second fragment = %q, want %q", two, want)
	}
	if want := len(one) + len("between") + len(two); n != want {
		t.Errorf("fragments() = %d bytes, want %d", n, want)
	}
}

// TestHTMLBuilderIsTheOnlyBoundary enforces page_html.go's invariant in
// the package's source: no other file converts anything to template.HTML
// (or another html/template type that skips escaping, but CSS and JS for
// the embedded files in page_view.go), and nothing converts to markup: only
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
				case "HTML":
					if name != "page_html.go" {
						t.Errorf("%s: template.HTML made outside page_html.go", fset.Position(call.Pos()))
					}
				case "HTMLAttr", "URL", "Srcset", "JSStr":
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
