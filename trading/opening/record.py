"""The opening record (开标记录): canonical JSON and a PDF, made when the opening closes.

The JSON is canonical (SPECS.md §2) and its SHA-256, with the PDF's, enters the audit
chain in the "opening.record_published" event; both files are public from then on
(招标投标法 Art 36: the whole process is recorded and archived). The PDF is rendered
with reportlab in invariant mode (no creation date or random id), so the same record
always gives the same bytes; Chinese text uses the built-in CID font STSong-Light.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.utils import timezone

from audit.canonical import canonical_bytes
from audit.witnessing import anchor, anchor_text_of
from trading.bids import storage
from trading.models import BidOpening, KeyShare, Opening, OpeningKey, ShareRelease
from trading.opening import rules as R

FONT = "STSong-Light"


def _bid_row(bo: BidOpening) -> dict:
    bid = bo.bid
    confirmation = bo.opening.confirmations.filter(organisation_id=bid.bidder_id).first()
    return {
        "bid": str(bid.public_id),
        "bidder": bid.bidder_id,
        "bidder_name": bid.bidder.name,
        "bidder_uscc": bid.bidder.uscc,
        "envelope_sha256": bid.envelope_sha256,
        "size": bid.size,
        "received_at": bid.received_at,
        "receipt_audit_seq": bid.audit_seq,
        "status": bo.status,
        "method": bo.method or None,
        "readout": bo.readout if bo.status == "decrypted" else {},
        "files": bo.files,
        "manifest_sha256": bo.manifest_sha256 or None,
        "failure": None if bo.status != "failed" else {
            "code": bo.failure_code, "fault": bo.fault, "outcome": bo.outcome, "source": R.DECRYPTION_FAILURE},
        "deposit": bo.deposit_status or None,
        "confirmation": None if confirmation is None else {"kind": confirmation.kind, "at": confirmation.at},
    }


def record_build(opening: Opening) -> dict:
    tender = opening.tender
    lots = []
    for lo in opening.lots.select_related("lot").order_by("lot__number"):
        key = OpeningKey.objects.filter(lot=lo.lot).first()
        bos = (BidOpening.objects.filter(opening=opening, bid__lot=lo.lot)
               .select_related("bid", "bid__bidder", "opening").order_by("bid__received_at", "bid_id"))
        lots.append({
            "lot": lo.lot_id,
            "number": lo.lot.number,
            "title": lo.lot.title,
            "bids_received": lo.bid_count,
            "outcome": lo.outcome,
            "opening_key": None if key is None else {
                "key_id": key.key_id, "threshold": key.threshold,
                "custodians": [{"x": s.x, "role": s.role, "user": s.custodian_id, "key_id": s.custodian_key.key_id}
                               for s in KeyShare.objects.filter(opening_key=key).select_related("custodian_key")],
                "shares_released": [
                    {"x": r.key_share.x, "role": r.key_share.role, "share_sha256": r.share_sha256,
                     "submitted_at": r.submitted_at}
                    for r in ShareRelease.objects.filter(key_share__opening_key=key).select_related("key_share")],
            },
            "bids": [_bid_row(bo) for bo in bos],
        })
    return {
        "v": 1,
        "kind": "opening-record",
        "tender": {"id": tender.pk, "code": tender.code, "title": tender.title, "tenderer": tender.tenderer.name,
                   "agent": tender.agent.name, "procedure_type": tender.procedure_type,
                   "readout_items": list(tender.readout_items)},
        "bid_deadline": tender.bid_deadline,
        "opened_at": opening.started_at,
        "closed_at": opening.closed_at,
        "min_bids": tender.rules.min_bids.value,
        "lots": lots,
        "signins": [{"organisation": s.organisation_id, "name": s.organisation.name, "at": s.signed_in_at}
                    for s in opening.signins.select_related("organisation")],
        "objections": [{"id": o.pk, "organisation": o.organisation_id, "name": o.organisation.name, "text": o.text,
                        "raised_at": o.raised_at, "answer": o.answer, "answered_at": o.answered_at}
                       for o in opening.objections.select_related("organisation")],
        "audit_anchor": _audit_anchor(),
        "sources": {"opening": R.OPENING_AT_DEADLINE, "readout": R.READOUT, "objections": R.OPENING_OBJECTIONS,
                    "decryption_failure": R.DECRYPTION_FAILURE},
    }


def _audit_anchor() -> dict | None:
    """The latest witnessed audit checkpoint (docs/witness.md, public anchoring), or None."""
    entry = anchor()
    if entry is None:
        return None
    return {key: entry[key] for key in ("origin", "tree_size", "root_hash", "witnesses", "witnessed_checkpoint")}


def _t(value) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def record_pdf(record: dict, *, sha256: str) -> bytes:
    """Render the record (the dict as built, before JSON encoding) as a PDF."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = FONT
    buf = io.BytesIO()
    tender = record["tender"]
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), invariant=1, title=f"开标记录 Opening record {tender['code']}",
                            author="ptrade", leftMargin=12 * mm, rightMargin=12 * mm)
    p = lambda text, style="BodyText": Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;"),  # noqa: E731
                                                  styles[style])
    story = [
        p(f"开标记录 Opening record — {tender['code']}", "Title"),
        p(f"{tender['title']}"),
        p(f"招标人 Tenderer: {tender['tenderer']} · 代理机构 Agent: {tender['agent']}"),
        p(f"投标截止/开标时间 Bid deadline: {_t(record['bid_deadline'])} · 开标 Opened: {_t(record['opened_at'])}"
          f" · 结束 Closed: {_t(record['closed_at'])}"),
        p(f"SHA-256 (canonical JSON): {sha256}"),
        Spacer(1, 4 * mm),
    ]
    items = tender["readout_items"]
    for lot in record["lots"]:
        story.append(p(f"标段 Lot {lot['number']}: {lot['title']} — {lot['bids_received']} bid(s), {lot['outcome']}",
                       "Heading2"))
        head = ["#", "投标人 Bidder", *items, "状态 Status", "保证金 Deposit", "确认 Confirmation", "SHA-256"]
        rows = [head]
        for i, b in enumerate(lot["bids"], 1):
            status = b["status"] if not b["failure"] else f"{b['failure']['outcome']} ({b['failure']['code']})"
            conf = b["confirmation"]["kind"] if b["confirmation"] else "—"
            rows.append([str(i), p(b["bidder_name"]), *[p(b["readout"].get(k, "—") if b["readout"] else "—")
                                                      for k in items],
                         p(status), b["deposit"] or "—", conf, b["envelope_sha256"][:16] + "…"])
        table = Table(rows, repeatRows=1)
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
                                   ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 4 * mm)]
    story.append(p("签到 Sign-in", "Heading2"))
    story += [p(f"{s['name']} — {_t(s['at'])}") for s in record["signins"]] or [p("—")]
    story.append(p("异议及答复 Objections and answers (实施条例 Art 44)", "Heading2"))
    for o in record["objections"]:
        story.append(p(f"{o['name']} ({_t(o['raised_at'])}): {o['text']}"))
        story.append(p(f"答复 Answer ({_t(o['answered_at'])}): {o['answer']}"))
    if not record["objections"]:
        story.append(p("—"))
    anchor = record.get("audit_anchor")
    if anchor:
        story.append(p("审计日志见证检查点 Witnessed audit checkpoint", "Heading2"))
        story.append(p(anchor_text_of(anchor)))
        story += [p(line or " ", "Code") for line in anchor["witnessed_checkpoint"].split("\n")]
    doc.build(story)
    return buf.getvalue()


def record_write(*, opening: Opening) -> None:
    """Build the record, store JSON and PDF, set their hashes on `opening` (caller audits and saves)."""
    record = record_build(opening)
    data = canonical_bytes(record)
    sha = hashlib.sha256(data).hexdigest()
    pdf = record_pdf(record, sha256=sha)
    directory: Path = storage.records_root() / str(opening.tender_id)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{opening.tender_id}/opening-record-{sha[:16]}.pdf"
    (storage.records_root() / name).write_bytes(pdf)
    opening.record_json = data.decode("utf-8")
    opening.record_sha256 = sha
    opening.record_pdf_name = name
    opening.record_pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    opening.save(update_fields=["record_json", "record_sha256", "record_pdf_name", "record_pdf_sha256", "updated_at"])


def record_pdf_path(opening: Opening) -> Path:
    return storage.records_root() / opening.record_pdf_name
