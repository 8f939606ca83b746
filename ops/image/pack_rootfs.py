#!/usr/bin/env python3
"""Packs a root file system folder into a one-layer image tarball in `docker save` format.

Usage: pack_rootfs.py ROOTFS OUT.tar TAG [ENV=VALUE ...]

The result is what Jib reads as a base image (`tar://OUT.tar`) and what `docker load` reads.
Owners and modes are kept, /proc, /sys and /dev are left empty (a container runtime mounts them),
timestamps are kept as they are on disk.
"""
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

EMPTY = {"proc", "sys", "dev", "run", "tmp"}


def layer(rootfs, out):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for top in sorted(os.listdir(rootfs)):
            path = os.path.join(rootfs, top)
            if top in EMPTY:
                info = tar.gettarinfo(path, arcname=top)
                info.mode = 0o1777 if top == "tmp" else info.mode
                tar.addfile(info)
                continue
            tar.add(path, arcname=top, recursive=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rootfs, out, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    env = sys.argv[4:]
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(out))) as work:
        layer_tar = os.path.join(work, "layer.tar")
        layer(rootfs, layer_tar)
        diff_id = sha256(layer_tar)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": env},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
            "history": [{"created_by": "debootstrap (ops/image/base-image.sh)"}],
        }
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        manifest = [
            {"Config": config_name, "RepoTags": [tag], "Layers": [diff_id + "/layer.tar"]}
        ]
        with tarfile.open(out, "w") as tar:
            tar.add(layer_tar, arcname=diff_id + "/layer.tar")
            for name, data in (
                (config_name, config_bytes),
                ("manifest.json", json.dumps(manifest).encode()),
            ):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    print(f"{out}: {tag}, layer sha256:{diff_id}, {os.path.getsize(out) >> 20} MiB")


if __name__ == "__main__":
    main()
