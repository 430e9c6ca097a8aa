#!/usr/bin/env bash
# Gives the site's JS, WASM and CSS names that change with their content
# (roster.<hash>.js, roster.<hash>.wasm, roster.<hash>.css) and writes hash.txt, which
# the server reads to name them in each page. A browser may then keep these files for a
# year (the server sends them as immutable), and a new build is never mixed with an old
# one from a cache.
#
#   frontend/hash-site.sh SITE_DIR     (the files are in SITE_DIR/pkg)
set -euo pipefail
site=${1:?usage: frontend/hash-site.sh SITE_DIR}
pkg=$site/pkg
hash_of() { sha256sum "$1" | cut -c1-16; }
: > "$site/hash.txt.new"
for pair in js:roster.js wasm:roster_bg.wasm css:roster.css; do
  kind=${pair%%:*}
  file=$pkg/${pair#*:}
  hash=$(hash_of "$file")
  mv "$file" "$pkg/roster.$hash.$kind"
  echo "$kind: $hash" >> "$site/hash.txt.new"
done
mv "$site/hash.txt.new" "$site/hash.txt"
