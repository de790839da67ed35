"""privacy-audit: prove from an export whether a privacy policy's promises are kept."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("privacy-audit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
