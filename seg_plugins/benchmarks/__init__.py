"""Measuring code behind the benchmarks in ``tools/analysis/``.

The scripts there are thin command lines; what they build, run and time
lives here so it is documented, tested and importable. Nothing else in the
package imports this subpackage.
"""
