from django.db import migrations

# The whole append in one round trip (PostgreSQL): take the chain lock, read the
# head, build the canonical bytes, hash them and insert. The caller serializes the
# sorted leading keys of the event (action, actor, data, object) into `head`; the
# function appends prev, seq and ts, which sort last (audit/services.py).
# A VOLATILE plpgsql function takes a fresh snapshot per statement, so the SELECT
# after the lock sees the event committed by the previous holder.
POSTGRES_SQL = r"""
CREATE OR REPLACE FUNCTION audit_append(
    lock_key bigint, head text, p_actor varchar, p_action varchar, p_object varchar, p_data jsonb,
    OUT o_seq bigint, OUT o_ts timestamptz, OUT o_prev varchar, OUT o_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT seq, hash INTO o_seq, o_prev FROM audit_auditevent ORDER BY seq DESC LIMIT 1;
  IF o_seq IS NULL THEN
    o_seq := 0;
    o_prev := repeat('0', 64);
  END IF;
  o_seq := o_seq + 1;
  o_ts := date_trunc('microseconds', clock_timestamp());
  o_hash := encode(sha256('\x00'::bytea || convert_to(
      head || ',"prev":"' || o_prev || '","seq":' || o_seq::text || ',"ts":"'
      || to_char(o_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"}', 'UTF8')), 'hex');
  INSERT INTO audit_auditevent (seq, ts, actor, action, object, data, prev, hash)
    VALUES (o_seq, o_ts, p_actor, p_action, p_object, p_data, o_prev, o_hash);
END
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_SQL)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_merkle_nodes_checkpoints")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
