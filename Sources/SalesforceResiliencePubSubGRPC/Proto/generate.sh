#!/usr/bin/env bash
# Regenerates ../Generated from pubsub_api.proto. The output is committed: building the package
# needs neither protoc nor the plugins.
#
#   PLUGINS=DIR Sources/SalesforceResiliencePubSubGRPC/Proto/generate.sh
#
# DIR holds protoc-gen-swift (apple/swift-protobuf 1.39) and protoc-gen-grpc-swift-2
# (grpc/grpc-swift-protobuf 2.4): `swift build -c release --product protoc-gen-swift` and
# `--product protoc-gen-grpc-swift-2` in a checkout of grpc-swift-protobuf 2.4.1. PROTOC is the
# compiler to run (default `protoc`; `python -m grpc_tools.protoc` from PyPI's grpcio-tools works).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../Generated"
: "${PLUGINS:?set PLUGINS to the folder holding protoc-gen-swift and protoc-gen-grpc-swift-2}"
read -r -a protoc <<< "${PROTOC:-protoc}"
mkdir -p "$out"
"${protoc[@]}" -I "$here" \
  --plugin=protoc-gen-swift="$PLUGINS/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift="$PLUGINS/protoc-gen-grpc-swift-2" \
  --swift_opt=Visibility=Package --swift_out="$out" \
  --grpc-swift_opt=Visibility=Package,Server=true,Client=true --grpc-swift_out="$out" \
  "$here/pubsub_api.proto"
# The module is empty without its trait: wrap each generated file in the trait's condition.
for file in "$out"/*.swift; do
  { echo "#if PubSubGRPC // generated from Proto/pubsub_api.proto by Proto/generate.sh; do not edit"; cat "$file"; echo "#endif"; } > "$file.tmp"
  mv "$file.tmp" "$file"
done
