#!/usr/bin/env bash
# Build hactl-pils, hactl-stonith and hactl RPMs from this checkout (`make rpm`).
#
#   packaging/rpm/build-rpms.sh [--python python3.11] [--release N] [--out DIR] [--local]
#
# --python picks the interpreter the installed launcher runs and the wheels' Python tag;
# --local builds for this Debian host (its interpreter is not in the rpm database, so the
# distribution requirements are left out; hactl's own dependency chain stays). Wheels are
# downloaded once into build/wheel-cache and checked against wheels.lock's hashes.
set -euo pipefail
cd "$(dirname "$0")/../.."

python_name=python3.12
release=1
out=build/rpm
rpmbuild_flags=()
while [ $# -gt 0 ]; do
    case "$1" in
        --python) python_name=$2; shift 2 ;;
        --release) release=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --local) rpmbuild_flags+=(--without distro_requires); shift ;;
        *) echo "build-rpms.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

pip=${PIP:-.venv/bin/python -m pip}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
python_version=${python_name#python}
topdir=$(realpath -m "$out")
sources="$topdir/SOURCES"
rm -rf "$topdir/RPMS"
mkdir -p "$sources" "$topdir/RPMS" "$topdir/BUILD" "$topdir/SPECS" "$topdir/SRPMS"

# Source0: the tracked (and not-ignored untracked) files of this tree.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/hactl-$version"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | \
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | \
        tar --null -T - -cf - | tar -xf - -C "$stage/hactl-$version"
else
    tar --exclude=.venv --exclude=build -cf - . | tar -xf - -C "$stage/hactl-$version"
fi
tar -czf "$sources/hactl-$version.tar.gz" -C "$stage" "hactl-$version"

# Source1: the vendored wheels, verified against wheels.lock, plus hactl's own wheel
# (its entry points are how the plugin loader finds the built-in plugins).
cache="build/wheel-cache/py$python_version"
mkdir -p "$cache" "$stage/wheels"
$pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --python-version "$python_version" \
    --implementation cp -d "$cache" -r packaging/rpm/wheels.lock
cp "$cache"/*.whl "$stage/wheels/"
$pip wheel --quiet --no-deps -w "$stage/wheels" .
tar -cf "$sources/hactl-wheels-$version.tar" -C "$stage/wheels" .

# Source2: bash completion (static: it asks the installed hactl for candidates at run time).
cp packaging/rpm/hactl.bash-completion "$sources/hactl.bash-completion"

rpmbuild -bb --quiet \
    --define "_topdir $topdir" \
    --define "hactl_version $version" \
    --define "hactl_release $release" \
    --define "hactl_python $python_name" \
    "${rpmbuild_flags[@]}" packaging/rpm/hactl.spec
find "$topdir/RPMS" -name "*-$version-$release*.rpm" | sort
