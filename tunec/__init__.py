from tunec._version import __version__
