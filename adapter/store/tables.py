"""The tables, as SQLAlchemy Core metadata; the migration in `migrations/versions` creates them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC, the same way on SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+14:00: clamp to the representable range
            value = datetime.min if value.year == 1 else datetime.max
            value = value.replace(tzinfo=UTC)
        # SQLite keeps text: drop the zone so every value has one sortable format.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

resource = sa.Table(
    "resource",
    metadata,
    sa.Column("resource_type", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("last_updated", UTCDateTime, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Index("ix_resource_type_updated", "resource_type", "last_updated"),
)

resource_version = sa.Table(
    "resource_version",
    metadata,
    sa.Column("resource_type", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("last_updated", UTCDateTime, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
)


def _index_table(name: str, *columns: sa.Column, indexes: tuple[tuple[str, ...], ...]) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("param", sa.String(64), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["resource.resource_type", "resource.id"],
            ondelete="CASCADE",
            name=f"fk_{name}_resource",
        ),
        sa.Index(f"ix_{name}_resource", "resource_type", "resource_id"),
        *(sa.Index(f"ix_{name}_{'_'.join(cols)}", *cols) for cols in indexes),
    )


search_token = _index_table(
    "search_token",
    sa.Column("system", sa.String, nullable=True),
    sa.Column("code", sa.String, nullable=False),
    indexes=(("resource_type", "param", "code"),),
)
search_string = _index_table(
    "search_string",
    sa.Column("value", sa.String, nullable=False),
    indexes=(("resource_type", "param", "value"),),
)
search_date = _index_table(
    "search_date",
    sa.Column("low", UTCDateTime, nullable=False),
    sa.Column("high", UTCDateTime, nullable=False),
    indexes=(("resource_type", "param", "low"), ("resource_type", "param", "high")),
)
search_reference = _index_table(
    "search_reference",
    sa.Column("target_type", sa.String(64), nullable=False),
    sa.Column("target_id", sa.String(64), nullable=False),
    indexes=(("resource_type", "param", "target_id"), ("target_type", "target_id")),
)

_REFERRAL_COLUMNS = (
    ("created_at", UTCDateTime, False),
    ("updated_at", UTCDateTime, False),
    ("local_id", sa.String, False),
    ("status", sa.String, False),
    ("received_at", UTCDateTime, False),
    ("source", sa.String, False),
    ("setting", sa.String, False),
    ("site", sa.String, False),
    ("urgency", sa.String, False),
    ("nhs_number", sa.String, True),
    ("native", sa.Text, False),
    ("resource_ids", sa.Text, False),
)


def _referral_columns() -> list[sa.Column]:
    return [
        *(sa.Column(name, kind, nullable=nullable) for name, kind, nullable in _REFERRAL_COLUMNS),
        # Data-quality warnings given when the referral was stored (OperationOutcome issues).
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
    ]


referral = sa.Table(
    "referral",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    *_referral_columns(),
    sa.UniqueConstraint("local_id", name="uq_referral_local_id"),
    sa.Index("ix_referral_received_at", "received_at"),
    sa.Index("ix_referral_status", "status"),
    sa.Index("ix_referral_nhs_number", "nhs_number"),
)

referral_version = sa.Table(
    "referral_version",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *_referral_columns(),
)

_ASSESSMENT_COLUMNS = (
    ("referral_id", sa.String(64), False),
    ("kind", sa.String, False),
    ("status", sa.String, False),
    ("created_at", UTCDateTime, False),
    ("updated_at", UTCDateTime, False),
    ("native", sa.Text, False),
    ("resource_ids", sa.Text, False),
)


def _assessment_columns() -> list[sa.Column]:
    return [
        sa.Column(name, kind, nullable=nullable) for name, kind, nullable in _ASSESSMENT_COLUMNS
    ]


assessment = sa.Table(
    "assessment",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    *_assessment_columns(),
    sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name="fk_assessment_referral"),
    sa.Index("ix_assessment_referral_id", "referral_id"),
)

assessment_version = sa.Table(
    "assessment_version",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    *_assessment_columns(),
)

# Onward referrals (issue 8): a referral passed on to a partner service, and its FHIR resources.
onward_referral = sa.Table(
    "onward_referral",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("referral_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("pathway", sa.String, nullable=False),
    sa.Column("partner_service", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("correlation_id", sa.String, nullable=False),
    sa.Column("native", sa.Text, nullable=False),
    sa.Column("resource_ids", sa.Text, nullable=False),
    # Every response the partner sent about it, oldest first (issue 9): JSON list of
    # {"status", "reason", "at", "message_id"}.
    sa.Column("outcomes", sa.Text, nullable=False, server_default="[]"),
    sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name="fk_onward_referral_referral"),
    sa.Index("ix_onward_referral_referral_id", "referral_id"),
)

# The transactional outbox: each row is one FHIR message for one partner Endpoint. `sequence`
# orders messages sharing an ordering_key; a worker holds a row while lease_expires_at is ahead.
outbox_message = sa.Table(
    "outbox_message",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    # PostgreSQL numbers rows itself; SQLite (one writer at a time) is given max + 1 on insert.
    sa.Column("sequence", sa.BigInteger, sa.Identity(), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("endpoint_id", sa.String(64), nullable=False),
    sa.Column("transport", sa.String, nullable=False),
    sa.Column("ordering_key", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("onward_referral_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("partner_outcome", sa.Text, nullable=True),
    sa.Column("lease_owner", sa.String, nullable=True),
    sa.Column("lease_expires_at", UTCDateTime, nullable=True),
    sa.Column("headers", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("sequence", name="uq_outbox_message_sequence"),
    sa.UniqueConstraint("request_id", name="uq_outbox_message_request_id"),
    sa.Index("ix_outbox_message_status_next", "status", "next_attempt_at"),
    # The claim walks pending messages in sequence order; without this it would step over every
    # message ever delivered (a drain slowed to a third by its end).
    sa.Index(
        "ix_outbox_message_pending",
        "sequence",
        postgresql_where=sa.text("status IN ('queued', 'retrying')"),
        sqlite_where=sa.text("status IN ('queued', 'retrying')"),
    ),
    sa.Index("ix_outbox_message_ordering", "ordering_key", "sequence"),
    sa.Index("ix_outbox_message_onward_referral_id", "onward_referral_id"),
    # The console's filters and overview counts (migration 0010).
    sa.Index("ix_outbox_message_endpoint_status", "endpoint_id", "status", "sequence"),
    sa.Index("ix_outbox_message_status_sequence", "status", "sequence"),
    # Covers the overview's count of waiting and dead-lettered messages per partner.
    sa.Index("ix_outbox_message_status_endpoint", "status", "endpoint_id", "created_at"),
    sa.Index("ix_outbox_message_created_at", "created_at"),
)

# Messages received from partners on $process-message (issue 9). The unique request_id is the
# duplicate check: the row is added in the same transaction as the message's effect.
inbound_message = sa.Table(
    "inbound_message",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("bundle_id", sa.String(64), nullable=False),
    sa.Column("event", sa.String, nullable=False),
    sa.Column("reason", sa.String, nullable=True),
    sa.Column("partner_service", sa.String, nullable=True),
    sa.Column("sender_endpoint", sa.String, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("referral_id", sa.String(64), nullable=True),
    sa.Column("onward_referral_id", sa.String(64), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("request_id", name="uq_inbound_message_request_id"),
    sa.Index("ix_inbound_message_bundle_id", "bundle_id"),
    sa.Index("ix_inbound_message_referral_id", "referral_id"),
    sa.Index("ix_inbound_message_onward_referral_id", "onward_referral_id"),
    sa.Index("ix_inbound_message_received_at", "received_at"),
)

# A decision or outcome recorded about a referral received from a partner, to be sent back.
referral_answer = sa.Table(
    "referral_answer",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("referral_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("code", sa.String, nullable=False),
    sa.Column("reason", sa.String, nullable=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_by", sa.String, nullable=True),
    sa.Column("message_id", sa.String(64), nullable=True),
    sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name="fk_referral_answer_referral"),
    sa.Index("ix_referral_answer_referral_id", "referral_id"),
)

# When each delivery worker last went round its loop: /readyz reads the newest (issue 11).
worker_heartbeat = sa.Table(
    "worker_heartbeat",
    metadata,
    sa.Column("worker_id", sa.String(128), primary_key=True),
    sa.Column("beat_at", UTCDateTime, nullable=False),
    sa.Index("ix_worker_heartbeat_beat_at", "beat_at"),
)

# Each delivery attempt of an outbox message (the row keeps only the last): its history, and the
# console overview's counts per partner by time. `result` is the status the attempt left.
outbox_attempt = sa.Table(
    "outbox_attempt",
    metadata,
    sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("endpoint_id", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("result", sa.String, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("partner_outcome", sa.Text, nullable=True),
    sa.Column("worker", sa.String, nullable=True),
    sa.Index("ix_outbox_attempt_message", "message_id", "at"),
    sa.Index("ix_outbox_attempt_at", "at", "endpoint_id", "result"),
    sa.Index("ix_outbox_attempt_endpoint", "endpoint_id", "result", "at"),
)

# One-time console sign-in links (development): only the SHA-256 of the token is kept.
console_link = sa.Table(
    "console_link",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
)

# Console sessions (the SHA-256 of the cookie's session id): signing out ends one server-side.
console_session = sa.Table(
    "console_session",
    metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Index("ix_console_session_expires_at", "expires_at"),
)

# Inbound messages refused on $process-message: when, the HTTP status, the client; no content.
inbound_rejection = sa.Table(
    "inbound_rejection",
    metadata,
    sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("client_id", sa.String, nullable=True),
    sa.Index("ix_inbound_rejection_at", "at"),
)
