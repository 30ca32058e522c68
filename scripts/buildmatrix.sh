#!/usr/bin/env bash
# buildmatrix.sh builds (and vets) the module for every supported GOOS/GOARCH
# with and without assembly (tag noasm), CGO disabled, like minio's
# test-architectures.sh. Usage: scripts/buildmatrix.sh [extra go build flags]
set -euo pipefail
cd "$(dirname "$0")/.."

targets="linux/amd64 linux/arm64 darwin/arm64 windows/amd64 linux/386"
fail=0
for t in $targets; do
	for tags in "" noasm; do
		label="$t${tags:+ -tags $tags}"
		if CGO_ENABLED=0 GOOS="${t%/*}" GOARCH="${t#*/}" go build ${tags:+-tags "$tags"} "$@" ./... &&
			CGO_ENABLED=0 GOOS="${t%/*}" GOARCH="${t#*/}" go vet ${tags:+-tags "$tags"} ./kernels; then
			echo "ok   $label"
		else
			echo "FAIL $label"
			fail=1
		fi
	done
done
exit $fail
