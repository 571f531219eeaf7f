#!/usr/bin/env python3
"""Copy each policy's src.rego into its template.yaml (the `rego: |` block under code[].source).

src.rego is the source of truth; the ConstraintTemplate carries a copy because Gatekeeper cannot
read files. Usage:

    policies/sync-templates.py          # rewrite every template.yaml whose copy is stale
    policies/sync-templates.py --check  # exit 1 and name the stale ones, change nothing

`cargo test -p uyoop-install --test policies` fails on a stale copy too; this script fixes it.
Standard library only, so it runs anywhere python3 does.
"""

import pathlib
import re
import sys

POLICIES = pathlib.Path(__file__).resolve().parent
REGO_KEY = re.compile(r"^(?P<indent>\s*)rego: \|$")


def embed(template: str, rego: str, where: pathlib.Path) -> str:
    """Returns `template` with the block after its single `rego: |` line replaced by `rego`."""
    lines = template.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if REGO_KEY.match(line.rstrip("\n"))]
    if len(starts) != 1:
        sys.exit(f"{where}: expected exactly one `rego: |` line, found {len(starts)}")
    start = starts[0]
    key_indent = len(REGO_KEY.match(lines[start].rstrip("\n")).group("indent"))
    end = start + 1
    # The block runs while lines are blank or indented deeper than the `rego:` key.
    while end < len(lines):
        line = lines[end]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= key_indent:
            break
        end += 1
    pad = " " * (key_indent + 2)
    body = [(pad + line if line.strip() else "\n") for line in rego.splitlines(keepends=True)]
    return "".join(lines[: start + 1] + body + lines[end:])


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for folder in sorted(p for p in POLICIES.iterdir() if p.is_dir()):
        template_path = folder / "template.yaml"
        rego = (folder / "src.rego").read_text()
        if not rego.endswith("\n") or rego.endswith("\n\n"):
            sys.exit(f"{folder / 'src.rego'}: must end with exactly one newline")
        current = template_path.read_text()
        wanted = embed(current, rego, template_path)
        if wanted != current:
            stale.append(template_path)
            if not check:
                template_path.write_text(wanted)
    for path in stale:
        print(f"{'stale' if check else 'updated'}: {path.relative_to(POLICIES.parent)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
