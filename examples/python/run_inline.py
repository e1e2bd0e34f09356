"""Runs this directory's __main__.py through the Automation API's inline
program host, for machines with the Pulumi CLI but no Python language plugin
(with one, `pulumi preview` / `pulumi up` here do the same). The engine's
progress goes to stderr; stdout gets one JSON document:

    python run_inline.py preview|up|refresh|destroy [--dir DIR] [--stack dev] [--expect-no-changes]

preview: {"changeSummary", "steps": [{urn, op, type, inputs}]} (the planned
CIDRs are in the inputs); up: {"summary", "outputs"}, after a preview as
`pulumi up` does. State: PULUMI_BACKEND_URL, else file://DIR/.pulumi-ipam/state.
"""
import argparse
import json
import os
import re
import runpy
import sys

from pulumi import automation as auto


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["preview", "up", "refresh", "destroy"])
    ap.add_argument("--dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--stack", default="dev")
    ap.add_argument("--expect-no-changes", action="store_true")
    a = ap.parse_args()
    work_dir = os.path.abspath(a.dir)
    with open(os.path.join(work_dir, "Pulumi.yaml")) as f:
        project = re.search(r"^name:\s*(\S+)", f.read(), re.M).group(1)
    backend = os.environ.get("PULUMI_BACKEND_URL") or "file://" + os.path.join(work_dir, ".pulumi-ipam", "state")
    if backend.startswith("file://"):
        os.makedirs(backend[len("file://"):], exist_ok=True)

    # Each operation runs the program afresh, as the language host would.
    def program() -> None:
        runpy.run_path(os.path.join(work_dir, "__main__.py"), run_name="__main__")

    env = {"PULUMI_BACKEND_URL": backend, "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", ""), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    # work_dir inside the options, or Pulumi.yaml (its plugins: block) is ignored.
    stack = auto.create_or_select_stack(
        stack_name=a.stack, project_name=project, program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=work_dir, env_vars=env),
    )
    out = lambda s: print(s, file=sys.stderr)  # noqa: E731
    events = []
    common = dict(color="never", on_output=out, expect_no_changes=a.expect_no_changes or None)
    if a.command == "preview":
        r = stack.preview(diff=True, on_event=events.append, **common)
        result = {"changeSummary": ops(r.change_summary), "steps": planned(events)}
    elif a.command == "up":
        stack.preview(diff=True, **common)
        r = stack.up(diff=True, **common)
        result = {"summary": ops(r.summary.resource_changes or {}), "outputs": {k: v.value for k, v in r.outputs.items()}}
    elif a.command == "refresh":
        r = stack.refresh(color="never", on_output=out)
        result = {"summary": ops(r.summary.resource_changes or {})}
    else:
        r = stack.destroy(color="never", on_output=out)
        result = {"summary": ops(r.summary.resource_changes or {})}
    print(json.dumps(result, indent=2))
    return 0


def ops(m) -> dict:
    return {getattr(k, "value", k): v for k, v in m.items()}


def planned(events) -> list:
    """Per resource: the operation and the checked inputs preview shows (the planned cidr among them)."""
    steps = []
    for e in events:
        if e.resource_pre_event is None:
            continue
        m = e.resource_pre_event.metadata
        steps.append({"urn": m.urn, "op": getattr(m.op, "value", m.op), "type": m.type, "inputs": dict(m.new.inputs) if m.new else {}})
    return steps


if __name__ == "__main__":
    try:
        sys.exit(main())
    except auto.CommandError as e:
        print(str(e), file=sys.stderr)
        sys.exit(1)
