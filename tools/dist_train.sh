#!/usr/bin/env bash
# Distributed training with torchrun (gloo on CPU-only machines, nccl on GPUs).
#   bash tools/dist_train.sh CONFIG NGPUS [train.py args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host0 PORT=29500 on each node.
exec "$(dirname "$0")/torchrun.sh" "$2" train.py "$1" --launcher pytorch "${@:3}"
