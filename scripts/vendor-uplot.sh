#!/usr/bin/env bash
# Re-vendor uPlot (MIT) for the offline chart artifacts: fetch the pinned npm tarball into a temp dir and
# copy the minified IIFE build, its CSS and the license into trackrun/artifacts/static/.
# Bump UPLOT_VERSION deliberately; the chart renderer inlines these files verbatim.
set -euo pipefail
cd "$(dirname "$0")/.."
UPLOT_VERSION=${UPLOT_VERSION:-1.6.32}
dest=trackrun/artifacts/static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@${UPLOT_VERSION}" >/dev/null && tar -xzf uplot-*.tgz)
mkdir -p "$dest"
cp "$tmp/package/dist/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp "$tmp/package/dist/uPlot.min.css" "$dest/uPlot.min.css"
cp "$tmp/package/LICENSE" "$dest/uPlot.LICENSE"
echo "$UPLOT_VERSION" > "$dest/uPlot.VERSION"
echo "vendored uPlot ${UPLOT_VERSION} into $dest"
