// Command codegen writes the Node.js, Python and Go SDKs of the ipam package
// from schema.json, calling pkg/v3/codegen directly: `pulumi package gen-sdk`
// asks a language host for every language, and none is served here.
//
//	codegen -schema schema.json -out sdk
//
// writes <out>/nodejs, <out>/python and <out>/go, each emptied first so a
// property or resource removed from the schema leaves no file behind.
// <out>/go/go.mod and go.sum are not generated: they are kept beside the
// generated package (tidied by scripts/build-sdks.sh). The output depends on
// the schema alone: no timestamps, files written in sorted order.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool is the name the generated files' headers give as their generator.
const tool = "pulumi-ipam codegen"

// noLoader is the loader BindSpec and the generators require; the schema
// references no other package, so nothing is ever loaded through it.
type noLoader struct{}

var errNoRefs = errors.New("ipam's schema references no other package")

func (noLoader) LoadPackage(string, *semver.Version) (*schema.Package, error) { return nil, errNoRefs }
func (noLoader) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoRefs
}
func (noLoader) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoRefs
}
func (noLoader) LoadPackageReferenceV2(context.Context, *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, errNoRefs
}

// bind returns a freshly bound package: each generator records its language
// info on the package, so languages do not share one.
func bind(spec schema.PackageSpec) (*schema.Package, error) {
	pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return pkg, nil
}

func generate(lang string, spec schema.PackageSpec) (map[string][]byte, error) {
	pkg, err := bind(spec)
	if err != nil {
		return nil, err
	}
	switch lang {
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, nil, nil, false, noLoader{})
	case "python":
		return python.GeneratePackage(tool, pkg, nil, noLoader{})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	}
	return nil, fmt.Errorf("unknown language %q", lang)
}

// write writes files under dir in sorted order.
func write(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// kept are the files beside the generated ones that codegen leaves alone:
// the Go SDK's module files (the generator writes none).
var kept = map[string]bool{"go.mod": true, "go.sum": true}

// empty removes everything in dir but the kept files, so a property or
// resource removed from the schema leaves no file behind.
func empty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		if !kept[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func run(schemaPath, out string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	for _, lang := range []string{"nodejs", "python", "go"} {
		files, err := generate(lang, spec)
		if err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		dir := filepath.Join(out, lang)
		if err := empty(dir); err != nil {
			return err
		}
		if err := write(dir, files); err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
	}
	return nil
}

func main() {
	schemaPath := flag.String("schema", "schema.json", "the package schema")
	out := flag.String("out", "sdk", "the directory the SDKs are written into")
	flag.Parse()
	if err := run(*schemaPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "codegen:", err)
		os.Exit(1)
	}
}
