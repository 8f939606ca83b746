#!/bin/sh
# Builds the gateway image's base without Docker and without Docker Hub: Debian bookworm (glibc,
# which ONNX Runtime's native library needs) with Debian's OpenJDK 17 JRE, installed by
# debootstrap from Debian's package archive, packed into a `docker save` tarball that Jib takes as
# its base (tar://...). Needs root (debootstrap) and python3. Takes a few minutes.
#
#   sudo ops/image/base-image.sh [OUT.tar]          # default: gateway/target/distill-base.tar
#   mvn -B -Pimage -pl gateway -am package -DskipTests \
#       -Ddistill.image.base=tar://$PWD/gateway/target/distill-base.tar
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../gateway/target/distill-base.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/distill-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$(dirname "$out")"
debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
  bookworm "$root" "$mirror"
# What a running container never needs: package caches and lists, documentation.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/usr/share/locale/*
python3 "$here/pack_rootfs.py" "$root" "$out" distill-base:bookworm-jre17 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 LANG=C.UTF-8
