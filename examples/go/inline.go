//go:build inline

// The address plan through the Automation API's inline program host, for
// machines with the Pulumi CLI but no Go language plugin (with one, `pulumi
// preview` / `pulumi up` here do the same). Build it with `go build -tags
// inline`. The engine's progress goes to stderr; stdout gets one JSON document:
//
//	ipam-go-inline [--dir DIR] [--stack dev] [--expect-no-changes] preview|up|refresh|destroy
//
// preview: {"changeSummary", "steps": [{urn, op, type, inputs}]} (the planned
// CIDRs are in the inputs); up: {"summary", "outputs"}, after a preview as
// `pulumi up` does. State: PULUMI_BACKEND_URL, else file://DIR/.pulumi-ipam/state.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

type step struct {
	URN    string         `json:"urn"`
	Op     string         `json:"op"`
	Type   string         `json:"type"`
	Inputs map[string]any `json:"inputs"`
}

func main() {
	dir := flag.String("dir", ".", "the project directory (its Pulumi.yaml)")
	stackName := flag.String("stack", "dev", "the stack")
	expectNoChanges := flag.Bool("expect-no-changes", false, "fail if preview or up would change anything")
	flag.Parse()
	args := flag.Args()
	if len(args) > 0 {
		// Flags may also follow the command, as with the other runners.
		_ = flag.CommandLine.Parse(args[1:])
	}
	if len(args) == 0 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: ipam-go-inline [--dir DIR] [--stack NAME] [--expect-no-changes] preview|up|refresh|destroy")
		os.Exit(2)
	}
	command := args[0]
	result, err := run(context.Background(), *dir, *stackName, command, *expectNoChanges)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.MarshalIndent(result, "", "  ")
	fmt.Println(string(out))
}

func run(ctx context.Context, dir, stackName, command string, expectNoChanges bool) (any, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	backend := os.Getenv("PULUMI_BACKEND_URL")
	if backend == "" {
		backend = "file://" + filepath.Join(dir, ".pulumi-ipam", "state")
	}
	if state, ok := strings.CutPrefix(backend, "file://"); ok {
		if err := os.MkdirAll(state, 0o700); err != nil {
			return nil, err
		}
	}
	env := map[string]string{"PULUMI_BACKEND_URL": backend, "PULUMI_CONFIG_PASSPHRASE": os.Getenv("PULUMI_CONFIG_PASSPHRASE"), "PULUMI_SKIP_UPDATE_CHECK": "true"}
	// WorkDir: the project's Pulumi.yaml (name, plugins:) is used as it is.
	stack, err := auto.UpsertStackInlineSource(ctx, stackName, proj.Name.String(), addressPlan, auto.WorkDir(dir), auto.EnvVars(env))
	if err != nil {
		return nil, err
	}
	progress := os.Stderr
	previewOpts := []optpreview.Option{optpreview.Diff(), optpreview.Color("never"), optpreview.ProgressStreams(progress)}
	if expectNoChanges {
		previewOpts = append(previewOpts, optpreview.ExpectNoChanges())
	}
	switch command {
	case "preview":
		ch := make(chan events.EngineEvent)
		done := make(chan []step)
		go collect(ch, done)
		r, err := stack.Preview(ctx, append(previewOpts, optpreview.EventStreams(ch))...)
		steps := <-done
		if err != nil {
			return nil, err
		}
		return map[string]any{"changeSummary": r.ChangeSummary, "steps": steps}, nil
	case "up":
		if _, err := stack.Preview(ctx, previewOpts...); err != nil {
			return nil, err
		}
		upOpts := []optup.Option{optup.Diff(), optup.Color("never"), optup.ProgressStreams(progress)}
		if expectNoChanges {
			upOpts = append(upOpts, optup.ExpectNoChanges())
		}
		r, err := stack.Up(ctx, upOpts...)
		if err != nil {
			return nil, err
		}
		outputs := map[string]any{}
		for k, v := range r.Outputs {
			outputs[k] = v.Value
		}
		return map[string]any{"summary": r.Summary.ResourceChanges, "outputs": outputs}, nil
	case "refresh":
		r, err := stack.Refresh(ctx, optrefresh.Color("never"), optrefresh.ProgressStreams(progress))
		if err != nil {
			return nil, err
		}
		return map[string]any{"summary": r.Summary.ResourceChanges}, nil
	case "destroy":
		r, err := stack.Destroy(ctx, optdestroy.Color("never"), optdestroy.ProgressStreams(progress))
		if err != nil {
			return nil, err
		}
		return map[string]any{"summary": r.Summary.ResourceChanges}, nil
	}
	return nil, fmt.Errorf("unknown command %q: preview, up, refresh or destroy", command)
}

// collect keeps, per resource, the operation and the checked inputs preview
// shows (the planned cidr among them), until the engine closes the stream.
func collect(ch <-chan events.EngineEvent, done chan<- []step) {
	steps := []step{}
	for e := range ch {
		if e.ResourcePreEvent == nil {
			continue
		}
		m := e.ResourcePreEvent.Metadata
		s := step{URN: m.URN, Op: string(m.Op), Type: m.Type, Inputs: map[string]any{}}
		if m.New != nil {
			s.Inputs = m.New.Inputs
		}
		steps = append(steps, s)
	}
	done <- steps
}
