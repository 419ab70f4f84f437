#!/bin/sh
# Installs what the demo and the tests need from the system when it is missing (Debian/Ubuntu,
# as root): iproute2 (ip netns), iputils-ping (kernel-side pings), nftables (loss injection),
# python3 (two kernel-socket peers Deno cannot express), util-linux (taskset: the benchmark's
# smoke test pins its processes), gcc (the benchmark's C floor, bench/servers/c_reflector.c).
# Prints nothing when all is there.
missing=""
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v ping >/dev/null 2>&1 || missing="$missing iputils-ping"
command -v nft >/dev/null 2>&1 || missing="$missing nftables"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
command -v cc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "gonet: please install:$missing (needs root and apt-get to do it automatically)" >&2
  exit 1
fi
echo "gonet: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
