#!/usr/bin/env bash
# Distributed testing with torchrun (gloo on CPU-only machines, nccl on GPUs).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NGPUS [test.py args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host0 PORT=29500 on each node.
exec "$(dirname "$0")/torchrun.sh" "$3" test.py "$1" "$2" --launcher pytorch "${@:4}"
