#!/usr/bin/env python3
"""Drives `uyoop-install init` through its prompts on a pseudo-terminal, as an operator would.

    installer_init_tty.py BIN DIR

Answers each prompt in turn (typed values, defaults taken with Enter, a menu choice with the arrow
keys), including two invalid answers that must be refused and asked again, then checks the written
uyoop.yaml with `BIN check`. Prints the transcript's prompts and exits 1 on any failure.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn0uYoopExampleKeyNotARealOneAAAAAAAAAAAA tty@example"
ENTER, DOWN = "\r", "\x1b[B"

# (text the prompt shows, keys to send). An entry whose keys are refused comes with the message
# the refusal must show; the same prompt is then answered again.
SCRIPT: list[tuple[str, str, str | None]] = [
    ("Site name", "tty" + ENTER, None),
    ("Application DNS name", "cal.example.com" + ENTER, None),
    ("Provider", ENTER, None),  # proxmox, the default
    ("K3s servers", "4" + ENTER, "odd"),  # refused: even
    ("K3s servers", "\x7f5" + ENTER, None),  # backspace over the refused 4, then 5
    ("Size of each server", ENTER, None),
    ("K3s agents", ENTER, None),
    ("Size of each agent", "\x7f" * 12 + "8:32768:200" + ENTER, None),
    ("Node network CIDR", ENTER, None),
    ("Admin CIDR", ENTER, None),
    ("SSH public key", SSH_KEY + ENTER, None),
    ("Public certificate", DOWN + ENTER, None),  # the site's own CA
    ("Image registry kind", ENTER, None),
    ("Image registry", ENTER, None),
    ("mirror every upstream image", "n", None),
    ("SMTP relay host", "smtp.example.com" + ENTER, None),
    ("SMTP port", ENTER, None),
    ("Sender address", ENTER, None),
    ("SMTP user", "uyoop" + ENTER, None),
    ("SMTP password reference", "hunter2" + ENTER, "env:"),  # refused: a secret, not a reference
    ("SMTP password reference", "\x7f" * 7 + "env:UYOOP_SMTP_PASSWORD" + ENTER, None),
    ("Slack webhook reference", ENTER, None),
    ("S3 backup endpoint", ENTER, None),
    ("S3 backup bucket", ENTER, None),
    ("Application replicas", "4" + ENTER, None),
]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def main() -> int:
    binary, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    config = os.path.join(workdir, "uyoop.yaml")
    if os.path.exists(config):
        os.unlink(config)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(workdir)
        os.environ["TERM"] = "xterm"
        os.execv(binary, [binary, "init"])
    seen = ""

    def wait_for(text: str, timeout: float = 20.0) -> bool:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in ANSI.sub("", seen):
                return True
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536).decode(errors="replace")
                except OSError:
                    return text in ANSI.sub("", seen)
                seen += chunk
        return False

    for prompt, keys, refusal in SCRIPT:
        if not wait_for(prompt):
            print(f"prompt {prompt!r} never came; transcript:\n{ANSI.sub('', seen)[-2000:]}")
            return 1
        seen = ""
        print(f"prompt: {prompt}")
        time.sleep(0.1)  # the prompt has drawn itself; now type
        os.write(fd, keys.encode())
        if refusal is not None:
            if not wait_for(refusal):
                print(f"{keys!r} was not refused at {prompt!r}; transcript:\n{ANSI.sub('', seen)[-2000:]}")
                return 1
            print(f"  refused as expected ({refusal})")
    wait_for("next: uyoop-install check")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"init failed; transcript:\n{ANSI.sub('', seen)[-2000:]}")
        return 1
    text = open(config).read()
    expected = [
        'site: "tty"', "count: 5", "cpu: 8, memory_mb: 32768, disk_gb: 200", "mode: internal",
        'host: "smtp.example.com"', 'password: { env: "UYOOP_SMTP_PASSWORD" }', "kind: harbor",
        "mirror: false", "replicas: 4",
    ]
    missing = [e for e in expected if e not in text]
    if missing:
        print(f"uyoop.yaml lacks {missing}:\n{text}")
        return 1
    check = subprocess.run([binary, "check", "-c", config], capture_output=True, text=True)
    print(check.stdout.strip() or check.stderr.strip())
    return check.returncode


if __name__ == "__main__":
    sys.exit(main())
