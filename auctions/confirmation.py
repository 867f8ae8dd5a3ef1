"""The confirmation (成交确认书) as PDF, rendered from its signed canonical JSON.

The JSON (Confirmation.document) is what is signed with the platform's Ed25519 key and hashed into
the audit chain ("auction.confirmation_issued"); the PDF repeats it with the signature, the key id and
the SHA-256 so a reader can check it against the JSON. reportlab in invariant mode (same input, same
bytes), Chinese with the built-in CID font STSong-Light, as the opening record (trading/opening/record.py).
"""

from __future__ import annotations

import io

from auctions.models import Confirmation

FONT = "STSong-Light"


def confirmation_pdf(conf: Confirmation) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = FONT
    d = conf.document
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, invariant=1, title=f"成交确认书 Confirmation {d['code']}",
                            author="ptrade", leftMargin=18 * mm, rightMargin=18 * mm)

    def p(text: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;"), styles[style])

    story = [
        p(f"成交确认书 Confirmation of the transaction — {d['code']}", "Title"),
        p(d["title"]),
        p(f"出让人/转让方 Transferor: {d['transferor']['name']} ({d['transferor']['uscc']})"),
        p(f"竞得人/受让方 Buyer: {d['buyer']['name']} ({d['buyer']['uscc']}), 竞买号 number {d['buyer']['number']}"),
        p(f"成交价 Price: {d['price']} CNY · 保证金抵作价款 Deposit applied: {d['deposit_applied']} CNY · "
          f"应付余额 Balance due: {d['balance_due']} CNY"),
        p(f"竞价结束 Ended: {d['ended_at']} · 签发 Issued: {d['issued_at']} · 有效报价 Bids: {d['bids']}"),
        p(f"依据 Source: {d['source']}"),
        Spacer(1, 6 * mm),
        p(f"SHA-256 (canonical JSON): {conf.sha256}"),
        p(f"平台签名 Platform signature (Ed25519, key {conf.signed['key_id']}):"),
        p(conf.signed["signature"], "Code"),
    ]
    doc.build(story)
    return buf.getvalue()
