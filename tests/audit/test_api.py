"""Audit API: public proofs and checkpoints, supervisor-only events and export."""

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from audit import checkpoints, merkle
from audit.models import AuditEvent
from audit.services import audit_record
from audit.signing import note_open, parse_verifier_key, platform_verifier_key
from tests.audit.tamper import append, rewrite

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/v1/audit"


def _root_of(note: str) -> tuple[int, bytes]:
    name, public = parse_verifier_key(platform_verifier_key())
    _, size, root = note_open(note, name=name, public_key=public).split("\n")[:3]
    return int(size), base64.b64decode(root)


def test_public_key_is_public(api):
    response = api.get(f"{API}/public-key")
    assert response.status_code == 200
    body = response.json()
    assert body["verifier_key"] == platform_verifier_key()
    assert body["origin"] == settings.AUDIT_LOG_ORIGIN and body["algorithm"] == "Ed25519"
    assert "PRIVATE" not in json.dumps(body)


def test_checkpoints_are_public_plain_text(api):
    append(3)
    missing = api.get(f"{API}/checkpoints/latest")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    first = checkpoints.checkpoint_create()
    append(2)
    latest = checkpoints.checkpoint_create()
    response = api.get(f"{API}/checkpoints/latest", HTTP_ACCEPT="text/plain")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == latest.note
    assert _root_of(latest.note)[0] == 5
    assert api.get(f"{API}/checkpoints/3").content.decode() == first.note
    assert api.get(f"{API}/checkpoints/4").status_code == 404
    listing = api.get(f"{API}/checkpoints/").json()
    assert listing["count"] == 2
    assert [c["tree_size"] for c in listing["results"]] == [5, 3]
    assert api.get(f"{API}/checkpoints").json()["count"] == 2


def test_inclusion_proof_is_public_and_verifies_against_the_signed_root(api):
    append(11)
    note = checkpoints.checkpoint_create().note
    append(2)
    size, root = _root_of(note)
    for seq in (1, 6, 11):
        response = api.get(f"{API}/proofs/inclusion", {"seq": seq})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["tree_size"] == 11 and body["leaf_index"] == seq - 1 and body["checkpoint"] == note
        leaf = bytes.fromhex(AuditEvent.objects.get(seq=seq).hash)
        assert body["leaf_hash"] == leaf.hex()
        merkle.verify_inclusion(seq - 1, size, leaf, [bytes.fromhex(h) for h in body["hashes"]], root)
    at_head = api.get(f"{API}/proofs/inclusion", {"seq": 12, "tree_size": 13}).json()
    assert at_head["checkpoint"] is None and at_head["tree_size"] == 13


def test_consistency_proof_is_public_and_verifies(api):
    append(5)
    old = checkpoints.checkpoint_create().note
    append(9)
    new = checkpoints.checkpoint_create().note
    response = api.get(f"{API}/proofs/consistency", {"first": 5})
    assert response.status_code == 200
    body = response.json()
    (first, first_root), (second, second_root) = _root_of(old), _root_of(new)
    assert (body["first"], body["second"]) == (first, second) == (5, 14)
    assert body["first_checkpoint"] == old and body["second_checkpoint"] == new
    proof = [bytes.fromhex(h) for h in body["hashes"]]
    merkle.verify_consistency(first, second, first_root, second_root, proof)


@pytest.mark.parametrize(("path", "params", "field"), [
    ("inclusion", {"seq": "abc"}, "seq"),
    ("inclusion", {"seq": 0}, "seq"),
    ("inclusion", {}, "seq"),
    ("inclusion", {"seq": 5, "tree_size": 4}, "seq"),
    ("inclusion", {"seq": 1, "tree_size": 99}, "tree_size"),
    ("inclusion", {"seq": 1, "tree_size": 2**70}, "tree_size"),
    ("consistency", {"first": -1}, "first"),
    ("consistency", {"first": 5, "second": 4}, "first"),
    ("consistency", {"first": 1, "second": 99}, "second"),
    ("consistency", {"first": "1e3"}, "first"),
])
def test_bad_proof_parameters_are_400_json(api, path, params, field):
    append(6)
    checkpoints.checkpoint_create()
    response = api.get(f"{API}/proofs/{path}", params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["message"] and field in error["fields"]


def test_proofs_before_any_checkpoint_are_404(api):
    append(2)
    response = api.get(f"{API}/proofs/inclusion", {"seq": 1})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_proof_against_a_rewritten_log_is_a_409_not_a_500(api):
    append(5)
    checkpoints.checkpoint_create()
    rewrite(5, {"i": 55})
    response = api.get(f"{API}/proofs/inclusion", {"seq": 5})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "audit_log_inconsistent"


@pytest.mark.parametrize("path", ["events", "events/1", "export"])
def test_event_contents_need_the_supervisor_role(api, make_user, path):
    append(1)
    anonymous = api.get(f"{API}/{path}")
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    bidder = make_user("bidder")
    forbidden = api.as_user(bidder).get(f"{API}/{path}")
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "permission_denied"
    admin = make_user("platform_admin", "agent")
    assert api.as_user(admin).get(f"{API}/{path}").status_code == 403
    supervisor = make_user("supervisor")
    assert api.as_user(supervisor).get(f"{API}/{path}").status_code == 200


def test_supervisor_reads_events_and_filters_by_tender(api, make_user):
    supervisor = make_user("supervisor")
    audit_record(actor=supervisor, action="tender.published", obj="trading.tender:31", data={"title": "x"})
    audit_record(actor="system", action="bid.received", obj="trading.bid:9", data={"tender": 31})
    audit_record(actor="system", action="bid.received", obj="trading.bid:10", data={"tender": 32})
    client = api.as_user(supervisor)
    everything = client.get(f"{API}/events").json()
    assert everything["count"] == AuditEvent.objects.count()
    tender = client.get(f"{API}/events", {"tender": "31"}).json()
    assert [e["action"] for e in tender["results"]] == ["tender.published", "bid.received"]
    event = tender["results"][0]
    detail = client.get(f"{API}/events/{event['seq']}").json()
    assert detail == event and detail["ts"].endswith("Z") and detail["actor"] == str(supervisor.pk)
    assert client.get(f"{API}/events/99999").status_code == 404
    assert client.get(f"{API}/events", {"tender": "bad id!"}).status_code == 400


def test_supervisor_export_verifies_offline(api, make_user, tmp_path):
    supervisor = make_user("supervisor")
    audit_record(actor="system", action="tender.published", obj="trading.tender:5", data={})
    append(3, tender=5)
    client = api.as_user(supervisor)
    response = client.get(f"{API}/export", {"tender": "5"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert "attachment" in response["Content-Disposition"]
    bundle = tmp_path / "tender-5.jsonl"
    bundle.write_bytes(b"".join(response.streaming_content))
    verifier = Path(settings.BASE_DIR) / "audit" / "verifier" / "ptrade_audit_verify.py"
    command = [sys.executable, "-I", str(verifier), str(bundle), "--key", platform_verifier_key()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
    assert "4 events of tender 5" in result.stdout
    assert client.get(f"{API}/export", {"tender": "404"}).status_code == 404
    assert client.get(f"{API}/export", {"consistency_from": "x"}).status_code == 400
