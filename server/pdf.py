"""What every PDF Jikao prints needs: a font with Chinese glyphs."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app

# TrueType CJK fonts a Debian exam server is likely to have; the first found is embedded (subset) in the PDF.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


def font_candidates() -> tuple[str, ...]:
    """``JIKAO_PDF_FONT`` (a TrueType .ttf/.ttc with Chinese glyphs) if set, then the usual Debian fonts."""
    configured = current_app.config.get("PDF_FONT")
    return ((configured,) if configured else ()) + CJK_FONTS


@cache
def _registered(paths: tuple[str, ...]) -> str:
    """Register a CJK font with reportlab and return its name: the first installed TrueType font (embedded as a
    subset, so every viewer and printer shows the same glyphs), else Adobe's STSong-Light, which PDF viewers
    supply themselves."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    for number, path in enumerate(paths):
        if Path(path).is_file():
            name = f"JikaoCJK{number}"
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
            return name
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def cjk_font(fonts: tuple[str, ...] | None = None) -> str:
    """The font to draw Chinese with: from ``fonts`` (TrueType files to try), else :func:`font_candidates`."""
    return _registered(font_candidates() if fonts is None else fonts)
