#!/usr/bin/env bash
# torchrun wrapper behind dist_train.sh / dist_test.sh.
#   bash tools/torchrun.sh NPROC SCRIPT [args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host0 PORT=29500 on each node.
set -euo pipefail
NPROC=$1
SCRIPT=$2
DIR=$(cd "$(dirname "$0")" && pwd)
PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
  --nproc_per_node="$NPROC" "$DIR/$SCRIPT" "${@:3}"
