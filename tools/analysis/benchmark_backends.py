r"""Throughput of eager PyTorch, eager channels_last and ONNX Runtime, per
config family, measured in one run on the same inputs.

    python tools/analysis/benchmark_backends.py [--families unet ...] \
        [--threads N] [--repeat 5] [--scene 4096] [--ghz 2.1]

Each family's network (random weights: speed does not depend on them) is
timed on one batch of normalised input, from the network's input to its
probabilities: eager fp32 under ``torch.no_grad()`` (the baseline), the same
under ``torch.inference_mode()``, eager with the model and input in
``channels_last``, and the graph exported by seg_plugins.deploy run by ONNX
Runtime's CPU provider. Rates are megapixels of input per second (fastest
of ``--repeat`` runs); ratios are against eager in the same run.

``--scene S``: also the scene path end to end on an S x S random pair with
each backend (one run each): ``infer_change_scene`` (GeoTIFF in, COG out)
if seg_plugins.apis has it, else the tiled ``infer_change`` on arrays.

Precision rows: eager bf16 (autocast, channels_last) and OpenVINO in fp32
and bf16 (its CPU plugin's INFERENCE_PRECISION_HINT) run the same input;
"same map" is the share of pixels whose change decision (p > 0.5, or the
argmax) equals eager fp32's. Every row also gives the network's MACs, the
GFLOP/s it achieved (2 FLOP per MAC) and that as a share of the CPU's peak
for its precision: fp32 on AVX-512, 64 FLOP/cycle/core (two FMA units);
bf16 on AMX, 1024 FLOP/cycle/core (AVX512-BF16 without AMX: 128);
``--ghz`` sets the clock (default: /proc/cpuinfo's).

Targets (CPU): ONNX Runtime >= 1.8x eager for the change U-Net; the scene
path with ONNX Runtime >= 1.6x the eager scene path; bf16 scene path
>= 2.5x eager fp32, and the best backend >= 3x.
"""
import argparse
import copy
import os
import os.path as osp
import tempfile
import time

import numpy as np
import torch

from seg_plugins.utils.timing import best_time

# name: (config, batch, H, W, cfg_options)
FAMILIES = {
    'change_unet': ('configs/changedet_unet.py', 4, 256, 256, {}),
    'fc_siam_diff': ('configs/changedet_fc_siam_diff.py', 4, 256, 256, {}),
    'change_unet_softmax': ('configs/changedet_unet_softmax.py', 4, 256,
                            256, {}),
    'strided_unet': ('configs/unet_strided_voc12.py', 1, 256, 256, {}),
    'fcn8s': ('configs/fcn8s_vgg16_voc12.py', 1, 256, 256, {}),
    'fcn8s_deconv_bn': ('configs/fcn8s_deconv_bn_vgg16_voc12.py', 1, 224,
                        224, {}),
}


def bench_family(name, spec, threads, repeat, tmp):
    import onnxruntime as ort

    from seg_plugins.deploy import ProbabilityGraph, export_model, load_model
    config, n, h, w, options = spec
    cfg, model, _ = load_model(config, None, options)
    onnx_file = osp.join(tmp, f'{name}.onnx')
    export_model(cfg, model, onnx_file, (h, w), dynamic=True)
    graph = ProbabilityGraph(model).eval()
    channels = int(model.data_preprocessor.mean.numel())
    x = torch.randn(n, channels, h, w, generator=torch.Generator()
                    .manual_seed(0))
    rows = {}

    def eager():
        with torch.no_grad():
            return graph(x)

    def eager_inference_mode():
        with torch.inference_mode():
            return graph(x)

    rows['eager'] = best_time(eager, repeat)
    rows['eager inference_mode'] = best_time(eager_inference_mode, repeat)
    ref = eager().numpy()
    graph_cl = copy.deepcopy(graph).to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def eager_cl():
        with torch.no_grad():
            return graph_cl(x_cl)

    rows['eager channels_last'] = best_time(eager_cl, repeat)
    diff_cl = float(np.abs(eager_cl().numpy() - ref).max())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(onnx_file, options,
                                   providers=['CPUExecutionProvider'])
    feed = {session.get_inputs()[0].name: x.numpy()}
    rows['onnxruntime'] = best_time(lambda: session.run(None, feed), repeat)
    diff_ort = float(np.abs(session.run(None, feed)[0] - ref).max())

    def eager_bf16():
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16,
                                             cache_enabled=False):
            return graph_cl(x_cl).float()

    rows['eager bf16'] = best_time(eager_bf16, repeat)
    same = {'eager bf16': same_map(eager_bf16().numpy(), ref)}
    for precision in ('fp32', 'bf16'):
        run = openvino_runner(onnx_file, precision, threads)
        if run is None:
            break
        name = f'openvino {precision}'
        rows[name] = best_time(lambda run=run: run(x.numpy()), repeat)
        same[name] = same_map(run(x.numpy()), ref)
    mp = n * h * w / 1e6
    return rows, mp, dict(channels_last=diff_cl, onnxruntime=diff_ort), same


