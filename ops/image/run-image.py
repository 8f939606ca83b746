#!/usr/bin/env python3
"""Runs an image tarball (`docker save` format, as Jib writes it) without Docker, for checking it.

Usage: run-image.py IMAGE.tar [-e NAME=VALUE ...] [-- ARG ...]

Unpacks the layers in order into a temporary root, mounts /proc and binds /dev, and runs the image's
entrypoint with its environment (plus -e overrides) and its command (or the ARGs) under chroot,
sharing this machine's network. Root only. Not isolation: a check that the image's own files (libc,
JRE, the app's layers) start the app, for machines and CI runners without a container engine.
"""
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    image, rest = args[0], args[1:]
    env_overrides, command = [], None
    while rest:
        a = rest.pop(0)
        if a == "-e":
            env_overrides.append(rest.pop(0))
        elif a == "--":
            command = rest
            rest = []
        else:
            sys.exit("unexpected argument: " + a)
    with tempfile.TemporaryDirectory(dir="/var/tmp") as work:
        with tarfile.open(image) as t:
            t.extractall(work)
        manifest = json.load(open(os.path.join(work, "manifest.json")))[0]
        config = json.load(open(os.path.join(work, manifest["Config"])))["config"]
        root = os.path.join(work, "rootfs")
        os.mkdir(root)
        for layer in manifest["Layers"]:
            with tarfile.open(os.path.join(work, layer)) as t:
                t.extractall(root, numeric_owner=True)
        env = dict(e.split("=", 1) for e in config.get("Env", []) + env_overrides)
        argv = config.get("Entrypoint", []) + (
            command if command is not None else config.get("Cmd", [])
        )
        for d in ("proc", "dev", "tmp"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        subprocess.run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], check=True)
        subprocess.run(["mount", "--bind", "/dev", os.path.join(root, "dev")], check=True)
        try:
            workdir = config.get("WorkingDir") or "/"
            proc = subprocess.Popen(
                ["chroot", root, "/usr/bin/env", "-i"]
                + [k + "=" + v for k, v in env.items()]
                + ["/bin/sh", "-c", 'cd "$0" && exec "$@"', workdir]
                + argv
            )
            # A stop request goes to the app (as a container engine's stop does), then we wait.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda s, f: proc.send_signal(s))
            proc.wait()
        finally:
            subprocess.run(["umount", os.path.join(root, "dev")])
            subprocess.run(["umount", os.path.join(root, "proc")])
        sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
