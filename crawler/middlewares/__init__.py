"""Downloader middlewares, each in its own module, wired in ``crawler/settings.py`` or a spider's settings."""