def same_map(probs: np.ndarray, ref: np.ndarray) -> float:
    """Share of pixels with the same change decision as ``ref``."""
    if probs.shape[1] == 1:
        return float(((probs > 0.5) == (ref > 0.5)).mean())
    return float((probs.argmax(1) == ref.argmax(1)).mean())


def openvino_runner(onnx_file, precision, threads):
    """OpenVINO's CPU runtime on the graph, compiled as the backend
    compiles it (None if OpenVINO is not installed)."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return None
    from seg_plugins.deploy.openvino_model import compile_graph
    compiled, _ = compile_graph(onnx_file, precision, threads)
    request = compiled.create_infer_request()

    def run(array):
        request.infer([array])
        return np.array(request.get_output_tensor(0).data)

    return run


def peak_gflops(precision: str, threads: int, ghz: float) -> float:
    """The CPU's peak for ``precision`` on ``threads`` cores."""
    per_cycle = 64
    if precision == 'bf16':
        per_cycle = (1024 if torch.cpu._is_amx_tile_supported() else
                     128 if torch.cpu._is_avx512_bf16_supported() else 64)
    return per_cycle * threads * ghz


def cpu_ghz() -> float:
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('cpu MHz'):
                return float(line.split(':')[1]) / 1e3
    return float('nan')


def write_pair(tmp: str, size: int):
    """A random S x S 3-band uint8 GeoTIFF pair (rasterio), tiled."""
    import rasterio
    from rasterio.transform import from_origin
    rng = np.random.default_rng(0)
    paths = []
    for name in ('A', 'B'):
        path = osp.join(tmp, f'scene_{name}.tif')
        profile = dict(driver='GTiff', width=size, height=size, count=3,
                       dtype='uint8', crs='EPSG:32631', tiled=True,
                       blockxsize=512, blockysize=512,
                       transform=from_origin(500000, 5000000, 0.5, 0.5))
        with rasterio.open(path, 'w', **profile) as dst:
            for row in range(0, size, 512):
                h = min(512, size - row)
                block = rng.integers(0, 256, (3, h, size), dtype=np.uint8)
                dst.write(block, window=((row, row + h), (0, size)))
        paths.append(path)
    return paths


