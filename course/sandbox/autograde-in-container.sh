#!/usr/bin/env bash
# Autograde inside a container (Docker or Podman): no network, capped memory, processes and CPUs,
# a read-only image, source/ and release/ mounted read-only. Only course/ is writable (nbgrader
# writes the gradebook and autograded/ there); student code inside still runs under
# toxlab.sandbox, so they cannot write course/ either.
#
#   course/sandbox/autograde-in-container.sh [--dry-run] [STUDENT ...]
#
# Limits: TOXLAB_CONTAINER_MEMORY (8g), TOXLAB_CONTAINER_PIDS (1024), TOXLAB_CONTAINER_CPUS (2).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
engine=${CONTAINER_ENGINE:-$(command -v docker || command -v podman || echo docker)}
image=${TOXLAB_GRADER_IMAGE:-toxlab-grader}
dry=0
if [ "${1:-}" = "--dry-run" ]; then dry=1; shift; fi

cmd=("$engine" run --rm
  --network none
  --memory "${TOXLAB_CONTAINER_MEMORY:-8g}" --memory-swap "${TOXLAB_CONTAINER_MEMORY:-8g}"
  --pids-limit "${TOXLAB_CONTAINER_PIDS:-1024}" --cpus "${TOXLAB_CONTAINER_CPUS:-2}"
  --read-only --tmpfs /tmp:rw,size=2g --tmpfs /home/grader:rw,size=512m
  --cap-drop ALL --security-opt no-new-privileges
  --user "$(id -u):$(id -g)"
  -v "$root/source:/course/source:ro"
  -v "$root/release:/course/release:ro"
  -v "$root/course:/course/course:rw"
  -e HOME=/home/grader
  "$image" python course/instructor.py autograde "$@")

if [ "$dry" = 1 ]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
if ! "$engine" image inspect "$image" >/dev/null 2>&1; then
  "$engine" build -f "$root/course/sandbox/Dockerfile" -t "$image" "$root"
fi
exec "${cmd[@]}"
