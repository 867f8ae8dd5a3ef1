"""Legal citations in the active language.

Sources are written once, language-neutrally, as "<law> Art <n>" (trading/rules.py: "招标投标法 Art 23",
"招标投标法实施条例 Art 40(四)"). A message shown in Chinese cites "<law>第<n>条" instead, so that no
English abbreviation sits inside a Chinese sentence; English messages keep "Art".
"""

from __future__ import annotations

import re

from django.utils import translation

# "<CJK law name> Art 23" -> "<CJK law name>第23条"; only after a Chinese character (a law's name).
_ARTICLE = re.compile(r"(?<=[\u4e00-\u9fff]) Art (\d+)")


def cite(text: str, language: str | None = None) -> str:
    """`text` with its legal citations written the way `language` (default: the active one) writes them."""
    language = (language or translation.get_language() or "").lower()
    if not language.startswith("zh") or " Art " not in text:
        return text
    return _ARTICLE.sub(r"第\1条", text)
