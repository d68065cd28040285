#!/usr/bin/env bash
# tests/scripts/container-test.sh: make container-test. The development
# container (.devcontainer/Dockerfile) built from this repository and the
# course run inside it, as its normal user: make demo, then make test.
#
# - Runtime: podman (as root here), its default OCI runtime, or runc when
#   the default fails (crun: "cgroups in hybrid mode not supported");
#   explicit ulimits (podman's defaults are refused where root lacks
#   CAP_SYS_RESOURCE). docker is used when podman is missing and a Docker
#   engine answers.
# - The base image debian:12 comes from the registry when it can be pulled;
#   otherwise it is built from the Debian archive with mmdebstrap and
#   imported under that name.
# - The repository goes in as a git bundle of HEAD and is cloned inside, in
#   the user's home: a student's clone, not a mount.
# - Everything made is removed afterwards (images, containers, files); the
#   time of each phase is printed.
#
# FORKD_CONTAINER_KEEP=1 keeps the images (a second run skips the builds).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

tag=forkd-course:test-$$
base=docker.io/library/debian:12
work=$(mktemp -d "${TMPDIR:-/tmp}/forkd-container.XXXXXX") || exit 1
made_base= made_image=
phase_start=$(date +%s)
phase() {
    local now
    now=$(date +%s)
    echo "container-test: $1 ($((now - phase_start)) s)"
    phase_start=$now
}

if command -v podman >/dev/null; then
    engine=podman
elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
else
    echo "container-test: needs podman (Debian/Ubuntu: sudo apt-get install podman runc) or a running Docker engine" >&2
    exit 1
fi

cleanup() {
    if [ "${FORKD_CONTAINER_KEEP:-0}" != 1 ]; then
        [ -n "$made_image" ] && "$engine" rmi -f "$tag" >/dev/null 2>&1
        [ -n "$made_base" ] && "$engine" rmi -f "$base" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

limits=(--ulimit nofile=1024:20000 --ulimit nproc=8192:8192)
runtime=()

# the base image
if "$engine" image exists "$base" 2>/dev/null || "$engine" image inspect "$base" >/dev/null 2>&1; then
    echo "container-test: $base is here already"
elif "$engine" pull -q "$base" >/dev/null 2>&1; then
    made_base=1
    phase "pulled $base"
else
    command -v mmdebstrap >/dev/null || {
        echo "container-test: $base cannot be pulled, and mmdebstrap is missing to build it (sudo apt-get install mmdebstrap)" >&2
        exit 1
    }
    echo "container-test: $base cannot be pulled: building it from the Debian archive (mmdebstrap)"
    mmdebstrap --quiet --variant=minbase bookworm "$work/base.tar" || exit 1
    "$engine" import -q "$work/base.tar" "$base" >/dev/null || exit 1
    rm -f "$work/base.tar"
    made_base=1
    phase "built $base with mmdebstrap"
fi
# podman's default OCI runtime, if it can start a container here; else runc
if [ "$engine" = podman ] && ! err=$(podman run --rm "${limits[@]}" --network none "$base" true 2>&1); then
    if command -v runc >/dev/null && podman run --rm --runtime runc "${limits[@]}" --network none "$base" true >/dev/null 2>&1; then
        runtime=(--runtime runc)
        echo "container-test: podman's default runtime cannot start a container here (${err##*$'\n'}): using runc"
    else
        echo "container-test: podman cannot start a container here: ${err##*$'\n'}" >&2
        exit 1
    fi
fi

# the course's image, from this clone's .devcontainer/
"$engine" build -q "${runtime[@]}" "${limits[@]}" -t "$tag" .devcontainer >/dev/null || exit 1
made_image=1
phase "built the image from .devcontainer/Dockerfile"

# the repository, as a student gets it: a clone in the home directory
git bundle create -q "$work/forkd.bundle" HEAD || exit 1
chmod 755 "$work" && chmod 644 "$work/forkd.bundle"
"$engine" run --rm "${runtime[@]}" "${limits[@]}" -e FORKD_STRESS_SESSIONS="${FORKD_STRESS_SESSIONS:-1000}" \
    -v "$work/forkd.bundle:/tmp/forkd.bundle:ro" "$tag" bash -c '
    set -e
    echo "inside: $(id -un) (uid $(id -u)), open files soft $(ulimit -Sn) hard $(ulimit -Hn), $(. /etc/os-release && echo "$PRETTY_NAME")"
    [ "$(id -u)" != 0 ]
    git clone -q /tmp/forkd.bundle "$HOME/forkd"
    cd "$HOME/forkd"
    make doctor
    started=$(date +%s)
    make demo
    echo "inside: make demo passed ($(($(date +%s) - started)) s)"
    started=$(date +%s)
    make test
    echo "inside: make test passed ($(($(date +%s) - started)) s)"
'
status=$?
phase "make doctor, make demo and make test in the container (exit $status)"
exit $status
