"""Inputs wherever GDAL reads them: local paths, ``http(s)://`` URLs,
``s3://``, ``gs://`` and ``az://`` objects, or GDAL's own ``/vsi*/``
names; and the GDAL settings under which a remote scene is read once.

Credentials and endpoints come from the environment as GDAL takes them
(``AWS_*``, ``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_*``;
``AWS_NO_SIGN_REQUEST=YES`` for a public bucket). Only local paths are
files to compare, stat or look for: a remote name is compared as text.
"""
import os
import os.path as osp
import re
from typing import Dict

# URL scheme -> GDAL's virtual file system.
VSI_PREFIXES = {
    'http': '/vsicurl/', 'https': '/vsicurl/', 's3': '/vsis3/',
    'gs': '/vsigs/', 'az': '/vsiaz/',
}
_SCHEME = re.compile(r'^([a-z][a-z0-9+.-]*)://', re.IGNORECASE)

# GDAL defaults for remote reads; a variable set in the environment wins.
# Retries double their delay each time (GDAL's back-off) on 429 and 5xx;
# no directory listing or side-car probing at open (one request, not
# five); the block cache bounded (``scene_inference``) while
# ``VSI_CACHE`` keeps the header and the blocks of the row being read.
REMOTE_CONFIG = dict(
    GDAL_HTTP_MAX_RETRY='4',
    GDAL_HTTP_RETRY_DELAY='1',
    GDAL_HTTP_TIMEOUT='60',
    GDAL_HTTP_CONNECTTIMEOUT='15',
    GDAL_DISABLE_READDIR_ON_OPEN='EMPTY_DIR',
    CPL_VSIL_CURL_ALLOWED_EXTENSIONS='.tif,.tiff,.TIF,.TIFF,.vrt,.jp2',
    GDAL_HTTP_MERGE_CONSECUTIVE_RANGES='YES',
    VSI_CACHE='TRUE',
    VSI_CACHE_SIZE=str(64 << 20),
)


def is_remote(path: str) -> bool:
    """Whether ``path`` names no local file: a URL or a ``/vsi*/`` name
    (``/vsimem/`` included)."""
    path = str(path)
    return bool(_SCHEME.match(path)) or path.startswith('/vsi')


def gdal_path(path: str) -> str:
    """The name GDAL opens: ``https://h/x.tif`` ->
    ``/vsicurl/https://h/x.tif``, ``s3://b/k`` -> ``/vsis3/b/k``; a local
    path or ``/vsi*/`` name unchanged.

    Raises:
        ValueError: a URL scheme GDAL has no file system for.
    """
    path = str(path)
    match = _SCHEME.match(path)
    if not match:
        return path
    scheme = match.group(1).lower()
    if scheme not in VSI_PREFIXES:
        raise ValueError(f'{path}: no GDAL file system for {scheme}:// '
                         f'(known: {", ".join(sorted(VSI_PREFIXES))}, or '
                         'a /vsi*/ name)')
    if VSI_PREFIXES[scheme] == '/vsicurl/':
        return '/vsicurl/' + path
    return VSI_PREFIXES[scheme] + path[match.end():]


def path_key(path: str) -> str:
    """What identifies an input or output when comparing two: the real
    path of a local file, GDAL's name of a remote one."""
    return gdal_path(path) if is_remote(path) else osp.realpath(path)


def exists(path: str) -> bool:
    """``os.path.exists`` for a local path; True for a remote one (its
    open says what is wrong with it, with the HTTP status)."""
    return is_remote(path) or osp.exists(path)


# GDAL's per-file read cache: for remote files only. A local file has the
# OS's page cache; VSI's would hold up to its size per file, and a scene's
# memory would grow with the bytes read.
VSI_CACHING = ('VSI_CACHE', 'VSI_CACHE_SIZE')


def remote_config(*files: str) -> Dict[str, str]:
    """``REMOTE_CONFIG`` less what the environment sets (for
    ``rasterio.Env``, whose options override the environment's).

    Args:
        *files: The files to be read. If given and every one is local,
            without ``VSI_CACHING``.
    """
    local = files and not any(is_remote(f) for f in files)
    return {k: v for k, v in REMOTE_CONFIG.items()
            if k not in os.environ and not (local and k in VSI_CACHING)}


# Object stores' error texts (as GDAL reports them) and their status.
_STORE_ERRORS = (('specified key does not exist', 404),
                 ('specified bucket does not exist', 404),
                 ('access denied', 403), ('forbidden', 403))
_HINTS = {403: 'forbidden: check the credentials, or '
          'AWS_NO_SIGN_REQUEST=YES for a public bucket', 404: 'not found'}


def read_error(path: str, error: Exception) -> str:
    """One line on why ``path`` could not be read: with the HTTP status
    where GDAL gave one (or an object store's error that implies it), or
    the timeout that ran out."""
    text = (str(error).strip().splitlines() or [''])[0]
    if not is_remote(path):
        return (f'cannot read {path} as a raster (not a GDAL-readable '
                f'image, or missing): {text}')
    retries = os.environ.get('GDAL_HTTP_MAX_RETRY',
                             REMOTE_CONFIG['GDAL_HTTP_MAX_RETRY'])
    if 'timed out' in text.lower():
        timeout = os.environ.get('GDAL_HTTP_TIMEOUT',
                                 REMOTE_CONFIG['GDAL_HTTP_TIMEOUT'])
        return (f'cannot read {path}: no answer in {timeout} s '
                f'(GDAL_HTTP_TIMEOUT), {retries} retries')
    match = re.search(r'HTTP response code:\s*(\d+)', text)
    code = int(match.group(1)) if match else next(
        (c for words, c in _STORE_ERRORS if words in text.lower()), None)
    if code is None:
        return f'cannot read {path}: {text}'
    hint = _HINTS.get(code, f'after {retries} retries' if code >= 500
                      else '')
    return f'cannot read {path}: HTTP {code}' + (f' ({hint})' if hint
                                                 else '')
