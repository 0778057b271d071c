#!/usr/bin/env bash
# Scene inference over a list of pairs with torchrun: rank r of N takes
# lines r, r+N, r+2N, ... of LIST, so every output is written by one rank.
#   bash tools/dist_infer.sh LIST N --config CONFIG --checkpoint CKPT [infer.py args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host0 PORT=29500 on each node.
exec "$(dirname "$0")/torchrun.sh" "$2" infer.py --pairs "$1" --launcher pytorch "${@:3}"
