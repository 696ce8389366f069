#!/bin/sh
# A build with no build system: the compiler flags from typenet.pc.
# usage: build.sh OUTPUT [CXXFLAGS...]
set -eu
out=$1
shift
here=$(dirname "$0")
# shellcheck disable=SC2046 # the flags are words
exec "${CXX:-g++}" "$@" $(pkg-config --cflags typenet) "$here/twenty_lines.cpp" -o "$out"
