#!/usr/bin/env bash
# For machines that cannot pull from an image registry (CI here, air-gapped sites): build the
# Debian base images our Dockerfiles start FROM by debootstrapping a minimal root and importing
# it under the same name, and install the docker compose v2 and buildx plugins from Debian if
# the docker client lacks them. Images already present are kept (they are the cache between
# runs). A machine that can pull needs none of this: `docker compose build` pulls the bases.
#
#   sudo docker/local-base-images.sh            # mirror: $DEBIAN_MIRROR or deb.debian.org
set -euo pipefail
cd "$(dirname "$0")"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Keep these two names in step with the ARGs at the top of the Dockerfiles.
stable_tag=$(sed -n 's/^ARG DEBIAN_STABLE=//p' app/Dockerfile)
sid_tag=$(sed -n 's/^ARG DEBIAN_SID=//p' asterisk/Dockerfile)

remove_root() { # never follow a mount debootstrap left behind (/proc, /sys, /dev)
  awk -v root="$1/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l
  rm -rf --one-file-system "$1"
}

base() {
  local tag=$1 suite=$2 root
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag: present"
    return
  fi
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
  root=$(mktemp -d /var/tmp/cc-base-root.XXXXXX)
  trap 'remove_root "$root"' RETURN
  echo "base image $tag: debootstrap $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >/dev/null
  if [ "$suite" != sid ]; then
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
      "$mirror" "$suite" "$mirror" "$suite" "$suite" >"$root/etc/apt/sources.list"
  fi
  # The mirror may be a frozen snapshot whose Release files are past their Valid-Until (this
  # machine's is): apt in images built on these local bases accepts them. Official images
  # pulled from a registry keep apt's check.
  echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99local-mirror-snapshot"
  # like the official images: no .deb files or package caches left in layers
  printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    'Binary::apt::APT::Keep-Downloaded-Packages "false";' >"$root/etc/apt/apt.conf.d/docker-clean"
  # what the official slim images leave out: apt lists, caches, docs and man pages
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
  tar -C "$root" --numeric-owner --one-file-system -c . |
    docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
  echo "base image $tag: imported"
}

base "$stable_tag" bookworm
base "$sid_tag" sid

# docker compose v2 and buildx: Debian has them as packages from trixie on; take them from sid.
plugins=/usr/local/lib/docker/cli-plugins
if ! docker compose version >/dev/null 2>&1 || ! docker buildx version >/dev/null 2>&1; then
  mkdir -p "$plugins"
  docker run --rm -e DEBIAN_FRONTEND=noninteractive -v "$plugins:/out" "$sid_tag" sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose docker-buildx >/dev/null &&
     cp /usr/libexec/docker/cli-plugins/docker-compose /usr/libexec/docker/cli-plugins/docker-buildx /out/'
fi
docker compose version
docker buildx version
