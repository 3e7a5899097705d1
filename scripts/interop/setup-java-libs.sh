#!/usr/bin/env bash
# Copies the Java interop client's extra jars (aws-msk-iam-auth and the AWS SDK v2 jars it needs,
# pinned in scripts/interop/java-libs.pom.xml) from Maven Central into .cache/interop/java-libs.
# A stamp holding the hash of the pom and the list of jars makes a repeat run a no-op.
set -euo pipefail
cd "$(dirname "$0")/../.."

pom=scripts/interop/java-libs.pom.xml
out=.cache/interop/java-libs
stamp=.cache/interop/java-libs.complete
hash=$(sha256sum "$pom" | cut -d' ' -f1)

up_to_date() {
  [ -f "$stamp" ] || return 1
  [ "$(head -n 1 "$stamp")" = "$hash" ] || return 1
  local jar
  while read -r jar; do [ -f "$out/$jar" ] || return 1; done < <(tail -n +2 "$stamp")
  [ "$(wc -l < "$stamp")" -gt 1 ]
}

if up_to_date; then
  echo "interop: java libs up to date ($out)"
  exit 0
fi

echo "interop: resolving $pom into $out"
staging="$out.partial-$$"
rm -rf "$staging"
mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$staging"
rm -rf "$out"
mv "$staging" "$out"
{ echo "$hash"; (cd "$out" && ls -1 -- *.jar); } > "$stamp"
echo "interop: $(($(wc -l < "$stamp") - 1)) jars in $out"
