#!/usr/bin/env bash
# The three ways a user consumes typenet, each built as a user builds it: out
# of the source tree, with no include path into it, and then run.
#   cmake       find_package(typenet 0.2 REQUIRED) against `meson install
#               --destdir` (and a request for another minor version refused);
#               on x86-64 also one binary with a copy per ISA (any_cpu_*.cpp)
#   pkg-config  g++ $(pkg-config --cflags typenet) against the same tree
#   meson       typenet as a subproject through subprojects/typenet.wrap, a
#               git clone of the tree under test (tracked and untracked files)
# Each program is test/consumers/twenty_lines.cpp, the README's example; its
# last line must report at least 95% accuracy. The consumers compile with
# -Wall -Wextra -Wpedantic -Werror, as a strict user would.
#
# usage: test/consumers/run.sh [WORK_DIR]    (CXX chooses the compiler)
# Needs meson, ninja, cmake, pkg-config, git and the Boost headers.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
here="$src/test/consumers"
work=${1:-$(mktemp -d /tmp/typenet-consumers.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export CXX=${CXX:-g++}
strict="-O2 -Wall -Wextra -Wpedantic -Werror"
version=$(meson introspect --projectinfo "$src/meson.build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# Runs a consumer's program; the final accuracy must be at least 95%.
check_program() {
  local name=$1 program=$2 out last
  if ! out=$("$program" 2>&1); then fail "$name" "the program failed:"$'\n'"$out"; return; fi
  last=$(tail -n 1 <<<"$out")
  if [[ $last =~ accuracy\ ([0-9]+)%$ ]] && ((BASH_REMATCH[1] >= 95)); then
    pass "$name ($last)"
  else
    fail "$name" "the last line reports no accuracy of 95% or more: $last"
  fi
}

echo "== typenet $version into $work/root (meson install --destdir), consumers built with $CXX"
root="$work/root"
rm -rf "$work/build-typenet" "$root"
if ! meson setup "$work/build-typenet" "$src" --prefix=/usr -Dtests=false -Dexamples=false -Dbench=false \
    -Dcuda=disabled -Dmpi=disabled -Ddocs=disabled >"$work/setup.log" 2>&1 ||
   ! meson install -C "$work/build-typenet" --destdir "$root" >"$work/install.log" 2>&1; then
  cat "$work/setup.log" "$work/install.log" 2>/dev/null | tail -n 30
  echo "FAIL install"
  exit 1
fi
for f in usr/include/typenet/typenet.hpp usr/include/typenet/version.hpp usr/include/typenet/cuda/model.cuh \
         usr/share/pkgconfig/typenet.pc usr/share/cmake/typenet/typenetConfig.cmake \
         usr/share/cmake/typenet/typenetConfigVersion.cmake; do
  [ -f "$root/$f" ] || { echo "FAIL install: $f is not installed"; exit 1; }
done

echo "== cmake"
rm -rf "$work/cmake"
cp -r "$here/cmake" "$work/cmake"
cp "$here/twenty_lines.cpp" "$work/cmake/"
if cmake -S "$work/cmake" -B "$work/cmake/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$strict" \
     -DCMAKE_PREFIX_PATH="$root/usr" >"$work/cmake.log" 2>&1 &&
   cmake --build "$work/cmake/build" >>"$work/cmake.log" 2>&1; then
  found=$(sed -n 's/^typenet_DIR:PATH=//p' "$work/cmake/build/CMakeCache.txt")
  if [ "$found" = "$root/usr/share/cmake/typenet" ]; then
    check_program cmake "$work/cmake/build/twenty_lines"
    # One binary for many CPUs: the copies for x86-64-v2, -v3 and -v4.
    [ "$(uname -m)" = x86_64 ] && check_program cmake-any-cpu "$work/cmake/build/any_cpu"
  else
    fail cmake "find_package found typenet in $found, not in the tree under test"
  fi
else
  fail cmake "$(tail -n 30 "$work/cmake.log")"
fi
# typenetConfigVersion.cmake: within 0.x another minor version is another API.
IFS=. read -r major minor _ <<<"$version"
others="$major.$((minor + 1))"
((minor > 0)) && others+=" $major.$((minor - 1))"
for other in $others; do
  dir="$work/cmake-$other"
  rm -rf "$dir"
  mkdir -p "$dir"
  sed "s/find_package(typenet [0-9.]* REQUIRED)/find_package(typenet $other REQUIRED)/" "$here/cmake/CMakeLists.txt" >"$dir/CMakeLists.txt"
  cp "$here/twenty_lines.cpp" "$dir/"
  if cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$root/usr" >"$dir.log" 2>&1; then
    fail "cmake refuses $other" "find_package(typenet $other) accepted typenet $version"
  elif grep -q "$version" "$dir.log"; then
    pass "cmake refuses $other (it names the version found, $version)"
  else
    fail "cmake refuses $other" "$(tail -n 20 "$dir.log")"
  fi
done

echo "== pkg-config"
rm -rf "$work/pkg-config"
cp -r "$here/pkg-config" "$work/pkg-config"
cp "$here/twenty_lines.cpp" "$work/pkg-config/"
export PKG_CONFIG_PATH="$root/usr/share/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
cflags=$(pkg-config --cflags typenet)
if [[ " $cflags " != *" -I$root/usr/include "* ]]; then
  fail pkg-config "pkg-config --cflags typenet gives '$cflags', not the tree under test"
elif [ "$(pkg-config --modversion typenet)" != "$version" ]; then
  fail pkg-config "typenet.pc's version is $(pkg-config --modversion typenet), not $version"
elif "$work/pkg-config/build.sh" "$work/pkg-config/twenty_lines" $strict >"$work/pkg-config.log" 2>&1; then
  check_program pkg-config "$work/pkg-config/twenty_lines"
else
  fail pkg-config "$(tail -n 30 "$work/pkg-config.log")"
fi
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

echo "== meson (subproject through the wrap)"
# The clone the wrap fetches: the tree under test as one commit, tagged as
# the release it is (the wrap names the tag, so a new version needs a new wrap).
rm -rf "$work/typenet.git" "$work/meson"
mkdir -p "$work/typenet.git"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
   tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$work/typenet.git"
git -C "$work/typenet.git" init -q &&
  git -C "$work/typenet.git" add -A &&
  git -C "$work/typenet.git" -c user.name=consumers -c user.email=consumers@localhost commit -qm "the tree under test" &&
  git -C "$work/typenet.git" tag "v$version"
cp -r "$here/meson" "$work/meson"
cp "$here/twenty_lines.cpp" "$work/meson/"
if ! grep -q "^revision = v$version\$" "$work/meson/subprojects/typenet.wrap"; then
  fail meson "subprojects/typenet.wrap does not name the release v$version"
elif meson setup "$work/meson/build" "$work/meson" --force-fallback-for=typenet -Dbuildtype=release \
       -Dcpp_args="$strict" >"$work/meson.log" 2>&1 &&
     meson compile -C "$work/meson/build" >>"$work/meson.log" 2>&1; then
  if [ -f "$work/meson/subprojects/typenet/include/typenet/version.hpp" ]; then
    check_program meson "$work/meson/build/twenty_lines"
  else
    fail meson "the wrap did not fetch typenet into subprojects/typenet"
  fi
else
  fail meson "$(tail -n 30 "$work/meson.log")"
fi

echo "consumers: $passed passed, $failed failed"
[ "$failed" = 0 ]