def bench_scene(size, threads, tmp):
    """The scene path end to end with each backend (the change U-Net):
    ``infer_change_scene`` reading and writing GeoTIFFs when it exists,
    else ``infer_change`` on in-memory arrays."""
    from seg_plugins import apis
    from seg_plugins.apis import init_change_model
    from seg_plugins.deploy import export_model, load_model
    config = FAMILIES['change_unet'][0]
    cfg, model, _ = load_model(config)
    onnx_file = osp.join(tmp, 'scene.onnx')
    export_model(cfg, model, onnx_file, (256, 256), dynamic=True)
    ckpt = osp.join(tmp, 'scene.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    scene = getattr(apis, 'infer_change_scene', None)
    if scene is not None:
        path_a, path_b = write_pair(tmp, size)
    else:
        rng = np.random.default_rng(0)
        img_a, img_b = (rng.integers(0, 256, (size, size, 3), np.uint8)
                        for _ in range(2))
    from mmseg.apis import init_model
    results = {}
    runs = [('eager', ckpt, 'pytorch', 'fp32'),
            ('eager channels_last', ckpt, 'pytorch', 'fp32'),
            ('eager bf16', ckpt, 'pytorch', 'bf16'),
            ('onnxruntime', onnx_file, 'onnxruntime', 'fp32')]
    try:
        import openvino  # noqa: F401
        runs += [('openvino fp32', onnx_file, 'openvino', 'fp32'),
                 ('openvino bf16', onnx_file, 'openvino', 'bf16')]
    except ImportError:
        pass
    for backend, weights, kind, precision in runs:
        if backend == 'eager':  # init_change_model minus channels_last
            net = init_model(config, weights, device='cpu')
        else:
            net = init_change_model(config, weights, backend=kind,
                                    precision=precision)
        start = time.perf_counter()
        if scene is not None:
            scene(net, path_a, path_b,
                  osp.join(tmp, f'{backend.replace(" ", "_")}.tif'),
                  tile=256, overlap=32, batch_size=4, overwrite=True)
        else:
            apis.infer_change(net, img_a, img_b, 256, 32, 4)
        results[backend] = time.perf_counter() - start
    return results, ('infer_change_scene' if scene is not None else
                     'infer_change')


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--families', nargs='*', default=list(FAMILIES),
                        choices=list(FAMILIES))
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--scene', type=int, default=0,
                        help='side of the scene pair (0: skip)')
    parser.add_argument('--ghz', type=float, default=None,
                        help='CPU clock for the peak (default: '
                        '/proc/cpuinfo)')
    args = parser.parse_args()
    import seg_plugins  # noqa: F401  (registers components)
    from seg_plugins.utils.complexity import complexity
    torch.set_num_threads(args.threads)
    ghz = args.ghz or cpu_ghz()
    print(f'threads={args.threads} (torch, ONNX Runtime, OpenVINO), fastest '
          f'of {args.repeat}, torch {torch.__version__}, {ghz:.2f} GHz')
    print(f'{"family":<20} {"batch":>11} {"backend":<21} {"ms":>8} '
          f'{"MP/s":>7} {"x eager":>7} {"max|d|":>8} {"same map":>8} '
          f'{"GMAC":>7} {"GFLOP/s":>8} {"% peak":>6}')
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.families:
            spec = FAMILIES[name]
            config, n, h, w, options = spec
            macs = n * complexity(config, (h, w))[1]
            rows, mp, diffs, same = bench_family(name, spec, args.threads,
                                                 args.repeat, tmp)
            batch = f'{n}x{h}x{w}'
            for backend, seconds in rows.items():
                d = diffs.get(backend.split()[-1]
                              if backend != 'eager inference_mode' else '')
                agree = same.get(backend)
                gflops = 2 * macs / seconds / 1e9
                peak = peak_gflops('bf16' if 'bf16' in backend else 'fp32',
                                   args.threads, ghz)
                print(f'{name:<20} {batch:>11} {backend:<21} '
                      f'{seconds * 1e3:8.1f} {mp / seconds:7.2f} '
                      f'{rows["eager"] / seconds:7.2f} '
                      f'{"" if d is None else f"{d:.1e}":>8} '
                      f'{"" if agree is None else f"{100 * agree:.3f}":>8} '
                      f'{macs / 1e9:7.2f} {gflops:8.1f} '
                      f'{100 * gflops / peak:6.1f}', flush=True)
        if args.scene:
            results, path = bench_scene(args.scene, args.threads, tmp)
            mp = args.scene**2 / 1e6
            for backend, seconds in results.items():
                print(f'scene {args.scene}^2 ({path}) {backend:<21} '
                      f'{seconds:8.2f} s {mp / seconds:7.2f} MP/s '
                      f'{results["eager"] / seconds:5.2f} x eager',
                      flush=True)
    print('targets: onnxruntime >= 1.8x eager (change_unet); scene path '
          'with onnxruntime >= 1.6x eager, bf16 >= 2.5x, the best backend '
          '>= 3x')


if __name__ == '__main__':
    main()
